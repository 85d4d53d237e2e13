"""What managers and other addons add: addon-declared tools, server actions as tools, prompts."""

from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from ..mcp import registry
from ..mcp.schemas import inputs, outputs
from .common import McpCase


def tool_ids(env, *names):
    return [(6, 0, env["mcp.tool"].with_context(active_test=False).search([("name", "in", names)]).ids)]


def listed(case, token=None):
    return {tool["name"]: tool for tool in case.modern("tools/list", token=token).json()["result"]["tools"]}


@tagged("post_install", "-at_install")
class TestAddonTools(McpCase):
    """A tool belongs to the Odoo module whose code declares it, and is offered only where it is installed."""

    def _declare(self, module):
        handler = lambda ctx, arguments: {"ok": True}  # noqa: E731
        handler.__module__ = f"odoo.addons.{module}.tools"
        declared = registry.tool(
            f"{module}_tool",
            title="Elsewhere",
            description="A tool of another addon.",
            input_schema=inputs({}),
            output_schema=outputs({"ok": {"type": "boolean"}}),
        )
        return declared(handler)

    def test_tools_of_modules_not_installed_here_are_not_offered(self):
        with patch.dict(registry.TOOLS):
            self._declare("mcp_not_installed_addon")
            self._declare("base")
            self.assertEqual(registry.TOOLS["base_tool"].module, "base")
            names = listed(self)
            self.assertIn("base_tool", names)
            self.assertNotIn("mcp_not_installed_addon_tool", names)
            error = self.modern("tools/call", {"name": "mcp_not_installed_addon_tool", "arguments": {}}).json()
            self.assertEqual(error["error"]["code"], -32602)
            self.assertEqual(self.tool_ok("base_tool"), {"ok": True})
            catalogue = self.env["mcp.tool"]
            catalogue._sync_catalogue()
            self.assertEqual(catalogue.search([("name", "=", "base_tool")]).module, "base")
            self.assertFalse(catalogue.search([("name", "=", "mcp_not_installed_addon_tool")]))
        # Gone from the code: archived as missing, and back with its code.
        catalogue._sync_catalogue()
        gone = catalogue.with_context(active_test=False).search([("name", "=", "base_tool")])
        self.assertEqual((gone.active, gone.missing), (False, True))
        with patch.dict(registry.TOOLS):
            self._declare("base")
            catalogue._sync_catalogue()
            self.assertEqual((gone.active, gone.missing), (True, False))

    def test_an_archived_tool_stays_archived_on_sync(self):
        whoami = self.env["mcp.tool"].search([("name", "=", "whoami")])
        whoami.action_archive()
        self.env["mcp.tool"]._sync_catalogue()
        self.assertFalse(whoami.active)
        self.assertFalse(whoami.missing)

    def test_declaring_a_tool_twice_is_refused(self):
        with patch.dict(registry.TOOLS):
            self._declare("base")
            with self.assertRaises(ValueError):
                self._declare("base")


