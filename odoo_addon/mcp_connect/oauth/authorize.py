"""Authorization endpoint: RFC 6749 §4.1.1, OAuth 2.1 §4.1, RFC 7636, RFC 8707, RFC 9207.

Validation happens in two phases. Until the client and the redirect URI are
known to be good, errors are ``PageError``: shown to the person, never
redirected (no open redirector). After that, errors are ``OAuthError`` and go
back to the client's redirect URI with ``state`` and ``iss``.

``begin`` answers the GET (sign in, consent page, or a code at once) and ``decide``
the POST of the consent page. The decision names a pending request by a random
handle; it is bound to the user who saw the page, used once and short-lived, so
nothing in the form is trusted beyond "allow" or "deny", and the companies ticked, which
are checked again against the user's companies and the connection's cap. A consent the user
gives, or the administrator gives for them (``skip_consent``), is a security event of the audit trail.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import mcp_connect_core as core

from . import events
from . import scopes as scope_rules
from .errors import (
    AccessPaused,
    ConsentRequired,
    InvalidRequest,
    InvalidTarget,
    LoginRequired,
    OAuthAccessDenied,
    OAuthError,
    PageError,
    UnsupportedResponseType,
)
from .storage import ClientLookupError, CodeGrant, PendingRequest
from .texts import _lt

_logger = logging.getLogger(__name__)

SINGLE_VALUED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "prompt",
)
MAX_STATE_LENGTH = 2000
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
PENDING_MINUTES = 10


@dataclass(frozen=True)
class Redirect:
    """Send the browser to ``url`` (the client's redirect URI) with a 302."""

    url: str


@dataclass(frozen=True)
class Login:
    """The user must sign in to Odoo first, then come back to the same request."""


@dataclass(frozen=True)
class Consent:
    """Show the consent page for a pending request."""

    handle: str
    client_name: str
    verified: bool
    redirect_host: str
    scope_descriptions: tuple[str, ...]
    # The companies the user may let the tool work in, and those ticked at first; the page
    # offers the choice only when there are several.
    companies: tuple[int, ...] = ()
    chosen_companies: tuple[int, ...] = ()


@dataclass(frozen=True)
class NotAllowed:
    """The signed-in user may not connect AI tools; explain, and offer the way back."""

    client_name: str
    return_url: str


@dataclass(frozen=True)
class User:
    """The person at the browser, as the web layer knows them."""

    user_id: int
    company_id: int
    signed_in: bool
    # Odoo lets this user connect AI tools (the MCP user group).
    may_connect: bool
    # The companies Odoo allows this user; empty means only ``company_id`` (their current one).
    company_ids: tuple[int, ...] = ()

    @property
    def companies(self):
        return self.company_ids or (self.company_id,)


@dataclass(frozen=True)
class AuthorizationRequest:
    client: object
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    offline_access: bool
    code_challenge: str | None
    code_challenge_method: str | None
    resource: str
    prompt: str | None
    redirect_uri_sent: bool = True


def begin(storage, urls, pairs, user):
    """GET: validate, then ask to sign in, show the consent page, or issue a code at once.

    Returns an outcome (``Redirect``, ``Login``, ``Consent``, ``NotAllowed``); raises
    ``PageError`` while the client or the redirect URI is not validated.
    """
    params, repeated = single_values(pairs)
    try:
        client, redirect_uri = resolve_client(params, repeated, storage.find_client)
    except ClientLookupError as error:
        raise PageError(_lt("Application not available"), str(error)) from error
    state = safe_state(params)

    def refuse(error):
        _logger.info("authorization request refused for %s: %s", client.client_id, error)
        return Redirect(error_redirect(redirect_uri, error, state, urls.issuer))

    if storage.settings().paused:
        return refuse(AccessPaused())
    try:
        request = validate(params, repeated, client, redirect_uri, urls, storage.settings())
    except OAuthError as error:
        return refuse(error)
    if not user.signed_in:
        if request.prompt == "none":
            return refuse(LoginRequired("The user is not signed in to Odoo."))
        return Login()
    if not user.may_connect:
        denied = OAuthAccessDenied("This Odoo user is not allowed to connect AI tools.")
        return NotAllowed(client.name, error_redirect(redirect_uri, denied, state, urls.issuer))
    choices = company_choices(client, user)
    if not choices:
        return refuse(OAuthAccessDenied("This connection may not work in any of this user's companies."))
    consented = storage.find_consent(client.client_id, user.user_id)
    covered = consented is not None and scope_rules.covers_all(consented, request.scopes)
    already_allowed = client.skip_consent or covered
    previous = storage.find_consent_companies(client.client_id, user.user_id) if consented is not None else ()
    chosen = default_companies(choices, user, previous)
    if already_allowed and request.prompt != "consent":
        if consented is None:
            storage.remember_consent(client.client_id, user.user_id, request.scopes, chosen)
            _consent_given(storage, client, user, request.scopes, "without asking: the administrator allowed this tool")
        return _issue(storage, urls, request, user, chosen)
    if request.prompt == "none":
        return refuse(ConsentRequired("The user has not allowed this application yet."))
    pending = PendingRequest(
        handle=secrets.token_urlsafe(24),
        user_id=user.user_id,
        client_id=client.client_id,
        redirect_uri=request.redirect_uri,
        redirect_uri_sent=request.redirect_uri_sent,
        state=request.state,
        scopes=request.scopes,
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        resource=request.resource,
        expires_at=storage.now() + timedelta(minutes=PENDING_MINUTES),
    )
    storage.save_pending(pending)
    return Consent(
        handle=pending.handle,
        client_name=client.name,
        verified=client.verified,
        redirect_host=urlsplit(request.redirect_uri).netloc or request.redirect_uri.split(":", 1)[0],
        scope_descriptions=tuple(scope_rules.describe(request.scopes)),
        companies=choices,
        chosen_companies=chosen,
    )


def decide(storage, urls, handle, user, allow, companies=()):
    """POST: the user's decision on a pending request; a ``Redirect``, or a ``PageError``.

    ``companies`` are the company ids ticked on the page, as sent (strings): checked here.
    """
    pending = storage.find_pending(handle or "", user.user_id)
    if pending is None or pending.used or pending.expires_at <= storage.now():
        raise PageError(
            _lt("This sign-in request is no longer valid"),
            _lt("It was already answered or it expired. Start the connection again from the application."),
        )
    storage.claim_pending(pending.handle)
    try:
        client = storage.find_client(pending.client_id)
    except ClientLookupError as error:
        raise PageError(_lt("Application not available"), str(error)) from error
    if client is None or not client.active:
        raise PageError(
            _lt("Application not available"),
            _lt("This application's connection was removed or revoked."),
            client_name=client.name if client else None,
        )
    if storage.settings().paused:
        return Redirect(error_redirect(pending.redirect_uri, AccessPaused(), pending.state, urls.issuer))
    if not allow:
        denied = OAuthAccessDenied("The user denied access.")
        return Redirect(error_redirect(pending.redirect_uri, denied, pending.state, urls.issuer))
    if not user.may_connect:
        # Taken out of the MCP user group while the consent page was open.
        denied = OAuthAccessDenied("This Odoo user is not allowed to connect AI tools.")
        return NotAllowed(client.name, error_redirect(pending.redirect_uri, denied, pending.state, urls.issuer))
    try:
        client = storage.ensure_client(client)
    except ClientLookupError as error:
        raise PageError(_lt("Application not available"), str(error)) from error
    try:
        chosen = chosen_companies(companies, company_choices(client, user), user)
    except PageError as error:
        error.client_name = client.name
        raise
    storage.remember_consent(client.client_id, user.user_id, pending.scopes, chosen)
    _consent_given(storage, client, user, pending.scopes, "on the consent page")
    request = AuthorizationRequest(
        client=client,
        redirect_uri=pending.redirect_uri,
        state=pending.state,
        scopes=pending.scopes,
        offline_access=False,
        code_challenge=pending.code_challenge,
        code_challenge_method=pending.code_challenge_method,
        resource=pending.resource,
        prompt=None,
        redirect_uri_sent=pending.redirect_uri_sent,
    )
    return _issue(storage, urls, request, user, chosen)


def _consent_given(storage, client, user, scopes, how):
    storage.record_event(
        events.CONSENT_GIVEN,
        client_id=client.client_id,
        user_id=user.user_id,
        summary=f"{client.name[:80]} allowed {how} ({scope_rules.join(scopes)}).",
    )


def _issue(storage, urls, request, user, companies):
    code = issue_code(storage, request, user.user_id, companies)
    return Redirect(success_redirect(request, code, urls.issuer))


def company_choices(client, user):
    """The companies the user may let ``client`` work in: theirs, within the connection's cap."""
    return tuple(company for company in user.companies if not client.company_ids or company in client.company_ids)


def default_companies(choices, user, previous=()):
    """The user's earlier choice (what is left of it), else their current company, else the first choice."""
    kept = tuple(company for company in previous if company in choices)
    if kept:
        return kept
    return (user.company_id,) if user.company_id in choices else choices[:1]


def chosen_companies(submitted, choices, user):
    """The companies ticked on the consent page, the main one first; a ``PageError`` for anything else.

    The page offers ``choices`` only when there are several; otherwise nothing is sent and the one
    choice holds. A company the user does not have, or outside the connection's cap, is refused.
    """
    if not choices:
        raise PageError(
            _lt("Company not available"),
            _lt("This connection may no longer work in any of your companies."),
            status=403,
        )
    if not submitted:
        if len(choices) > 1:
            raise PageError(_lt("Choose a company"), _lt("Tick at least one company the application may work in."))
        return default_companies(choices, user)
    try:
        wanted = {int(value) for value in submitted}
    except (TypeError, ValueError) as error:
        raise PageError(_lt("Invalid request"), _lt("The companies chosen are not valid.")) from error
    if not wanted <= set(choices):
        raise PageError(
            _lt("Company not available"),
            _lt(
                "The application cannot work in a company you do not have access to, "
                "or that its connection does not allow."
            ),
            status=403,
            log_detail=f"companies {sorted(wanted - set(choices))} outside {list(choices)}",
        )
    ordered = sorted(wanted, key=choices.index)
    return tuple(sorted(ordered, key=lambda company: company != user.company_id))


def single_values(pairs):
    """Turn request parameters into a dict; a repeated parameter is an error (RFC 6749 §3.1).

    A parameter sent without a value is treated as omitted (RFC 6749 §3.1, §3.2): ``state=``
    is no state, and is not echoed back.
    """
    values, repeated = {}, set()
    for key, value in pairs:
        if value == "":
            continue
        if key in values:
            repeated.add(key)
        values[key] = value
    return values, repeated


def resolve_client(params, repeated, find_client):
    """Phase 1: the client and the redirect URI, or a ``PageError``."""
    if "client_id" in repeated or "redirect_uri" in repeated:
        raise PageError(_lt("Invalid request"), _lt("The client_id and redirect_uri parameters may appear only once."))
    client_id = params.get("client_id")
    if not client_id:
        raise PageError(
            _lt("Invalid request"), _lt("The request does not say which application is asking (client_id).")
        )
    client = find_client(client_id)
    if client is None:
        raise PageError(
            _lt("Unknown application"),
            _lt(
                "This application is not registered with this Odoo database, or its registration was removed. "
                "Connect it again from the application."
            ),
            log_detail=f"unknown client_id {client_id[:80]!r}",
        )
    if not client.active:
        raise PageError(
            _lt("Connection revoked"),
            _lt(
                "An administrator revoked this connection. Ask them to reactivate it, or connect the application again."
            ),
            status=403,
            client_name=client.name,
        )
    return client, matched_redirect_uri(client, params.get("redirect_uri"))


def matched_redirect_uri(client, presented):
    if presented is None:
        # OAuth 2.1 §4.1.1: may be omitted only when exactly one URI is registered. Not for a
        # loopback URI: its port changes with every sign-in (RFC 8252 §7.3), and a public client
        # registered again from the same address shares the first registration's URI.
        if (
            len(client.redirect_uris) == 1
            and not client.redirect_prefixes
            and urlsplit(client.redirect_uris[0]).hostname not in LOOPBACK_HOSTS
        ):
            return client.redirect_uris[0]
        raise PageError(
            _lt("Invalid request"),
            _lt("The request does not say where to return (redirect_uri)."),
            client_name=client.name,
        )
    try:
        core.match_redirect_uri(
            presented, registered=list(client.redirect_uris), prefixes=list(client.redirect_prefixes)
        )
    except core.RedirectUriError as error:
        raise PageError(
            _lt("Redirect address not allowed"),
            _lt(
                "The application asked to return to an address it did not register. "
                "For your safety the sign-in stops here."
            ),
            log_detail=f"redirect_uri mismatch for {client.client_id}",
            client_name=client.name,
            redirect_uri=presented,
        ) from error
    return presented


def validate(params, repeated, client, redirect_uri, urls, settings):
    """Phase 2: everything else; errors are redirected to the client."""
    state = params.get("state")
    if state is not None and len(state) > MAX_STATE_LENGTH:
        raise InvalidRequest("The state parameter is too long.")
    if repeated:
        raise InvalidRequest(f"Parameters may appear only once: {', '.join(sorted(repeated))}.")
    response_type = params.get("response_type")
    if response_type is None:
        raise InvalidRequest("The request does not say what it asks for: send response_type=code.")
    if response_type != "code":
        raise UnsupportedResponseType("Only response_type=code is supported.")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without code_challenge.")
        if not pkce_exempt(redirect_uri, settings.pkce_exempt_hosts):
            raise InvalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256.")
    else:
        try:
            core.check_pkce_challenge(challenge=challenge, method=method or "plain")
        except core.UnsupportedChallengeMethodError as error:
            raise InvalidRequest("code_challenge_method must be S256.") from error
        except core.InvalidChallengeError as error:
            raise InvalidRequest(str(error)) from error
    granted, offline = scope_rules.resolve(params.get("scope"), client.allowed_scopes)
    resource = params.get("resource")
    if resource is not None and not urls.accepts_resource(resource):
        raise InvalidTarget("This server only issues tokens for its MCP endpoint " + urls.resource + ".")
    prompt = params.get("prompt")
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        state=state,
        scopes=tuple(granted),
        offline_access=offline,
        code_challenge=challenge,
        code_challenge_method="S256" if challenge else None,
        resource=urls.resource,
        prompt=prompt,
        redirect_uri_sent=params.get("redirect_uri") is not None,
    )


