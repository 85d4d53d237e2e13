"""The authorization flow (oauth/authorize.py ``begin`` and ``decide``) over the Storage protocol.

Sign-in, the consent page and its pending request, remembered consent and ``prompt``, the
decision: what each step answers, and what it stores.
"""

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import mcp_connect_core as core
import pytest
from mcp_connect.oauth import authorize
from mcp_connect.oauth.errors import PageError
from mcp_connect.oauth.storage import ClientLookupError

from .support import CALLBACK, COMPANY_ID, PUBLIC_CALLBACK, USER_ID, VERIFIER, Client, FakeStorage, redeem

STATE = "state-of-the-client"
SIGNED_IN = authorize.User(user_id=USER_ID, company_id=COMPANY_ID, signed_in=True, may_connect=True)
OTHER_USER = replace(SIGNED_IN, user_id=USER_ID + 1)
PUBLIC_USER = authorize.User(user_id=4, company_id=COMPANY_ID, signed_in=False, may_connect=False)
DOCUMENT_URL = "https://tool.example.com/oauth/client.json"


def begin(storage, urls, client, user=SIGNED_IN, **params):
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "state": STATE,
        "code_challenge": core.s256_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **params,
    }
    pairs = [(key, value) for key, value in params.items() if value is not None]
    return authorize.begin(storage, urls, pairs, user)


def query(outcome):
    assert isinstance(outcome, authorize.Redirect)
    return {key: values[0] for key, values in parse_qs(urlsplit(outcome.url).query).items()}


def consent_page(storage, urls, client, **params):
    outcome = begin(storage, urls, client, **params)
    assert isinstance(outcome, authorize.Consent)
    return outcome


def test_begin_consent_decide_issues_a_code_the_token_endpoint_redeems(storage, urls, public):
    page = consent_page(storage, urls, public, scope="mcp:read")
    assert (page.client_name, page.verified, page.redirect_host) == ("Public tool", False, "127.0.0.1")
    assert page.scope_descriptions == ("Read only (mcp:read): see your Odoo data",)
    assert not storage.codes
    outcome = authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    answer = query(outcome)
    assert outcome.url.startswith(PUBLIC_CALLBACK + "?")
    assert (answer["state"], answer["iss"]) == (STATE, urls.issuer)
    (grant,) = storage.codes.values()
    assert (grant.user_id, grant.company_id, grant.scopes) == (USER_ID, COMPANY_ID, ("mcp:read",))
    assert storage.consents == {(public.client_id, USER_ID): ("mcp:read",)}
    assert redeem(storage, urls, public, answer["code"])["scope"] == "mcp:read"


def test_the_pending_request_keeps_what_was_validated(storage, urls, confidential):
    page = consent_page(storage, urls, confidential, scope="mcp:write offline_access")
    pending = storage.pending[page.handle]
    assert (pending.user_id, pending.client_id, pending.redirect_uri) == (USER_ID, confidential.client_id, CALLBACK)
    assert (pending.state, pending.scopes, pending.resource) == (STATE, ("mcp:read", "mcp:write"), urls.resource)
    assert (pending.code_challenge_method, pending.used) == ("S256", False)
    assert pending.expires_at == storage.now() + timedelta(minutes=authorize.PENDING_MINUTES)
    assert page.verified


def test_without_redirect_uri_the_code_records_that_it_was_not_sent(storage, urls, confidential):
    page = begin(storage, urls, confidential, redirect_uri=None)
    assert isinstance(page, authorize.Consent)
    authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    (grant,) = storage.codes.values()
    assert grant.redirect_uri == ""


def test_without_state_no_state_goes_back(storage, urls, public):
    page = begin(storage, urls, public, state=None)
    assert storage.pending[page.handle].state is None
    assert "state" not in query(authorize.decide(storage, urls, page.handle, SIGNED_IN, True))


def test_a_person_not_signed_in_is_sent_to_log_in_first(storage, urls, public):
    assert begin(storage, urls, public, user=PUBLIC_USER) == authorize.Login()
    assert not storage.pending


def test_prompt_none_without_a_session_is_login_required(storage, urls, public):
    answer = query(begin(storage, urls, public, user=PUBLIC_USER, prompt="none"))
    assert (answer["error"], answer["state"]) == ("login_required", STATE)


def test_a_user_not_allowed_to_connect_gets_an_explanation_and_a_way_back(storage, urls, public):
    outcome = begin(storage, urls, public, user=replace(SIGNED_IN, may_connect=False))
    assert isinstance(outcome, authorize.NotAllowed)
    assert outcome.client_name == "Public tool"
    assert query(authorize.Redirect(outcome.return_url))["error"] == "access_denied"
    assert not storage.pending
    assert not storage.codes


def test_a_remembered_consent_issues_the_code_at_once(storage, urls, public):
    page = consent_page(storage, urls, public)
    authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    pending_before = dict(storage.pending)
    answer = query(begin(storage, urls, public, scope="mcp:read"))
    assert "code" in answer
    assert storage.pending == pending_before
    assert len(storage.codes) == 2


def test_a_consent_to_less_asks_again(storage, urls, public):
    storage.remember_consent(public.client_id, USER_ID, ("mcp:read",))
    page = consent_page(storage, urls, public, scope="mcp:write")
    authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    assert storage.consents[public.client_id, USER_ID] == ("mcp:read", "mcp:write")


def test_a_consent_is_the_users_own(storage, urls, public):
    storage.remember_consent(public.client_id, OTHER_USER.user_id, ("mcp:write",))
    consent_page(storage, urls, public)


