from datetime import timedelta

import mcp_connect_core as core
from odoo import fields
from odoo.tests import tagged

from ..oauth import client_auth
from ..oauth.errors import OAuthError
from ..storage import OdooStorage
from .common import McpHttpCase, clock_frozen, pkce_pair


@tagged("post_install", "-at_install")
class TestTokenAuthorizationCode(McpHttpCase):
    def assert_error(self, response, error, status=400):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"], error)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        return response.json()

    def test_exchange_returns_tokens_without_caching(self):
        verifier, params, code = self.obtain_code(self.confidential)
        response = self.exchange(self.confidential, code, verifier, params)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertEqual(response.headers["Pragma"], "no-cache")
        body = response.json()
        self.assertEqual(body["token_type"], "Bearer")
        self.assertTrue(body["access_token"].startswith("mcpat_"))
        self.assertTrue(body["refresh_token"].startswith("mcprt_"))
        self.assertEqual(body["scope"], "mcp:read mcp:write")
        self.assertEqual(body["expires_in"], 3600)
        access = self.token_record(body["access_token"])
        self.assertEqual(access.user_id, self.user)
        self.assertEqual(access.resource, self.resource)
        self.assertEqual(access.connection_id, self.confidential)

    def test_tokens_are_stored_as_digests_only(self):
        body = self.tokens_for(self.confidential)
        self.env.cr.execute("SELECT digest FROM mcp_token")
        stored = {row[0] for row in self.env.cr.fetchall()}
        self.assertNotIn(body["access_token"], stored)
        self.assertNotIn(body["refresh_token"], stored)
        self.assertIn(core.parse_token(body["access_token"])[1], stored)

    def test_public_client_with_client_id_in_body(self):
        body = self.tokens_for(self.public)
        self.assertIn("access_token", body)

    def test_json_body_is_refused(self):
        verifier, params, code = self.obtain_code(self.public)
        response = self.post_json(
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.public.client_id,
                "redirect_uri": params["redirect_uri"],
                "code_verifier": verifier,
            },
        )
        self.assert_error(response, "invalid_request")

    def test_code_of_another_client_is_answered_as_unknown(self):
        verifier, params, code = self.obtain_code(self.public)
        other = self._make_client("Other public", params["redirect_uri"], confidential=False)
        response = self.post_form(
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": other.client_id,
                "redirect_uri": params["redirect_uri"],
                "code_verifier": verifier,
            },
        )
        body = self.assert_error(response, "invalid_grant")
        unknown = self.post_form(
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": core.mint_token(kind="code")[0],
                "client_id": other.client_id,
                "redirect_uri": params["redirect_uri"],
                "code_verifier": verifier,
            },
        )
        self.assertEqual(self.assert_error(unknown, "invalid_grant"), body)
        # The rightful client can still redeem it: the foreign attempt did not burn it.
        self.assertEqual(self.exchange(self.public, code, verifier, params).status_code, 200)

    def test_wrong_redirect_uri(self):
        verifier, params, code = self.obtain_code(self.confidential)
        params = dict(params, redirect_uri=params["redirect_uri"] + "/other")
        self.assert_error(self.exchange(self.confidential, code, verifier, params), "invalid_grant")

    def test_verifier_mismatch_missing_and_malformed(self):
        _verifier, params, code = self.obtain_code(self.confidential)
        other_verifier, _challenge = pkce_pair()
        self.assert_error(self.exchange(self.confidential, code, other_verifier, params), "invalid_grant")
        _verifier, params, code = self.obtain_code(self.confidential)
        response = self.exchange(self.confidential, code, None, params)
        self.assert_error(response, "invalid_request")
        _verifier, params, code = self.obtain_code(self.confidential)
        self.assert_error(self.exchange(self.confidential, code, "short", params), "invalid_request")

    def test_expired_code(self):
        verifier, params, code = self.obtain_code(self.confidential)
        record = self.env["mcp.authorization.code"].sudo().search([("digest", "=", core.parse_token(code)[1])])
        record.expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.assert_error(self.exchange(self.confidential, code, verifier, params), "invalid_grant")

    def test_malformed_code(self):
        verifier, params, _code = self.obtain_code(self.confidential)
        for code in ("garbage", core.mint_token(kind="access")[0], ""):
            response = self.exchange(self.confidential, code, verifier, params)
            self.assertEqual(response.status_code, 400)
            self.assertIn(response.json()["error"], ("invalid_grant", "invalid_request"))

    def test_valid_replay_revokes_what_the_first_redemption_issued(self):
        verifier, params, code = self.obtain_code(self.confidential)
        first = self.exchange(self.confidential, code, verifier, params).json()
        self.assert_error(self.exchange(self.confidential, code, verifier, params), "invalid_grant")
        self.assertTrue(self.token_record(first["access_token"]).revoked)
        self.assertTrue(self.token_record(first["refresh_token"]).revoked)

    def test_invalid_replay_revokes_nothing(self):
        verifier, params, code = self.obtain_code(self.confidential)
        first = self.exchange(self.confidential, code, verifier, params).json()
        wrong_verifier, _challenge = pkce_pair()
        self.assert_error(self.exchange(self.confidential, code, wrong_verifier, params), "invalid_grant")
        other = self._make_client("Other", params["redirect_uri"])
        self.assert_error(self.exchange(other, code, verifier, params), "invalid_grant")
        self.assertFalse(self.token_record(first["access_token"]).revoked)
        self.assertFalse(self.token_record(first["refresh_token"]).revoked)

    def test_resource_is_checked_and_canonicalised(self):
        verifier, params, code = self.obtain_code(self.confidential)
        self.assert_error(
            self.exchange(self.confidential, code, verifier, params, resource="https://other.example/api/mcp"),
            "invalid_target",
        )
        verifier, params, code = self.obtain_code(self.confidential)
        response = self.exchange(self.confidential, code, verifier, params, resource=self.resource + "/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.token_record(response.json()["access_token"]).resource, self.resource)

    def test_repeated_parameter(self):
        verifier, params, code = self.obtain_code(self.public)
        response = self.post_form(
            "/oauth/token",
            [
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code", code),
                ("client_id", self.public.client_id),
                ("redirect_uri", params["redirect_uri"]),
                ("code_verifier", verifier),
            ],
        )
        self.assert_error(response, "invalid_request")

    def test_unsupported_grant_types(self):
        for grant_type in ("password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"):
            response = self.post_form("/oauth/token", {"grant_type": grant_type, "client_id": self.public.client_id})
            self.assert_error(response, "unsupported_grant_type")
        self.assert_error(self.post_form("/oauth/token", {"client_id": self.public.client_id}), "invalid_request")

    def test_oversized_body_is_refused(self):
        response = self.post_form("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x" * 100_000})
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json()["error"], "invalid_request")
        response = self.post_json("/oauth/register", {"client_name": "x" * 100_000})
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json()["error"], "invalid_request")
        self.assertFalse(self.env["mcp.connection"].search([("connection_type", "=", "browser")]))


