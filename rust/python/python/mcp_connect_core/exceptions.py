"""The exceptions raised by mcp_connect_core, defined here and imported by the Rust binding.

Each class is both an ``McpCoreError`` and, where callers expect one, a ``ValueError``.
No message ever contains a token, verifier or secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    _RedirectUriProblem = Literal[
        "not_absolute",
        "illegal_characters",
        "fragment",
        "userinfo",
        "dangerous_scheme",
        "insecure_http",
        "missing_host",
        "custom_scheme_without_dot",
        "custom_scheme_not_allowed",
        "too_long",
        "wildcard",
    ]

__all__ = [
    "ForbiddenAddressError",
    "InvalidChallengeError",
    "InvalidCidrError",
    "InvalidIpAddressError",
    "InvalidPolicyError",
    "InvalidRedirectUriError",
    "InvalidSecretHashError",
    "InvalidVerifierError",
    "MalformedTokenError",
    "McpCoreError",
    "PkceError",
    "PkceMismatchError",
    "PolicyError",
    "RedirectUriError",
    "RedirectUriMismatchError",
    "SecretError",
    "SecretMismatchError",
    "TokenError",
    "UnsupportedChallengeMethodError",
    "WrongTokenKindError",
]


class McpCoreError(Exception):
    """Base class of every error raised by mcp_connect_core."""


class TokenError(McpCoreError, ValueError):
    """A presented token was refused."""


class MalformedTokenError(TokenError):
    """Not a token this server could have minted (length, alphabet, prefix or checksum)."""


class WrongTokenKindError(TokenError):
    """A well-formed token of another kind (a refresh token used as an access token)."""


class PkceError(McpCoreError):
    """PKCE (RFC 7636) refused the request."""


class InvalidVerifierError(PkceError, ValueError):
    """The code_verifier does not follow RFC 7636 section 4.1."""


class InvalidChallengeError(PkceError, ValueError):
    """The code_challenge is not a base64url SHA-256."""


class UnsupportedChallengeMethodError(PkceError, ValueError):
    """Only S256 is accepted; plain is refused."""


class PkceMismatchError(PkceError):
    """The code_verifier does not match the code_challenge."""


class SecretError(McpCoreError):
    """Client secret verification failed."""


class InvalidSecretHashError(SecretError, ValueError):
    """The stored hash is not an acceptable argon2id PHC string."""


class SecretMismatchError(SecretError):
    """The presented secret is wrong."""


class RedirectUriError(McpCoreError, ValueError):
    """A redirect URI was refused."""


class InvalidRedirectUriError(RedirectUriError):
    """The URI can never be registered; ``problem`` says which rule it breaks."""

    problem: _RedirectUriProblem

    def __init__(self, message: str, problem: _RedirectUriProblem) -> None:
        super().__init__(message)
        self.problem = problem


class RedirectUriMismatchError(RedirectUriError):
    """The URI matches none registered for the client."""


class PolicyError(McpCoreError, ValueError):
    """A connection policy could not be compiled."""


class InvalidPolicyError(PolicyError):
    """Malformed policy document."""


class InvalidCidrError(PolicyError):
    """An IP allowlist entry is not an address or network; ``line`` and ``entry`` say which."""

    line: int
    """1-based position of the bad entry."""
    entry: str
    """The bad entry as typed (at most 64 characters)."""

    def __init__(self, message: str, line: int, entry: str) -> None:
        super().__init__(message)
        self.line = line
        self.entry = entry


class InvalidIpAddressError(McpCoreError, ValueError):
    """Not an IPv4 or IPv6 address."""


class ForbiddenAddressError(McpCoreError, ValueError):
    """An outbound fetch target in a loopback, private or otherwise reserved range."""
