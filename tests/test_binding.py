"""Tests of the mcp_connect_core binding: every function and every exception type."""

import base64
import hashlib
import json
import pathlib
import re

import argon2
import mcp_connect_core as core
import pytest

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
TOKEN_RE = re.compile(r"^mcp(at|rt|ac|cs|pt|ci)_[0-9A-Za-z]{49}$")


# --- exception hierarchy ---------------------------------------------------------

EXPECTED_BASES = {
    "TokenError": ("McpCoreError", "ValueError"),
    "MalformedTokenError": ("TokenError",),
    "WrongTokenKindError": ("TokenError",),
    "PkceError": ("McpCoreError",),
    "InvalidVerifierError": ("PkceError", "ValueError"),
    "InvalidChallengeError": ("PkceError", "ValueError"),
    "UnsupportedChallengeMethodError": ("PkceError", "ValueError"),
    "PkceMismatchError": ("PkceError",),
    "SecretError": ("McpCoreError",),
    "InvalidSecretHashError": ("SecretError", "ValueError"),
    "SecretMismatchError": ("SecretError",),
    "RedirectUriError": ("McpCoreError", "ValueError"),
    "InvalidRedirectUriError": ("RedirectUriError",),
    "RedirectUriMismatchError": ("RedirectUriError",),
    "PolicyError": ("McpCoreError", "ValueError"),
    "InvalidPolicyError": ("PolicyError",),
    "InvalidCidrError": ("PolicyError",),
    "InvalidIpAddressError": ("McpCoreError", "ValueError"),
    "ForbiddenAddressError": ("McpCoreError", "ValueError"),
}


@pytest.mark.parametrize("name,bases", sorted(EXPECTED_BASES.items()))
def test_exception_bases(name, bases):
    cls = getattr(core, name)
    assert tuple(b.__name__ for b in cls.__bases__) == bases
    assert issubclass(cls, core.McpCoreError)
    assert cls.__module__ == "mcp_connect_core.exceptions"
    assert getattr(core.exceptions, name) is cls is getattr(core._native, name)
    assert cls.__doc__


def test_exceptions_are_defined_in_python_with_their_attributes():
    # The Rust side raises the classes of exceptions.py, with the attributes their constructors set.
    with pytest.raises(core.exceptions.InvalidCidrError) as info:
        core.parse_ip_allowlist(["# office", "10.0.0.0/8", "office"])
    assert (info.value.line, info.value.entry) == (3, "office")
    assert str(info.value) == 'line 3: "office" is not an IP address or CIDR network'
    with pytest.raises(core.exceptions.InvalidRedirectUriError) as info:
        core.validate_redirect_uri("http://example.com/cb", client_kind="dynamic")
    assert info.value.problem == "insecure_http"
    error = core.InvalidCidrError("line 2: bad", 2, "bad")
    assert (error.line, error.entry, str(error)) == (2, "bad", "line 2: bad")


def test_verification_failures_are_not_value_errors():
    # A wrong secret or verifier is not "bad input": callers must not catch it by accident
    # with a broad ValueError handler meant for parsing.
    assert not issubclass(core.SecretMismatchError, ValueError)
    assert not issubclass(core.PkceMismatchError, ValueError)


def test_public_surface_matches_the_shipped_stub():
    stub = pathlib.Path(core.__file__).with_name("_native.pyi").read_text()
    assert pathlib.Path(core.__file__).with_name("py.typed").exists()
    reexported = set(re.findall(r"^    (\w+) as \1,$", stub, re.M))
    assert reexported == set(core.exceptions.__all__)
    declared = set(re.findall(r"^(?:class|def) (\w+)", stub, re.M)) | reexported | {"TOKEN_KINDS"}
    runtime = {name for name in dir(core._native) if not name.startswith("_")}
    assert declared == runtime
    assert set(core.__all__) == declared


