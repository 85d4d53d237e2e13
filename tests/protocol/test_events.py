"""Security events (oauth/events.py): each one the OAuth code reports, exactly once, never a secret.

The events reach the audit trail through ``Storage.record_event``; ``FakeStorage`` keeps them in
a list. What is no event is tested too: a refresh within the grace window, an invalid code
replay, a successful client authentication, a registration handed back again.
"""

from dataclasses import replace

import mcp_connect_core as core
import pytest
from mcp_connect.oauth import authorize, client_auth, events, registration, revocation, token
from mcp_connect.oauth.errors import (
    InvalidClient,
    InvalidClientMetadata,
    InvalidGrant,
    OAuthError,
    SlowDown,
    TooManyRequests,
)

from .support import USER_ID, WEAK_HASH, WEAK_SECRET, FakeStorage
from .test_authorize_flow import SIGNED_IN, begin, consent_page, query
from .test_client_auth import attempt, basic
from .test_registration import CLAUDE, register
from .test_token import exchange, refresh

IP = "192.0.2.1"
# Any 8 characters of the random part of a secret in an event would be part of it.
WINDOW = 8


def assert_no_secret(storage, *secrets):
    """No event holds any part of ``secrets`` (tokens, codes, client secrets: their random part after
    the kind's prefix; verifiers whole)."""
    for secret in secrets:
        body = secret.split("_", 1)[1] if secret.startswith("mcp") else secret
        parts = {body[i : i + WINDOW] for i in range(len(body) - WINDOW + 1)}
        for event in storage.events:
            for value in (event["summary"], event["client_id"]):
                assert not any(part in (value or "") for part in parts), (event, secret)


@pytest.fixture
def random_secret(storage, confidential):
    """The confidential client with a random secret, which no fixed text can contain."""
    secret = core.mint_token(kind="client_secret")[0]
    storage.add_client(replace(confidential, secret_hash=core.hash_secret(secret)))
    return secret


def only_event(storage, name):
    """The one event recorded, which must be ``name``."""
    assert storage.event_names() == [name], storage.events
    return storage.events[0]


# -- registration -----------------------------------------------------------------------


def test_a_new_client_is_one_event(storage):
    body = register(storage, token_endpoint_auth_method="client_secret_basic")
    event = only_event(storage, events.CLIENT_REGISTERED)
    assert (event["client_id"], event["user_id"], event["outcome"]) == (body["client_id"], None, events.OK)
    assert event["summary"] == "Claude registered itself as a confidential client (RFC 7591)."
    assert_no_secret(storage, body["client_secret"])


def test_a_registration_handed_back_again_is_no_event(storage):
    register(storage)
    register(storage)
    assert storage.event_names() == [events.CLIENT_REGISTERED]


