import base64
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import html
from odoo.tests import tagged

from .common import CALLBACK, McpHttpCase, pkce_pair

# A 1x1 transparent PNG: a logo of the company's own.
PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@tagged("post_install", "-at_install")
class TestAuthorizeValidationPage(McpHttpCase):
    """Until the client and redirect URI are validated: a page, never a redirect."""

    def assert_page(self, params, status=400, text=None):
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, status, response.text[:300])
        self.assertNotIn("Location", response.headers)
        self.assertIn("o_mcp_error", response.text)
        if text:
            self.assertIn(text, response.text)
        self.assertEqual(response.headers["X-Frame-Options"], "DENY")
        return response

    def test_unknown_client_never_redirects(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential, client_id="mcpci_unknown")
        params["redirect_uri"] = "https://attacker.example/steal"
        self.assert_page(params, text="Unknown application")

    def test_missing_client_id(self):
        _verifier, params = self.authorize_params(self.confidential)
        del params["client_id"]
        self.assert_page(params)

    def test_foreign_and_mutated_redirect_uris_are_refused_on_a_page(self):
        self.authenticate(self.user.login, self.password)
        for redirect_uri in (
            "https://attacker.example/callback",
            CALLBACK + "/",
            CALLBACK + "?next=https://attacker.example",
            CALLBACK.upper(),
            CALLBACK.replace("https://", "http://"),
            CALLBACK + "#fragment",
            "https://client.example.com.attacker.example/callback",
        ):
            _verifier, params = self.authorize_params(self.confidential, redirect_uri=redirect_uri)
            self.assert_page(params, text="Redirect address not allowed")

    def test_the_error_page_names_the_application_and_the_refused_address_and_leads_back_to_odoo(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential, redirect_uri="https://attacker.example/cb?a=<b>")
        page = html.fromstring(self.assert_page(params).text)
        self.assertEqual(page.xpath("//*[hasclass('o_mcp_error_client')]/strong")[0].text, "Test confidential")
        self.assertEqual(
            page.xpath("//*[hasclass('o_mcp_error_redirect')]/code")[0].text, "https://attacker.example/cb?a=<b>"
        )
        self.assertEqual(page.xpath("//a[hasclass('o_mcp_back_to_odoo')]")[0].get("href"), "/odoo")

    def test_an_unknown_application_names_no_application(self):
        _verifier, params = self.authorize_params(self.confidential, client_id="mcpci_unknown")
        page = html.fromstring(self.assert_page(params, text="Unknown application").text)
        self.assertFalse(page.xpath("//*[hasclass('o_mcp_error_client')]"))
        self.assertFalse(page.xpath("//*[hasclass('o_mcp_error_redirect')]"))
        self.assertTrue(page.xpath("//a[hasclass('o_mcp_back_to_odoo')]"))

    def test_redirect_uri_required_when_several_are_registered(self):
        client = self._make_client("Two callbacks", CALLBACK + "\nhttps://client.example.com/other")
        _verifier, params = self.authorize_params(client, redirect_uri=CALLBACK)
        del params["redirect_uri"]
        self.assert_page(params)

    def test_revoked_connection(self):
        client = self._make_client("Revoked", CALLBACK)
        client.action_revoke()
        _verifier, params = self.authorize_params(client)
        self.assert_page(params, status=403, text="Connection revoked")

    def test_repeated_client_id_is_refused_on_a_page(self):
        _verifier, params = self.authorize_params(self.confidential)
        response = self.url_open(
            "/oauth/authorize?client_id=a&" + "&".join(f"{k}={v}" for k, v in params.items()),
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400)
        self.assertNotIn("Location", response.headers)


