import mcp_connect_core as core
from odoo.tests import tagged

from .common import McpHttpCase


@tagged("post_install", "-at_install")
class TestRevocationAndIntrospection(McpHttpCase):
    def introspect(self, token, client=None, secret=None):
        client = client or self.confidential
        return self.post_form(
            "/oauth/introspect", {"token": token}, self.basic(client.client_id, secret or self.secret)
        )

    def revoke(self, token, client=None, **extra):
        client = client or self.confidential
        return self.post_form("/oauth/revoke", {"token": token, **extra}, self.basic(client.client_id, self.secret))

    def test_introspection_of_own_active_token(self):
        body = self.tokens_for(self.confidential)
        answer = self.introspect(body["access_token"]).json()
        self.assertIs(answer["active"], True)
        self.assertEqual(answer["client_id"], self.confidential.client_id)
        self.assertEqual(answer["username"], self.user.login)
        self.assertEqual(answer["aud"], self.resource)
        self.assertEqual(answer["iss"], self.issuer)
        self.assertEqual(answer["scope"], "mcp:read mcp:write")
        self.assertGreater(answer["exp"], answer["iat"])

    def test_introspection_reveals_nothing_about_other_tokens(self):
        body = self.tokens_for(self.confidential)
        other = self._make_client("Other confidential", "https://client.example.com/callback")
        self.assertEqual(self.introspect(body["access_token"], client=other).json(), {"active": False})
        for token in ("garbage", core.mint_token(kind="access")[0], core.mint_token(kind="code")[0]):
            self.assertEqual(self.introspect(token).json(), {"active": False})

    def test_introspection_needs_a_confidential_client(self):
        body = self.tokens_for(self.public)
        response = self.post_form(
            "/oauth/introspect", {"token": body["access_token"], "client_id": self.public.client_id}
        )
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"], "invalid_client")
        self.assertEqual(self.introspect(body["access_token"], secret="wrong").status_code, 401)

    def test_revoking_an_access_token(self):
        body = self.tokens_for(self.confidential)
        response = self.revoke(body["access_token"], token_type_hint="access_token")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.introspect(body["access_token"]).json(), {"active": False})
        self.assertIs(self.introspect(body["refresh_token"]).json()["active"], True)

    def test_revoking_a_refresh_token_revokes_the_family(self):
        body = self.tokens_for(self.confidential)
        self.assertEqual(self.revoke(body["refresh_token"]).status_code, 200)
        self.assertEqual(self.introspect(body["access_token"]).json(), {"active": False})
        refreshed = self.post_form(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
            self.basic(self.confidential.client_id, self.secret),
        )
        self.assertEqual(refreshed.json()["error"], "invalid_grant")

    def test_revoking_someone_elses_token_does_nothing_and_says_nothing(self):
        body = self.tokens_for(self.confidential)
        other = self._make_client("Other confidential", "https://client.example.com/callback")
        self.assertEqual(self.revoke(body["access_token"], client=other).status_code, 200)
        self.assertIs(self.introspect(body["access_token"]).json()["active"], True)
        self.assertEqual(self.revoke("garbage").status_code, 200)

    def test_public_client_revokes_its_own_token(self):
        body = self.tokens_for(self.public)
        response = self.post_form("/oauth/revoke", {"token": body["refresh_token"], "client_id": self.public.client_id})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(self.token_record(body["access_token"]).revoked)

    def test_unknown_hint_and_missing_token(self):
        body = self.tokens_for(self.confidential)
        response = self.revoke(body["access_token"], token_type_hint="id_token")
        self.assertEqual(response.json()["error"], "unsupported_token_type")
        response = self.post_form(
            "/oauth/revoke", {"token_type_hint": "access_token"}, self.basic(self.confidential.client_id, self.secret)
        )
        self.assertEqual(response.json()["error"], "invalid_request")