@tagged("post_install", "-at_install")
class TestTokenClientAuthentication(McpHttpCase):
    def setUp(self):
        super().setUp()
        self.verifier, self.params, self.code = self.obtain_code(self.confidential)
        self.data = {
            "grant_type": "authorization_code",
            "code": self.code,
            "redirect_uri": self.params["redirect_uri"],
            "code_verifier": self.verifier,
        }

    def test_client_secret_post(self):
        data = dict(self.data, client_id=self.confidential.client_id, client_secret=self.secret)
        self.assertEqual(self.post_form("/oauth/token", data).status_code, 200)

    def test_two_methods_at_once_are_refused(self):
        data = dict(self.data, client_id=self.confidential.client_id, client_secret=self.secret)
        response = self.post_form("/oauth/token", data, self.basic(self.confidential.client_id, self.secret))
        self.assertEqual(response.json()["error"], "invalid_request")

    def test_wrong_secret(self):
        response = self.post_form("/oauth/token", self.data, self.basic(self.confidential.client_id, "wrong"))
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"], "invalid_client")
        self.assertIn("Basic", response.headers["WWW-Authenticate"])
        self.assertNotIn("wrong", response.text)

    def test_confidential_client_without_secret(self):
        data = dict(self.data, client_id=self.confidential.client_id)
        self.assertEqual(self.post_form("/oauth/token", data).json()["error"], "invalid_client")

    def test_public_client_sending_a_secret(self):
        verifier, params, code = self.obtain_code(self.public)
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "code_verifier": verifier,
            "client_id": self.public.client_id,
            "client_secret": "anything",
        }
        self.assertEqual(self.post_form("/oauth/token", data).json()["error"], "invalid_client")

    def test_unknown_and_revoked_clients(self):
        response = self.post_form("/oauth/token", self.data, self.basic("mcpci_unknown", self.secret))
        self.assertEqual(response.json()["error"], "invalid_client")
        self.confidential.action_revoke()
        response = self.post_form("/oauth/token", self.data, self.basic(self.confidential.client_id, self.secret))
        self.assertEqual(response.json()["error"], "invalid_client")

    def test_basic_credentials_are_form_urldecoded(self):
        client = self._make_client("Special", self.params["redirect_uri"])
        secret = "a b+c:d%e"
        client.sudo().secret_hash = core.hash_secret(secret)
        verifier, params, code = self.obtain_code(client)
        from urllib.parse import quote_plus

        response = self.exchange(client, code, verifier, params, secret=quote_plus(secret))
        self.assertEqual(response.status_code, 200, response.text)

    @clock_frozen
    def test_repeated_failures_are_throttled_before_hashing(self):
        for _attempt in range(10):
            response = self.post_form("/oauth/token", self.data, self.basic(self.confidential.client_id, "wrong"))
            self.assertEqual(response.status_code, 401)
        response = self.post_form("/oauth/token", self.data, self.basic(self.confidential.client_id, self.secret))
        self.assertEqual(response.status_code, 429)
        self.assertEqual(response.json()["error"], "slow_down")
        self.assertGreater(int(response.headers["Retry-After"]), 0)

    @clock_frozen
    def test_failures_of_one_client_do_not_lock_out_another_at_the_same_address(self):
        # An office NAT: a stale tool failing again and again must not stop a valid one's refresh.
        stale = self._make_client("Stale", self.params["redirect_uri"])
        for _attempt in range(12):
            self.post_form("/oauth/token", self.data, self.basic(stale.client_id, "wrong"))
        for _attempt in range(12):
            self.post_form("/oauth/token", self.data, self.basic("mcpci_unknown", "wrong"))
        self.assertEqual(
            self.post_form("/oauth/token", self.data, self.basic(stale.client_id, self.secret)).status_code, 429
        )
        response = self.post_form("/oauth/token", self.data, self.basic(self.confidential.client_id, self.secret))
        self.assertEqual(response.status_code, 200, response.text)

    @clock_frozen
    def test_failures_from_another_address_do_not_lock_out_a_client(self):
        storage = OdooStorage(self.env)
        wrong = self.basic(self.confidential.client_id, "wrong")["Authorization"]
        refused = []
        for _attempt in range(12):
            # Not assertRaises: it rolls back to a savepoint, and the failures must stay counted.
            try:
                client_auth.authenticate(storage, {}, wrong, "203.0.113.9")
            except OAuthError as error:
                refused.append(error.status)
        self.assertEqual(refused, [401] * 10 + [429] * 2)
        response = self.post_form("/oauth/token", self.data, self.basic(self.confidential.client_id, self.secret))
        self.assertEqual(response.status_code, 200, response.text)

    @clock_frozen
    def test_failure_budget_comes_from_settings(self):
        self.env["ir.config_parameter"].sudo().set_param("mcp_connect.client_auth_failures", "3")
        for _attempt in range(3):
            response = self.post_form("/oauth/token", self.data, self.basic(self.confidential.client_id, "wrong"))
            self.assertEqual(response.status_code, 401)
        response = self.post_form("/oauth/token", self.data, self.basic(self.confidential.client_id, self.secret))
        self.assertEqual(response.status_code, 429)


