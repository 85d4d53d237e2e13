"""Dynamic client registration, RFC 7591 (deprecated by MCP 2026-07-28, still used by deployed clients).

Accepts the bodies real clients send (README.rst, *Tested with*, *Clients*): ``token_endpoint_auth_method``
absent means the RFC default ``client_secret_basic`` (a confidential client that gets
a secret), ``none`` a public client. Redirect URIs follow the Rust rules for
self-registered clients: exact https URIs, or http on loopback only; no custom schemes,
no wildcards. What is registered is kept and honoured: the scope becomes the client's
ceiling, the authentication method the only one the token endpoint accepts. Web pages
the client names (``client_uri``, ``logo_uri``) are shown to people: https URLs only.
A new client and a refused registration are security events of the audit trail.
"""

from urllib.parse import urlsplit

import mcp_connect_core as core

from . import events
from . import redirect_uris as redirect_uri_rules
from . import scopes as scope_rules
from .errors import (
    AccessPaused,
    InvalidClientMetadata,
    InvalidRedirectUri,
    OAuthAccessDenied,
    OAuthError,
    SlowDown,
    TooManyRequests,
)
from .storage import DYNAMIC, Registration, epoch

AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
ALLOWED_GRANT_TYPES = ("authorization_code", "refresh_token")
MAX_REDIRECT_URIS = 20
MAX_NAME_LENGTH = 200
MAX_URL_LENGTH = 500


def _string(metadata, key, *, max_length=2000):
    value = metadata.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidClientMetadata(f"{key} must be a string of at most {max_length} characters.")
    return value


def _https_url(metadata, key):
    value = _string(metadata, key, max_length=MAX_URL_LENGTH)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        valid = (
            all(33 <= ord(character) < 127 for character in value)
            and parts.scheme == "https"
            and bool(parts.hostname)
            and parts.username is None
            and parts.password is None
        )
    except ValueError:
        valid = False
    if not valid:
        raise InvalidClientMetadata(f"{key} must be an https URL.")
    return value


def _string_list(metadata, key, default):
    value = metadata.get(key, default)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidClientMetadata(f"{key} must be a list of strings.")
    return value


def validate(metadata):
    """Check a registration request body; return a ``Registration`` or raise."""
    if not isinstance(metadata, dict):
        raise InvalidClientMetadata("The registration request must be a JSON object.")
    redirect_uris = _string_list(metadata, "redirect_uris", None) if "redirect_uris" in metadata else None
    if not redirect_uris:
        raise InvalidRedirectUri("redirect_uris must list at least one redirect URI.")
    if len(redirect_uris) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"At most {MAX_REDIRECT_URIS} redirect URIs may be registered.")
    refused = redirect_uri_rules.problems(redirect_uris, client_kind=DYNAMIC)
    if refused:
        first = refused[0]
        raise InvalidRedirectUri(f"{first.entry[:200]}: {first.error}") from first.error
    grant_types = _string_list(metadata, "grant_types", ["authorization_code"])
    unsupported = [g for g in grant_types if g not in ALLOWED_GRANT_TYPES]
    if unsupported or "authorization_code" not in grant_types:
        raise InvalidClientMetadata(
            "grant_types may only contain authorization_code and refresh_token, and must contain authorization_code."
        )
    response_types = _string_list(metadata, "response_types", ["code"])
    if response_types != ["code"]:
        raise InvalidClientMetadata('response_types must be ["code"].')
    method = _string(metadata, "token_endpoint_auth_method") or "client_secret_basic"
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}.")
    application_type = _string(metadata, "application_type") or "web"
    if application_type not in ("web", "native"):
        raise InvalidClientMetadata("application_type must be web or native.")
    name = (_string(metadata, "client_name", max_length=MAX_NAME_LENGTH) or "").strip() or "Unnamed AI tool"
    requested_scopes = _string(metadata, "scope")
    granted, _offline = scope_rules.resolve(requested_scopes, scope_rules.KNOWN)
    return Registration(
        client_name=name,
        redirect_uris=tuple(redirect_uris),
        grant_types=tuple(dict.fromkeys(grant_types)),
        confidential=method != "none",
        token_endpoint_auth_method=method,
        application_type=application_type,
        scopes=tuple(granted),
        client_uri=_https_url(metadata, "client_uri"),
        logo_uri=_https_url(metadata, "logo_uri"),
        software_id=_string(metadata, "software_id", max_length=200),
        software_version=_string(metadata, "software_version", max_length=200),
    )


