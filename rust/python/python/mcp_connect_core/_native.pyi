"""Security primitives of MCP Connect for Odoo, implemented in Rust.

Tokens, PKCE, client secrets, redirect URIs, IP allowlists and connection
policies. Verification functions raise instead of returning a boolean, so a
forgotten check cannot pass silently. No exception message ever contains a
token, verifier or secret.
"""

from typing import Final, Literal, Sequence, final

from mcp_connect_core.exceptions import (
    McpCoreError as McpCoreError,
    TokenError as TokenError,
    MalformedTokenError as MalformedTokenError,
    WrongTokenKindError as WrongTokenKindError,
    PkceError as PkceError,
    InvalidVerifierError as InvalidVerifierError,
    InvalidChallengeError as InvalidChallengeError,
    UnsupportedChallengeMethodError as UnsupportedChallengeMethodError,
    PkceMismatchError as PkceMismatchError,
    SecretError as SecretError,
    InvalidSecretHashError as InvalidSecretHashError,
    SecretMismatchError as SecretMismatchError,
    RedirectUriError as RedirectUriError,
    InvalidRedirectUriError as InvalidRedirectUriError,
    RedirectUriMismatchError as RedirectUriMismatchError,
    PolicyError as PolicyError,
    InvalidPolicyError as InvalidPolicyError,
    InvalidCidrError as InvalidCidrError,
    InvalidIpAddressError as InvalidIpAddressError,
    ForbiddenAddressError as ForbiddenAddressError,
)

_TokenKind = Literal["access", "refresh", "code", "client_secret", "personal", "client_id"]
_ClientKind = Literal["custom", "dynamic", "metadata_document"]
_Operation = Literal["read", "create", "write", "delete", "call"]

__all__ = [
    "McpCoreError",
    "TokenError",
    "MalformedTokenError",
    "WrongTokenKindError",
    "PkceError",
    "InvalidVerifierError",
    "InvalidChallengeError",
    "UnsupportedChallengeMethodError",
    "PkceMismatchError",
    "SecretError",
    "InvalidSecretHashError",
    "SecretMismatchError",
    "RedirectUriError",
    "InvalidRedirectUriError",
    "RedirectUriMismatchError",
    "PolicyError",
    "InvalidPolicyError",
    "InvalidCidrError",
    "InvalidIpAddressError",
    "ForbiddenAddressError",
    "Policy",
    "Decision",
    "IpAllowlist",
    "mint_token",
    "digest_token",
    "parse_token",
    "verify_pkce",
    "check_pkce_challenge",
    "s256_challenge",
    "hash_secret",
    "verify_secret",
    "secret_needs_rehash",
    "validate_redirect_uri",
    "validate_redirect_prefix",
    "match_redirect_uri",
    "normalize_ip",
    "parse_ip_allowlist",
    "check_public_address",
    "is_tool_name",
    "TOKEN_KINDS",
    "__version__",
]

TOKEN_KINDS: Final[list[_TokenKind]]
__version__: Final[str]

def mint_token(*, kind: _TokenKind) -> tuple[str, str]:
    """Mint a token of ``kind`` from 256 bits of OS randomness.

    Returns ``(token, digest)``: hand out the token once, store only the digest
    (lowercase hex SHA-256 of the token).
    """

def digest_token(token: str, *, kind: _TokenKind) -> str:
    """Check a presented token of the expected ``kind`` and return its lookup digest.

    Raises MalformedTokenError or WrongTokenKindError before any database lookup.
    """

def parse_token(token: str) -> tuple[_TokenKind, str]:
    """Check a presented token of any kind; return ``(kind, digest)``.

    Raises MalformedTokenError.
    """

def verify_pkce(*, verifier: str, challenge: str, method: str) -> None:
    """Raise unless ``verifier`` hashes (S256) to ``challenge``, compared in constant time.

    Raises UnsupportedChallengeMethodError, InvalidChallengeError,
    InvalidVerifierError or PkceMismatchError.
    """

def check_pkce_challenge(*, challenge: str, method: str) -> None:
    """Raise unless an authorization request's challenge and method are acceptable."""