# --- tokens -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", core.TOKEN_KINDS)
def test_mint_and_digest_round_trip(kind):
    token, digest = core.mint_token(kind=kind)
    assert TOKEN_RE.match(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert core.digest_token(token, kind=kind) == digest
    assert core.parse_token(token) == (kind, digest)


def test_tokens_are_unique_and_carry_256_bits():
    tokens = {core.mint_token(kind="access")[0] for _ in range(1000)}
    assert len(tokens) == 1000
    # 43 base62 characters of payload: 43 * log2(62) = 256.03 bits.
    assert all(len(t.split("_", 1)[1]) == 49 for t in tokens)


def test_wrong_kind_is_refused():
    refresh, _ = core.mint_token(kind="refresh")
    with pytest.raises(core.WrongTokenKindError, match="expected access, got refresh"):
        core.digest_token(refresh, kind="access")


@pytest.mark.parametrize(
    "garbage",
    ["", "Bearer abc", "mcpat_", "x" * 55, "mcpat_" + "0" * 49, "mcpxx_" + "0" * 49],
)
def test_malformed_tokens_are_refused(garbage):
    with pytest.raises(core.MalformedTokenError):
        core.digest_token(garbage, kind="access")
    with pytest.raises(core.MalformedTokenError):
        core.parse_token(garbage)


def test_flipped_character_is_refused_without_echo():
    token, _ = core.mint_token(kind="access")
    mutated = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with pytest.raises(core.MalformedTokenError) as info:
        core.digest_token(mutated, kind="access")
    assert token[6:] not in str(info.value)
    assert mutated[6:] not in str(info.value)


def test_unknown_kind_is_a_plain_value_error():
    with pytest.raises(ValueError, match="kind must be one of"):
        core.mint_token(kind="bearer")


def test_security_parameters_are_keyword_only():
    with pytest.raises(TypeError):
        core.mint_token("access")
    with pytest.raises(TypeError):
        core.digest_token("x", "access")
    with pytest.raises(TypeError):
        core.verify_pkce(RFC7636_VERIFIER, RFC7636_CHALLENGE, "S256")
    with pytest.raises(TypeError):
        core.verify_secret("a", "b")
    with pytest.raises(TypeError):
        core.validate_redirect_uri("https://a.b/c", "dynamic")


# --- PKCE ---------------------------------------------------------------------------


def test_pkce_rfc7636_appendix_b():
    assert core.s256_challenge(RFC7636_VERIFIER) == RFC7636_CHALLENGE
    core.verify_pkce(verifier=RFC7636_VERIFIER, challenge=RFC7636_CHALLENGE, method="S256")
    core.check_pkce_challenge(challenge=RFC7636_CHALLENGE, method="S256")


def test_pkce_matches_hashlib_reference():
    verifier = "a" * 43 + "-._~" + "Z" * 20
    reference = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert core.s256_challenge(verifier) == reference


def test_pkce_mismatch():
    with pytest.raises(core.PkceMismatchError):
        core.verify_pkce(verifier="b" * 43, challenge=RFC7636_CHALLENGE, method="S256")


@pytest.mark.parametrize("method", ["plain", "", "s256", "S384"])
def test_pkce_only_s256(method):
    with pytest.raises(core.UnsupportedChallengeMethodError):
        core.verify_pkce(verifier=RFC7636_VERIFIER, challenge=RFC7636_CHALLENGE, method=method)
    with pytest.raises(core.UnsupportedChallengeMethodError):
        core.check_pkce_challenge(challenge=RFC7636_CHALLENGE, method=method)


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + " "])
def test_pkce_verifier_grammar(verifier):
    with pytest.raises(core.InvalidVerifierError):
        core.verify_pkce(verifier=verifier, challenge=RFC7636_CHALLENGE, method="S256")
    with pytest.raises(core.InvalidVerifierError):
        core.s256_challenge(verifier)


@pytest.mark.parametrize("challenge", ["", "abc", RFC7636_CHALLENGE + "=", RFC7636_CHALLENGE[:42] + "+"])
def test_pkce_challenge_grammar(challenge):
    with pytest.raises(core.InvalidChallengeError):
        core.check_pkce_challenge(challenge=challenge, method="S256")


# --- secrets ------------------------------------------------------------------------


def test_secret_hash_and_verify():
    phc = core.hash_secret("s3cret-value")
    assert phc.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    core.verify_secret(secret="s3cret-value", phc=phc)
    assert core.secret_needs_rehash(phc) is False
    with pytest.raises(core.SecretMismatchError) as info:
        core.verify_secret(secret="s3cret-valuE", phc=phc)
    assert "s3cret" not in str(info.value)


def test_secret_invalid_hash():
    for bad in ["", "plaintext", "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA"]:
        with pytest.raises(core.InvalidSecretHashError):
            core.verify_secret(secret="x", phc=bad)
        with pytest.raises(core.InvalidSecretHashError):
            core.secret_needs_rehash(bad)


def test_secret_weaker_parameters_verify_and_need_rehash():
    low = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    phc = low.hash("legacy")
    core.verify_secret(secret="legacy", phc=phc)
    assert core.secret_needs_rehash(phc) is True


def test_secret_interoperates_with_argon2_cffi():
    ours = core.hash_secret("both ways")
    argon2.PasswordHasher().verify(ours, "both ways")
    theirs = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash("both ways")
    core.verify_secret(secret="both ways", phc=theirs)


# --- redirect URIs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://claude.ai/api/mcp/auth_callback",
        "https://chatgpt.com/connector/oauth/abc",
        "http://localhost:33418/callback",
        "http://127.0.0.1/cb",
        "http://[::1]:9/cb",
    ],
)
def test_redirect_valid_for_dynamic(uri):
    core.validate_redirect_uri(uri, client_kind="dynamic")
    core.validate_redirect_uri(uri, client_kind="metadata_document")
    core.validate_redirect_uri(uri, client_kind="custom")


