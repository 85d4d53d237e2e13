import mcp_connect_core as core
from lxml import etree
from odoo.tests import Form, HttpCase, TransactionCase, new_test_user, tagged

from ..oauth import registration
from ..storage import OdooStorage


@tagged("post_install", "-at_install")
class TestConnectionViews(TransactionCase):
    """Connections are made by the wizard only: the raw form would save a Custom OAuth connection
    without client ID or secret, one that waits forever."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="mcp_views_manager", groups="mcp_connect.group_mcp_manager")

    def arch(self, view_type):
        views = self.env["mcp.connection"].with_user(self.manager).get_views([(False, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    def test_no_view_creates_a_connection(self):
        for view_type in ("list", "kanban", "form"):
            with self.subTest(view_type=view_type):
                self.assertIn(self.arch(view_type).get("create"), ("0", "false", "False"))

    def test_the_wizard_is_the_primary_action_of_the_list_and_the_kanban(self):
        for view_type in ("list", "kanban"):
            with self.subTest(view_type=view_type):
                buttons = self.arch(view_type).xpath("./header/button[@name='action_connect_new_tool']")
                self.assertEqual(len(buttons), 1)
                self.assertEqual(buttons[0].get("display"), "always")
                self.assertIn("btn-primary", buttons[0].get("class"))
        self.assertEqual(self.env["mcp.connection"].action_connect_new_tool()["res_model"], "mcp.connect.wizard")

    def test_the_empty_state_opens_the_wizard(self):
        action = self.env["ir.actions.actions"].with_user(self.manager)._for_xml_id("mcp_connect.mcp_connection_action")
        help_html = etree.fromstring(f"<div>{action['help']}</div>")
        links = help_html.xpath("//a[@type='action']")
        self.assertEqual([link.get("name") for link in links], ["mcp_connect.mcp_connect_wizard_action"])
        self.assertIn("Connect a New Tool", links[0].text)
        self.assertEqual(self.env.ref("mcp_connect.mcp_connect_wizard_action").res_model, "mcp.connect.wizard")


@tagged("post_install", "-at_install")
class TestSettingsView(TransactionCase):
    """Odoo's Setting component drops the text that follows a field placed directly in <setting>:
    a number's unit must sit beside it in the setting's content."""

    def test_every_number_shows_its_unit(self):
        arch = etree.fromstring(self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"])
        fields = self.env["res.config.settings"]._fields
        numbers = [
            node
            for node in arch.xpath("//app[@name='mcp_connect']//setting//field")
            if fields[node.get("name")].type in ("integer", "float")
        ]
        self.assertGreaterEqual(len(numbers), 10)
        units = {}
        for node in numbers:
            with self.subTest(field=node.get("name")):
                self.assertNotEqual(node.getparent().tag, "setting")
                units[node.get("name")] = " ".join("".join(node.getparent().itertext()).split())
                self.assertTrue(units[node.get("name")], "a number without its unit")
        self.assertEqual(units["mcp_access_token_minutes"], "minutes")
        self.assertEqual(units["mcp_refresh_grace_seconds"], "seconds")
        self.assertEqual(units["mcp_registrations_per_hour"], "per hour")


@tagged("post_install", "-at_install")
class TestApproverWhenEmpty(TransactionCase):
    """An empty approver means the MCP Connect managers, as the form says; a tool that registered
    itself has no owner, and its approvals still have someone to go to."""

    def test_a_self_registered_connection_without_approver_is_saved_and_managers_approve(self):
        manager = new_test_user(self.env, login="mcp_approver_manager", groups="mcp_connect.group_mcp_manager")
        user = new_test_user(self.env, login="mcp_approver_user", groups="mcp_connect.group_mcp_user")
        connection = self.env["mcp.connection"].create(
            {
                "name": "claude.ai Qwv",
                "connection_type": "browser",
                "client_id": core.mint_token(kind="client_id")[0],
                "redirect_uris": "https://claude.ai/api/mcp/auth_callback",
                "owner_user_id": False,
            }
        )
        tool = self.env["mcp.tool"].search([("name", "=", "delete_records")])
        with Form(connection.with_user(manager)) as form:
            form.approval_tool_ids.add(tool)
        self.assertEqual(connection.approval_tool_ids, tool)
        self.assertFalse(connection.approver_id)
        self.assertFalse(connection.owner_user_id)

        arch = etree.fromstring(connection.get_views([(False, "form")])["views"]["form"]["arch"])
        self.assertEqual(arch.xpath("//field[@name='approver_id']")[0].get("placeholder"), "MCP Connect managers")
        self.assertIn("MCP Connect managers when empty", connection._fields["approver_id"].help)

        request = self.env["mcp.approval.request"]._open(
            connection, user, user.company_id, tool, {"model": "res.partner", "ids": [1]}, ["mcp:write"], "127.0.0.1"
        )
        self.assertFalse(request.approver_id)
        self.assertEqual(request._approver_label(), "an MCP Connect manager")
        self.assertIn(manager, request.activity_ids.user_id)
        self.assertNotIn(user, request.activity_ids.user_id)
        self.assertTrue(request.with_user(manager).can_approve)
        self.assertFalse(request.with_user(user).can_approve)

    def test_a_template_without_approver_sends_approvals_to_the_managers_its_placeholder_names(self):
        manager = new_test_user(self.env, login="mcp_approver_manager_t", groups="mcp_connect.group_mcp_manager")
        user = new_test_user(self.env, login="mcp_approver_user_t", groups="mcp_connect.group_mcp_user")
        tool = self.env["mcp.tool"].search([("name", "=", "delete_records")])
        with Form(self.env["mcp.connection.template"].with_user(manager)) as form:
            form.name = "Zed editors"
            form.match_client_name = "Zed*"
            form.approval_tool_ids.add(tool)
        template = form.record
        self.assertFalse(template.approver_id, "nobody by default: the managers, as the placeholder says")
        arch = etree.fromstring(template.get_views([(False, "form")])["views"]["form"]["arch"])
        self.assertEqual(arch.xpath("//field[@name='approver_id']")[0].get("placeholder"), "MCP Connect managers")

        payload = {"client_name": "Zed", "redirect_uris": ["http://localhost:33418/callback"]}
        payload["token_endpoint_auth_method"] = "none"
        body = registration.register(OdooStorage(self.env), payload, "192.0.2.7")
        connection = self.env["mcp.connection"].search([("client_id", "=", body["client_id"])])
        self.assertEqual((connection.template_id, connection.approval_tool_ids), (template, tool))
        self.assertFalse(connection.approver_id or connection.owner_user_id)
        request = self.env["mcp.approval.request"]._open(
            connection, user, user.company_id, tool, {"model": "res.partner", "ids": [1]}, ["mcp:write"], "127.0.0.1"
        )
        self.assertIn(manager, request.activity_ids.user_id)
        self.assertTrue(request.with_user(manager).can_approve)


@tagged("post_install", "-at_install")
class TestMyAiConnections(HttpCase):
    """Every MCP user finds the address to paste into an AI tool under My AI Connections."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env, login="mcp_my_user", password="mcp_my_user", groups="mcp_connect.group_mcp_user"
        )
        cls.other = new_test_user(cls.env, login="mcp_my_other", groups="mcp_connect.group_mcp_user")
        connection = cls.env["mcp.connection"].create(
            {
                "name": "claude.ai Qwv",
                "connection_type": "browser",
                "client_id": core.mint_token(kind="client_id")[0],
                "redirect_uris": "https://claude.ai/api/mcp/auth_callback",
            }
        )
        cls.env["mcp.consent"]._remember(cls.user, connection, ["mcp:read"])
        cls.env["mcp.consent"]._remember(cls.other, connection, ["mcp:read"])

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.com")

    def test_the_page_shows_the_settings_address_and_only_the_users_tools(self):
        menu = self.env.ref("mcp_connect.mcp_connect_menu_my_connections")
        action = menu.action.with_user(self.user).run()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.users", self.user.id))
        view_id = action["views"][0][0]
        arch = etree.fromstring(
            self.env["res.users"].with_user(self.user).get_views([(view_id, "form")])["views"]["form"]["arch"]
        )
        self.assertEqual(arch.xpath("//field[@name='mcp_endpoint_url']")[0].get("widget"), "CopyClipboardChar")
        self.assertIn("Paste this address into claude.ai, ChatGPT", " ".join("".join(arch.itertext()).split()))

        settings_url = self.env["res.config.settings"].create({}).mcp_endpoint_url
        self.assertEqual(settings_url, "https://odoo.example.com/api/mcp")
        [page] = (
            self.env["res.users"]
            .with_user(self.user)
            .browse(self.user.id)
            .web_read({"mcp_endpoint_url": {}, "mcp_consent_ids": {"fields": {"user_id": {}}}})
        )
        self.assertEqual(page["mcp_endpoint_url"], settings_url)
        self.assertEqual([row["user_id"] for row in page["mcp_consent_ids"]], [self.user.id])

    def test_the_page_in_the_browser(self):
        self.start_tour("/odoo", "mcp_connect_my_ai_connections", login="mcp_my_user")
