from datetime import timedelta

from odoo import fields
from odoo.addons.mcp_connect.mcp import registry
from odoo.addons.mcp_connect.tests.common import McpCase
from odoo.tests import tagged

TOOL = "partner_open_activities"


@tagged("post_install", "-at_install")
class TestExampleTool(McpCase):
    """An addon's own tool follows each connection's policy like MCP Connect's tools."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.busy = cls.env["res.partner"].create({"name": "Busy Example Partner"})
        cls.quiet = cls.env["res.partner"].create({"name": "Quiet Example Partner"})
        today = fields.Date.today()
        for days in (-3, 5):
            cls.busy.activity_schedule("mail.mail_activity_data_todo", date_deadline=today + timedelta(days=days))

    def _tool_ids(self, *names):
        return [(6, 0, self.env["mcp.tool"].search([("name", "in", names)]).ids)]

    def test_declared_by_this_addon_and_in_the_catalogue(self):
        self.assertEqual(registry.TOOLS[TOOL].module, "mcp_connect_example")
        entry = self.env["mcp.tool"].search([("name", "=", TOOL)])
        self.assertEqual((entry.module, entry.category, entry.scope), ("mcp_connect_example", "read", "mcp:read"))
        listed = {
            tool["name"]: tool for tool in self.modern("tools/list", token=self.read_token).json()["result"]["tools"]
        }
        self.assertTrue(listed[TOOL]["annotations"]["readOnlyHint"])
        self.assertEqual(listed[TOOL]["outputSchema"]["type"], "object")

    def test_happy_path(self):
        result = self.tool_ok(TOOL, {"partner_ids": [self.busy.id, self.quiet.id]}, token=self.read_token)
        self.assertEqual(
            result["partners"],
            [
                {"id": self.busy.id, "name": self.busy.name, "open_activities": 2, "overdue_activities": 1},
                {"id": self.quiet.id, "name": self.quiet.name, "open_activities": 0, "overdue_activities": 0},
            ],
        )
        busiest = self.tool_ok(TOOL, {"limit": 100})["partners"]
        self.assertIn(self.busy.id, [row["id"] for row in busiest])
        self.assertNotIn(self.quiet.id, [row["id"] for row in busiest])

    def test_bad_input_is_an_error_result(self):
        self.tool_error(TOOL, {"limit": 0}, contains="Invalid arguments")
        self.tool_error(TOOL, {"partner_ids": "all"}, contains="Invalid arguments")
        self.tool_error(TOOL, {"partner_ids": [999999999]}, contains="No res.partner record with id 999999999")

    def test_not_allowed_tool_is_neither_listed_nor_run(self):
        self.connection.allowed_tool_ids = self._tool_ids("whoami")
        names = [tool["name"] for tool in self.modern("tools/list").json()["result"]["tools"]]
        self.assertNotIn(TOOL, names)
        self.tool_error(TOOL, {"partner_ids": [self.busy.id]}, contains=f"{TOOL} is not allowed")

    def test_model_rules_apply(self):
        country = self.env["ir.model"]._get("res.country")
        self.connection.model_rule_ids = [(0, 0, {"model_id": country.id})]
        self.tool_error(TOOL, {"partner_ids": [self.busy.id]}, contains="res.partner")
        partner = self.env["ir.model"]._get("res.partner")
        self.connection.model_rule_ids = [(5, 0, 0), (0, 0, {"model_id": partner.id, "domain": "[('id', '=', 0)]"})]
        self.tool_error(TOOL, {"partner_ids": [self.busy.id]}, contains="No res.partner record")

    def test_approval_holds_the_call(self):
        self.connection.approval_tool_ids = self._tool_ids(TOOL)
        result = self.tool_ok(TOOL, {"partner_ids": [self.busy.id]})
        self.assertEqual(result["approval_status"], "pending")
        request = self.env["mcp.approval.request"].browse(result["approval_id"])
        self.assertEqual((request.tool, request.model_name), (TOOL, "res.partner"))

    def test_archived_tool_is_refused(self):
        self.env["mcp.tool"].search([("name", "=", TOOL)]).action_archive()
        names = [tool["name"] for tool in self.modern("tools/list").json()["result"]["tools"]]
        self.assertNotIn(TOOL, names)
        self.tool_error(TOOL, {"partner_ids": [self.busy.id]}, contains="turned off")
