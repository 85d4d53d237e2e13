"""Bearer tokens at the MCP endpoint: RFC 6750, RFC 9728 §5.1, MCP authorization.

Tokens are accepted only in the ``Authorization`` header, never in a query string
(RFC 9700 §2.4, MCP). Every failure is answered with ``WWW-Authenticate`` naming the
protected resource metadata and the scopes, so clients can discover how to sign in.
"""

from dataclasses import dataclass

import mcp_connect_core as core

from . import scopes as scope_rules
from .errors import InvalidRequest, InvalidToken, MissingToken

TOKEN_KINDS = ("access", "personal")
# Browser clients can only read these response headers when they are exposed (CORS).
EXPOSE_HEADERS = "WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version"


@dataclass(frozen=True)
class PresentedToken:
    kind: str
    digest: str


def extract(authorization_header, query_keys):
    """Return the presented token's kind and digest, or raise ``InvalidRequest`` / ``InvalidToken``."""
    if "access_token" in query_keys:
        raise InvalidRequest("Send the access token in the Authorization header, never in the URL.")
    if not authorization_header or not authorization_header.strip():
        raise MissingToken()
    scheme, _, value = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise MissingToken()
    if not value.strip():
        raise InvalidToken("The Bearer authorization header carries no token.")
    try:
        kind, digest = core.parse_token(value.strip())
    except core.TokenError as error:
        raise InvalidToken(log_detail=f"{type(error).__name__}") from error
    if kind not in TOKEN_KINDS:
        raise InvalidToken("This is not an access token.", log_detail=f"{kind} token presented as bearer")
    return PresentedToken(kind, digest)


def _quote(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(urls, error=None, *, scope=None):
    """``WWW-Authenticate`` value for a 401 or 403 from the MCP endpoint."""
    params = [f"resource_metadata={_quote(urls.protected_resource_metadata)}"]
    params.append(f"scope={_quote(scope or ' '.join(scope_rules.RESOURCE))}")
    if error is not None and not isinstance(error, MissingToken):
        params.append(f"error={_quote(error.error)}")
        if error.description:
            params.append(f"error_description={_quote(error.description)}")
    return "Bearer " + ", ".join(params)


def error_headers(urls, error=None, *, scope=None):
    return {
        "WWW-Authenticate": challenge(urls, error, scope=scope),
        "Access-Control-Expose-Headers": EXPOSE_HEADERS,
        "Cache-Control": "no-store",
    }