@pytest.mark.parametrize(
    "uri,problem",
    [
        ("https://a.b/cb#x", "fragment"),
        ("https://u@a.b/cb", "userinfo"),
        ("http://a.b/cb", "insecure_http"),
        ("javascript:alert(1)", "dangerous_scheme"),
        ("/cb", "not_absolute"),
        ("https://a.b/ cb", "illegal_characters"),
        ("com.example.app:/cb", "custom_scheme_not_allowed"),
        ("https://a.b/" + "x" * 2000, "too_long"),
        ("https://evil.example/cb/*", "wildcard"),
    ],
)
def test_redirect_invalid(uri, problem):
    with pytest.raises(core.InvalidRedirectUriError) as info:
        core.validate_redirect_uri(uri, client_kind="dynamic")
    assert info.value.problem == problem


def test_redirect_custom_schemes():
    core.validate_redirect_uri("cursor://anysphere.cursor-mcp/oauth/callback", client_kind="custom")
    with pytest.raises(core.InvalidRedirectUriError) as info:
        core.validate_redirect_uri("myapp:/cb", client_kind="custom")
    assert info.value.problem == "custom_scheme_without_dot"


def test_redirect_unknown_client_kind():
    with pytest.raises(ValueError, match="client_kind"):
        core.validate_redirect_uri("https://a.b/c", client_kind="public")


def test_redirect_matching():
    registered = ["https://claude.ai/api/mcp/auth_callback", "http://127.0.0.1/callback"]
    prefixes = ["https://chatgpt.com/connector/oauth/"]
    assert core.match_redirect_uri(registered[0], registered=registered) == registered[0]
    assert core.match_redirect_uri("http://127.0.0.1:5555/callback", registered=registered) == registered[1]
    assert (
        core.match_redirect_uri("https://chatgpt.com/connector/oauth/x1", registered=registered, prefixes=prefixes)
        == prefixes[0]
    )
    for bad in [
        "https://claude.ai/api/mcp/auth_callback/",
        "https://claude.ai/api/mcp/auth_callback#f",
        "http://127.0.0.1:5555/other",
        "https://chatgpt.com/connector/oauth/a/b",
    ]:
        with pytest.raises(core.RedirectUriMismatchError) as info:
            core.match_redirect_uri(bad, registered=registered, prefixes=prefixes)
        assert bad not in str(info.value)


def test_redirect_prefix_validation():
    core.validate_redirect_prefix("https://chatgpt.com/connector/oauth/")
    with pytest.raises(core.InvalidRedirectUriError):
        core.validate_redirect_prefix("https://chatgpt.com/connector/oauth")


# --- IP addresses -------------------------------------------------------------------


def test_ip_normalisation():
    assert core.normalize_ip("::ffff:10.0.0.1") == "10.0.0.1"
    assert core.normalize_ip("2001:DB8::1") == "2001:db8::1"
    with pytest.raises(core.InvalidIpAddressError):
        core.normalize_ip("10.0.0.300")


def test_ip_allowlist_parsing():
    assert core.parse_ip_allowlist(["10.1.2.3/8", "", "# office", "2001:db8::/32", "192.0.2.1"]) == [
        "10.0.0.0/8",
        "2001:db8::/32",
        "192.0.2.1/32",
    ]
    with pytest.raises(core.InvalidCidrError) as info:
        core.parse_ip_allowlist(["10.0.0.0/8", "10.0.0.0/40"])
    assert (info.value.line, info.value.entry) == (2, "10.0.0.0/40")


def test_ip_allowlist_membership():
    allowlist = core.IpAllowlist(["10.0.0.0/8", "", "# office", "2001:db8::/32", "192.0.2.1"])
    assert len(allowlist) == 3
    assert allowlist.contains("10.9.9.9") and allowlist.contains("::ffff:10.9.9.9")
    assert allowlist.contains("2001:db8::5") and allowlist.contains("192.0.2.1")
    assert not allowlist.contains("192.0.2.2") and not allowlist.contains("11.0.0.1")
    assert not allowlist.contains(None) and not allowlist.contains("not-an-ip")
    assert not core.IpAllowlist([]).contains("10.0.0.1")
    assert "10.0.0.0/8" in repr(allowlist)
    with pytest.raises(core.InvalidCidrError) as info:
        core.IpAllowlist(["10.0.0.0/8", "10.0.0.0/40"])
    assert (info.value.line, info.value.entry) == (2, "10.0.0.0/40")


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:192.168.0.1", "fd00::1"]
)
def test_forbidden_fetch_targets(address):
    with pytest.raises(core.ForbiddenAddressError):
        core.check_public_address(address)


