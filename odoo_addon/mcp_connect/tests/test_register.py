from odoo.tests import tagged

from .common import McpHttpCase

CLAUDE = {
    "client_name": "Claude",
    "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": "claudeai",
}


@tagged("post_install", "-at_install")
class TestRegistration(McpHttpCase):
    def register(self, payload):
        return self.post_json("/oauth/register", payload)

    def test_public_registration(self):
        response = self.register(CLAUDE)
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        body = response.json()
        self.assertTrue(body["client_id"].startswith("mcpci_"))
        self.assertNotIn("client_secret", body)
        self.assertEqual(body["token_endpoint_auth_method"], "none")
        self.assertEqual(body["redirect_uris"], CLAUDE["redirect_uris"])
        connection = self.env["mcp.connection"].search([("client_id", "=", body["client_id"])])
        self.assertEqual(connection.connection_type, "browser")
        self.assertEqual(connection.client_type, "public")
        self.assertEqual(connection.status, "awaiting")

    def test_default_auth_method_is_client_secret_basic_with_a_secret(self):
        payload = {k: v for k, v in CLAUDE.items() if k != "token_endpoint_auth_method"}
        body = self.register(payload).json()
        self.assertEqual(body["token_endpoint_auth_method"], "client_secret_basic")
        self.assertTrue(body["client_secret"].startswith("mcpcs_"))
        self.assertEqual(body["client_secret_expires_at"], 0)
        connection = self.env["mcp.connection"].sudo().search([("client_id", "=", body["client_id"])])
        self.assertTrue(connection.secret_hash.startswith("$argon2id$"))
        self.assertNotIn(body["client_secret"], connection.secret_hash)
        self.env.cr.execute("SELECT secret_hash FROM mcp_connection WHERE id = %s", [connection.id])
        self.assertNotEqual(self.env.cr.fetchone()[0], body["client_secret"])

    def test_registered_client_completes_a_flow(self):
        body = self.register(dict(CLAUDE, redirect_uris=["http://localhost:33418/callback"])).json()
        client = self.env["mcp.connection"].search([("client_id", "=", body["client_id"])])
        tokens = self.tokens_for(client, redirect_uri="http://localhost:49152/callback")
        self.assertIn("access_token", tokens)

    def test_native_application_type_and_real_bodies(self):
        payload = {
            "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "mcp-python-sdk",
            "scope": "mcp:read offline_access",
            "application_type": "native",
        }
        response = self.register(payload)
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(response.json()["scope"], "mcp:read")

    def test_disabled_registration(self):
        self.env["ir.config_parameter"].sudo().set_param("mcp_connect.registration_enabled", "false")
        response = self.register(CLAUDE)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["error"], "access_denied")
        self.assertIn("turned off", response.json()["error_description"])
        self.assertFalse(self.env["mcp.connection"].search([("connection_type", "=", "browser")]))

    def test_invalid_redirect_uris(self):
        for uris in (
            ["http://claude.ai/callback"],
            ["https://claude.ai/cb#frag"],
            ["cursor://anysphere.cursor-mcp/oauth/callback"],
            ["javascript:alert(1)"],
            [],
            "https://claude.ai/cb",
        ):
            response = self.register(dict(CLAUDE, redirect_uris=uris))
            self.assertEqual(response.status_code, 400, uris)
            self.assertIn(response.json()["error"], ("invalid_redirect_uri", "invalid_client_metadata"))
        self.assertFalse(self.env["mcp.connection"].search([("connection_type", "=", "browser")]))

    def test_invalid_metadata(self):
        for change in (
            {"grant_types": ["client_credentials"]},
            {"grant_types": ["implicit"]},
            {"response_types": ["token"]},
            {"token_endpoint_auth_method": "private_key_jwt"},
            {"application_type": "desktop"},
            {"client_name": 42},
        ):
            response = self.register(dict(CLAUDE, **change))
            self.assertEqual(response.status_code, 400, change)
            self.assertEqual(response.json()["error"], "invalid_client_metadata", change)

    def test_body_must_be_a_json_object(self):
        response = self.url_open(
            "/oauth/register",
            data="{not json",
            headers={"Content-Type": "application/json"},
            allow_redirects=False,
        )
        self.assertEqual(response.json()["error"], "invalid_request")
        response = self.url_open(
            "/oauth/register",
            data="client_name=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
        )
        self.assertEqual(response.json()["error"], "invalid_request")
        self.assertEqual(self.register(["a"]).json()["error"], "invalid_client_metadata")

    def test_registrations_are_rate_limited_per_address(self):
        for _attempt in range(30):
            self.assertEqual(self.register(CLAUDE).status_code, 201)
        response = self.register(CLAUDE)
        self.assertEqual(response.status_code, 429)
        self.assertIn("Retry-After", response.headers)

    def test_redirect_uris_of_registered_clients_are_read_only(self):
        body = self.register(CLAUDE).json()
        connection = self.env["mcp.connection"].search([("client_id", "=", body["client_id"])])
        from odoo.exceptions import UserError

        with self.assertRaisesRegex(UserError, "register again"):
            connection.write({"redirect_uris": "https://attacker.example/cb"})
