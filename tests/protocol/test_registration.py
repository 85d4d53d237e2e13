"""Dynamic client registration (oauth/registration.py): what a tool registers is what it gets."""

import pytest
from mcp_connect.oauth import client_auth, registration
from mcp_connect.oauth.errors import (
    InvalidClientMetadata,
    InvalidRedirectUri,
    InvalidScope,
    OAuthAccessDenied,
    TooManyRequests,
)
from mcp_connect.oauth.storage import epoch

from .support import authorize

IP = "192.0.2.1"
CLAUDE = {
    "client_name": "Claude",
    "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": "mcp:read mcp:write",
}


def register(storage, address=IP, **changes):
    return registration.register(storage, {**CLAUDE, **changes}, address)


def test_a_public_registration(storage):
    body = register(storage)
    assert body["client_id"].startswith("mcpci_")
    assert "client_secret" not in body
    assert body["client_id_issued_at"] == epoch(storage.now())
    assert body["scope"] == "mcp:read mcp:write"
    client = storage.find_client(body["client_id"])
    assert not client.confidential
    assert client.redirect_uris == tuple(CLAUDE["redirect_uris"])


def test_a_confidential_registration_gets_a_secret_for_its_method(storage):
    body = register(storage, token_endpoint_auth_method="client_secret_post")
    assert body["client_secret"].startswith("mcpcs_")
    assert body["client_secret_expires_at"] == 0
    form = {"client_id": body["client_id"], "client_secret": body["client_secret"]}
    assert client_auth.authenticate(storage, form, None, IP).client_id == body["client_id"]
    # The RFC default, client_secret_basic, when the method is absent.
    default = dict(CLAUDE)
    del default["token_endpoint_auth_method"]
    assert registration.register(storage, default, IP)["token_endpoint_auth_method"] == "client_secret_basic"


@pytest.mark.parametrize(
    "uris",
    [
        [],
        ["http://claude.ai/callback"],
        ["cursor://anysphere.cursor-retrieval/oauth/callback"],
        ["https://claude.ai/*"],
        ["https://*.claude.ai/callback"],
        ["https://claude.ai/callback#fragment"],
        ["https://claude.ai/callback"] * 21,
    ],
)
def test_redirect_uris_are_exact_https_or_loopback(storage, uris):
    with pytest.raises(InvalidRedirectUri):
        register(storage, redirect_uris=uris)
    assert not storage.clients


def test_loopback_redirect_uris_are_accepted(storage):
    body = register(storage, redirect_uris=["http://127.0.0.1:33418/callback", "http://localhost:4000/cb"])
    assert body["redirect_uris"] == ["http://127.0.0.1:33418/callback", "http://localhost:4000/cb"]


@pytest.mark.parametrize(
    "changes",
    [
        {"grant_types": ["client_credentials"]},
        {"grant_types": ["refresh_token"]},
        {"response_types": ["token"]},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"application_type": "desktop"},
        {"client_name": 7},
        {"client_uri": "http://claude.ai"},
        {"logo_uri": "javascript:alert(1)"},
        {"logo_uri": "https://user:pw@claude.ai/logo.png"},
        {"client_uri": "https://claude.ai/" + "a" * 500},
    ],
)
def test_invalid_metadata_is_refused(storage, changes):
    with pytest.raises(InvalidClientMetadata):
        register(storage, **changes)
    assert not storage.clients


def test_https_client_and_logo_uris_are_kept(storage):
    body = register(storage, client_uri="https://claude.ai", logo_uri="https://claude.ai/logo.png")
    assert storage.find_client(body["client_id"])


def test_the_registered_scope_is_the_ceiling(storage, urls):
    body = register(storage, scope="mcp:read")
    assert body["scope"] == "mcp:read"
    client = storage.find_client(body["client_id"])
    assert client.allowed_scopes == ("mcp:read",)
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "scope": "mcp:write",
    }
    with pytest.raises(InvalidScope):
        authorize.validate(params, set(), client, client.redirect_uris[0], urls, storage.settings())


def test_an_identical_public_registration_is_reused(storage):
    first = register(storage)
    storage.advance(60)
    again = register(storage)
    assert again["client_id"] == first["client_id"]
    assert again["client_id_issued_at"] == first["client_id_issued_at"]
    assert len(storage.clients) == 1


def test_a_loopback_port_does_not_make_a_new_client(storage):
    first = register(storage, redirect_uris=["http://localhost:33418/callback"])
    again = register(storage, redirect_uris=["http://localhost:50211/callback"])
    assert again["client_id"] == first["client_id"]
    assert again["redirect_uris"] == ["http://localhost:50211/callback"]
    assert register(storage, redirect_uris=["http://localhost:50211/other"])["client_id"] != first["client_id"]


@pytest.mark.parametrize(
    "changes",
    [
        {"client_name": "Claude (beta)"},
        {"redirect_uris": ["https://claude.com/api/mcp/auth_callback"]},
        {"redirect_uris": [*CLAUDE["redirect_uris"], "https://claude.com/api/mcp/auth_callback"]},
        {"grant_types": ["authorization_code"]},
        {"application_type": "native"},
        {"scope": "mcp:read"},
    ],
)
def test_different_metadata_registers_a_new_client(storage, changes):
    first = register(storage)["client_id"]
    assert register(storage, **changes)["client_id"] != first


def test_no_reuse_across_addresses_for_confidential_or_revoked_clients(storage):
    first = register(storage)["client_id"]
    assert register(storage, address="203.0.113.7")["client_id"] != first
    confidential = register(storage, token_endpoint_auth_method="client_secret_basic")
    assert register(storage, token_endpoint_auth_method="client_secret_basic")["client_id"] != confidential["client_id"]
    storage.deactivate(first)
    assert register(storage)["client_id"] != first


def test_new_registrations_are_limited_per_address_and_reuse_is_free(storage):
    storage.configure(registrations_per_hour=2)
    client_id = register(storage)["client_id"]
    for _attempt in range(5):
        assert register(storage)["client_id"] == client_id
    register(storage, client_name="Second")
    with pytest.raises(TooManyRequests) as caught:
        register(storage, client_name="Third")
    assert caught.value.status == 429
    assert caught.value.error == "too_many_requests"
    assert int(caught.value.headers["Retry-After"]) == 3600
    assert not storage.find_registrations(registration.validate({**CLAUDE, "client_name": "Third"}), IP)
    assert register(storage, address="203.0.113.7", client_name="Third")
    storage.advance(3600)
    assert register(storage, client_name="Third")
    storage.configure(registrations_per_hour=0)
    for number in range(5):
        assert register(storage, client_name=f"Unlimited {number}")


def test_registration_can_be_turned_off(storage):
    storage.configure(registration_enabled=False)
    with pytest.raises(OAuthAccessDenied):
        register(storage)
