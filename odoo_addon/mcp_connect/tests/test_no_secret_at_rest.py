"""No live secret ever sits in a database row.

Each path that hands out a credential (the Connect a New Tool wizard, a secret rotation, the OAuth
endpoints) is driven over HTTP as the web client drives it, and after every step every text,
varchar, jsonb and bytea column of the database is searched for a token of a secret kind.
"""

import json

import mcp_connect_core as core
from odoo.tests import new_test_user, tagged
from psycopg2 import sql

from .common import McpHttpCase, secret_pattern

REGISTERED_CALLBACK = "https://claude.ai/api/mcp/auth_callback"


@tagged("post_install", "-at_install")
class TestNoSecretAtRest(McpHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="mcp_rest_manager", groups="mcp_connect.group_mcp_manager", password=cls.password
        )
        cls.pattern = secret_pattern()

    # -- the scan -----------------------------------------------------------------------

    def assertNoSecretAtRest(self, step):
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """
            SELECT c.table_name, c.column_name, c.data_type
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
               AND c.data_type IN ('text', 'character varying', 'jsonb', 'bytea')
             ORDER BY c.table_name, c.column_name
            """
        )
        checks = []
        for table, column, data_type in cr.fetchall():
            value = (
                sql.SQL("encode({}, 'escape')").format(sql.Identifier(column))
                if data_type == "bytea"
                else sql.SQL("{}::text").format(sql.Identifier(column))
            )
            checks.append(
                sql.SQL("SELECT {name} WHERE EXISTS (SELECT 1 FROM {table} WHERE {value} ~ {pattern})").format(
                    name=sql.Literal(f"{table}.{column}"),
                    table=sql.Identifier(table),
                    value=value,
                    pattern=sql.Literal(self.pattern),
                )
            )
        cr.execute(sql.SQL(" UNION ALL ").join(checks))
        found = [row[0] for row in cr.fetchall()]
        self.assertFalse(found, f"after {step}: a live secret is stored in {', '.join(found)}")

    # -- the web client's calls ---------------------------------------------------------

    def rpc(self, route, model, method, args, kwargs=None):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        }
        response = self.url_open(route, data=json.dumps(payload), headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200, response.text[:500])
        return response.json()

    def call(self, model, method, args, kwargs=None):
        body = self.rpc("/web/dataset/call_kw", model, method, args, kwargs)
        self.assertNotIn("error", body, body.get("error"))
        return body["result"]

    def button(self, model, method, record_id, context=None):
        body = self.rpc("/web/dataset/call_button", model, method, [[record_id]], {"context": context or {}})
        self.assertNotIn("error", body, body.get("error"))
        return body["result"]

    def confirm_identity(self, action, step):
        """The password prompt that @check_identity opens, answered as the web client does."""
        self.assertNoSecretAtRest(step)
        self.assertEqual(action.get("res_model"), "res.users.identitycheck", f"{step} asks for the password")
        check_id = action["res_id"]
        self.call("res.users.identitycheck", "write", [[check_id], {"password": self.password}])
        action = self.button("res.users.identitycheck", "run_check", check_id, {"password": self.password})
        self.env.invalidate_all()
        self.assertNoSecretAtRest(f"{step} (password confirmed)")
        return action

    def shown_once(self, action):
        """The values of the show-once form: only in the action's context."""
        self.assertEqual(action["res_model"], "mcp.credential.show")
        self.assertEqual(action["target"], "new")
        self.assertFalse(action.get("res_id"))
        return {key[len("default_") :]: value for key, value in action["context"].items() if key.startswith("default_")}

    def start_wizard(self, login, choice):
        self.authenticate(login, self.password)
        wizard_id = self.call("mcp.connect.wizard", "create", [{}])
        self.assertNoSecretAtRest("opening the wizard")
        self.button("mcp.connect.wizard", choice, wizard_id)
        self.assertNoSecretAtRest(choice)
        return wizard_id

    # -- the wizard ---------------------------------------------------------------------

    def custom_oauth(self, client_type):
        wizard_id = self.start_wizard(self.manager.login, "action_choose_custom")
        values = {
            "client_name": f"Cursor {client_type}",
            "client_type": client_type,
            "redirect_uris": "cursor://anysphere.cursor-mcp/cb",
        }
        self.call("mcp.connect.wizard", "write", [[wizard_id], values])
        self.assertNoSecretAtRest("filling in the client")
        action = self.button("mcp.connect.wizard", "action_custom_next", wizard_id)
        shown = self.shown_once(self.confirm_identity(action, "Custom OAuth Next"))
        connection = self.env["mcp.connection"].sudo().search([("client_id", "=", shown["client_id"])])
        self.assertEqual(connection.name, values["client_name"])
        self.assertEqual(connection.client_type, client_type)
        self.assertEqual(connection.redirect_uris, "cursor://anysphere.cursor-mcp/cb")
        self.assertFalse(self.env["mcp.connect.wizard"].sudo().browse(wizard_id).exists())
        return shown, connection

    def test_custom_oauth_confidential(self):
        shown, connection = self.custom_oauth("confidential")
        self.assertTrue(shown["client_secret"].startswith("mcpcs_"))
        core.verify_secret(secret=shown["client_secret"], phc=connection.secret_hash)

    def test_custom_oauth_checks_the_input_before_the_password(self):
        """A bad redirect URI is an error in the wizard, which keeps what was typed; no password prompt first."""
        wizard_id = self.start_wizard(self.manager.login, "action_choose_custom")
        values = {"client_name": "Cursor", "redirect_uris": "https://ok.example/cb\nhttp://evil.example/cb"}
        self.call("mcp.connect.wizard", "write", [[wizard_id], values])
        action = self.button("mcp.connect.wizard", "action_custom_next", wizard_id)
        self.assertEqual((action["res_model"], action["res_id"]), ("mcp.connect.wizard", wizard_id))
        fields = ["client_name", "redirect_uris", "step", "problem"]
        kept = self.call("mcp.connect.wizard", "read", [[wizard_id], fields])[0]
        self.assertIn("Line 2 (http://evil.example/cb)", kept.pop("problem"))
        self.assertEqual(kept, dict(values, id=wizard_id, step="custom"))
        self.assertFalse(self.env["res.users.identitycheck"].sudo().search([("create_uid", "=", self.manager.id)]))
        self.assertNoSecretAtRest("an invalid redirect URI")

    def test_custom_oauth_public(self):
        shown, connection = self.custom_oauth("public")
        self.assertFalse(shown.get("client_secret"))
        self.assertFalse(connection.secret_hash)

    def test_personal_token(self):
        wizard_id = self.start_wizard(self.user.login, "action_choose_personal")
        self.call("mcp.connect.wizard", "write", [[wizard_id], {"token_name": "Claude Code", "token_scope": "write"}])
        self.assertNoSecretAtRest("naming the token")
        action = self.button("mcp.connect.wizard", "action_personal_next", wizard_id)
        shown = self.shown_once(self.confirm_identity(action, "personal token Next"))
        token = shown["personal_token"]
        self.assertTrue(token.startswith("mcppt_"))
        self.assertIn(f"Bearer {token}", shown["config_snippet"])
        record = self.token_record(token)
        self.assertEqual(record.user_id, self.user)
        self.assertEqual(record.connection_id.name, "Claude Code")

    # -- rotation -----------------------------------------------------------------------

    def test_rotation(self):
        self.authenticate(self.manager.login, self.password)
        action = self.button("mcp.connection", "action_rotate_secret", self.confidential.id)
        shown = self.shown_once(self.confirm_identity(action, "rotating the secret"))
        self.assertEqual(shown["client_id"], self.confidential.client_id)
        core.verify_secret(secret=shown["client_secret"], phc=self.confidential.sudo().secret_hash)

    # -- the OAuth endpoints ------------------------------------------------------------

    def test_oauth_flow(self):
        self.assertNoSecretAtRest("set-up")
        response = self.post_json(
            "/oauth/register",
            {
                "client_name": "Claude",
                "redirect_uris": [REGISTERED_CALLBACK],
                "grant_types": ["authorization_code", "refresh_token"],
            },
        )
        self.assertEqual(response.status_code, 201, response.text)
        secret = response.json()["client_secret"]
        self.assertTrue(secret.startswith("mcpcs_"))
        self.assertNoSecretAtRest("dynamic registration")
        client = self.env["mcp.connection"].search([("client_id", "=", response.json()["client_id"])])

        self.authenticate(self.user.login, self.password)
        verifier, params = self.authorize_params(client, scope="mcp:read mcp:write")
        _page, handle, csrf = self.consent_page(params)
        self.assertNoSecretAtRest("the consent page")
        response = self.decide(handle, csrf)
        self.assertEqual(response.status_code, 302, response.text[:500])
        code = self.query(response)["code"]
        self.assertNoSecretAtRest("consent")

        response = self.exchange(client, code, verifier, params, secret=secret)
        self.assertEqual(response.status_code, 200, response.text)
        tokens = response.json()
        self.assertNoSecretAtRest("the code exchange")

        response = self.post_form(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            self.basic(client.client_id, secret),
        )
        self.assertEqual(response.status_code, 200, response.text)
        refreshed = response.json()
        self.assertNoSecretAtRest("the refresh")

        response = self.post_form(
            "/oauth/revoke", {"token": refreshed["refresh_token"]}, self.basic(client.client_id, secret)
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertTrue(self.token_record(refreshed["access_token"]).revoked)
        self.assertNoSecretAtRest("the revocation")
