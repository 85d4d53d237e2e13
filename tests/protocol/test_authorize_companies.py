"""The companies a grant works in: chosen on the consent page, carried by codes and tokens.

A multi-company user ticks companies among their own, within the connection's cap; the
choice is checked again on the server, remembered with the consent, and a refresh keeps it.
"""

import base64
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import mcp_connect_core as core
import pytest
from mcp_connect.oauth import authorize, token
from mcp_connect.oauth.errors import PageError

from .support import SECRET, USER_ID, VERIFIER, redeem

A, B, C = 1, 2, 3
TWO_COMPANIES = authorize.User(user_id=USER_ID, company_id=A, signed_in=True, may_connect=True, company_ids=(A, B))
ONE_COMPANY = authorize.User(user_id=USER_ID, company_id=A, signed_in=True, may_connect=True)


def begin(storage, urls, client, user, **params):
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "code_challenge": core.s256_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **params,
    }
    return authorize.begin(storage, urls, list(params.items()), user)


def code_of(outcome):
    assert isinstance(outcome, authorize.Redirect)
    return parse_qs(urlsplit(outcome.url).query)["code"][0]


def grant(storage):
    (code,) = storage.codes.values()
    return code


def record(storage, value):
    _kind, digest = core.parse_token(value)
    return storage.find_token(digest)


def test_a_single_company_user_is_offered_no_choice(storage, urls, public):
    page = begin(storage, urls, public, ONE_COMPANY)
    assert (page.companies, page.chosen_companies) == ((A,), (A,))
    authorize.decide(storage, urls, page.handle, ONE_COMPANY, True)
    assert (grant(storage).company_id, grant(storage).company_ids) == (A, (A,))


def test_a_multi_company_user_is_offered_theirs_with_the_current_one_ticked(storage, urls, public):
    page = begin(storage, urls, public, TWO_COMPANIES)
    assert (page.companies, page.chosen_companies) == ((A, B), (A,))


def test_the_companies_ticked_go_into_the_code_and_the_tokens_main_first(storage, urls, public):
    page = begin(storage, urls, public, TWO_COMPANIES)
    code = code_of(authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, ["2", "1"]))
    assert (grant(storage).company_id, grant(storage).company_ids) == (A, (A, B))
    body = redeem(storage, urls, public, code)
    for value in (body["access_token"], body["refresh_token"]):
        assert (record(storage, value).company_id, record(storage, value).company_ids) == (A, (A, B))
    assert storage.consent_companies[public.client_id, USER_ID] == (A, B)


def test_another_company_alone_becomes_the_main_one(storage, urls, public):
    page = begin(storage, urls, public, TWO_COMPANIES)
    authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, ["2"])
    assert (grant(storage).company_id, grant(storage).company_ids) == (B, (B,))


@pytest.mark.parametrize("forged", [["3"], ["1", "3"], ["1", "x"], ["-1"]])
def test_a_company_the_user_does_not_have_is_refused(storage, urls, public, forged):
    page = begin(storage, urls, public, TWO_COMPANIES)
    with pytest.raises(PageError):
        authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, forged)
    assert not storage.codes
    assert not storage.consents


def test_a_multi_company_user_must_tick_one(storage, urls, public):
    page = begin(storage, urls, public, TWO_COMPANIES)
    with pytest.raises(PageError) as caught:
        authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, [])
    assert caught.value.title == "Choose a company"
    assert not storage.codes


def test_denying_ignores_the_companies(storage, urls, public):
    page = begin(storage, urls, public, TWO_COMPANIES)
    outcome = authorize.decide(storage, urls, page.handle, TWO_COMPANIES, False, ["3"])
    assert "error=access_denied" in outcome.url


def test_the_connection_cap_narrows_the_choice_and_refuses_the_rest(storage, urls, public):
    capped = storage.add_client(replace(public, company_ids=(B, C)))
    page = begin(storage, urls, capped, TWO_COMPANIES)
    assert (page.companies, page.chosen_companies) == ((B,), (B,))
    with pytest.raises(PageError) as caught:
        authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, ["1"])
    assert caught.value.status == 403
    assert not storage.codes


def test_with_one_company_left_by_the_cap_nothing_is_ticked_and_that_one_holds(storage, urls, public):
    capped = storage.add_client(replace(public, company_ids=(B,)))
    page = begin(storage, urls, capped, TWO_COMPANIES)
    authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, [])
    assert grant(storage).company_ids == (B,)


def test_a_cap_outside_all_of_the_users_companies_refuses_the_request(storage, urls, public):
    capped = storage.add_client(replace(public, company_ids=(C,)))
    outcome = begin(storage, urls, capped, TWO_COMPANIES)
    assert "error=access_denied" in outcome.url
    assert not storage.pending


def test_remembered_consent_reuses_the_previous_choice(storage, urls, public):
    page = begin(storage, urls, public, TWO_COMPANIES)
    authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, ["2"])
    storage.codes.clear()
    code_of(begin(storage, urls, public, TWO_COMPANIES))
    assert grant(storage).company_ids == (B,)


def test_remembered_consent_drops_a_company_the_user_lost(storage, urls, public):
    page = begin(storage, urls, public, TWO_COMPANIES)
    authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, ["1", "2"])
    storage.codes.clear()
    code_of(begin(storage, urls, public, replace(TWO_COMPANIES, company_ids=(A,))))
    assert grant(storage).company_ids == (A,)


def test_prompt_consent_ticks_the_previous_choice(storage, urls, public):
    page = begin(storage, urls, public, TWO_COMPANIES)
    authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, ["2"])
    again = begin(storage, urls, public, TWO_COMPANIES, prompt="consent")
    assert again.chosen_companies == (B,)


def test_skip_consent_uses_the_default_company(storage, urls, confidential):
    skipping = storage.add_client(replace(confidential, skip_consent=True))
    code_of(begin(storage, urls, skipping, replace(TWO_COMPANIES, company_id=B)))
    assert grant(storage).company_ids == (B,)
    assert storage.consent_companies[skipping.client_id, USER_ID] == (B,)


def test_a_refresh_keeps_the_companies(storage, urls, public):
    page = begin(storage, urls, public, TWO_COMPANIES)
    code = code_of(authorize.decide(storage, urls, page.handle, TWO_COMPANIES, True, ["1", "2"]))
    first = redeem(storage, urls, public, code)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": public.client_id}
    second = token.handle(storage, urls, form, set(), None, "192.0.2.1")
    for value in (second["access_token"], second["refresh_token"]):
        assert (record(storage, value).company_id, record(storage, value).company_ids) == (A, (A, B))


def test_client_credentials_work_in_the_owners_company(storage, urls, confidential):
    header = "Basic " + base64.b64encode(f"{confidential.client_id}:{SECRET}".encode()).decode()
    body = token.handle(storage, urls, {"grant_type": "client_credentials"}, set(), header, "192.0.2.1")
    assert record(storage, body["access_token"]).company_ids == (confidential.owner_company_id,)
