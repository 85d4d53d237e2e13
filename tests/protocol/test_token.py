"""The token endpoint (oauth/token.py): code exchange, refresh rotation, client credentials."""

import base64
from dataclasses import replace
from datetime import timedelta

import mcp_connect_core as core
import pytest
from mcp_connect.oauth import token
from mcp_connect.oauth.errors import InvalidGrant, InvalidRequest, InvalidScope, OAuthError, UnauthorizedClient

from .support import PUBLIC_CALLBACK, SECRET, USER_ID

IP = "192.0.2.1"


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def exchange(storage, urls, client, code, verifier, *, redirect_uri=None, header=None):
    form = {"grant_type": "authorization_code", "code": code, "client_id": client.client_id}
    if redirect_uri is not False:
        form["redirect_uri"] = redirect_uri or client.redirect_uris[0]
    if verifier is not None:
        form["code_verifier"] = verifier
    return token.handle(storage, urls, form, set(), header, IP)


def refresh(storage, urls, client, refresh_token, **extra):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id, **extra}
    return token.handle(storage, urls, form, set(), None, IP)


def record(storage, value):
    _kind, digest = core.parse_token(value)
    return storage.find_token(digest)


def test_a_code_is_exchanged_once_for_tokens(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public, scope="mcp:read")
    body = exchange(storage, urls, public, code, verifier)
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "mcp:read"
    assert body["expires_in"] == 3600
    access = record(storage, body["access_token"])
    assert (access.kind, access.user_id, access.resource) == ("access", USER_ID, urls.resource)
    assert record(storage, body["refresh_token"]).family == access.family


def test_a_valid_replay_revokes_what_the_first_redemption_issued(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public)
    first = exchange(storage, urls, public, code, verifier)
    with pytest.raises(InvalidGrant):
        exchange(storage, urls, public, code, verifier)
    assert record(storage, first["access_token"]).revoked
    assert record(storage, first["refresh_token"]).revoked


def test_an_invalid_replay_revokes_nothing(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public)
    first = exchange(storage, urls, public, code, verifier)
    with pytest.raises(InvalidGrant):
        exchange(storage, urls, public, code, "w" * 43)
    with pytest.raises(InvalidGrant):
        exchange(storage, urls, public, code, verifier, redirect_uri="http://127.0.0.1/elsewhere")
    assert not record(storage, first["access_token"]).revoked


def test_the_code_of_another_client_does_not_exist(storage, urls, public, confidential, obtain_code):
    code, verifier, _request = obtain_code(public)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": PUBLIC_CALLBACK}
    with pytest.raises(InvalidGrant):
        token.handle(
            storage, urls, dict(form, code_verifier=verifier), set(), basic(confidential.client_id, SECRET), IP
        )
    # Not consumed by the other client's attempt: its own client still redeems it.
    assert exchange(storage, urls, public, code, verifier)["access_token"]


def test_the_redirect_uri_must_repeat_the_authorization_requests(storage, urls, public, confidential, obtain_code):
    code, verifier, _request = obtain_code(public, redirect_uri="http://127.0.0.1:50111/callback")
    with pytest.raises(InvalidGrant, match="redirect_uri"):
        exchange(storage, urls, public, code, verifier)
    # Omitted in the authorization request: must be omitted here too.
    code, verifier, _request = obtain_code(confidential, redirect_uri=False)
    header = basic(confidential.client_id, SECRET)
    with pytest.raises(InvalidGrant, match="redirect_uri"):
        exchange(storage, urls, confidential, code, verifier, header=header)
    code, verifier, _request = obtain_code(confidential, redirect_uri=False)
    assert exchange(storage, urls, confidential, code, verifier, redirect_uri=False, header=header)["access_token"]


def test_an_expired_code_is_refused(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public)
    storage.advance(storage.settings().code_seconds)
    with pytest.raises(InvalidGrant, match="expired"):
        exchange(storage, urls, public, code, verifier)


def test_the_verifier_must_match_the_challenge(storage, urls, public, obtain_code):
    code, _verifier, _request = obtain_code(public)
    with pytest.raises(InvalidGrant, match="code_verifier"):
        exchange(storage, urls, public, code, "w" * 43)
    code, _verifier, _request = obtain_code(public)
    with pytest.raises(InvalidRequest, match="code_verifier"):
        exchange(storage, urls, public, code, None)


def test_a_malformed_code_is_an_invalid_grant(storage, urls, public):
    with pytest.raises(InvalidGrant):
        exchange(storage, urls, public, "not-a-code", "v" * 43)