def safe_state(params):
    """The state to echo in an error redirect (dropped when it is absurdly long)."""
    state = params.get("state")
    return state if state is not None and len(state) <= MAX_STATE_LENGTH else None


def pkce_exempt(redirect_uri, exempt_hosts):
    """Only the administrator's list of redirect hosts may omit PKCE (ChatGPT's connectors)."""
    parts = urlsplit(redirect_uri)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and host in exempt_hosts


def issue_code(storage, request, user_id, companies):
    """Mint an authorization code for a consented request, working in ``companies`` (the main one
    first); only its digest is stored."""
    code, digest = core.mint_token(kind="code")
    settings = storage.settings()
    storage.save_code(
        CodeGrant(
            digest=digest,
            client_id=request.client.client_id,
            user_id=user_id,
            company_id=companies[0],
            company_ids=tuple(companies),
            # OAuth 2.1 §4.1.3: the token request repeats redirect_uri only if the
            # authorization request carried it; "" records that it did not.
            redirect_uri=request.redirect_uri if request.redirect_uri_sent else "",
            scopes=request.scopes,
            resource=request.resource,
            expires_at=storage.now() + timedelta(seconds=settings.code_seconds),
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
        )
    )
    return code


def redirect_with(redirect_uri, values):
    """Add parameters to the redirect URI's query, keeping the query it already has (RFC 6749 §3.1.2)."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(key, value) for key, value in values.items() if value is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def success_redirect(request, code, issuer):
    return redirect_with(request.redirect_uri, {"code": code, "state": request.state, "iss": issuer})


def error_redirect(redirect_uri, error: OAuthError, state, issuer):
    """RFC 6749 §4.1.2.1 plus RFC 9207 ``iss`` on errors too."""
    values = {
        "error": error.error,
        "error_description": error.description or None,
        "state": state,
        "iss": issuer,
    }
    return redirect_with(redirect_uri, values)
