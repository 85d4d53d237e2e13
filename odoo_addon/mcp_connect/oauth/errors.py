"""OAuth errors, named after their RFC error codes.

Each error carries what the client may see (``error``, ``description``, HTTP
``status``, extra ``headers``) and, apart from it, a ``log_detail`` for the server
log only (fosite's WithDescription/WithDebug split). Descriptions never contain a
token, a secret, a verifier or a code.
"""

# How long a tool refused because AI access is paused is asked to wait before trying again.
PAUSED_RETRY_AFTER_SECONDS = 300


class OAuthError(Exception):
    """Base class: RFC 6749 §5.2 error response."""

    error = "server_error"
    status = 400
    default_description = ""

    def __init__(self, description=None, *, log_detail=None, headers=None):
        self.description = description or self.default_description
        self.log_detail = log_detail
        self.headers = dict(headers or {})
        super().__init__(f"{self.error}: {self.description}")

    def to_dict(self):
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


# RFC 6749 §4.1.2.1 and §5.2
class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error = "invalid_client"
    status = 401
    default_description = "Client authentication failed."


class InvalidGrant(OAuthError):
    error = "invalid_grant"
    default_description = "The grant is invalid, expired, revoked or was issued to another client."


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class OAuthAccessDenied(OAuthError):
    error = "access_denied"
    status = 403


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class ServerError(OAuthError):
    error = "server_error"
    status = 500
    default_description = "The server could not complete the request."


class TemporarilyUnavailable(OAuthError):
    error = "temporarily_unavailable"
    status = 503


class AccessPaused(TemporarilyUnavailable):
    """An administrator paused all AI access (Settings): 503 with ``Retry-After``, nothing revoked.

    RFC 6749 defines ``temporarily_unavailable`` for the authorization endpoint (§4.1.2.1), where
    it is redirected because a 503 cannot be; the token, registration and introspection endpoints
    answer the same code with the 503 it stands for (§5.2 lets other codes be used). Never
    ``invalid_grant`` or ``invalid_client``: a tool would throw away its refresh token or its
    registration, and the pause would outlive its resumption.
    """

    default_description = "An administrator paused AI access in Odoo. Try again later."

    def __init__(self, description=None, **kwargs):
        super().__init__(description, **kwargs)
        self.headers["Retry-After"] = str(PAUSED_RETRY_AFTER_SECONDS)


class SlowDown(OAuthError):
    """Too many attempts: answered with 429 and ``Retry-After``."""

    error = "slow_down"
    status = 429

    def __init__(self, retry_after, description=None, **kwargs):
        super().__init__(description or "Too many requests; retry later.", **kwargs)
        self.headers["Retry-After"] = str(max(1, int(retry_after)))


class TooManyRequests(SlowDown):
    """Too many registrations: 429 with ``Retry-After`` on the registration endpoint.

    RFC 7591 §3.2.2 defines no code for throttling; ``too_many_requests`` (after RFC 6585's
    status) is the code the MCP SDKs' own authorization servers send and recognise.
    """

    error = "too_many_requests"


# OpenID Connect Core §3.1.2.6, used for prompt=none
class LoginRequired(OAuthError):
    error = "login_required"


class ConsentRequired(OAuthError):
    error = "consent_required"


# RFC 8707 §2
class InvalidTarget(OAuthError):
    error = "invalid_target"


# RFC 7009 §2.2.1
class UnsupportedTokenType(OAuthError):
    error = "unsupported_token_type"


# RFC 7591 §3.2.2
class InvalidRedirectUri(OAuthError):
    error = "invalid_redirect_uri"


class InvalidClientMetadata(OAuthError):
    error = "invalid_client_metadata"


# RFC 6750 §3.1: resource server errors, answered with WWW-Authenticate
class InvalidToken(OAuthError):
    error = "invalid_token"
    status = 401
    default_description = "The access token is missing, malformed, expired or revoked."


class MissingToken(InvalidToken):
    """RFC 6750 §3.1: no credentials for this resource (none, or another scheme than Bearer).

    The challenge then carries no error code or description, only how to sign in.
    """

    default_description = "Sign in first: send an access token in the Authorization header (Bearer)."


class InsufficientScope(OAuthError):
    error = "insufficient_scope"
    status = 403

    def __init__(self, scope, description=None, **kwargs):
        super().__init__(description or f"This request needs the {scope} scope.", **kwargs)
        self.scope = scope


class PageError(Exception):
    """An authorization request that must not be redirected (RFC 6749 §4.1.2.1):

    the client or the redirect URI could not be validated, so the error is shown
    to the person on a page instead of being sent to an unverified URI.
    """

    def __init__(self, title, message, *, status=400, log_detail=None, client_name=None, redirect_uri=None):
        super().__init__(f"{title}: {message}")
        self.title = title
        self.message = message
        self.status = status
        self.log_detail = log_detail
        # What the page names for the person: the application once it is known, the address refused.
        self.client_name = client_name
        self.redirect_uri = redirect_uri