@tagged("post_install", "-at_install")
class TestAuthorizeErrorsRedirected(McpHttpCase):
    """After validation, errors go back to the client with state and iss."""

    def assert_redirect_error(self, params, error):
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 302, response.text[:300])
        location = response.headers["Location"]
        self.assertTrue(location.startswith(params["redirect_uri"]), location)
        answer = self.query(response)
        self.assertEqual(answer["error"], error)
        self.assertEqual(answer["state"], params["state"])
        self.assertEqual(answer["iss"], self.issuer)
        self.assertNotIn("code", answer)
        return answer

    def setUp(self):
        super().setUp()
        self.authenticate(self.user.login, self.password)

    def test_response_type_must_be_code(self):
        for response_type in ("token", "code id_token"):
            _verifier, params = self.authorize_params(self.confidential, response_type=response_type)
            self.assert_redirect_error(params, "unsupported_response_type")

    def test_missing_response_type_is_an_invalid_request(self):
        # RFC 6749 §4.1.2.1: a missing required parameter; unsupported_response_type is for a value.
        for response_type in (None, ""):
            _verifier, params = self.authorize_params(self.confidential, response_type=response_type)
            self.assert_redirect_error(params, "invalid_request")

    def test_empty_state_is_no_state(self):
        # RFC 6749 §3.1: a parameter without a value is treated as omitted, so none is echoed back.
        _verifier, params = self.authorize_params(
            self.confidential, state="", code_challenge="", code_challenge_method=""
        )
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 302, response.text[:300])
        answer = parse_qs(urlsplit(response.headers["Location"]).query, keep_blank_values=True)
        self.assertNotIn("state", answer)
        self.assertEqual(answer["error"], ["invalid_request"])
        self.assertIn("PKCE", answer["error_description"][0])

    def test_pkce_is_required(self):
        _verifier, params = self.authorize_params(self.confidential)
        del params["code_challenge"]
        del params["code_challenge_method"]
        self.assert_redirect_error(params, "invalid_request")

    def test_pkce_plain_and_missing_method_are_refused(self):
        verifier, params = self.authorize_params(self.confidential)
        params["code_challenge"] = verifier[:43]
        for method in ("plain", None):
            params_with_method = dict(params)
            if method is None:
                del params_with_method["code_challenge_method"]
            else:
                params_with_method["code_challenge_method"] = method
            self.assert_redirect_error(params_with_method, "invalid_request")

    def test_malformed_challenge(self):
        for challenge in ("short", "x" * 44, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c!"):
            _verifier, params = self.authorize_params(self.confidential, code_challenge=challenge)
            self.assert_redirect_error(params, "invalid_request")

    def test_method_without_challenge(self):
        _verifier, params = self.authorize_params(self.confidential)
        del params["code_challenge"]
        self.assert_redirect_error(params, "invalid_request")

    def test_pkce_exemption_only_for_the_configured_hosts(self):
        chatgpt = self._make_client("ChatGPT", "https://chatgpt.com/connector/oauth/*")
        other = self._make_client("Other", "https://other.example/connector/oauth/*")
        _verifier, params = self.authorize_params(
            chatgpt,
            redirect_uri="https://chatgpt.com/connector/oauth/abc123",
            code_challenge=None,
            code_challenge_method=None,
        )
        self.assertEqual(self.get("/oauth/authorize", params).status_code, 200)
        _verifier, params = self.authorize_params(
            other,
            redirect_uri="https://other.example/connector/oauth/abc123",
            code_challenge=None,
            code_challenge_method=None,
        )
        self.assert_redirect_error(params, "invalid_request")
        self.env["ir.config_parameter"].sudo().set_param("mcp_connect.pkce_exempt_hosts", '""')
        _verifier, params = self.authorize_params(
            chatgpt,
            redirect_uri="https://chatgpt.com/connector/oauth/abc123",
            code_challenge=None,
            code_challenge_method=None,
        )
        self.assert_redirect_error(params, "invalid_request")

    def test_known_scope_not_allowed_for_the_client(self):
        read_only = self._make_client("Read only", CALLBACK, allowed_scope="read")
        _verifier, params = self.authorize_params(read_only, scope="mcp:write")
        self.assert_redirect_error(params, "invalid_scope")

    def test_resource_of_another_server(self):
        for resource in ("https://other.example/api/mcp", self.issuer + "/other", "not a url"):
            _verifier, params = self.authorize_params(self.confidential, resource=resource)
            self.assert_redirect_error(params, "invalid_target")

    def test_repeated_parameter(self):
        _verifier, params = self.authorize_params(self.confidential)
        query = "&".join(f"{k}={v}" for k, v in params.items()) + "&scope=mcp:read&scope=mcp:write"
        response = self.url_open("/oauth/authorize?" + query, allow_redirects=False)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.query(response)["error"], "invalid_request")

    def test_prompt_none_without_consent(self):
        _verifier, params = self.authorize_params(self.confidential, prompt="none")
        self.assert_redirect_error(params, "consent_required")

    def test_redirect_keeps_the_registered_query(self):
        client = self._make_client("With query", "https://client.example.com/cb?tenant=42")
        _verifier, params = self.authorize_params(client, response_type="token")
        response = self.get("/oauth/authorize", params)
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        self.assertEqual(query["tenant"], ["42"])
        self.assertEqual(query["error"], ["unsupported_response_type"])