def s256_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier. Raises InvalidVerifierError."""

def hash_secret(secret: str) -> str:
    """Hash a secret to an argon2id PHC string (m=19 MiB, t=2, p=1, 16-byte salt).

    Releases the GIL while hashing.
    """

def verify_secret(*, secret: str, phc: str) -> None:
    """Raise unless ``secret`` matches the stored PHC string.

    The parameters are read from the stored string. Raises SecretMismatchError or
    InvalidSecretHashError. Releases the GIL while hashing.
    """

def secret_needs_rehash(phc: str) -> bool:
    """Whether a stored PHC string uses weaker parameters than the current ones."""

def validate_redirect_uri(uri: str, *, client_kind: _ClientKind) -> None:
    """Raise InvalidRedirectUriError unless ``uri`` may be registered for the client kind.

    https anywhere; http only on 127.0.0.1, [::1] and localhost; custom schemes only
    for ``custom`` clients and only when they name their vendor with a dot; never a
    fragment, user info, relative URI or javascript:/data:/file: scheme.
    """

def validate_redirect_prefix(prefix: str) -> None:
    """Raise InvalidRedirectUriError unless ``prefix`` is an https URL with a path ending in ``/``."""

def match_redirect_uri(presented: str, *, registered: Sequence[str], prefixes: Sequence[str] = ...) -> str:
    """Return the registered URI or prefix that ``presented`` matches.

    Exact string comparison, except loopback http URIs (any port, RFC 8252 7.3) and
    prefixes followed by one ``[A-Za-z0-9_-]`` segment. Raises RedirectUriMismatchError.
    """

def normalize_ip(address: str) -> str:
    """Canonical text of an IP address, IPv4-mapped IPv6 unwrapped. Raises InvalidIpAddressError."""

def parse_ip_allowlist(entries: Sequence[str]) -> list[str]:
    """Canonical networks of allowlist entries (blank entries and ``#`` comments skipped).

    Raises InvalidCidrError naming the first bad entry.
    """

def check_public_address(address: str) -> None:
    """Raise ForbiddenAddressError unless ``address`` is a public unicast address.

    Loopback, private, link-local, shared, reserved, multicast, documentation and
    translation ranges are refused, in their IPv4-mapped forms too.
    """

def is_tool_name(name: str) -> bool:
    """Whether ``name`` is a valid MCP tool name: ``[A-Za-z0-9_.-]{1,128}``.

    The rule policy documents are checked against, for tool definitions too.
    """

@final
class IpAllowlist:
    """A parsed IP allowlist: addresses and CIDR networks, IPv4-mapped IPv6 unwrapped."""

    def __new__(cls, entries: Sequence[str]) -> IpAllowlist:
        """Parse ``entries`` (blank entries and ``#`` comments skipped). Raises InvalidCidrError."""
    def contains(self, address: str | None) -> bool:
        """Whether ``address`` is in one of the networks; ``None`` or an unparseable address is not."""
    def __len__(self) -> int:
        """The number of networks."""

@final
class Decision:
    """The result of :meth:`Policy.evaluate`."""

    @property
    def outcome(self) -> Literal["allow", "deny", "needs_approval"]: ...
    @property
    def reason(
        self,
    ) -> Literal["ip_not_allowed", "insufficient_scope", "tool_not_allowed", "model_not_allowed", "operation_not_allowed"] | None:
        """For a denial, the code of the rule that refused."""
    @property
    def message(self) -> str | None:
        """For a denial, a sentence naming the rule (never the data)."""

@final
class Policy:
    """A compiled connection policy (JSON document; see the README for its keys)."""

    def __new__(cls, document: str) -> Policy:
        """Compile ``document``. Raises InvalidPolicyError or InvalidCidrError."""
    def evaluate(
        self,
        *,
        tool: str,
        required_scope: str,
        granted_scopes: Sequence[str],
        model: str | None = None,
        operation: _Operation | None = None,
        client_ip: str | None = None,
    ) -> Decision:
        """Evaluate one call: network, scope, tool, model, operation, then approval.

        A ``client_ip`` that does not parse counts as unknown, which an allowlist refuses.
        """
    def evaluate_admitted(
        self,
        *,
        tool: str,
        required_scope: str,
        granted_scopes: Sequence[str],
        model: str | None = None,
        operation: _Operation | None = None,
    ) -> Decision:
        """Evaluate one call of a request whose client address already passed :meth:`allows_ip`.

        Every rule of :meth:`evaluate` but the network one, which the caller checked once.
        """
    def allows_tool(self, tool: str) -> bool:
        """Whether the tool is allowed at all (for tools/list)."""
    def allows_model(self, model: str, operation: _Operation | None = None) -> bool:
        """Whether the model, and the operation on it if given, is allowed."""
    def needs_approval(self, tool: str) -> bool:
        """Whether the tool needs a human approval before it runs."""
    def allows_ip(self, client_ip: str | None) -> bool:
        """Whether the client address passes the IP allowlist."""
