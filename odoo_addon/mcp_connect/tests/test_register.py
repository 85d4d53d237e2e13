from odoo.tests import tagged

from ..oauth import registration
from ..storage import OdooStorage
from .common import McpHttpCase, clock_frozen

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

    def set_budget(self, registrations):
        self.env["ir.config_parameter"].sudo().set_param("mcp_connect.registrations_per_hour", str(registrations))

    def test_identical_public_registration_gets_the_same_client(self):
        first = self.register(CLAUDE)
        again = self.register(CLAUDE)
        self.assertEqual(again.status_code, 201, again.text)
        self.assertEqual(again.json()["client_id"], first.json()["client_id"])
        self.assertEqual(again.json()["client_id_issued_at"], first.json()["client_id_issued_at"])
        self.assertNotIn("client_secret", again.json())
        connections = self.env["mcp.connection"].search([("connection_type", "=", "browser")])
        self.assertEqual(len(connections), 1)
        self.assertEqual(connections.registration_address, "127.0.0.1")

    def test_loopback_port_does_not_make_a_new_client(self):
        # Claude Code and the SDKs listen on a new port at every sign-in and register again.
        first = self.register(dict(CLAUDE, redirect_uris=["http://localhost:33418/callback"])).json()
        again = self.register(dict(CLAUDE, redirect_uris=["http://localhost:50211/callback"]))
        self.assertEqual(again.json()["client_id"], first["client_id"])
        self.assertEqual(again.json()["redirect_uris"], ["http://localhost:50211/callback"])
        other_path = self.register(dict(CLAUDE, redirect_uris=["http://localhost:50211/other"])).json()
        self.assertNotEqual(other_path["client_id"], first["client_id"])

    def test_different_metadata_or_address_registers_a_new_client(self):
        first = self.register(CLAUDE).json()["client_id"]
        for change in (
            {"client_name": "Claude (beta)"},
            {"redirect_uris": ["https://claude.com/api/mcp/auth_callback"]},
            {"redirect_uris": [*CLAUDE["redirect_uris"], "https://claude.com/api/mcp/auth_callback"]},
            {"grant_types": ["authorization_code"]},
            {"application_type": "native"},
        ):
            self.assertNotEqual(self.register(dict(CLAUDE, **change)).json()["client_id"], first, change)
        storage = OdooStorage(self.env)
        elsewhere = registration.register(storage, dict(CLAUDE), "203.0.113.7")
        self.assertNotEqual(elsewhere["client_id"], first)

    def test_confidential_registration_is_never_reused(self):
        # Its secret cannot be shown again, and rotating it would sign out whoever registered first.
        payload = dict(CLAUDE, token_endpoint_auth_method="client_secret_post")
        first = self.register(payload).json()
        again = self.register(payload).json()
        self.assertNotEqual(again["client_id"], first["client_id"])
        self.assertTrue(again["client_secret"].startswith("mcpcs_"))
        self.assertNotEqual(again["client_secret"], first["client_secret"])

    def test_revoked_connection_is_not_revived(self):
        first = self.register(CLAUDE).json()["client_id"]
        connection = self.env["mcp.connection"].search([("client_id", "=", first)])
        connection.action_revoke()
        again = self.register(CLAUDE)
        self.assertEqual(again.status_code, 201)
        self.assertNotEqual(again.json()["client_id"], first)
        self.assertEqual(connection.state, "revoked")

    @clock_frozen
    def test_new_registrations_are_rate_limited_per_address(self):
        self.set_budget(3)
        for index in range(3):
            self.assertEqual(self.register(dict(CLAUDE, client_name=f"Tool {index}")).status_code, 201)
        response = self.register(dict(CLAUDE, client_name="One too many"))
        self.assertEqual(response.status_code, 429)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertGreater(int(response.headers["Retry-After"]), 0)
        body = response.json()
        self.assertEqual(set(body), {"error", "error_description"})
        self.assertEqual(body["error"], "too_many_requests")
        self.assertIn("registrations", body["error_description"])
        self.assertFalse(self.env["mcp.connection"].search([("name", "=", "One too many")]))
        counter = self.env["mcp.rate.counter"].search([("key", "=", "register:ip:127.0.0.1")])
        self.assertEqual(counter.window_start, self.frozen_at.replace(minute=0, second=0))

    @clock_frozen
    def test_reuse_does_not_count_against_the_budget(self):
        self.set_budget(2)
        client_id = self.register(CLAUDE).json()["client_id"]
        for _attempt in range(5):
            response = self.register(CLAUDE)
            self.assertEqual(response.status_code, 201, response.text)
            self.assertEqual(response.json()["client_id"], client_id)
        self.assertEqual(self.register(dict(CLAUDE, client_name="Second")).status_code, 201)
        self.assertEqual(self.register(dict(CLAUDE, client_name="Third")).status_code, 429)

    @clock_frozen
    def test_default_budget_admits_a_company_rollout(self):
        for index in range(40):
            response = self.register(dict(CLAUDE, client_name=f"Connector {index}"))
            self.assertEqual(response.status_code, 201, response.text)

    def test_zero_budget_means_no_limit(self):
        self.set_budget(0)
        for index in range(5):
            self.assertEqual(self.register(dict(CLAUDE, client_name=f"Tool {index}")).status_code, 201)

    def test_redirect_uris_of_registered_clients_are_read_only(self):
        body = self.register(CLAUDE).json()
        connection = self.env["mcp.connection"].search([("client_id", "=", body["client_id"])])
        from odoo.exceptions import UserError

        with self.assertRaisesRegex(UserError, "register again"):
            connection.write({"redirect_uris": "https://attacker.example/cb"})
