from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config

from .. import compat
from ..models.mcp_connection import DESCRIPTION_ATTRIBUTES
from ..tools.values import readable_fields
from .common import McpCase, clock_frozen


def tool_ids(env, *names):
    return env["mcp.tool"].search([("name", "in", names)]).ids


@tagged("post_install", "-at_install")
class TestPolicy(McpCase):
    def test_allowed_tools(self):
        self.connection.allowed_tool_ids = [(6, 0, tool_ids(self.env, "search_records", "whoami"))]
        tools = [t["name"] for t in self.modern("tools/list").json()["result"]["tools"]]
        self.assertEqual(tools, ["search_records", "whoami"])
        self.tool_error("count_records", {"model": "res.partner"}, contains="count_records is not allowed")

    def test_allowed_models_and_operations(self):
        partner_model = self.env["ir.model"]._get("res.partner")
        self.connection.model_rule_ids = [
            (0, 0, {"model_id": partner_model.id, "can_create": False, "can_delete": False})
        ]
        self.tool_ok("search_records", {"model": "res.partner", "limit": 1})
        self.tool_error(
            "create_records",
            {"model": "res.partner", "values": {"name": "x"}},
            contains="operation create on res.partner",
        )
        self.tool_error("search_records", {"model": "res.country"}, contains="model res.country is not allowed")
        models = self.tool_ok("list_models", {"limit": 500})["models"]
        self.assertEqual([m["model"] for m in models], ["res.partner"])
        error = self.modern("resources/read", {"uri": "odoo://res.country/1"}).json()["error"]
        self.assertEqual(error["code"], -32602)

    def test_policy_change_applies_to_the_next_request(self):
        self.tool_ok("count_records", {"model": "res.partner"})
        self.connection.allowed_tool_ids = [(6, 0, tool_ids(self.env, "whoami"))]
        self.tool_error("count_records", {"model": "res.partner"}, contains="not allowed")
        self.connection.allowed_tool_ids = [(5, 0, 0)]
        self.tool_ok("count_records", {"model": "res.partner"})

    def test_read_only_connection_caps_the_token(self):
        self.connection.allowed_scope = "read"
        response = self.modern(
            "tools/call", {"name": "create_records", "arguments": {"model": "res.partner", "values": {"name": "x"}}}
        )
        self.assertEqual(response.status_code, 403)
        self.assertIn('error="insufficient_scope"', response.headers["WWW-Authenticate"])

    def test_ip_allowlist(self):
        self.connection.ip_allowlist = "10.0.0.0/8\n2001:db8::/32"
        response = self.modern("tools/list")
        self.assertEqual(response.status_code, 403)
        self.assertIn("IP allowlist", response.json()["error"]["message"])
        self.connection.ip_allowlist = "127.0.0.1/32"
        self.assertEqual(self.modern("tools/list").status_code, 200)

    def test_forwarded_headers_are_ignored_outside_proxy_mode(self):
        self.connection.ip_allowlist = "10.0.0.0/8"
        spoofed = {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Host": "odoo.example.com", "X-Forwarded-Proto": "https"}
        with patch.dict(config.options, {"proxy_mode": False}):
            self.assertEqual(self.modern("tools/list", headers=spoofed).status_code, 403)
        with patch.dict(config.options, {"proxy_mode": True}):
            self.assertEqual(self.modern("tools/list", headers=spoofed).status_code, 200)
            self.assertEqual(self.modern("tools/list", headers={"X-Forwarded-For": "10.1.2.3"}).status_code, 403)
        entry = self.env["mcp.audit.log"].search([("connection_id", "=", self.connection.id)], limit=1)
        self.assertEqual(entry.client_ip, "127.0.0.1")

    def test_forwarded_headers_only_from_trusted_proxies(self):
        self.connection.ip_allowlist = "10.0.0.0/8"
        forwarded = {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Host": "odoo.example.com"}
        params = self.env["ir.config_parameter"].sudo()
        with patch.dict(config.options, {"proxy_mode": True}):
            self.assertEqual(self.modern("tools/list", headers=forwarded).status_code, 200)
            entry = self.env["mcp.audit.log"].search([("connection_id", "=", self.connection.id)], limit=1)
            self.assertEqual(entry.client_ip, "10.1.2.3")
            params.set_param("mcp_connect.trusted_proxies", '"192.0.2.10"')
            self.assertEqual(self.modern("tools/list", headers=forwarded).status_code, 403)
            params.set_param("mcp_connect.trusted_proxies", '""')
            self.assertEqual(self.modern("tools/list", headers=forwarded).status_code, 403)

    @clock_frozen
    def test_rate_limit(self):
        self.connection.rate_limit = 3
        for _call in range(3):
            self.assertEqual(self.modern("tools/list").status_code, 200)
        response = self.modern("tools/list", request_id="call-4")
        self.assertEqual(response.status_code, 429)
        # The refusal answers the request it refuses, so the client can match it.
        self.assertEqual(response.json()["id"], "call-4")
        self.assertGreater(int(response.headers["Retry-After"]), 0)
        entry = self.env["mcp.audit.log"].search([("connection_id", "=", self.connection.id)], limit=1)
        self.assertEqual(entry.outcome, "rate_limited")
        # The server thread counted on the frozen clock, in the minute the test froze.
        counter = self.env["mcp.rate.counter"].search([("key", "=like", f"mcp:connection:{self.connection.id}:%")])
        self.assertEqual(counter.window_start, self.frozen_at.replace(second=0))

    @clock_frozen
    def test_default_rate_limit_from_settings(self):
        self.env["ir.config_parameter"].sudo().set_param("mcp_connect.default_rate_limit", "1")
        self.assertEqual(self.modern("tools/list").status_code, 200)
        self.assertEqual(self.modern("tools/list").status_code, 429)

    def test_audit_rows(self):
        self.tool_ok("search_records", {"model": "res.partner", "domain": [["name", "=", "secret value"]]})
        self.tool_error("search_records", {"model": "ir.config_parameter"})
        entries = self.env["mcp.audit.log"].search([("connection_id", "=", self.connection.id)], order="id")
        ok, refused = entries[-2], entries[-1]
        self.assertEqual(
            (ok.tool, ok.model_name, ok.outcome, ok.user_id), ("search_records", "res.partner", "ok", self.user)
        )
        self.assertEqual(ok.method, "tools/call")
        self.assertEqual(ok.http_status, 200)
        self.assertNotIn("secret value", ok.arguments_summary)
        self.assertIn("<1 items>", ok.arguments_summary)
        self.assertEqual(refused.outcome, "error")
        self.assertIn("must name it", refused.error_summary)
        self.assertNotIn(self.token, str(entries.read()))


@tagged("post_install", "-at_install")
class TestApprovals(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.connection.write(
            {"approval_tool_ids": [(6, 0, tool_ids(cls.env, "update_records"))], "approver_id": cls.admin.id}
        )

    def pending(self, partner):
        data = self.tool_ok("update_records", {"model": "res.partner", "ids": [partner.id], "values": {"name": "New"}})
        self.assertEqual(data["approval_status"], "pending")
        self.assertEqual(partner.name, "Old")
        return self.env["mcp.approval.request"].browse(data["approval_id"])

    def test_approve_runs_the_call_as_the_user(self):
        partner = self.env["res.partner"].create({"name": "Old"})
        request = self.pending(partner)
        self.assertEqual(request.state, "pending")
        self.assertEqual(request.user_id, self.user)
        activity = request.activity_ids
        self.assertEqual(activity.user_id, self.admin)
        request.with_user(self.admin).action_approve()
        self.assertEqual(request.state, "done")
        self.assertEqual(partner.name, "New")
        self.assertEqual(partner.write_uid, self.user)
        status = self.tool_ok("get_approval_status", {"approval_id": request.id})
        self.assertEqual(status["state"], "done")
        self.assertEqual(status["result"]["ids"], [partner.id])
        entries = self.env["mcp.audit.log"].search([("tool", "=", "update_records")], order="id")
        self.assertEqual(
            [(entry.method, entry.outcome, entry.user_id) for entry in entries],
            [("tools/call", "pending", self.user), ("approval/run", "ok", self.user)],
        )

    def test_reject(self):
        partner = self.env["res.partner"].create({"name": "Old"})
        request = self.pending(partner)
        request.with_user(self.admin).action_reject()
        self.assertEqual(request.state, "rejected")
        self.assertEqual(partner.name, "Old")
        with self.assertRaises(UserError):
            request.with_user(self.admin).action_approve()

    def test_only_the_approver_or_a_manager_decides(self):
        partner = self.env["res.partner"].create({"name": "Old"})
        request = self.pending(partner)
        with self.assertRaises(UserError):
            request.with_user(self.user).action_approve()
        self.assertEqual(partner.name, "Old")

    def test_expiry(self):
        partner = self.env["res.partner"].create({"name": "Old"})
        request = self.pending(partner)
        request.sudo().expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.env["mcp.approval.request"]._gc_expire()
        self.assertEqual(request.state, "expired")
        with self.assertRaises(UserError):
            request.with_user(self.admin).action_approve()
        self.assertEqual(partner.name, "Old")

    def test_policy_changed_in_between(self):
        partner = self.env["res.partner"].create({"name": "Old"})
        request = self.pending(partner)
        country = self.env["ir.model"]._get("res.country")
        self.connection.model_rule_ids = [(0, 0, {"model_id": country.id})]
        request.with_user(self.admin).action_approve()
        self.assertEqual(request.state, "failed")
        self.assertIn("policy changed", request.error)
        self.assertEqual(partner.name, "Old")

    def test_status_is_private_to_the_requester(self):
        partner = self.env["res.partner"].create({"name": "Old"})
        request = self.pending(partner)
        other = self.make_token(user=self.other_user)
        self.tool_error("get_approval_status", {"approval_id": request.id}, token=other, contains="No approval")


@tagged("post_install", "-at_install")
class TestPolicyModel(TransactionCase):
    def setUp(self):
        super().setUp()
        self.connection = self.env["mcp.connection"].create(
            {"name": "Policy", "client_id": "mcpci_policy", "redirect_uris": "https://a.example/cb"}
        )

    def test_ipv4_ipv6_and_mapped_addresses(self):
        self.connection.ip_allowlist = "192.0.2.0/24\n2001:db8::/32"
        policy = self.connection._compiled_policy()
        self.assertTrue(policy.allows_ip("192.0.2.7"))
        self.assertTrue(policy.allows_ip("::ffff:192.0.2.7"))
        self.assertTrue(policy.allows_ip("2001:db8::42"))
        self.assertFalse(policy.allows_ip("198.51.100.1"))
        self.assertFalse(policy.allows_ip("2001:db9::1"))

    def test_invalid_allowlist_names_the_line(self):
        with self.assertRaisesRegex(ValidationError, "line 2"):
            self.connection.ip_allowlist = "10.0.0.0/8\noffice"
        with self.assertRaisesRegex(ValidationError, "negative"):
            self.connection.rate_limit = -1

    def test_blocked_models_cannot_be_allowed(self):
        with self.assertRaisesRegex(ValidationError, "never exposes"):
            self.connection.model_rule_ids = [(0, 0, {"model_id": self.env["ir.model"]._get("mcp.token").id})]

    def test_compiled_policy_follows_changes(self):
        first = self.connection._compiled_policy()
        self.assertTrue(first.allows_tool("delete_records"))
        self.connection.allowed_tool_ids = [(6, 0, tool_ids(self.env, "whoami"))]
        self.assertFalse(self.connection._compiled_policy().allows_tool("delete_records"))

    # What is kept between requests for speed must follow every change at once.

    def test_policy_follows_a_rule_changed_on_its_own(self):
        partner = self.env["ir.model"]._get("res.partner")
        self.connection.model_rule_ids = [(0, 0, {"model_id": partner.id})]
        self.assertTrue(self.connection._compiled_policy().allows_model("res.partner", "delete"))
        rule = self.connection.model_rule_ids
        rule.can_delete = False  # written on the rule, not through the connection
        self.assertFalse(self.connection._compiled_policy().allows_model("res.partner", "delete"))
        self.assertTrue(self.connection._compiled_policy().allows_model("res.partner", "read"))
        rule.unlink()
        self.assertTrue(self.connection._compiled_policy().allows_model("res.country", "read"))
        self.assertEqual(self.connection._data_scopes(self.env.user), {})

    def test_field_descriptions_match_fields_get_for_each_user(self):
        employee = new_test_user(self.env, login="mcp_kept_employee", groups="base.group_user")
        for env in (self.env, self.env(user=employee)):
            for model_name in ("res.users", "res.partner", "res.company"):
                model = env[model_name]
                self.assertEqual(readable_fields(model), model.fields_get(attributes=list(DESCRIPTION_ATTRIBUTES)))

    def test_a_field_of_a_group_the_user_lost_disappears(self):
        user = new_test_user(self.env, login="mcp_kept_settings", groups="base.group_user,base.group_system")
        self.assertIn("smtp_user", readable_fields(self.env(user=user)["ir.mail_server"]))  # groups=base.group_system
        user.write({compat.user_groups_field(self.env): [(3, self.env.ref("base.group_system").id)]})
        self.env.invalidate_all()
        self.assertNotIn("smtp_user", readable_fields(self.env(user=user)["ir.mail_server"]))