@tagged("post_install", "-at_install")
class TestTokenRefresh(McpHttpCase):
    def refresh(self, refresh_token, client=None, **extra):
        client = client or self.public
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client.client_id,
            **extra,
        }
        return self.post_form("/oauth/token", data)

    def test_rotation(self):
        first = self.tokens_for(self.public)
        response = self.refresh(first["refresh_token"])
        self.assertEqual(response.status_code, 200, response.text)
        second = response.json()
        self.assertNotEqual(second["refresh_token"], first["refresh_token"])
        self.assertNotEqual(second["access_token"], first["access_token"])
        old = self.token_record(first["refresh_token"])
        new = self.token_record(second["refresh_token"])
        self.assertTrue(old.rotated_at)
        self.assertEqual(new.parent_id, old)
        self.assertEqual(new.family, old.family)
        self.assertEqual(self.refresh(second["refresh_token"]).status_code, 200)

    def test_reuse_inside_the_grace_window_is_tolerated(self):
        first = self.tokens_for(self.public)
        self.assertEqual(self.refresh(first["refresh_token"]).status_code, 200)
        again = self.refresh(first["refresh_token"])
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(self.refresh(again.json()["refresh_token"]).status_code, 200)

    def test_reuse_after_the_grace_window_revokes_the_family(self):
        first = self.tokens_for(self.public)
        second = self.refresh(first["refresh_token"]).json()
        old = self.token_record(first["refresh_token"])
        old.rotated_at = fields.Datetime.now() - timedelta(seconds=61)
        response = self.refresh(first["refresh_token"])
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "invalid_grant")
        self.assertTrue(self.token_record(second["refresh_token"]).revoked)
        self.assertTrue(self.token_record(second["access_token"]).revoked)
        self.assertEqual(self.refresh(second["refresh_token"]).json()["error"], "invalid_grant")

    def test_grace_window_comes_from_settings(self):
        self.env["ir.config_parameter"].sudo().set_param("mcp_connect.refresh_grace_seconds", "0")
        first = self.tokens_for(self.public)
        self.refresh(first["refresh_token"])
        old = self.token_record(first["refresh_token"])
        old.rotated_at = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(self.refresh(first["refresh_token"]).json()["error"], "invalid_grant")

    def test_scope_cannot_be_widened_but_can_be_narrowed(self):
        first = self.tokens_for(self.public, scope="mcp:read")
        self.assertEqual(self.refresh(first["refresh_token"], scope="mcp:write").json()["error"], "invalid_scope")
        second = self.tokens_for(self.public)
        narrowed = self.refresh(second["refresh_token"], scope="mcp:read").json()
        self.assertEqual(narrowed["scope"], "mcp:read")

    def test_family_has_an_absolute_lifetime(self):
        first = self.tokens_for(self.public)
        record = self.token_record(first["refresh_token"])
        self.env["mcp.token"].sudo().search([("family", "=", record.family)]).write(
            {"family_expires_at": fields.Datetime.now() - timedelta(seconds=1)}
        )
        self.assertEqual(self.refresh(first["refresh_token"]).json()["error"], "invalid_grant")

    def test_expired_refresh_token(self):
        first = self.tokens_for(self.public)
        self.token_record(first["refresh_token"]).expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(self.refresh(first["refresh_token"]).json()["error"], "invalid_grant")

    def test_refresh_token_of_another_client(self):
        first = self.tokens_for(self.public)
        other = self._make_client("Other public", "http://127.0.0.1/callback", confidential=False)
        self.assertEqual(self.refresh(first["refresh_token"], client=other).json()["error"], "invalid_grant")
        self.assertEqual(self.refresh(first["refresh_token"]).status_code, 200)

    def test_access_token_is_not_a_refresh_token(self):
        first = self.tokens_for(self.public)
        self.assertEqual(self.refresh(first["access_token"]).json()["error"], "invalid_grant")

    def test_revoked_connection_cannot_refresh(self):
        first = self.tokens_for(self.public)
        self.public.action_revoke()
        self.assertEqual(self.refresh(first["refresh_token"]).json()["error"], "invalid_client")


@tagged("post_install", "-at_install")
class TestTokenClientCredentials(McpHttpCase):
    def test_confidential_client_acts_as_its_owner(self):
        response = self.post_form(
            "/oauth/token",
            {"grant_type": "client_credentials", "scope": "mcp:read"},
            self.basic(self.confidential.client_id, self.secret),
        )
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertNotIn("refresh_token", body)
        self.assertEqual(body["scope"], "mcp:read")
        self.assertEqual(self.token_record(body["access_token"]).user_id, self.env.ref("base.user_admin"))

    def test_public_client_may_not(self):
        response = self.post_form(
            "/oauth/token", {"grant_type": "client_credentials", "client_id": self.public.client_id}
        )
        self.assertEqual(response.json()["error"], "unauthorized_client")

    def test_wrong_secret(self):
        response = self.post_form(
            "/oauth/token",
            {"grant_type": "client_credentials"},
            self.basic(self.confidential.client_id, "nope"),
        )
        self.assertEqual(response.json()["error"], "invalid_client")