@pytest.mark.parametrize(
    ("settings", "changes", "reason"),
    [
        ({"registration_enabled": False}, {}, "access_denied"),
        ({}, {"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
        ({}, {"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
    ],
)
def test_a_refused_registration_is_one_event_with_its_reason(storage, settings, changes, reason):
    storage.configure(**settings)
    with pytest.raises(OAuthError) as caught:
        register(storage, **changes)
    assert caught.value.error == reason
    event = only_event(storage, events.REGISTRATION_REFUSED)
    assert event["summary"].startswith(f"Registration refused ({reason}): ")
    assert (event["client_id"], event["outcome"]) == (None, events.DENIED)


def test_a_registration_over_the_budget_is_one_rate_limited_event(storage):
    storage.configure(registrations_per_hour=1)
    register(storage, client_name="First")
    with pytest.raises(TooManyRequests):
        register(storage, client_name="Second")
    assert storage.event_names() == [events.CLIENT_REGISTERED, events.REGISTRATION_REFUSED]
    assert storage.events[-1]["outcome"] == events.RATE_LIMITED
    assert storage.events[-1]["summary"].startswith("Registration refused (too_many_requests): ")


class RefusingStorage(FakeStorage):
    """The model refuses the new connection (a constraint of ``mcp.connection``)."""

    def register_client(self, registration, client_id, secret_hash, address):
        raise InvalidClientMetadata("The model refused it.")


def test_a_registration_the_storage_refuses_is_one_refused_event():
    storage = RefusingStorage()
    with pytest.raises(InvalidClientMetadata):
        registration.register(storage, CLAUDE, IP)
    assert only_event(storage, events.REGISTRATION_REFUSED)["summary"] == (
        "Registration refused (invalid_client_metadata): The model refused it."
    )


# -- consent ------------------------------------------------------------------------------


def test_consent_on_the_page_is_one_event(storage, urls, public):
    page = consent_page(storage, urls, public, scope="mcp:read")
    assert storage.events == []
    answer = query(authorize.decide(storage, urls, page.handle, SIGNED_IN, True))
    event = only_event(storage, events.CONSENT_GIVEN)
    assert (event["client_id"], event["user_id"], event["outcome"]) == (public.client_id, USER_ID, events.OK)
    assert event["summary"] == "Public tool allowed on the consent page (mcp:read)."
    # The next sign-in is covered by the consent: no new event.
    begin(storage, urls, public, scope="mcp:read")
    assert storage.event_names() == [events.CONSENT_GIVEN]
    assert_no_secret(storage, answer["code"])


def test_a_denied_consent_is_no_event(storage, urls, public):
    page = consent_page(storage, urls, public)
    authorize.decide(storage, urls, page.handle, SIGNED_IN, False)
    assert storage.events == []


def test_consent_the_administrator_gives_for_a_tool_is_one_event(storage, urls, confidential):
    storage.add_client(replace(confidential, skip_consent=True))
    begin(storage, urls, confidential, scope="mcp:read")
    event = only_event(storage, events.CONSENT_GIVEN)
    assert event["user_id"] == USER_ID
    assert "without asking" in event["summary"]
    begin(storage, urls, confidential, scope="mcp:read")
    assert storage.event_names() == [events.CONSENT_GIVEN]


# -- the token endpoint -------------------------------------------------------------------


def test_refresh_token_reuse_after_the_grace_window_is_one_event(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public)
    first = exchange(storage, urls, public, code, verifier)
    refresh(storage, urls, public, first["refresh_token"])
    storage.advance(storage.settings().refresh_grace_seconds)
    retried = refresh(storage, urls, public, first["refresh_token"])
    assert storage.events == [], "a retry within the grace window is no event"
    storage.advance(1)
    with pytest.raises(InvalidGrant):
        refresh(storage, urls, public, first["refresh_token"])
    event = only_event(storage, events.REFRESH_TOKEN_REUSED)
    assert (event["client_id"], event["user_id"], event["outcome"]) == (public.client_id, USER_ID, events.DENIED)
    assert "family was revoked" in event["summary"]
    # The family is revoked now: presenting its tokens again is refused, and no new reuse.
    with pytest.raises(InvalidGrant):
        refresh(storage, urls, public, retried["refresh_token"])
    assert storage.event_names() == [events.REFRESH_TOKEN_REUSED]
    assert_no_secret(storage, code, first["refresh_token"], first["access_token"], retried["refresh_token"])


def test_a_valid_code_replay_is_one_event_an_invalid_one_none(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public)
    exchange(storage, urls, public, code, verifier)
    with pytest.raises(InvalidGrant):
        exchange(storage, urls, public, code, "w" * 43)
    assert storage.events == []
    with pytest.raises(InvalidGrant):
        exchange(storage, urls, public, code, verifier)
    event = only_event(storage, events.CODE_REPLAYED)
    assert (event["client_id"], event["user_id"], event["outcome"]) == (public.client_id, USER_ID, events.DENIED)
    assert_no_secret(storage, code)


# -- client authentication ----------------------------------------------------------------


def test_a_successful_client_authentication_is_no_event(storage, public, confidential, random_secret):
    assert attempt(storage, public.client_id, None) == 200
    assert attempt(storage, confidential.client_id, random_secret) == 200
    assert storage.events == []


@pytest.mark.parametrize(
    ("client_id", "secret", "reason"),
    [
        ("mcpci_unknown", "x", "unknown or revoked client"),
        (
            "mcpci_confidential",
            core.mint_token(kind="client_secret")[0],
            "secret verification failed: SecretMismatchError",
        ),
        ("mcpci_confidential", None, "missing secret"),
        ("mcpci_public", core.mint_token(kind="client_secret")[0], "secret sent by public client"),
    ],
)
def test_each_failed_client_authentication_is_one_event(storage, public, random_secret, client_id, secret, reason):
    assert attempt(storage, client_id, secret) == 401
    event = only_event(storage, events.CLIENT_AUTH_FAILED)
    assert (event["client_id"], event["outcome"]) == (client_id, events.DENIED)
    assert event["summary"] == f"Client authentication failed: {reason}"
    assert_no_secret(storage, random_secret, *([secret] if secret else []))


def test_a_malformed_authorization_header_is_one_failed_event(storage):
    with pytest.raises(InvalidClient):
        client_auth.authenticate(storage, {}, "Basic !!!", IP)
    assert only_event(storage, events.CLIENT_AUTH_FAILED)["summary"] == (
        "Client authentication failed: Malformed Basic authorization header."
    )


def test_each_throttled_attempt_is_one_event(storage, confidential):
    cheap = storage.add_client(replace(confidential, client_id="mcpci_cheap", secret_hash=WEAK_HASH))
    storage.configure(client_auth_failures=2)
    assert [attempt(storage, cheap.client_id, "wrong") for _ in range(2)] == [401, 401]
    for _ in range(2):
        with pytest.raises(SlowDown):
            client_auth.authenticate(storage, {}, basic(cheap.client_id, WEAK_SECRET), IP)
    assert storage.event_names() == [events.CLIENT_AUTH_FAILED] * 2 + [events.CLIENT_AUTH_THROTTLED] * 2
    throttled = storage.events[-1]
    assert (throttled["client_id"], throttled["outcome"]) == (cheap.client_id, events.RATE_LIMITED)
    assert_no_secret(storage, WEAK_SECRET)


def test_a_failure_at_the_token_endpoint_is_one_event(storage, urls, confidential):
    form = {"grant_type": "client_credentials"}
    with pytest.raises(InvalidClient):
        token.handle(storage, urls, form, set(), basic(confidential.client_id, "wrong secret"), IP)
    assert only_event(storage, events.CLIENT_AUTH_FAILED)["client_id"] == confidential.client_id


# -- revocation ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_revoking_a_live_token_is_one_event(storage, urls, public, obtain_code, kind):
    code, verifier, _request = obtain_code(public)
    issued = exchange(storage, urls, public, code, verifier)
    form = {"client_id": public.client_id, "token": issued[kind]}
    revocation.revoke(storage, form, set(), None, IP)
    event = only_event(storage, events.TOKEN_REVOKED)
    assert (event["client_id"], event["user_id"], event["outcome"]) == (public.client_id, USER_ID, events.OK)
    # Revoking it again, or an unknown token, changes nothing: no event.
    revocation.revoke(storage, form, set(), None, IP)
    revocation.revoke(storage, {"client_id": public.client_id, "token": "mcpat_unknown"}, set(), None, IP)
    assert storage.event_names() == [events.TOKEN_REVOKED]
    assert_no_secret(storage, issued["access_token"], issued["refresh_token"])
