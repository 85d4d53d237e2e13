"""Pause all AI access (Settings): every grant is refused with 503 ``temporarily_unavailable``,
nothing is revoked, and resuming lets the same codes, tokens and registrations work again."""

import base64
from urllib.parse import parse_qs, urlsplit

import mcp_connect_core as core
import pytest
from mcp_connect.oauth import authorize, introspection, registration, revocation, token
from mcp_connect.oauth.errors import AccessPaused

from .support import CALLBACK, COMPANY_ID, SECRET, USER_ID

IP = "192.0.2.1"
SIGNED_IN = authorize.User(user_id=USER_ID, company_id=COMPANY_ID, signed_in=True, may_connect=True)
VERIFIER = "v" * 43
CLAUDE = {
    "client_name": "Claude",
    "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
    "token_endpoint_auth_method": "none",
}


def authorize_pairs(client):
    return [
        ("response_type", "code"),
        ("client_id", client.client_id),
        ("redirect_uri", client.redirect_uris[0]),
        ("state", "s"),
        ("code_challenge", core.s256_challenge(VERIFIER)),
        ("code_challenge_method", "S256"),
    ]


def query(outcome):
    assert isinstance(outcome, authorize.Redirect)
    return {key: values[0] for key, values in parse_qs(urlsplit(outcome.url).query).items()}


def post(storage, urls, form, header=None):
    return token.handle(storage, urls, form, set(), header, IP)


def basic():
    return "Basic " + base64.b64encode(f"mcpci_confidential:{SECRET}".encode()).decode()


def assert_paused(call):
    with pytest.raises(AccessPaused) as raised:
        call()
    assert raised.value.status == 503
    assert raised.value.error == "temporarily_unavailable"
    assert "paused AI access" in raised.value.description
    assert int(raised.value.headers["Retry-After"]) > 0


def test_every_grant_is_refused_while_paused_and_works_again_after(storage, urls, public, confidential, obtain_code):
    code, verifier, _request = obtain_code(public)
    code_form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": public.client_id,
        "redirect_uri": public.redirect_uris[0],
        "code_verifier": verifier,
    }
    earlier = post(storage, urls, {**code_form})
    code, verifier, _request = obtain_code(public)
    code_form.update(code=code, code_verifier=verifier)
    refresh_form = {
        "grant_type": "refresh_token",
        "refresh_token": earlier["refresh_token"],
        "client_id": public.client_id,
    }
    credentials_form = {"grant_type": "client_credentials"}
    introspect_form = {"token": post(storage, urls, credentials_form, basic())["access_token"]}
    tokens_before = dict(storage.tokens)

    storage.configure(paused=True)
    assert_paused(lambda: post(storage, urls, code_form))
    assert_paused(lambda: post(storage, urls, refresh_form))
    assert_paused(lambda: post(storage, urls, credentials_form, basic()))
    assert_paused(lambda: registration.register(storage, CLAUDE, IP))
    assert_paused(lambda: introspection.introspect(storage, urls, introspect_form, set(), basic(), IP))
    answer = query(authorize.begin(storage, urls, authorize_pairs(public), SIGNED_IN))
    assert answer["error"] == "temporarily_unavailable"
    assert "paused AI access" in answer["error_description"]
    assert answer["state"] == "s"
    # Nothing was spent, rotated or revoked, and no client failed to authenticate.
    assert storage.tokens == tokens_before
    assert not any(key.startswith("client-auth-failure") for key, _start in storage.counters)
    assert len(storage.clients) == 2

    storage.configure(paused=False)
    assert "access_token" in post(storage, urls, code_form)
    assert "refresh_token" in post(storage, urls, refresh_form)
    assert "access_token" in post(storage, urls, credentials_form, basic())
    assert registration.register(storage, CLAUDE, IP)["client_id"]
    assert introspection.introspect(storage, urls, introspect_form, set(), basic(), IP)["active"]
    assert isinstance(authorize.begin(storage, urls, authorize_pairs(public), SIGNED_IN), authorize.Consent)


def test_a_consent_given_while_paused_goes_back_as_temporarily_unavailable(storage, urls, public):
    page = authorize.begin(storage, urls, authorize_pairs(public), SIGNED_IN)
    assert isinstance(page, authorize.Consent)
    storage.configure(paused=True)
    answer = query(authorize.decide(storage, urls, page.handle, SIGNED_IN, True))
    assert answer["error"] == "temporarily_unavailable"
    assert answer["state"] == "s"
    assert not storage.codes
    assert not storage.consents


def test_an_unknown_client_still_gets_the_page_not_a_redirect(storage, urls):
    storage.configure(paused=True)
    pairs = [("response_type", "code"), ("client_id", "mcpci_unknown"), ("redirect_uri", CALLBACK)]
    with pytest.raises(authorize.PageError):
        authorize.begin(storage, urls, pairs, SIGNED_IN)


def test_revocation_keeps_working_while_paused(storage, urls, public, obtain_code):
    code, verifier, _request = obtain_code(public)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": public.client_id,
        "redirect_uri": public.redirect_uris[0],
        "code_verifier": verifier,
    }
    issued = post(storage, urls, form)
    storage.configure(paused=True)
    revocation.revoke(storage, {"token": issued["refresh_token"], "client_id": public.client_id}, set(), None, IP)
    _kind, digest = core.parse_token(issued["refresh_token"])
    assert storage.find_token(digest).revoked