def test_refresh_rotates(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public)
    first = exchange(storage, urls, public, code, verifier)
    second = refresh(storage, urls, public, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    rotated = record(storage, second["refresh_token"])
    assert rotated.parent_digest == record(storage, first["refresh_token"]).digest
    assert rotated.family == record(storage, first["access_token"]).family


def test_a_rotated_token_works_again_only_within_the_grace_window(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public)
    first = exchange(storage, urls, public, code, verifier)
    refresh(storage, urls, public, first["refresh_token"])
    storage.advance(storage.settings().refresh_grace_seconds)
    # A client that lost the answer retries within the grace window.
    retried = refresh(storage, urls, public, first["refresh_token"])
    storage.advance(1)
    with pytest.raises(InvalidGrant):
        refresh(storage, urls, public, first["refresh_token"])
    # Reuse after the window: someone else may hold it; the whole family is revoked.
    family = record(storage, first["access_token"]).family
    assert all(item.revoked for item in storage.family(family))
    with pytest.raises(InvalidGrant):
        refresh(storage, urls, public, retried["refresh_token"])


def test_the_family_has_an_absolute_lifetime(storage, urls, public, obtain_code):
    storage.configure(family_max_seconds=7200)
    code, verifier, _request = obtain_code(public)
    current = exchange(storage, urls, public, code, verifier)
    storage.advance(3600)
    current = refresh(storage, urls, public, current["refresh_token"])
    storage.advance(1800)
    current = refresh(storage, urls, public, current["refresh_token"])
    # The access token never outlives its family.
    assert current["expires_in"] == 1800
    storage.advance(1800)
    with pytest.raises(InvalidGrant, match="expired"):
        refresh(storage, urls, public, current["refresh_token"])


def test_a_clients_sign_in_lifetime_shortens_the_family(storage, urls, public, obtain_code):
    capped = storage.add_client(replace(public, max_session_seconds=7 * 86400))
    code, verifier, _request = obtain_code(capped)
    first = exchange(storage, urls, capped, code, verifier)
    access = record(storage, first["access_token"])
    assert access.family_expires_at == storage.now() + timedelta(days=7)
    # A refresh token never outlives its family, though the Settings give it 90 days.
    assert record(storage, first["refresh_token"]).expires_at == access.family_expires_at
    # A refresh keeps the family's expiry: signing in again is due 7 days after the first sign-in.
    storage.advance(6 * 86400)
    rotated = refresh(storage, urls, capped, first["refresh_token"])
    assert record(storage, rotated["refresh_token"]).family_expires_at == access.family_expires_at
    storage.advance(86400)
    with pytest.raises(InvalidGrant, match="expired"):
        refresh(storage, urls, capped, rotated["refresh_token"])


@pytest.mark.parametrize("cap", [None, 0, 400 * 86400])
def test_no_sign_in_lifetime_or_a_longer_one_keeps_the_settings(storage, urls, public, obtain_code, cap):
    capped = storage.add_client(replace(public, max_session_seconds=cap))
    code, verifier, _request = obtain_code(capped)
    body = exchange(storage, urls, capped, code, verifier)
    assert record(storage, body["access_token"]).family_expires_at == storage.now() + timedelta(days=365)
    assert record(storage, body["refresh_token"]).expires_at == storage.now() + timedelta(days=90)


def test_a_clients_sign_in_lifetime_caps_client_credentials(storage, urls, confidential):
    capped = storage.add_client(replace(confidential, max_session_seconds=1800))
    body = token.handle(storage, urls, {"grant_type": "client_credentials"}, set(), basic(capped.client_id, SECRET), IP)
    assert body["expires_in"] == 1800
    assert record(storage, body["access_token"]).family_expires_at == storage.now() + timedelta(seconds=1800)


def test_a_refresh_narrows_but_never_widens_the_scope(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public, scope="mcp:read")
    first = exchange(storage, urls, public, code, verifier)
    with pytest.raises(InvalidScope):
        refresh(storage, urls, public, first["refresh_token"], scope="mcp:write")
    code, verifier, _request = obtain_code(public, scope="mcp:write")
    wide = exchange(storage, urls, public, code, verifier)
    assert refresh(storage, urls, public, wide["refresh_token"], scope="mcp:read")["scope"] == "mcp:read"


def test_a_refresh_token_of_another_client_or_an_access_token_is_refused(storage, urls, public, obtain_code):
    other = storage.add_client(replace(public, client_id="mcpci_other"))
    code, verifier, _request = obtain_code(public)
    body = exchange(storage, urls, public, code, verifier)
    with pytest.raises(InvalidGrant):
        refresh(storage, urls, other, body["refresh_token"])
    with pytest.raises(InvalidGrant):
        refresh(storage, urls, public, body["access_token"])


def test_client_credentials_only_for_confidential_clients(storage, urls, public, confidential):
    body = token.handle(
        storage, urls, {"grant_type": "client_credentials"}, set(), basic(confidential.client_id, SECRET), IP
    )
    assert "refresh_token" not in body
    assert record(storage, body["access_token"]).user_id == confidential.owner_user_id
    storage.add_client(replace(public, grant_types=("authorization_code", "client_credentials")))
    with pytest.raises(UnauthorizedClient):
        token.handle(
            storage, urls, {"grant_type": "client_credentials", "client_id": public.client_id}, set(), None, IP
        )


@pytest.mark.parametrize(
    ("form", "repeated", "error"),
    [
        ({}, set(), "invalid_request"),
        ({"grant_type": "password"}, set(), "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, {"code"}, "invalid_request"),
        (
            {"grant_type": "authorization_code", "resource": "https://elsewhere.example/api/mcp"},
            set(),
            "invalid_target",
        ),
    ],
)
def test_malformed_token_requests(storage, urls, public, form, repeated, error):
    with pytest.raises(OAuthError) as caught:
        token.handle(storage, urls, {"client_id": public.client_id, **form}, repeated, None, IP)
    assert caught.value.error == error


def test_a_confidential_clients_code_needs_its_secret(storage, urls, confidential, obtain_code):
    code, verifier, _request = obtain_code(confidential)
    with pytest.raises(OAuthError) as caught:
        exchange(storage, urls, confidential, code, verifier)
    assert caught.value.error == "invalid_client"
