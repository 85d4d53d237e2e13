"""The authorization request (oauth/authorize.py): what is shown to the person, what goes back to the client."""

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import mcp_connect_core as core
import pytest
from mcp_connect.oauth import authorize
from mcp_connect.oauth.errors import InvalidRequest, InvalidScope, InvalidTarget, PageError, UnsupportedResponseType
from mcp_connect.oauth.storage import CUSTOM

from .support import CALLBACK, PUBLIC_CALLBACK

CHALLENGE = core.s256_challenge("v" * 43)


def resolve(storage, **params):
    values, repeated = authorize.single_values(params.items())
    return authorize.resolve_client(values, repeated, storage.find_client)


def validate(storage, urls, client, **params):
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **params,
    }
    params = {key: value for key, value in params.items() if value is not None}
    values, repeated = authorize.single_values(params.items())
    return authorize.validate(values, repeated, client, params.get("redirect_uri"), urls, storage.settings())


def test_empty_parameters_are_omitted_and_repeated_ones_noted():
    values, repeated = authorize.single_values([("state", ""), ("scope", "mcp:read"), ("scope", "mcp:write")])
    assert values == {"scope": "mcp:write"}
    assert repeated == {"scope"}


@pytest.mark.parametrize(
    ("params", "title"),
    [
        ({}, "Invalid request"),
        ({"client_id": ""}, "Invalid request"),
        ({"client_id": "mcpci_nobody"}, "Unknown application"),
    ],
)
def test_an_unknown_client_is_a_page_never_a_redirect(storage, params, title):
    with pytest.raises(PageError) as caught:
        resolve(storage, redirect_uri=CALLBACK, **params)
    assert caught.value.title == title


def test_a_repeated_client_id_or_redirect_uri_is_a_page(storage, public):
    pairs = [("client_id", public.client_id), ("client_id", "other"), ("redirect_uri", PUBLIC_CALLBACK)]
    values, repeated = authorize.single_values(pairs)
    with pytest.raises(PageError):
        authorize.resolve_client(values, repeated, storage.find_client)


def test_a_revoked_client_is_a_403_page(storage, public):
    storage.deactivate(public.client_id)
    with pytest.raises(PageError) as caught:
        resolve(storage, client_id=public.client_id, redirect_uri=PUBLIC_CALLBACK)
    assert caught.value.status == 403
    assert caught.value.client_name == public.name
    assert caught.value.redirect_uri is None


def test_the_registered_redirect_uri_matches_exactly(storage, confidential):
    assert resolve(storage, client_id=confidential.client_id, redirect_uri=CALLBACK)[1] == CALLBACK
    for other in (
        CALLBACK + "/",
        CALLBACK + "?x=1",
        "https://client.example.com/other",
        "https://evil.example/callback",
    ):
        with pytest.raises(PageError) as caught:
            resolve(storage, client_id=confidential.client_id, redirect_uri=other)
        assert caught.value.title == "Redirect address not allowed"
        # The page names the application and the address it refused.
        assert (caught.value.client_name, caught.value.redirect_uri) == (confidential.name, other)


def test_a_loopback_redirect_uri_matches_on_any_port(storage, public):
    presented = "http://127.0.0.1:53172/callback"
    assert resolve(storage, client_id=public.client_id, redirect_uri=presented)[1] == presented
    with pytest.raises(PageError):
        resolve(storage, client_id=public.client_id, redirect_uri="http://127.0.0.1:53172/other")


def test_prefixes_only_for_custom_clients(storage, confidential, public):
    custom = storage.add_client(
        replace(confidential, kind=CUSTOM, redirect_prefixes=("https://client.example.com/cb/",))
    )
    presented = "https://client.example.com/cb/tenant-4"
    assert resolve(storage, client_id=custom.client_id, redirect_uri=presented)[1] == presented
    # A self-registered client's "*" line is an exact URI that matches nothing else.
    starred = storage.add_client(replace(public, redirect_uris=("https://client.example.com/cb/*",)))
    with pytest.raises(PageError):
        resolve(storage, client_id=starred.client_id, redirect_uri=presented)


def test_an_omitted_redirect_uri_only_with_one_registered_non_loopback_uri(storage, confidential, public):
    assert resolve(storage, client_id=confidential.client_id)[1] == CALLBACK
    with pytest.raises(PageError):
        resolve(storage, client_id=public.client_id)
    two = storage.add_client(replace(confidential, redirect_uris=(CALLBACK, CALLBACK + "2")))
    with pytest.raises(PageError):
        resolve(storage, client_id=two.client_id)