@tagged("post_install", "-at_install")
class TestServerActionTools(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Server Action Target"})
        cls.action = cls.env["ir.actions.server"].create(
            {
                "name": "Flag as VIP",
                "model_id": cls.env["ir.model"]._get("res.partner").id,
                "state": "code",
                "code": "records.write({'ref': 'VIP ' + env.user.login})",
                "mcp_tool": True,
                "mcp_tool_name": "flag_vip",
                "mcp_tool_description": "Flag customers as VIP.",
            }
        )

    def test_listed_and_run_as_the_user(self):
        tool = listed(self)["flag_vip"]
        self.assertEqual(tool["title"], "Flag as VIP")
        self.assertIn("Flag customers as VIP.", tool["description"])
        self.assertEqual(tool["inputSchema"]["required"], ["ids"])
        self.assertFalse(tool["annotations"]["readOnlyHint"])
        entry = self.env["mcp.tool"].search([("name", "=", "flag_vip")])
        self.assertEqual((entry.server_action_id, entry.scope, entry.category), (self.action, "mcp:write", "write"))
        result = self.tool_ok("flag_vip", {"ids": [self.partner.id]})
        self.assertEqual((result["model"], result["ids"]), ("res.partner", [self.partner.id]))
        self.assertEqual(self.partner.ref, "VIP mcp_oauth_user")
        log = self.env["mcp.audit.log"].search([("tool", "=", "flag_vip")], limit=1)
        self.assertEqual((log.outcome, log.model_name), ("ok", "res.partner"))

    def test_needs_the_write_scope(self):
        self.assertNotIn("flag_vip", listed(self, self.read_token))
        response = self.modern(
            "tools/call", {"name": "flag_vip", "arguments": {"ids": [self.partner.id]}}, token=self.read_token
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.partner.ref)

    def test_refused_by_policy(self):
        self.connection.allowed_tool_ids = tool_ids(self.env, "whoami")
        self.assertNotIn("flag_vip", listed(self))
        self.tool_error("flag_vip", {"ids": [self.partner.id]}, contains="flag_vip is not allowed")
        self.connection.allowed_tool_ids = [(5, 0, 0)]
        partner_model = self.env["ir.model"]._get("res.partner")
        self.connection.model_rule_ids = [(0, 0, {"model_id": partner_model.id, "can_call": False})]
        self.tool_error("flag_vip", {"ids": [self.partner.id]}, contains="res.partner")
        self.connection.model_rule_ids = [
            (5, 0, 0),
            (0, 0, {"model_id": partner_model.id, "domain": "[('id', '=', 0)]"}),
        ]
        self.tool_error("flag_vip", {"ids": [self.partner.id]}, contains="No res.partner record")
        self.assertFalse(self.partner.ref)

    def test_approval_holds_it(self):
        self.connection.approval_tool_ids = tool_ids(self.env, "flag_vip")
        result = self.tool_ok("flag_vip", {"ids": [self.partner.id]})
        self.assertEqual(result["approval_status"], "pending")
        request = self.env["mcp.approval.request"].browse(result["approval_id"])
        self.assertEqual((request.tool, request.model_name), ("flag_vip", "res.partner"))
        self.assertFalse(self.partner.ref)
        request.with_user(self.env.ref("base.user_admin")).action_approve()
        self.assertEqual(self.partner.ref, "VIP mcp_oauth_user")

    def test_an_approval_runs_only_the_action_it_was_asked_for(self):
        """The approver approves one server action; if its tool name now leads to another one (renamed
        in between), the approval runs nothing."""
        self.connection.approval_tool_ids = tool_ids(self.env, "flag_vip")
        request = self.env["mcp.approval.request"].browse(
            self.tool_ok("flag_vip", {"ids": [self.partner.id]})["approval_id"]
        )
        self.assertEqual(request.server_action_id, self.action)
        other = self.action.copy({"name": "Wipe reference", "code": "records.write({'ref': 'wiped'})"})
        self.action.mcp_tool_name = "flag_vip_before"
        other.write({"mcp_tool": True, "mcp_tool_name": "flag_vip"})
        request.with_user(self.env.ref("base.user_admin")).action_approve()
        self.assertEqual(request.state, "failed")
        self.assertIn("Flag as VIP", request.error)
        self.assertFalse(self.partner.ref)
        # A request made after the rename is for the action the name leads to now.
        request = self.env["mcp.approval.request"].browse(
            self.tool_ok("flag_vip", {"ids": [self.partner.id]})["approval_id"]
        )
        self.assertEqual(request.server_action_id, other)
        request.with_user(self.env.ref("base.user_admin")).action_approve()
        self.assertEqual((request.state, self.partner.ref), ("done", "wiped"))

    def test_bad_input(self):
        self.tool_error("flag_vip", {}, contains="Invalid arguments")
        self.tool_error("flag_vip", {"ids": ["x"]}, contains="Invalid arguments")
        self.tool_error("flag_vip", {"ids": [999999999]}, contains="No res.partner record with id 999999999")

    def test_turned_off_it_is_gone(self):
        self.action.mcp_tool = False
        entry = self.env["mcp.tool"].with_context(active_test=False).search([("name", "=", "flag_vip")])
        self.assertFalse(entry.active)
        self.assertNotIn("flag_vip", listed(self))
        response = self.modern("tools/call", {"name": "flag_vip", "arguments": {"ids": [self.partner.id]}}).json()
        self.assertEqual(response["error"]["code"], -32602)
        self.action.mcp_tool = True
        self.assertTrue(entry.active)

    def test_names_are_checked(self):
        self.assertFalse(self.action.copy().mcp_tool)
        for name in ("bad name", "search_records", "flag_vip"):
            with self.assertRaises(ValidationError), self.cr.savepoint():
                self.action.copy({"mcp_tool": True, "mcp_tool_name": name})

    def test_only_managers_make_it_a_tool(self):
        # Settings administrators are MCP Connect managers; nobody else may see or set the option.
        with self.assertRaises(AccessError):
            self.action.with_user(self.user).read(["mcp_tool"])
        with self.assertRaises(AccessError):
            self.action.with_user(self.user).write({"mcp_tool": False})
        admin = new_test_user(self.env, login="mcp_sysadmin", groups="base.group_system")
        self.action.with_user(admin).write({"mcp_tool_description": "Changed."})
        self.assertIn("Changed.", listed(self)["flag_vip"]["description"])


@tagged("post_install", "-at_install")
class TestPrompts(McpCase):
    def test_shipped_prompts(self):
        prompts = {prompt["name"]: prompt for prompt in self.modern("prompts/list").json()["result"]["prompts"]}
        self.assertTrue({"summarize_customer", "overdue_activities"} <= set(prompts))
        self.assertEqual(
            prompts["summarize_customer"]["arguments"],
            [{"name": "customer", "description": "The customer's name, or part of it", "required": True}],
        )
        self.assertNotIn("text", prompts["summarize_customer"])
        result = self.modern("prompts/get", {"name": "summarize_customer", "arguments": {"customer": "Acme"}}).json()
        text = result["result"]["messages"][0]["content"]["text"]
        self.assertIn('"Acme"', text)
        legacy = self.legacy("prompts/get", {"name": "overdue_activities"}).json()["result"]
        self.assertIn('""', legacy["messages"][0]["content"]["text"])

    def test_missing_or_unknown_arguments_are_invalid_params(self):
        for arguments in ({}, {"customer": "A", "bogus": "x"}, {"customer": 3}):
            error = self.modern("prompts/get", {"name": "summarize_customer", "arguments": arguments}).json()["error"]
            self.assertEqual(error["code"], -32602, arguments)

    def test_managers_define_prompts(self):
        prompt = self.env["mcp.prompt"].create(
            {
                "name": "weekly_pipeline",
                "title": "Weekly pipeline",
                "text": "Review the pipeline of {team}.",
                "argument_ids": [(0, 0, {"name": "team", "required": True})],
            }
        )
        result = self.modern("prompts/get", {"name": "weekly_pipeline", "arguments": {"team": "Europe"}}).json()
        self.assertEqual(result["result"]["messages"][0]["content"]["text"], "Review the pipeline of Europe.")
        prompt.action_archive()
        names = [p["name"] for p in self.modern("prompts/list").json()["result"]["prompts"]]
        self.assertNotIn("weekly_pipeline", names)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self.env["mcp.prompt"].create({"name": "bad name", "text": "x"})
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self.env["mcp.prompt"].create({"name": "ok", "text": "x", "argument_ids": [(0, 0, {"name": "1st"})]})
        with self.assertRaises(AccessError):
            self.env["mcp.prompt"].with_user(self.user).create({"name": "mine", "text": "x"})
