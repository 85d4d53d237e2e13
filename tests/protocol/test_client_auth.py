"""Client authentication (oauth/client_auth.py): one method per request, the registered one, and
failure budgets per (client, address) and per address that are checked before any hashing."""

import base64
from dataclasses import replace
from urllib.parse import quote_plus

import mcp_connect_core as core
import pytest
from mcp_connect.oauth import client_auth
from mcp_connect.oauth.errors import InvalidClient, InvalidRequest, OAuthError, SlowDown

from .support import SECRET, WEAK_HASH, WEAK_SECRET

IP = "192.0.2.1"


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def attempt(storage, client_id, secret, address=IP):
    """The status of one authentication with Basic (or with the client_id alone when ``secret`` is None)."""
    form = {"client_id": client_id} if secret is None else {}
    header = None if secret is None else basic(client_id, secret)
    try:
        client_auth.authenticate(storage, form, header, address)
    except OAuthError as error:
        return error.status
    return 200


@pytest.fixture
def cheap(storage, confidential):
    """Confidential clients with a cheap hash: the throttling tests verify many wrong secrets."""

    def make(number):
        return storage.add_client(replace(confidential, client_id=f"mcpci_cheap_{number}", secret_hash=WEAK_HASH))

    return make


def test_the_methods(storage, public, confidential):
    assert client_auth.parse_credentials({"client_id": "a"}, None).method == client_auth.NONE
    assert client_auth.parse_credentials({"client_id": "a", "client_secret": "s"}, None).method == client_auth.POST
    assert client_auth.parse_credentials({}, basic("a", "s")).method == client_auth.BASIC
    # RFC 6749 §2.3.1: both parts of Basic are form-urlencoded.
    assert client_auth.parse_credentials({}, basic("a", quote_plus("a b+c:d%e"))).secret == "a b+c:d%e"
    with pytest.raises(InvalidRequest):
        client_auth.parse_credentials({"client_secret": "s"}, basic("a", "s"))
    with pytest.raises(InvalidClient) as caught:
        client_auth.parse_credentials({"client_id": "b"}, basic("a", "s"))
    assert caught.value.headers["WWW-Authenticate"].startswith("Basic")
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-separator").decode()):
        with pytest.raises(InvalidClient):
            client_auth.parse_credentials({}, header)
    with pytest.raises(InvalidClient):
        client_auth.parse_credentials({}, None)


def test_public_and_confidential_clients(storage, public, confidential):
    assert attempt(storage, public.client_id, None) == 200
    assert attempt(storage, public.client_id, "a secret it does not have") == 401
    assert attempt(storage, confidential.client_id, None) == 401
    assert attempt(storage, confidential.client_id, SECRET) == 200
    form = {"client_id": confidential.client_id, "client_secret": SECRET}
    assert client_auth.authenticate(storage, form, None, IP) == confidential
    assert attempt(storage, "mcpci_unknown", "x") == 401
    storage.deactivate(confidential.client_id)
    assert attempt(storage, confidential.client_id, SECRET) == 401


def test_only_confidential_clients_where_required(storage, public):
    with pytest.raises(InvalidClient):
        client_auth.authenticate(storage, {"client_id": public.client_id}, None, IP, confidential_only=True)


def test_the_registered_method_is_the_only_one(storage, confidential):
    registered = storage.add_client(replace(confidential, auth_method=client_auth.POST))
    assert attempt(storage, registered.client_id, SECRET) == 401
    form = {"client_id": registered.client_id, "client_secret": SECRET}
    assert client_auth.authenticate(storage, form, None, IP) == registered
    # An administrator's connection (no registered method) accepts either.
    either = storage.add_client(replace(confidential, client_id="mcpci_either", auth_method=None))
    assert attempt(storage, either.client_id, SECRET) == 200
    assert client_auth.authenticate(storage, {"client_id": either.client_id, "client_secret": SECRET}, None, IP)


def test_failures_are_throttled_per_client_and_address(storage, cheap):
    storage.configure(client_auth_failures=3)
    client = cheap(1)
    assert [attempt(storage, client.client_id, "wrong") for _ in range(3)] == [401] * 3
    # Refused before hashing, even with the right secret.
    with pytest.raises(SlowDown) as caught:
        client_auth.authenticate(storage, {}, basic(client.client_id, WEAK_SECRET), IP)
    assert caught.value.error == "slow_down"
    assert caught.value.status == 429
    assert 0 < int(caught.value.headers["Retry-After"]) <= client_auth.FAILURE_WINDOW_SECONDS
    # Another address, another client at the same address: unaffected.
    assert attempt(storage, client.client_id, WEAK_SECRET, "198.51.100.4") == 200
    assert attempt(storage, cheap(2).client_id, WEAK_SECRET) == 200
    # The next window.
    storage.advance(client_auth.FAILURE_WINDOW_SECONDS)
    assert attempt(storage, client.client_id, WEAK_SECRET) == 200


def test_one_address_has_a_bounded_number_of_secret_verifications(storage, public, cheap):
    storage.configure(client_auth_failures=1)
    budget = client_auth.ADDRESS_BUDGET_FACTOR
    clients = [cheap(number) for number in range(budget + 2)]
    statuses = [attempt(storage, client.client_id, "wrong") for client in clients]
    assert statuses == [401] * budget + [429] * 2
    # Other addresses and public clients (nothing to hash) are not affected.
    assert attempt(storage, clients[-1].client_id, WEAK_SECRET, "198.51.100.4") == 200
    assert attempt(storage, public.client_id, None) == 200


def test_failures_of_a_public_client_never_count_against_the_address(storage, public, cheap):
    storage.configure(client_auth_failures=1)
    publics = [
        storage.add_client(replace(public, client_id=f"mcpci_public_{number}"))
        for number in range(client_auth.ADDRESS_BUDGET_FACTOR + 1)
    ]
    assert [attempt(storage, client.client_id, "guess") for client in publics] == [401] * len(publics)
    assert attempt(storage, publics[0].client_id, None) == 429
    assert attempt(storage, cheap(1).client_id, WEAK_SECRET) == 200


def test_a_zero_budget_never_throttles(storage, cheap):
    storage.configure(client_auth_failures=0)
    client = cheap(1)
    assert [attempt(storage, client.client_id, "wrong") for _ in range(3)] == [401] * 3
    assert attempt(storage, client.client_id, WEAK_SECRET) == 200
    assert not storage.counters


def test_a_weak_hash_is_rehashed_on_use(storage, cheap):
    client = cheap(1)
    assert core.secret_needs_rehash(WEAK_HASH)
    assert attempt(storage, client.client_id, "not it") == 401
    assert storage.find_client(client.client_id).secret_hash == WEAK_HASH
    assert attempt(storage, client.client_id, WEAK_SECRET) == 200
    upgraded = storage.find_client(client.client_id).secret_hash
    assert upgraded != WEAK_HASH
    assert not core.secret_needs_rehash(upgraded)
    core.verify_secret(secret=WEAK_SECRET, phc=upgraded)
    assert attempt(storage, client.client_id, WEAK_SECRET) == 200
    assert storage.rehashed == [client.client_id]
