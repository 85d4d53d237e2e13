from odoo.tests import tagged

from .common import McpHttpCase


@tagged("post_install", "-at_install")
class TestMetadata(McpHttpCase):
    def test_authorization_server_metadata(self):
        response = self.get("/.well-known/oauth-authorization-server")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        document = response.json()
        self.assertEqual(document["issuer"], self.issuer)
        self.assertFalse(document["issuer"].endswith("/"))
        self.assertEqual(document["code_challenge_methods_supported"], ["S256"])
        self.assertEqual(document["response_types_supported"], ["code"])
        for method in ("none", "client_secret_basic", "client_secret_post"):
            self.assertIn(method, document["token_endpoint_auth_methods_supported"])
        self.assertIs(document["authorization_response_iss_parameter_supported"], True)
        self.assertEqual(document["authorization_endpoint"], self.issuer + "/oauth/authorize")
        self.assertEqual(document["token_endpoint"], self.issuer + "/oauth/token")
        self.assertEqual(document["revocation_endpoint"], self.issuer + "/oauth/revoke")
        self.assertEqual(document["introspection_endpoint"], self.issuer + "/oauth/introspect")
        self.assertEqual(document["registration_endpoint"], self.issuer + "/oauth/register")
        self.assertIs(document["client_id_metadata_document_supported"], True)
        self.assertEqual(set(document["scopes_supported"]), {"mcp:read", "mcp:write", "email"})
        self.assertNotIn("password", document["grant_types_supported"])
        self.assertNotIn("implicit", document["grant_types_supported"])

    def test_openid_configuration_path_serves_the_same_document(self):
        first = self.get("/.well-known/oauth-authorization-server").json()
        self.assertEqual(self.get("/.well-known/openid-configuration").json(), first)

    def test_registration_endpoint_only_while_enabled(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("mcp_connect.registration_enabled", "false")
        params.set_param("mcp_connect.metadata_documents_enabled", "false")
        document = self.get("/.well-known/oauth-authorization-server").json()
        self.assertNotIn("registration_endpoint", document)
        self.assertIs(document["client_id_metadata_document_supported"], False)

    def test_protected_resource_metadata_at_both_paths(self):
        for path in (
            "/.well-known/oauth-protected-resource/api/mcp",
            "/.well-known/oauth-protected-resource",
        ):
            response = self.get(path)
            self.assertEqual(response.status_code, 200, path)
            document = response.json()
            self.assertEqual(document["resource"], self.resource)
            self.assertEqual(document["authorization_servers"], [self.issuer])
            self.assertEqual(document["scopes_supported"], ["mcp:read", "mcp:write"])
            self.assertNotIn("offline_access", document["scopes_supported"])
            self.assertEqual(document["bearer_methods_supported"], ["header"])

    def test_cors_allowed_on_metadata(self):
        response = self.get("/.well-known/oauth-authorization-server", headers={"Origin": "https://claude.ai"})
        self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), "*")

    def test_issuer_is_stable_whatever_the_base_url_spelling(self):
        port = self.base_url().rsplit(":", 1)[1]
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", f"HTTP://127.0.0.1:{port}/")
        self.assertEqual(self.get("/.well-known/oauth-authorization-server").json()["issuer"], self.issuer)

    def test_issuer_does_not_follow_request_headers(self):
        response = self.get(
            "/.well-known/oauth-authorization-server",
            headers={"Host": "evil.example.com", "X-Forwarded-Host": "evil.example.com"},
        )
        self.assertEqual(response.json()["issuer"], self.issuer)
