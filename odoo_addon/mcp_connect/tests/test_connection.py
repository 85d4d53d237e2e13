from datetime import timedelta

import mcp_connect_core as core
from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestConnectionModel(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="mcp_model_manager", groups="mcp_connect.group_mcp_manager")
        cls.user = new_test_user(cls.env, login="mcp_model_user", groups="mcp_connect.group_mcp_user")
        cls.other = new_test_user(cls.env, login="mcp_model_other", groups="mcp_connect.group_mcp_user")
        cls.mine = cls._connection("Mine", "https://a.example/cb")
        cls.theirs = cls._connection("Theirs", "https://b.example/cb")
        cls.env["mcp.consent"]._remember(cls.user, cls.mine, ["mcp:read"])
        cls.env["mcp.consent"]._remember(cls.other, cls.theirs, ["mcp:read"])
        cls.my_token = cls._token(cls.mine, cls.user)
        cls.their_token = cls._token(cls.theirs, cls.other)

    @classmethod
    def _connection(cls, name, redirect_uris, **values):
        return cls.env["mcp.connection"].create(
            {
                "name": name,
                "connection_type": "custom",
                "client_id": core.mint_token(kind="client_id")[0],
                "redirect_uris": redirect_uris,
                **values,
            }
        )

    @classmethod
    def _token(cls, connection, user, **values):
        now = fields.Datetime.now()
        return cls.env["mcp.token"].create(
            {
                "digest": core.mint_token(kind="access")[1],
                "kind": "access",
                "connection_id": connection.id,
                "user_id": user.id,
                "company_id": user.company_id.id,
                "scopes": "mcp:read",
                "resource": "http://127.0.0.1/api/mcp",
                "expires_at": now + timedelta(hours=1),
                "family": core.mint_token(kind="code")[1][:32],
                "family_expires_at": now + timedelta(days=1),
                **values,
            }
        )

    def test_user_sees_only_the_connections_they_allowed(self):
        connections = self.env["mcp.connection"].with_user(self.user).search([])
        self.assertEqual(connections, self.mine)
        with self.assertRaises(AccessError):
            self.theirs.with_user(self.user).read(["name"])

    def test_user_sees_only_their_tokens_and_consents(self):
        self.assertEqual(self.env["mcp.token"].with_user(self.user).search([]), self.my_token)
        consents = self.env["mcp.consent"].with_user(self.user).search([])
        self.assertEqual(consents.user_id, self.user)

    def test_manager_sees_everything(self):
        connections = self.env["mcp.connection"].with_user(self.manager).search([])
        self.assertIn(self.mine, connections)
        self.assertIn(self.theirs, connections)

    def test_user_cannot_create_or_change_connections(self):
        with self.assertRaises(AccessError):
            self.env["mcp.connection"].with_user(self.user).create({"name": "x", "redirect_uris": "https://x.y/z"})
        with self.assertRaises(AccessError):
            self.mine.with_user(self.user).write({"name": "renamed"})

    def test_nobody_reads_digests_or_secret_hashes(self):
        self.mine.sudo().secret_hash = core.hash_secret("s")
        admin = self.env.ref("base.user_admin")
        for user in (self.user, self.manager, admin):
            with self.assertRaises(AccessError):
                self.mine.with_user(user).read(["secret_hash"])
            with self.assertRaises(AccessError):
                self.env["mcp.token"].with_user(user).browse(self.my_token.id).read(["digest"])
        fields_seen = self.env["mcp.token"].with_user(admin).fields_get()
        self.assertNotIn("digest", fields_seen)
        self.assertNotIn("secret_hash", self.env["mcp.connection"].with_user(admin).fields_get())

    def test_redirect_uris_are_validated_line_by_line(self):
        with self.assertRaisesRegex(ValidationError, "http://evil.example/cb") as caught:
            self._connection("Bad", "https://ok.example/cb\nhttp://evil.example/cb\nhttps://x.example/#f")
        self.assertIn("https://x.example/#f", str(caught.exception))
        self.assertNotIn("https://ok.example/cb:", str(caught.exception))
        with self.assertRaisesRegex(ValidationError, "at least one"):
            self._connection("Empty", "")
        custom = self._connection("Cursor", "cursor://anysphere.cursor-mcp/oauth/callback")
        self.assertTrue(custom)
        with self.assertRaisesRegex(ValidationError, "prefix"):
            self._connection("Bad prefix", "http://chatgpt.com/connector/*")

    def test_self_registered_redirect_uris_are_read_only(self):
        browser = self.env["mcp.connection"].create(
            {
                "name": "Claude",
                "connection_type": "browser",
                "client_id": core.mint_token(kind="client_id")[0],
                "redirect_uris": "https://claude.ai/api/mcp/auth_callback",
            }
        )
        with self.assertRaisesRegex(UserError, "register again"):
            browser.write({"redirect_uris": "https://attacker.example/cb"})
        browser.write({"name": "Claude (sales)"})
        self.assertEqual(browser.name, "Claude (sales)")

    def test_skip_consent_only_for_custom_connections(self):
        with self.assertRaises(ValidationError):
            self.env["mcp.connection"].create(
                {
                    "name": "Claude",
                    "connection_type": "browser",
                    "client_id": "mcpci_x",
                    "redirect_uris": "https://claude.ai/api/mcp/auth_callback",
                    "skip_consent": True,
                }
            )

    def test_revoke_and_reactivate(self):
        token = self._token(self.mine, self.user)
        self.mine.action_revoke()
        self.assertEqual(self.mine.state, "revoked")
        self.assertEqual(self.mine.status, "revoked")
        self.assertTrue(token.revoked)
        self.mine.action_reactivate()
        self.assertEqual(self.mine.state, "active")
        self.assertTrue(token.revoked, "old tokens stay dead after reactivation")

    def test_status(self):
        fresh = self._connection("Fresh", "https://c.example/cb")
        self.assertEqual(fresh.status, "awaiting")
        fresh.last_used_at = fields.Datetime.now()
        self.assertEqual(fresh.status, "connected")
        fresh.last_used_at = fields.Datetime.now() - timedelta(days=30)
        self.assertEqual(fresh.status, "idle")
        self.assertIn(fresh, self.env["mcp.connection"].search([("status", "=", "idle")]))
        self.assertNotIn(fresh, self.env["mcp.connection"].search([("status", "in", ["connected", "awaiting"])]))

    def test_user_revokes_their_own_access(self):
        token = self._token(self.mine, self.user)
        consent = self.env["mcp.consent"].with_user(self.user).search([])
        consent.action_revoke_access()
        self.assertTrue(token.revoked)
        self.assertFalse(self.env["mcp.consent"].search([("user_id", "=", self.user.id)]))
        self.assertFalse(self.their_token.revoked)

    def test_autovacuum(self):
        now = fields.Datetime.now()
        old_token = self._token(self.mine, self.user, expires_at=now - timedelta(days=8))
        live_token = self._token(self.mine, self.user)
        self.env["mcp.token"]._gc_expired_tokens()
        self.assertFalse(old_token.exists())
        self.assertTrue(live_token.exists())
        code = self.env["mcp.authorization.code"].create(
            {
                "digest": core.mint_token(kind="code")[1],
                "connection_id": self.mine.id,
                "user_id": self.user.id,
                "company_id": self.user.company_id.id,
                "scopes": "mcp:read",
                "resource": "x",
                "expires_at": now - timedelta(days=2),
            }
        )
        self.env["mcp.authorization.code"]._gc_expired_codes()
        self.assertFalse(code.exists())
        unused = self.env["mcp.connection"].create(
            {
                "name": "Unused",
                "connection_type": "browser",
                "client_id": "mcpci_unused",
                "redirect_uris": "https://claude.ai/api/mcp/auth_callback",
            }
        )
        used = self.env["mcp.connection"].create(
            {
                "name": "Used",
                "connection_type": "browser",
                "client_id": "mcpci_used",
                "redirect_uris": "https://claude.ai/api/mcp/auth_callback",
                "last_used_at": now,
            }
        )
        self.env.cr.execute(
            "UPDATE mcp_connection SET create_date = %s WHERE id IN %s",
            [now - timedelta(days=31), (unused.id, used.id)],
        )
        self.env["mcp.connection"].invalidate_model()
        self.env["mcp.connection"]._gc_unused_self_registered()
        self.assertFalse(unused.exists())
        self.assertTrue(used.exists())
        self.assertTrue(self.mine.exists())
