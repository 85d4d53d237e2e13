import shutil

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestWizardTour(HttpCase):
    def test_custom_oauth_path_in_the_browser(self):
        # Odoo skips tours silently without these; here their absence is a failure.
        import websocket  # noqa: F401

        self.assertTrue(
            any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")),
            "a Chromium browser is needed for the tour (the harness installs Debian's chromium)",
        )
        self.start_tour("/odoo/action-mcp_connect.mcp_connection_action", "mcp_connect_custom_oauth", login="admin")
        connection = self.env["mcp.connection"].search([("name", "=", "Cursor tour")])
        self.assertEqual(connection.connection_type, "custom")
        self.assertTrue(connection.client_id.startswith("mcpci_"))
        self.assertTrue(connection.sudo().secret_hash.startswith("$argon2id$"))
        self.assertEqual(connection.redirect_uris, "cursor://anysphere.cursor-mcp/oauth/callback")
        self.assertFalse(self.env["mcp.connect.wizard"].sudo().search([("client_name", "=", "Cursor tour")]))