def test_a_valid_request(storage, urls, public):
    request = validate(storage, urls, public, scope="mcp:read offline_access", state="xyz")
    assert request.scopes == ("mcp:read",)
    assert request.offline_access
    assert request.code_challenge_method == "S256"
    assert request.resource == urls.resource
    assert request.state == "xyz"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": None}, InvalidRequest),
        ({"response_type": "token"}, UnsupportedResponseType),
        ({"code_challenge": None, "code_challenge_method": None}, InvalidRequest),
        ({"code_challenge_method": "plain"}, InvalidRequest),
        ({"code_challenge_method": None}, InvalidRequest),
        ({"code_challenge": None}, InvalidRequest),
        ({"code_challenge": "too-short"}, InvalidRequest),
        ({"scope": "mcp:write email nonsense"}, None),
        ({"resource": "https://elsewhere.example.com/api/mcp"}, InvalidTarget),
        ({"state": "s" * 2001}, InvalidRequest),
    ],
)
def test_invalid_requests_are_refused(storage, urls, public, params, error):
    if error is None:
        assert validate(storage, urls, public, **params).scopes == ("mcp:read", "mcp:write", "email")
        return
    with pytest.raises(error):
        validate(storage, urls, public, **params)


def test_a_repeated_parameter_is_refused(storage, urls, public):
    values, repeated = authorize.single_values(
        [("response_type", "code"), ("scope", "mcp:read"), ("scope", "mcp:write")]
    )
    with pytest.raises(InvalidRequest, match="scope"):
        authorize.validate(values, repeated, public, PUBLIC_CALLBACK, urls, storage.settings())


def test_pkce_may_be_omitted_only_for_the_administrators_hosts(storage, urls, confidential):
    exempt = storage.add_client(
        replace(confidential, redirect_uris=("https://chatgpt.com/connector_platform_oauth_redirect",))
    )
    request = validate(storage, urls, exempt, code_challenge=None, code_challenge_method=None)
    assert request.code_challenge is None
    storage.configure(pkce_exempt_hosts=())
    with pytest.raises(InvalidRequest, match="PKCE"):
        validate(storage, urls, exempt, code_challenge=None, code_challenge_method=None)


def test_scopes_within_the_clients_ceiling(storage, urls, public):
    reader = storage.add_client(replace(public, allowed_scopes=("mcp:read",)))
    assert validate(storage, urls, reader).scopes == ("mcp:read",)
    assert validate(storage, urls, reader, scope="claudeai mcp:tools").scopes == ("mcp:read",)
    with pytest.raises(InvalidScope):
        validate(storage, urls, reader, scope="mcp:write")


def test_resource_variants_of_this_server_are_accepted(storage, urls, public):
    for resource in (urls.resource, urls.resource + "/", "HTTPS://Odoo.Example.com:443/api/mcp", urls.issuer + "/"):
        assert validate(storage, urls, public, resource=resource).resource == urls.resource


def test_state_is_echoed_on_success_and_on_error(storage, urls, public):
    request = validate(storage, urls, public, state="opaque state", redirect_uri=PUBLIC_CALLBACK + "?keep=1")
    query = parse_qs(urlsplit(authorize.success_redirect(request, "the-code", urls.issuer)).query)
    assert query == {"keep": ["1"], "code": ["the-code"], "state": ["opaque state"], "iss": [urls.issuer]}
    error_url = authorize.error_redirect(PUBLIC_CALLBACK, InvalidScope("no"), "st", urls.issuer)
    query = parse_qs(urlsplit(error_url).query)
    assert query["error"] == ["invalid_scope"]
    assert query["state"] == ["st"]
    assert query["iss"] == [urls.issuer]


def test_an_empty_state_is_not_echoed(storage, urls, public):
    request = validate(storage, urls, public, state="")
    assert request.state is None
    assert "state" not in parse_qs(urlsplit(authorize.success_redirect(request, "c", urls.issuer)).query)
    assert authorize.safe_state({"state": "s" * 2001}) is None


def test_the_code_remembers_whether_the_redirect_uri_was_sent(storage, urls, confidential, obtain_code):
    _code, _verifier, request = obtain_code(confidential, redirect_uri=False)
    assert request.redirect_uri == CALLBACK
    (grant,) = storage.codes.values()
    assert grant.redirect_uri == ""
    assert (grant.expires_at - storage.now()).total_seconds() == storage.settings().code_seconds
