"""Revocation (RFC 7009), introspection (RFC 7662) and bearer tokens at the MCP endpoint (RFC 6750)."""

import base64

import mcp_connect_core as core
import pytest
from mcp_connect.oauth import bearer, introspection, revocation, token
from mcp_connect.oauth.errors import (
    InvalidClient,
    InvalidRequest,
    InvalidToken,
    MissingToken,
    UnsupportedTokenType,
)
from mcp_connect.oauth.storage import epoch

from .support import SECRET

IP = "192.0.2.1"


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def issued(storage, urls, confidential, obtain_code):
    """Tokens of the confidential client, from a code exchange."""
    code, verifier, _request = obtain_code(confidential, scope="mcp:read")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": confidential.redirect_uris[0],
    }
    return token.handle(storage, urls, form, set(), basic(confidential.client_id, SECRET), IP)


def record(storage, value):
    return storage.find_token(core.parse_token(value)[1])


def revoke(storage, client, value, **extra):
    header = basic(client.client_id, SECRET) if client.confidential else None
    form = {"token": value, **extra} if client.confidential else {"token": value, "client_id": client.client_id}
    return revocation.revoke(storage, form, set(), header, IP)


def introspect(storage, urls, client, value):
    form = {"token": value}
    return introspection.introspect(storage, urls, form, set(), basic(client.client_id, SECRET), IP)


def test_revoking_a_refresh_token_revokes_its_family(storage, confidential, issued):
    revoke(storage, confidential, issued["refresh_token"], token_type_hint="refresh_token")
    assert record(storage, issued["access_token"]).revoked
    assert record(storage, issued["refresh_token"]).revoked


def test_revoking_an_access_token_revokes_only_it(storage, confidential, issued):
    revoke(storage, confidential, issued["access_token"])
    assert record(storage, issued["access_token"]).revoked
    assert not record(storage, issued["refresh_token"]).revoked


def test_anything_else_is_answered_like_a_revoked_token(storage, public, confidential, issued):
    # Another client's token, malformed or unknown tokens: nothing happens, nothing is revealed.
    for value in (issued["refresh_token"], "garbage", core.mint_token(kind="refresh")[0]):
        assert revoke(storage, public, value) is None
    assert not record(storage, issued["refresh_token"]).revoked
    with pytest.raises(UnsupportedTokenType):
        revoke(storage, confidential, issued["access_token"], token_type_hint="id_token")
    with pytest.raises(InvalidRequest):
        revoke(storage, confidential, "")
    with pytest.raises(InvalidClient):
        revocation.revoke(storage, {"token": issued["access_token"]}, set(), basic(confidential.client_id, "x"), IP)


def test_introspection_of_an_own_active_token(storage, urls, confidential, issued):
    body = introspect(storage, urls, confidential, issued["access_token"])
    assert body["active"] is True
    assert body["scope"] == "mcp:read"
    assert body["client_id"] == confidential.client_id
    assert body["token_type"] == "Bearer"
    assert body["aud"] == urls.resource
    assert body["iss"] == urls.issuer
    assert body["iat"] == epoch(storage.now())
    assert body["exp"] == epoch(storage.now()) + 3600
    assert body["sub"]
    assert introspect(storage, urls, confidential, issued["refresh_token"])["token_type"] == "refresh_token"


def test_introspection_says_nothing_about_other_tokens(storage, urls, confidential, issued):
    for value in ("garbage", core.mint_token(kind="access")[0], core.mint_token(kind="code")[0]):
        assert introspect(storage, urls, confidential, value) == {"active": False}
    storage.advance(3600)
    assert introspect(storage, urls, confidential, issued["access_token"]) == {"active": False}
    revoke(storage, confidential, issued["refresh_token"])
    assert introspect(storage, urls, confidential, issued["refresh_token"]) == {"active": False}


def test_introspection_is_for_confidential_clients(storage, urls, public, issued):
    with pytest.raises(InvalidClient):
        introspection.introspect(
            storage, urls, {"token": issued["access_token"], "client_id": public.client_id}, set(), None, IP
        )


def test_bearer_extraction(storage, issued):
    presented = bearer.extract("Bearer " + issued["access_token"], set())
    assert presented.kind == "access"
    assert presented.digest == core.parse_token(issued["access_token"])[1]
    assert bearer.extract("bearer  " + issued["access_token"] + " ", set()).kind == "access"
    for header in (None, "", "  ", "Basic abc"):
        with pytest.raises(MissingToken):
            bearer.extract(header, set())
    for header in ("Bearer ", "Bearer garbage", "Bearer " + issued["refresh_token"]):
        with pytest.raises(InvalidToken) as caught:
            bearer.extract(header, set())
        assert not isinstance(caught.value, MissingToken)
    with pytest.raises(InvalidRequest):
        bearer.extract("Bearer " + issued["access_token"], {"access_token"})


def test_the_challenge_has_no_error_code_without_credentials(urls):
    challenge = bearer.challenge(urls, MissingToken())
    assert challenge == (
        'Bearer resource_metadata="https://odoo.example.com/.well-known/oauth-protected-resource/api/mcp", '
        'scope="mcp:read mcp:write"'
    )
    assert bearer.challenge(urls) == challenge
    invalid = bearer.challenge(urls, InvalidToken('The "token" is bad'), scope="mcp:write")
    assert invalid.endswith('scope="mcp:write", error="invalid_token", error_description="The \\"token\\" is bad"')
    headers = bearer.error_headers(urls, MissingToken())
    assert headers["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" in headers["Access-Control-Expose-Headers"]