def test_public_fetch_target():
    core.check_public_address("1.1.1.1")
    with pytest.raises(core.InvalidIpAddressError):
        core.check_public_address("example.com")


# --- policy -------------------------------------------------------------------------


POLICY = {
    "allowed_tools": ["search_records", "delete_records"],
    "allowed_models": {"res.partner": ["read", "delete"]},
    "approval_tools": ["delete_records"],
    "ip_allowlist": ["10.0.0.0/8", "2001:db8::/32"],
    "allowed_scopes": ["mcp:read", "mcp:write"],
}


def evaluate(policy, **overrides):
    call = {
        "tool": "search_records",
        "required_scope": "mcp:read",
        "granted_scopes": ["mcp:read"],
        "model": "res.partner",
        "operation": "read",
        "client_ip": "10.0.0.5",
    }
    call.update(overrides)
    return policy.evaluate(**call)


def test_policy_decisions():
    policy = core.Policy(json.dumps(POLICY))
    allow = evaluate(policy)
    assert (allow.outcome, allow.reason, allow.message) == ("allow", None, None)
    cases = {
        "ip_not_allowed": {"client_ip": "8.8.8.8"},
        "insufficient_scope": {"required_scope": "mcp:write"},
        "tool_not_allowed": {"tool": "count_records"},
        "model_not_allowed": {"model": "res.users"},
        "operation_not_allowed": {"operation": "write"},
    }
    for reason, overrides in cases.items():
        decision = evaluate(policy, **overrides)
        assert (decision.outcome, decision.reason) == ("deny", reason), reason
        assert decision.message
    assert evaluate(policy, client_ip="::ffff:10.1.1.1").outcome == "allow"
    assert evaluate(policy, client_ip="2001:db8::1").outcome == "allow"
    assert evaluate(policy, client_ip=None).reason == "ip_not_allowed"
    assert evaluate(policy, client_ip="not-an-ip").reason == "ip_not_allowed"
    pending = evaluate(
        policy,
        tool="delete_records",
        operation="delete",
        required_scope="mcp:write",
        granted_scopes=["mcp:write"],
    )
    assert pending.outcome == "needs_approval"
    assert "needs_approval" in repr(pending)


def test_policy_admitted_evaluation_skips_only_the_network_rule():
    policy = core.Policy(json.dumps(POLICY))
    call = {"tool": "search_records", "required_scope": "mcp:read", "granted_scopes": ["mcp:read"]}
    assert policy.evaluate(**call).reason == "ip_not_allowed"
    assert policy.evaluate_admitted(**call, model="res.partner", operation="read").outcome == "allow"
    assert policy.evaluate_admitted(**call, model="res.users").reason == "model_not_allowed"
    assert policy.evaluate_admitted(**{**call, "tool": "whoami"}).reason == "tool_not_allowed"
    assert policy.evaluate_admitted(**{**call, "required_scope": "mcp:admin"}).reason == "insufficient_scope"
    pending = policy.evaluate_admitted(
        tool="delete_records", required_scope="mcp:write", granted_scopes=["mcp:write"], operation="delete"
    )
    assert pending.outcome == "needs_approval"


def test_policy_helpers():
    policy = core.Policy(json.dumps(POLICY))
    assert policy.allows_tool("search_records") and not policy.allows_tool("whoami")
    assert policy.allows_model("res.partner") and policy.allows_model("res.partner", "delete")
    assert not policy.allows_model("res.partner", "create")
    assert policy.needs_approval("delete_records") and not policy.needs_approval("search_records")
    assert policy.allows_ip("10.2.3.4") and not policy.allows_ip("11.0.0.1") and not policy.allows_ip(None)
    assert core.Policy("{}").allows_ip(None)
    with pytest.raises(ValueError, match="operation must be"):
        policy.allows_model("res.partner", "drop")


def test_tool_names():
    for name in ["search_records", "a", "vendor.tool-2", "x" * 128]:
        assert core.is_tool_name(name), name
    for name in ["", "bad name", "tool/x", "outil_é", "x" * 129]:
        assert not core.is_tool_name(name), name
        with pytest.raises(core.InvalidPolicyError, match="tool name"):
            core.Policy(json.dumps({"allowed_tools": [name]}))


@pytest.mark.parametrize("document", ["", "[]", '{"unknown": 1}', '{"allowed_tools": ["a b"]}'])
def test_policy_invalid(document):
    with pytest.raises(core.InvalidPolicyError):
        core.Policy(document)


def test_policy_invalid_cidr():
    with pytest.raises(core.InvalidCidrError) as info:
        core.Policy('{"ip_allowlist": ["nope"]}')
    assert info.value.line == 1
    assert isinstance(info.value, core.PolicyError)