def same_redirect_uris(requested, registered):
    """Whether two lists of redirect URIs admit the same callbacks, as the authorization endpoint
    matches them: a loopback URI on another port is the same one (RFC 8252 §7.3), which is how
    Claude Code and the SDKs register again on every sign-in."""
    if len(requested) != len(registered):
        return False
    for uris, others in ((requested, registered), (registered, requested)):
        for uri in uris:
            try:
                core.match_redirect_uri(uri, registered=list(others))
            except core.RedirectUriError:
                return False
    return True


def reusable(storage, registration, client_ip):
    """The client this address registered earlier with the same metadata, if it may be handed out again.

    Only public clients are reused: their ``client_id`` is all they need. A confidential client's
    secret is stored as a hash and cannot be shown again, and rotating it would sign out whoever
    registered first from the same address (an office NAT or a vendor's cloud is many people), so
    a confidential registration always creates a new client. A revoked connection is never found.
    """
    if registration.confidential:
        return None
    for client, issued_at in storage.find_registrations(registration, client_ip):
        if same_redirect_uris(registration.redirect_uris, client.redirect_uris) and not client.redirect_prefixes:
            return client, issued_at
    return None


def register(storage, metadata, client_ip):
    """Register a client, or hand back the identical public client this address registered before;
    returns the RFC 7591 §3.2.1 response body."""
    try:
        return _register(storage, metadata, client_ip)
    except OAuthError as error:
        # The error code is the reason class; the description says what was wrong, in words.
        storage.record_event(
            events.REGISTRATION_REFUSED,
            summary=f"Registration refused ({error.error}): {error.description}"[:250],
            outcome=events.RATE_LIMITED if isinstance(error, SlowDown) else events.DENIED,
        )
        raise


def _register(storage, metadata, client_ip):
    settings = storage.settings()
    if settings.paused:
        raise AccessPaused()
    if not settings.registration_enabled:
        raise OAuthAccessDenied(
            "Dynamic client registration is turned off on this Odoo. Ask an administrator to create a "
            "Custom OAuth connection for this tool."
        )
    registration = validate(metadata)
    existing = reusable(storage, registration, client_ip)
    if existing:
        client, issued_at = existing
        return _response(client.client_id, issued_at, registration)
    budget = settings.registrations_per_hour
    retry_after = budget and storage.rate_limited(f"register:ip:{client_ip}", budget, 3600)
    if retry_after:
        raise TooManyRequests(retry_after, "Too many new registrations from this address; retry later.")
    client_id, _ = core.mint_token(kind="client_id")
    secret = secret_hash = None
    if registration.confidential:
        secret, _ = core.mint_token(kind="client_secret")
        secret_hash = core.hash_secret(secret)
    client = storage.register_client(registration, client_id, secret_hash, client_ip)
    body = _response(client.client_id, client.registered_at or storage.now(), registration)
    kind = "confidential" if registration.confidential else "public"
    storage.record_event(
        events.CLIENT_REGISTERED,
        client_id=client.client_id,
        summary=f"{registration.client_name[:80]} registered itself as a {kind} client (RFC 7591).",
    )
    if secret:
        body["client_secret"] = secret
        body["client_secret_expires_at"] = 0
    return body


def _response(client_id, issued_at, registration):
    # The redirect URIs as this request sent them: a reused client admits them (same_redirect_uris).
    return {
        "client_id": client_id,
        "client_id_issued_at": epoch(issued_at),
        "client_name": registration.client_name,
        "redirect_uris": list(registration.redirect_uris),
        "grant_types": list(registration.grant_types),
        "response_types": ["code"],
        "token_endpoint_auth_method": registration.token_endpoint_auth_method,
        "application_type": registration.application_type,
        "scope": scope_rules.join(registration.scopes),
    }
