"""Security primitives of MCP Connect for Odoo, implemented in Rust.

Signatures and documentation are in ``_native.pyi``; the exceptions are defined in
``exceptions.py`` and raised from Rust. Verification functions raise instead of
returning a boolean, so a forgotten check cannot pass silently.
"""

from mcp_connect_core import exceptions
from mcp_connect_core.exceptions import (
    McpCoreError,
    TokenError,
    MalformedTokenError,
    WrongTokenKindError,
    PkceError,
    InvalidVerifierError,
    InvalidChallengeError,
    UnsupportedChallengeMethodError,
    PkceMismatchError,
    SecretError,
    InvalidSecretHashError,
    SecretMismatchError,
    RedirectUriError,
    InvalidRedirectUriError,
    RedirectUriMismatchError,
    PolicyError,
    InvalidPolicyError,
    InvalidCidrError,
    InvalidIpAddressError,
    ForbiddenAddressError,
)
from mcp_connect_core._native import (
    mint_token,
    digest_token,
    parse_token,
    verify_pkce,
    check_pkce_challenge,
    s256_challenge,
    hash_secret,
    verify_secret,
    secret_needs_rehash,
    validate_redirect_uri,
    validate_redirect_prefix,
    match_redirect_uri,
    normalize_ip,
    parse_ip_allowlist,
    check_public_address,
    is_tool_name,
    Decision,
    Policy,
    IpAllowlist,
    TOKEN_KINDS,
    __version__,
)

__all__ = [
    *exceptions.__all__,
    "Decision",
    "IpAllowlist",
    "Policy",
    "TOKEN_KINDS",
    "check_pkce_challenge",
    "check_public_address",
    "digest_token",
    "hash_secret",
    "is_tool_name",
    "match_redirect_uri",
    "mint_token",
    "normalize_ip",
    "parse_ip_allowlist",
    "parse_token",
    "s256_challenge",
    "secret_needs_rehash",
    "validate_redirect_prefix",
    "validate_redirect_uri",
    "verify_pkce",
    "verify_secret",
]
