"""Token endpoint: RFC 6749 §3.2, §4.1.3, §4.4, §6; OAuth 2.1 §4.3; RFC 7636 §4.6; RFC 8707.

Rules this module pins (docs/SECURITY.md, *Authorization codes*, *Refresh families*):
- a code is consumed before it is checked; a second *valid* redemption revokes what
  the first one issued, an invalid replay revokes nothing;
- a code or refresh token of another client is answered as if it did not exist;
- refresh tokens rotate; the previous one works again only within the grace window;
  reuse after it revokes the whole family; the family has an absolute lifetime (the
  Settings' maximum, shortened by the client's own cap, fixed when the family starts); a
  refresh cannot widen the scope, and keeps the companies of the grant;
- ``client_credentials`` only for confidential clients.

A replay or a reuse that revokes tokens is a security event of the audit trail; a refresh
within the grace window is not.
"""

import secrets
from datetime import timedelta

import mcp_connect_core as core

from . import client_auth, events
from . import scopes as scope_rules
from .errors import (
    AccessPaused,
    InvalidGrant,
    InvalidRequest,
    InvalidTarget,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from .storage import TokenRecord

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def handle(storage, urls, form, repeated, authorization_header, client_ip):
    """Answer a token request: returns the JSON body (errors are raised as ``OAuthError``)."""
    if storage.settings().paused:
        raise AccessPaused()
    if repeated:
        raise InvalidRequest(f"Parameters may appear only once: {', '.join(sorted(repeated))}.")
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequest("Missing grant_type.")
    if grant_type not in GRANT_TYPES:
        raise UnsupportedGrantType(f"Unsupported grant_type {grant_type[:40]!r}.")
    client = client_auth.authenticate(storage, form, authorization_header, client_ip)
    if grant_type not in client.grant_types:
        raise UnauthorizedClient(f"This client may not use the {grant_type} grant.")
    resource = form.get("resource")
    if resource is not None and not urls.accepts_resource(resource):
        raise InvalidTarget("This server only issues tokens for its MCP endpoint " + urls.resource + ".")
    if grant_type == "authorization_code":
        return _authorization_code(storage, urls, client, form)
    if grant_type == "refresh_token":
        return _refresh_token(storage, urls, client, form)
    return _client_credentials(storage, urls, client, form)


def _digest(value, kind):
    """Digest a presented code or token; anything malformed is simply an invalid grant."""
    if not value:
        raise InvalidRequest(f"Missing {'code' if kind == 'code' else 'refresh_token'}.")
    try:
        return core.digest_token(value, kind=kind)
    except core.TokenError as error:
        raise InvalidGrant(log_detail=f"malformed {kind}: {type(error).__name__}") from error


def _authorization_code(storage, urls, client, form):
    digest = _digest(form.get("code"), "code")
    code = storage.find_code(digest)
    if code is None or code.client_id != client.client_id:
        raise InvalidGrant(log_detail="unknown code or code of another client")
    redirect_uri = form.get("redirect_uri", "")
    verifier = form.get("code_verifier")
    # Consume first, check afterwards: of two concurrent redemptions exactly one claims the code.
    claimed, family = storage.claim_code(digest, client.client_id, secrets.token_hex(16))
    if not claimed:
        # A replay. Only a replay that would otherwise have succeeded proves the code
        # leaked to someone holding the verifier: then revoke what it issued (RFC 6749 §4.1.2).
        if _code_checks_pass(code, redirect_uri, verifier, storage.now()):
            storage.revoke_family(family)
            storage.record_event(
                events.CODE_REPLAYED,
                client_id=client.client_id,
                user_id=code.user_id,
                summary="An authorization code was redeemed a second time: the tokens of its first "
                "redemption were revoked.",
                outcome=events.DENIED,
            )
        raise InvalidGrant(log_detail="authorization code replayed")
    if code.expires_at <= storage.now():
        raise InvalidGrant("The authorization code has expired.")
    if redirect_uri != code.redirect_uri:
        raise InvalidGrant("redirect_uri does not match the authorization request.")
    if code.code_challenge:
        if not verifier:
            raise InvalidRequest("Missing code_verifier.")
        try:
            core.verify_pkce(verifier=verifier, challenge=code.code_challenge, method=code.code_challenge_method)
        except core.PkceMismatchError as error:
            raise InvalidGrant("code_verifier does not match the code_challenge.") from error
        except core.PkceError as error:
            raise InvalidRequest(str(error)) from error
    elif verifier:
        raise InvalidRequest("code_verifier sent for an authorization request without code_challenge.")
    settings = storage.settings()
    now = storage.now()
    family_expires_at = now + timedelta(seconds=_session_seconds(client, settings.family_max_seconds))
    return _issue(
        storage,
        client,
        code.user_id,
        code.company_ids or (code.company_id,),
        code.scopes,
        code.resource,
        family,
        family_expires_at,
        with_refresh="refresh_token" in client.grant_types,
    )


def _session_seconds(client, settings_seconds):
    """How long a new family lasts: the Settings' lifetime, shortened (never lengthened) by the client's cap."""
    if client.max_session_seconds:
        return min(settings_seconds, client.max_session_seconds)
    return settings_seconds


def _code_checks_pass(code, redirect_uri, verifier, now):
    if code.expires_at <= now or redirect_uri != code.redirect_uri:
        return False
    if not code.code_challenge:
        return not verifier
    try:
        core.verify_pkce(verifier=verifier or "", challenge=code.code_challenge, method=code.code_challenge_method)
    except core.PkceError:
        return False
    return True


def _refresh_token(storage, urls, client, form):
    digest = _digest(form.get("refresh_token"), "refresh")
    token = storage.find_token(digest)
    if token is None or token.kind != "refresh" or token.client_id != client.client_id:
        raise InvalidGrant(log_detail="unknown refresh token or token of another client")
    now = storage.now()
    if token.revoked:
        raise InvalidGrant(log_detail="refresh token revoked")
    if token.expires_at <= now or token.family_expires_at <= now:
        raise InvalidGrant("The refresh token has expired; sign in again.")
    settings = storage.settings()
    # Atomic: concurrent refreshes with one token all learn when it was first rotated.
    rotated_at = storage.claim_rotation(digest, now)
    if rotated_at is not None and now - rotated_at > timedelta(seconds=settings.refresh_grace_seconds):
        # Reuse of a rotated token after the grace window: someone else may hold it.
        storage.revoke_family(token.family)
        storage.record_event(
            events.REFRESH_TOKEN_REUSED,
            client_id=client.client_id,
            user_id=token.user_id,
            summary=f"A rotated refresh token was used again {int((now - rotated_at).total_seconds())} s after "
            f"its rotation (grace window {settings.refresh_grace_seconds} s): its whole family was revoked.",
            outcome=events.DENIED,
        )
        raise InvalidGrant(log_detail="rotated refresh token reused after the grace window; family revoked")
    granted = scope_rules.narrow(form.get("scope"), token.scopes)
    return _issue(
        storage,
        client,
        token.user_id,
        token.company_ids or (token.company_id,),
        tuple(granted),
        token.resource,
        token.family,
        token.family_expires_at,
        with_refresh=True,
        parent_digest=digest,
    )


def _client_credentials(storage, urls, client, form):
    if not client.confidential:
        raise UnauthorizedClient("client_credentials is only for confidential clients.")
    if not client.owner_user_id:
        raise UnauthorizedClient("This connection has no user to act as.")
    granted, _offline = scope_rules.resolve(form.get("scope"), client.allowed_scopes)
    now = storage.now()
    settings = storage.settings()
    family_expires_at = now + timedelta(seconds=_session_seconds(client, settings.access_token_seconds))
    return _issue(
        storage,
        client,
        client.owner_user_id,
        (client.owner_company_id,),
        tuple(granted),
        urls.resource,
        secrets.token_hex(16),
        family_expires_at,
        with_refresh=False,
    )


def _issue(
    storage,
    client,
    user_id,
    companies,
    granted,
    resource,
    family,
    family_expires_at,
    *,
    with_refresh,
    parent_digest=None,
):
    settings = storage.settings()
    now = storage.now()
    access, access_digest = core.mint_token(kind="access")
    access_expires = min(now + timedelta(seconds=settings.access_token_seconds), family_expires_at)
    common = {
        "client_id": client.client_id,
        "user_id": user_id,
        "company_id": companies[0],
        "company_ids": tuple(companies),
        "scopes": tuple(granted),
        "resource": resource,
        "family": family,
        "family_expires_at": family_expires_at,
        "issued_at": now,
    }
    storage.save_token(TokenRecord(digest=access_digest, kind="access", expires_at=access_expires, **common))
    body = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": max(1, int((access_expires - now).total_seconds())),
        "scope": scope_rules.join(granted),
    }
    if with_refresh:
        refresh, refresh_digest = core.mint_token(kind="refresh")
        refresh_expires = min(now + timedelta(seconds=settings.refresh_token_seconds), family_expires_at)
        storage.save_token(
            TokenRecord(
                digest=refresh_digest,
                kind="refresh",
                expires_at=refresh_expires,
                parent_digest=parent_digest,
                **common,
            )
        )
        body["refresh_token"] = refresh
    return body
