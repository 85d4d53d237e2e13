"""What a tool that registers itself starts with: a template's policy, or its previous connection's,
and, when it was revoked or Settings hold new tools, no MCP call until a manager approves it."""

from datetime import timedelta
from types import SimpleNamespace

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .. import compat, config
from ..mcp_backend import WAITING_FOR_APPROVAL
from ..oauth import client_metadata_document as cimd
from ..oauth import registration
from ..storage import OdooStorage
from .common import McpCase

CLAUDE_CODE = {
    "client_name": "Claude Code",
    "redirect_uris": ["http://localhost:33418/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}
DOCUMENT_URL = "https://tools.example.com/code/client.json"


class SelfRegisteredCase(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.default_template = cls.env.ref("mcp_connect.mcp_connection_template_default")
        cls.manager = cls.env.ref("base.user_admin")
        cls.tools = cls.env["mcp.tool"].search([])

    def setUp(self):
        super().setUp()
        cimd.CACHE.clear()
        self.addCleanup(cimd.CACHE.clear)

    def tool(self, name):
        return self.tools.filtered(lambda t: t.name == name)

    def register(self, **changes):
        """An RFC 7591 registration over HTTP; the connection it made or handed back."""
        response = self.post_json("/oauth/register", dict(CLAUDE_CODE, **changes))
        self.assertEqual(response.status_code, 201, response.text)
        return self.env["mcp.connection"].search([("client_id", "=", response.json()["client_id"])])

    def register_from(self, address, **changes):
        """A registration from another network address (never the earlier connection handed back)."""
        body = registration.register(OdooStorage(self.env), dict(CLAUDE_CODE, **changes), address)
        return self.env["mcp.connection"].search([("client_id", "=", body["client_id"])])

    def sign_in_with_document(self, url=DOCUMENT_URL, name="Claude Code", redirect_uri=None):
        """A client metadata document client signing a user in (the document as if just downloaded)."""
        redirect_uri = redirect_uri or "https://client.example.com/callback"
        cimd.CACHE.put(
            url,
            cimd.ClientDocument(
                client_id=url,
                client_name=name,
                redirect_uris=(redirect_uri,),
                grant_types=("authorization_code", "refresh_token"),
                client_uri=None,
                logo_uri=None,
                max_age=3600,
            ),
        )
        self.obtain_code(SimpleNamespace(client_id=url), redirect_uri=redirect_uri)
        return self.env["mcp.connection"].search([("client_id", "=", url)])

    def restrict(self, connection):
        partner = self.env["ir.model"]._get("res.partner")
        connection.write(
            {
                "allowed_scope": "write",
                "allowed_tool_ids": [Command.set((self.tool("search_records") | self.tool("whoami")).ids)],
                "approval_tool_ids": [Command.set(self.tool("search_records").ids)],
                "approver_id": self.manager.id,
                "rate_limit": 7,
                "session_days": 3,
                "ip_allowlist": "127.0.0.0/8",
                "allowed_methods": "res.partner.address_get",
                "model_rule_ids": [
                    Command.create(
                        {
                            "model_id": partner.id,
                            "can_create": False,
                            "can_write": False,
                            "can_delete": False,
                            "domain": "[('is_company', '=', True)]",
                            "field_ids": [Command.set(partner.field_id.filtered(lambda f: f.name == "name").ids)],
                        }
                    )
                ],
            }
        )

    def assert_same_policy(self, connection, source):
        for name in ("allowed_scope", "approver_id", "rate_limit", "session_days", "ip_allowlist", "allowed_methods"):
            self.assertEqual(connection[name], source[name], name)
        self.assertEqual(connection.allowed_tool_ids, source.allowed_tool_ids)
        self.assertEqual(connection.approval_tool_ids, source.approval_tool_ids)
        self.assertEqual(len(connection.model_rule_ids), len(source.model_rule_ids))
        for copied, rule in zip(connection.model_rule_ids, source.model_rule_ids, strict=True):
            self.assertNotEqual(copied, rule)
            self.assertEqual(copied._copy_values(), rule._copy_values())

    def assert_waiting(self, response):
        self.assertEqual(response.status_code, 403, response.text)
        self.assertEqual(response.json()["error"]["message"], WAITING_FOR_APPROVAL)


@tagged("post_install", "-at_install")
class TestReRegistration(SelfRegisteredCase):
    def test_a_restricted_tool_that_registers_again_keeps_its_restrictions(self):
        first = self.register()
        self.restrict(first)
        again = self.register(redirect_uris=["http://localhost:50211/other-callback"])
        self.assertNotEqual(again, first)
        self.assertEqual(again.state, "active")
        self.assert_same_policy(again, first)
        self.assertEqual(again.previous_connection_id, first)
        self.assertEqual(again.first_connection_id, first)
        self.assertFalse(again.template_id)
        # The copied rules are enforced: a tool the first connection did not allow stays refused.
        token = self.make_token(connection=again)
        self.assertIn("not allowed", self.tool_error("list_models", token=token).lower())
        self.tool_ok("whoami", token=token)

    def test_known_by_software_id_under_another_name(self):
        first = self.register_from("203.0.113.7", software_id="com.anthropic.claude-code")
        self.restrict(first)
        renamed = self.register(client_name="Claude Code (2.1)", software_id="com.anthropic.claude-code")
        self.assertEqual(renamed.previous_connection_id, first)
        self.assert_same_policy(renamed, first)

    def test_the_same_software_id_on_other_redirect_hosts_is_another_tool(self):
        """A tool states its software ID itself: claiming another tool's gets that tool's policy only with its
        redirect hosts, where the sign-in codes go."""
        first = self.register(software_id="com.anthropic.claude-code")
        self.restrict(first)
        impostor = self.register(
            client_name="Claude Code",
            software_id="com.anthropic.claude-code",
            redirect_uris=["https://attacker.example.net/callback"],
        )
        self.assertFalse(impostor.previous_connection_id)
        self.assertEqual(impostor.template_id, self.default_template)
        self.assertNotEqual(impostor.allowed_tool_ids, first.allowed_tool_ids)

    def test_same_name_on_other_redirect_hosts_is_another_tool(self):
        first = self.register()
        self.restrict(first)
        other = self.register(redirect_uris=["https://elsewhere.example.com/callback"])
        self.assertFalse(other.previous_connection_id)
        self.assertEqual(other.template_id, self.default_template)
        self.assertEqual(other.approval_tool_ids, self.default_template.approval_tool_ids)
        self.assertFalse(other.allowed_tool_ids)

    def test_the_most_recent_connection_is_copied(self):
        first = self.register_from("203.0.113.7")
        second = self.register_from("203.0.113.8")
        self.restrict(second)
        third = self.register()
        self.assertEqual(third.previous_connection_id, second)
        self.assertEqual(third.first_connection_id, first)
        self.assertEqual(third.rate_limit, 7)

    def test_the_same_registration_from_the_same_address_still_gets_its_connection_back(self):
        first = self.register()
        self.assertEqual(self.register(), first)
        self.assertEqual(self.env["mcp.connection"].search_count([("name", "=", "Claude Code")]), 1)

    def test_a_metadata_document_client_keeps_the_restrictions_of_the_tool(self):
        # Claude Code registered before it used a metadata document; now it names one.
        first = self.register_from("203.0.113.7", redirect_uris=["https://client.example.com/callback"])
        self.restrict(first)
        connection = self.sign_in_with_document()
        self.assertEqual(connection.connection_type, "metadata")
        self.assertEqual(connection.previous_connection_id, first)
        self.assert_same_policy(connection, first)
        # A new address of its document later is the same tool too.
        moved = self.sign_in_with_document("https://tools.example.com/code/v2/client.json")
        self.assertEqual(moved.previous_connection_id, connection)
        self.assert_same_policy(moved, first)

    def test_a_revoked_tool_that_registers_again_waits_for_approval(self):
        first = self.register()
        self.restrict(first)
        first.ip_allowlist = False
        first.action_revoke()
        again = self.register()
        self.assertNotEqual(again, first)
        self.assertEqual((again.state, again.status), ("pending", "waiting"))
        self.assert_same_policy(again, first)
        # The approver of the connection (copied from the revoked one) is asked to decide.
        activity = again.activity_ids
        self.assertEqual(activity.user_id, self.manager)
        self.assertIn("Claude Code", activity.summary)
        # Users can sign in and consent; the MCP endpoint refuses every call until a manager approves.
        access = self.tokens_for(again)["access_token"]
        self.assert_waiting(self.modern("tools/call", {"name": "whoami", "arguments": {}}, token=access))
        refused = self.env["mcp.audit.log"].sudo().search([("connection_id", "=", again.id), ("event", "=", False)])
        self.assertEqual(refused.mapped("outcome"), ["denied"])
        self.assertIn("approval", refused.error_summary)
        # Registering once more does not get round it.
        third = self.register_from("203.0.113.7")
        self.assertEqual(third.state, "pending")
        self.assertEqual(third.previous_connection_id, again)
        again.with_user(self.manager).action_approve()
        self.assertEqual(again.state, "active")
        self.assertFalse(again.activity_ids)
        self.assertIn("Approved", "".join(again.message_ids.mapped("body")))
        self.tool_ok("whoami", token=access)

    def test_a_tool_whose_metadata_document_connection_was_revoked_comes_back_waiting(self):
        first = self.sign_in_with_document()
        first.action_revoke()
        again = self.sign_in_with_document("https://tools.example.com/code/v2/client.json")
        self.assertEqual(again.state, "pending")
        self.assertEqual(again.previous_connection_id, first)


@tagged("post_install", "-at_install")
class TestTemplates(SelfRegisteredCase):
    def make_template(self, name, **values):
        return self.env["mcp.connection.template"].create({"name": name, "allowed_scope": "write", **values})

    def test_the_installed_default_holds_every_change_for_approval(self):
        writers = self.tools.filtered(lambda t: not t.read_only)
        self.assertEqual(self.default_template.approval_tool_ids, writers)
        self.assertIn(self.tool("create_records"), writers)
        connection = self.register()
        self.assertEqual(connection.template_id, self.default_template)
        self.assertEqual((connection.allowed_scope, connection.state), ("write", "active"))
        self.assertEqual(connection.approval_tool_ids, writers)
        # A tool asking for the scopes the endpoint advertises still signs in.
        access = self.tokens_for(connection, scope="mcp:read mcp:write")["access_token"]
        self.tool_ok("whoami", token=access)
        held = self.tool_ok("create_records", {"model": "res.partner", "values": {"name": "Held"}}, token=access)
        self.assertEqual(held["approval_status"], "pending")
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Held")]))

    def test_a_metadata_document_client_gets_the_default_template(self):
        connection = self.sign_in_with_document()
        self.assertEqual(connection.template_id, self.default_template)
        self.assertEqual(connection.approval_tool_ids, self.default_template.approval_tool_ids)

    def test_match_by_client_name_pattern(self):
        template = self.make_template("Claude family", match_client_name="claude*", rate_limit=11)
        connection = self.register()
        self.assertEqual((connection.template_id, connection.rate_limit), (template, 11))
        self.assertEqual(self.register(client_name="Cursor").template_id, self.default_template)

    def test_match_by_redirect_host(self):
        template = self.make_template("Loopback tools", match_redirect_host="localhost")
        self.assertEqual(self.register().template_id, template)
        vendor = self.make_template("Vendor", match_redirect_host="*.example.com")
        self.assertEqual(self.register(redirect_uris=["https://app.example.com/cb"]).template_id, vendor)
        self.assertEqual(self.register(redirect_uris=["https://example.org/cb"]).template_id, self.default_template)

    def test_match_by_software_id(self):
        template = self.make_template("SDK", match_software_id="io.modelcontextprotocol.sdk")
        self.assertEqual(self.register(software_id="io.modelcontextprotocol.sdk").template_id, template)
        other = self.register(client_name="Other", software_id="other")
        self.assertEqual(other.template_id, self.default_template)

    def test_match_by_metadata_url_prefix(self):
        template = self.make_template("Our tools", match_metadata_url="https://tools.example.com/")
        self.assertEqual(self.sign_in_with_document().template_id, template)
        other = self.sign_in_with_document("https://else.example.org/client.json", name="Other")
        self.assertEqual(other.template_id, self.default_template)
        # A registration has no metadata URL: it does not match.
        self.assertEqual(self.register(client_name="Other").template_id, self.default_template)

    def test_every_criterion_of_a_template_must_match(self):
        self.make_template("Claude on the web", match_client_name="Claude*", match_redirect_host="claude.ai")
        self.assertEqual(self.register().template_id, self.default_template)

    def test_the_sequence_orders_templates(self):
        self.make_template("Broad", match_client_name="*", sequence=20)
        narrow = self.make_template("Narrow", match_client_name="Claude Code", sequence=5)
        self.assertEqual(self.register().template_id, narrow)

    def test_the_template_policy_is_copied_and_capped_by_what_the_tool_asked(self):
        template = self.make_template("Claude", match_client_name="Claude Code")
        self.restrict(template)
        connection = self.register()
        self.assert_same_policy(connection, template)
        self.assertEqual(connection.model_rule_ids.template_id, self.env["mcp.connection.template"])
        # Changing the template later changes no connection made from it.
        template.rate_limit = 99
        self.assertEqual(connection.rate_limit, 7)
        reader = self.register(client_name="Claude Code", scope="mcp:read", software_version="read-only")
        self.assertEqual(reader.allowed_scope, "read")

    def test_tools_archived_on_a_template_are_copied_and_never_widen_the_new_connection(self):
        template = self.make_template("Claude", match_client_name="Claude Code")
        template.write(
            {
                "allowed_tool_ids": [Command.set(self.tool("whoami").ids)],
                "approval_tool_ids": [Command.set(self.tool("update_records").ids)],
            }
        )
        (self.tool("whoami") | self.tool("update_records")).action_archive()
        connection = self.register()
        self.assertEqual(connection.allowed_tool_ids.mapped("name"), ["whoami"])
        self.assertEqual(connection.approval_tool_ids.mapped("name"), ["update_records"])
        token = self.make_token(connection=connection)
        self.assertIn("not allowed", self.tool_error("list_models", token=token).lower())
        # The tool's next registration copies the lists of this connection, archived tools included.
        again = self.register(redirect_uris=["http://localhost:50211/other-callback"])
        self.assertEqual(again.previous_connection_id, connection)
        self.assertEqual(again.allowed_tool_ids.mapped("name"), ["whoami"])
        self.assertEqual(again.approval_tool_ids.mapped("name"), ["update_records"])

    def test_a_template_caps_how_long_its_tools_stay_signed_in(self):
        self.make_template("Claude for a week", match_client_name="Claude Code", session_days=7)
        connection = self.register()
        self.assertEqual(connection.session_days, 7)
        week = fields.Datetime.now() + timedelta(days=7)
        tokens = self.tokens_for(connection)
        access, refresh = (self.token_record(tokens[kind]) for kind in ("access_token", "refresh_token"))
        for token in (access, refresh):
            self.assertAlmostEqual(token.family_expires_at, week, delta=timedelta(minutes=5))
        # The refresh token (90 days in Settings) never outlives its family.
        self.assertLessEqual(refresh.expires_at, refresh.family_expires_at)
        # A tool matched by no such template keeps the Settings' maximum sign-in lifetime.
        other = self.register(client_name="Cursor")
        family_expires_at = self.token_record(self.tokens_for(other)["access_token"]).family_expires_at
        self.assertGreater(family_expires_at, fields.Datetime.now() + timedelta(days=300))

    def test_without_any_template_every_change_waits_for_approval(self):
        self.default_template.active = False
        connection = self.register()
        self.assertFalse(connection.template_id)
        self.assertEqual(connection.approval_tool_ids, self.tools.filtered(lambda t: not t.read_only))

    def test_a_template_needs_a_criterion_and_there_is_one_default(self):
        with self.assertRaises(ValidationError):
            self.make_template("Matches nothing")
        with self.assertRaises(ValidationError):
            self.make_template("Second default", is_default=True)
        with self.assertRaises(ValidationError):
            self.make_template("Bad limit", match_client_name="x", rate_limit=-1)
        with self.assertRaises(ValidationError):
            self.make_template("Bad lifetime", match_client_name="x", session_days=-1)

    def test_a_template_rule_belongs_to_one_owner(self):
        template = self.make_template("Claude", match_client_name="Claude Code")
        self.restrict(template)
        with self.assertRaises(ValidationError):
            template.model_rule_ids.connection_id = self.connection


@tagged("post_install", "-at_install")
class TestQuarantine(SelfRegisteredCase):
    def hold_new_tools(self):
        config.set_value(self.env, "quarantine_new_tools", True)

    def test_off_by_default_a_new_tool_calls_at_once(self):
        self.assertFalse(config.get(self.env, "quarantine_new_tools"))
        connection = self.register()
        self.assertEqual(connection.state, "active")
        self.tool_ok("whoami", token=self.make_token(connection=connection))

    def test_a_new_registration_waits_for_approval(self):
        self.hold_new_tools()
        connection = self.register()
        self.assertEqual((connection.state, connection.status), ("pending", "waiting"))
        self.assertIn("Settings hold new AI tools", "".join(connection.message_ids.mapped("body")))
        managers = compat.group_members(self.env.ref("mcp_connect.group_mcp_manager"))
        self.assertTrue(managers)
        self.assertEqual(connection.activity_ids.user_id, managers)
        access = self.tokens_for(connection)["access_token"]
        response = self.modern("tools/call", {"name": "whoami", "arguments": {}}, token=access)
        self.assert_waiting(response)
        self.assertIn("must approve", response.json()["error"]["message"])
        audit = self.env["mcp.audit.log"].sudo().search([("connection_id", "=", connection.id), ("event", "=", False)])
        self.assertEqual((audit.outcome, audit.http_status), ("denied", 403))
        self.assertEqual(audit.error_summary, "connection waiting for a manager's approval")
        connection.with_user(self.manager).action_approve()
        self.tool_ok("whoami", token=access)
        self.assertFalse(connection.activity_ids)

    def test_a_new_metadata_document_client_waits_for_approval(self):
        self.hold_new_tools()
        connection = self.sign_in_with_document()
        self.assertEqual(connection.state, "pending")
        self.assert_waiting(
            self.modern("tools/call", {"name": "whoami", "arguments": {}}, token=self.make_token(connection=connection))
        )

    def test_the_template_approver_is_asked_when_a_manager(self):
        self.hold_new_tools()
        approver = new_test_user(self.env, login="mcp_tool_approver", groups="mcp_connect.group_mcp_manager")
        self.default_template.approver_id = approver
        self.assertEqual(self.register().activity_ids.user_id, approver)
        # Only managers approve connections: another approver leaves it to them.
        self.default_template.approver_id = self.other_user
        managers = compat.group_members(self.env.ref("mcp_connect.group_mcp_manager"))
        self.assertEqual(self.register(client_name="Other").activity_ids.user_id, managers)

    def test_only_managers_approve_and_a_waiting_tool_learns_nothing_from_userinfo(self):
        self.hold_new_tools()
        connection = self.register()
        access = self.tokens_for(connection)["access_token"]
        response = self.url_open("/oauth/userinfo", headers={"Authorization": f"Bearer {access}"})
        self.assertEqual(response.status_code, 403, response.text)
        self.assertEqual(response.json()["error"], "access_denied")
        self.assertNotIn(self.user.login, response.text)
        with self.assertRaises(AccessError):
            connection.with_user(self.user).action_approve()
        self.assertEqual(connection.state, "pending")
        connection.with_user(self.manager).action_approve()
        response = self.url_open("/oauth/userinfo", headers={"Authorization": f"Bearer {access}"})
        self.assertEqual(response.status_code, 200, response.text)

    def test_refusing_is_revoking(self):
        self.hold_new_tools()
        connection = self.register()
        access = self.make_token(connection=connection)
        connection.with_user(self.manager).action_revoke()
        self.assertEqual(connection.state, "revoked")
        self.assertIn("Refused", "".join(connection.message_ids.mapped("body")))
        self.assertFalse(connection.activity_ids)
        self.assertEqual(self.modern("tools/list", token=access).status_code, 401)

    def test_custom_connections_are_never_held(self):
        self.hold_new_tools()
        connection = self._make_client("Admin made", "https://client.example.com/callback")
        self.assertEqual(connection.state, "active")