def test_prompt_consent_asks_even_when_remembered(storage, urls, public):
    storage.remember_consent(public.client_id, USER_ID, ("mcp:write",))
    consent_page(storage, urls, public, prompt="consent")
    assert not storage.codes


def test_prompt_none_without_consent_is_consent_required(storage, urls, public):
    answer = query(begin(storage, urls, public, prompt="none"))
    assert (answer["error"], answer["state"], answer["iss"]) == ("consent_required", STATE, urls.issuer)
    assert not storage.pending


def test_prompt_none_with_consent_issues_the_code(storage, urls, public):
    storage.remember_consent(public.client_id, USER_ID, ("mcp:write",))
    assert "code" in query(begin(storage, urls, public, prompt="none"))


def test_a_client_that_skips_consent_gets_the_code_and_the_consent_is_recorded(storage, urls, confidential):
    storage.add_client(replace(confidential, skip_consent=True))
    assert "code" in query(begin(storage, urls, confidential, scope="mcp:read"))
    assert storage.consents == {(confidential.client_id, USER_ID): ("mcp:read",)}
    assert not storage.pending


def test_an_invalid_request_goes_back_to_the_client_and_stores_nothing(storage, urls, public):
    answer = query(begin(storage, urls, public, response_type="token"))
    assert (answer["error"], answer["state"]) == ("unsupported_response_type", STATE)
    assert not storage.pending


def test_a_pending_request_is_answered_once(storage, urls, public):
    page = consent_page(storage, urls, public)
    authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    with pytest.raises(PageError) as caught:
        authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    assert caught.value.title == "This sign-in request is no longer valid"
    assert len(storage.codes) == 1


def test_another_users_pending_request_is_not_theirs_to_answer(storage, urls, public):
    page = consent_page(storage, urls, public)
    with pytest.raises(PageError):
        authorize.decide(storage, urls, page.handle, OTHER_USER, True)
    assert not storage.pending[page.handle].used
    assert not storage.codes
    assert "code" in query(authorize.decide(storage, urls, page.handle, SIGNED_IN, True))


@pytest.mark.parametrize("handle", [None, "", "not-a-handle"])
def test_an_unknown_handle_is_a_page(storage, urls, handle):
    with pytest.raises(PageError):
        authorize.decide(storage, urls, handle, SIGNED_IN, True)


def test_an_expired_pending_request_is_a_page(storage, urls, public):
    page = consent_page(storage, urls, public)
    storage.advance(authorize.PENDING_MINUTES * 60)
    with pytest.raises(PageError):
        authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    assert not storage.codes


def test_deny_goes_back_with_access_denied_and_remembers_nothing(storage, urls, public):
    page = consent_page(storage, urls, public)
    answer = query(authorize.decide(storage, urls, page.handle, SIGNED_IN, False))
    assert (answer["error"], answer["state"], answer["iss"]) == ("access_denied", STATE, urls.issuer)
    assert "code" not in answer
    assert storage.pending[page.handle].used
    assert not storage.consents
    assert not storage.codes


def test_a_connection_revoked_before_the_decision_is_a_page(storage, urls, public):
    page = consent_page(storage, urls, public)
    storage.deactivate(public.client_id)
    with pytest.raises(PageError) as caught:
        authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    assert caught.value.title == "Application not available"
    assert not storage.codes


def test_a_metadata_document_client_is_stored_on_the_first_consent(storage, urls):
    document = Client(
        client_id=DOCUMENT_URL,
        name="Document tool",
        kind="metadata_document",
        confidential=False,
        active=True,
        redirect_uris=(CALLBACK,),
    )
    storage.add_document_client(document)
    page = consent_page(storage, urls, document)
    assert document.client_id not in storage.clients
    authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    assert storage.clients[document.client_id] == document
    assert storage.consents[document.client_id, USER_ID] == ("mcp:read", "mcp:write")
    assert "code" in query(begin(storage, urls, document))


class UnreadableDocuments(FakeStorage):
    """``find_client`` of a URL whose metadata document cannot be used."""

    def find_client(self, client_id):
        if client_id == DOCUMENT_URL:
            raise ClientLookupError("The client metadata document could not be fetched.")
        return super().find_client(client_id)


def test_an_unusable_metadata_document_is_a_page(urls):
    storage = UnreadableDocuments()
    with pytest.raises(PageError) as caught:
        authorize.begin(storage, urls, [("client_id", DOCUMENT_URL), ("redirect_uri", CALLBACK)], SIGNED_IN)
    assert (caught.value.title, caught.value.message) == (
        "Application not available",
        "The client metadata document could not be fetched.",
    )


def test_a_document_that_became_unusable_before_the_decision_is_a_page(urls, public):
    storage = UnreadableDocuments()
    storage.add_client(public)
    page = consent_page(storage, urls, public)
    storage.pending[page.handle] = replace(storage.pending[page.handle], client_id=DOCUMENT_URL)
    with pytest.raises(PageError) as caught:
        authorize.decide(storage, urls, page.handle, SIGNED_IN, True)
    assert caught.value.title == "Application not available"


def test_a_user_taken_out_of_the_group_while_the_page_was_open_gets_no_code(storage, urls, public):
    page = consent_page(storage, urls, public)
    outcome = authorize.decide(storage, urls, page.handle, replace(SIGNED_IN, may_connect=False), True)
    assert isinstance(outcome, authorize.NotAllowed)
    assert "error=access_denied" in outcome.return_url
    assert storage.pending[page.handle].used
    assert not storage.consents
    assert not storage.codes