@tagged("post_install", "-at_install")
class TestAuthorizeFlow(McpHttpCase):
    def test_anonymous_user_is_sent_to_odoo_login_with_a_302(self):
        _verifier, params = self.authorize_params(self.confidential)
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 302)
        location = response.headers["Location"]
        self.assertIn("/web/login?redirect=", location)
        back = unquote(location.split("redirect=", 1)[1])
        self.assertTrue(back.startswith("/oauth/authorize?"), back)
        self.assertIn(params["code_challenge"], back)

    def test_login_page_of_the_flow_cannot_be_framed(self):
        response = self.get("/web/login", {"redirect": "/oauth/authorize?client_id=x"})
        self.assertEqual(response.headers["X-Frame-Options"], "DENY")
        self.assertIn("no-store", response.headers["Cache-Control"])

    def test_user_without_the_mcp_group_gets_an_explanation_and_a_way_back(self):
        self.authenticate(self.employee.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 403)
        self.assertIn("o_mcp_not_allowed", response.text)
        self.assertIn("error=access_denied", response.text)
        self.assertFalse(self.env["mcp.authorization.request"].sudo().search([("user_id", "=", self.employee.id)]))

    def test_consent_page_content_and_headers(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        response, _handle, _csrf = self.consent_page(params)
        for header, value in (
            ("X-Frame-Options", "DENY"),
            ("Content-Security-Policy", "frame-ancestors 'none'"),
            ("Referrer-Policy", "no-referrer"),
        ):
            self.assertEqual(response.headers[header], value)
        self.assertIn("no-store", response.headers["Cache-Control"])
        self.assertIn("Test confidential", response.text)
        self.assertIn("o_mcp_verified", response.text)
        self.assertIn("Ada Lovelace", response.text)
        self.assertIn(self.user.company_id.name, response.text)
        self.assertIn("client.example.com", response.text)
        self.assertIn("Read and write (mcp:write): see, create, change and delete", response.text)

    def test_self_registered_client_is_marked_unverified(self):
        client = self._make_client("Self registered", CALLBACK, connection_type="browser")
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(client, scope="mcp:read")
        response, _handle, _csrf = self.consent_page(params)
        self.assertIn("o_mcp_unverified", response.text)
        self.assertIn("Read only (mcp:read): see your Odoo data", response.text)
        self.assertNotIn("Read and write (mcp:write)", response.text)

    def test_the_unverified_warning_says_odoo_cannot_confirm_the_name(self):
        client = self._make_client("Claude", CALLBACK, connection_type="browser")
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(client, scope="mcp:read")
        response, _handle, _csrf = self.consent_page(params)
        page = html.fromstring(response.text)
        warning = " ".join(page.xpath("//*[hasclass('o_mcp_unverified')]")[0].text_content().split())
        self.assertIn('Odoo cannot confirm who made this application: it named itself "Claude".', warning)
        self.assertIn("Only continue if you started this connection yourself.", warning)
        self.assertNotIn("its name is what it says it is", response.text)

    def test_allow_is_the_primary_button_and_deny_the_lighter_one(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        response, _handle, _csrf = self.consent_page(params)
        page = html.fromstring(response.text)
        self.assertIn("btn-primary", page.xpath("//button[@value='allow']")[0].get("class"))
        deny = page.xpath("//button[@value='deny']")[0].get("class")
        self.assertIn("btn-outline-secondary", deny)
        self.assertNotIn("btn-primary", deny)

    def test_a_company_without_a_logo_shows_its_name_not_the_placeholder(self):
        company = self.user.company_id
        company.logo = False
        self.assertTrue(company.uses_default_logo)
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        page = html.fromstring(self.consent_page(params)[0].text)
        self.assertFalse(page.xpath("//img[contains(@src, 'company_logo')]"))
        self.assertEqual(page.xpath("//*[hasclass('o_mcp_company_brand')]")[0].text, company.name)

        company.logo = base64.b64encode(PNG_PIXEL)
        self.assertFalse(company.uses_default_logo)
        page = html.fromstring(self.consent_page(params)[0].text)
        [logo] = page.xpath("//*[hasclass('o_mcp_brand')]//img")
        self.assertEqual(logo.get("src"), f"/web/binary/company_logo?company={company.id}")
        self.assertFalse(page.xpath("//*[hasclass('o_mcp_company_brand')]"))

    def test_allow_issues_a_code_with_state_and_iss(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        _page, handle, csrf = self.consent_page(params)
        response = self.decide(handle, csrf)
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response.headers["Location"].startswith(CALLBACK + "?"))
        answer = self.query(response)
        self.assertTrue(answer["code"].startswith("mcpac_"))
        self.assertEqual(answer["state"], params["state"])
        self.assertEqual(answer["iss"], self.issuer)
        self.assertEqual(response.headers["X-Frame-Options"], "DENY")
        consent = (
            self.env["mcp.consent"]
            .sudo()
            .search([("user_id", "=", self.user.id), ("connection_id", "=", self.confidential.id)])
        )
        self.assertEqual(consent.scopes, "mcp:read mcp:write")

    def test_code_is_stored_as_a_digest_only(self):
        _verifier, _params, code = self.obtain_code(self.confidential)
        self.env.cr.execute("SELECT digest FROM mcp_authorization_code")
        stored = [row[0] for row in self.env.cr.fetchall()]
        self.assertNotIn(code, stored)
        self.assertTrue(all(len(value) == 64 for value in stored))

    def test_deny_returns_access_denied_with_state_and_iss(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        _page, handle, csrf = self.consent_page(params)
        response = self.decide(handle, csrf, "deny")
        answer = self.query(response)
        self.assertEqual(answer["error"], "access_denied")
        self.assertEqual(answer["state"], params["state"])
        self.assertEqual(answer["iss"], self.issuer)
        self.assertNotIn("code", answer)
        self.assertFalse(self.env["mcp.consent"].sudo().search([("user_id", "=", self.user.id)]))

    def test_decision_without_csrf_token_is_refused(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        _page, handle, _csrf = self.consent_page(params)
        response = self.post_form("/oauth/authorize", {"request_handle": handle, "decision": "allow"})
        self.assertEqual(response.status_code, 400)
        self.assertNotIn("Location", response.headers)
        self.assertFalse(self.env["mcp.authorization.code"].sudo().search([("user_id", "=", self.user.id)]))

    def test_decision_is_bound_to_the_user_who_saw_the_page(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        _page, handle, _csrf = self.consent_page(params)
        self.authenticate(self.other_user.login, self.password)
        _verifier, other_params = self.authorize_params(self.confidential)
        _page, _other_handle, other_csrf = self.consent_page(other_params)
        response = self.decide(handle, other_csrf)
        self.assertEqual(response.status_code, 400)
        self.assertIn("no longer valid", response.text)
        self.assertFalse(self.env["mcp.authorization.code"].sudo().search([]))

    def test_decision_cannot_be_replayed(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        _page, handle, csrf = self.consent_page(params)
        self.assertEqual(self.decide(handle, csrf).status_code, 302)
        again = self.decide(handle, csrf)
        self.assertEqual(again.status_code, 400)
        self.assertEqual(len(self.env["mcp.authorization.code"].sudo().search([])), 1)

    def test_consent_is_remembered_for_same_or_narrower_scopes(self):
        self.obtain_code(self.confidential, scope="mcp:read")
        _verifier, params = self.authorize_params(self.confidential, scope="mcp:read")
        self.assertEqual(self.get("/oauth/authorize", params).status_code, 302)
        _verifier, wider = self.authorize_params(self.confidential, scope="mcp:write")
        self.assertEqual(self.get("/oauth/authorize", wider).status_code, 200)
        _verifier, forced = self.authorize_params(self.confidential, scope="mcp:read", prompt="consent")
        self.assertEqual(self.get("/oauth/authorize", forced).status_code, 200)

    def test_trusted_custom_client_skips_consent(self):
        trusted = self._make_client("Trusted", CALLBACK, skip_consent=True)
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(trusted)
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 302)
        self.assertIn("code", self.query(response))

    def test_unknown_scopes_are_ignored_and_the_default_granted(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential, scope="claudeai offline_access mcp:tools")
        response, _handle, _csrf = self.consent_page(params)
        self.assertIn("Read and write (mcp:write): see, create, change and delete", response.text)

    def test_resource_variants_are_accepted(self):
        self.authenticate(self.user.login, self.password)
        port = self.base_url().rsplit(":", 1)[1]
        for resource in (
            self.resource,
            self.resource + "/",
            self.issuer,
            self.issuer + "/",
            f"HTTP://127.0.0.1:{port}/api/mcp",
        ):
            _verifier, params = self.authorize_params(self.confidential, resource=resource)
            self.assertEqual(self.get("/oauth/authorize", params).status_code, 200, resource)

    def test_omitted_redirect_uri_is_refused_for_a_loopback_registration(self):
        _verifier, challenge = pkce_pair()
        self.authenticate(self.user.login, self.password)
        params = {
            "response_type": "code",
            "client_id": self.public.client_id,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 400, response.text)
        self.assertNotIn("Location", response.headers)
        self.assertIn("redirect_uri", response.text)

    def test_omitted_redirect_uri_with_a_single_registration(self):
        verifier, challenge = pkce_pair()
        self.authenticate(self.user.login, self.password)
        params = {
            "response_type": "code",
            "client_id": self.confidential.client_id,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        _page, handle, csrf = self.consent_page(params)
        response = self.decide(handle, csrf)
        self.assertTrue(response.headers["Location"].startswith(CALLBACK))
        code = self.query(response)["code"]
        token = self.post_form(
            "/oauth/token",
            {"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
            self.basic(self.confidential.client_id, self.secret),
        )
        self.assertEqual(token.status_code, 200, token.text)
