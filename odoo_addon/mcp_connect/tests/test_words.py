from datetime import timedelta

import mcp_connect_core as core
from lxml import etree
from odoo import fields
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestApprovalInWords(TransactionCase):
    """An approver reads the call as a sentence with the model's name and the records' names,
    and its arguments as labelled values, never only "delete_records res.partner" and JSON."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="mcp_words_manager", groups="mcp_connect.group_mcp_manager")
        cls.user = new_test_user(cls.env, login="mcp_words_user", groups="mcp_connect.group_mcp_user")
        cls.connection = cls.env["mcp.connection"].create(
            {
                "name": "Claude",
                "connection_type": "browser",
                "client_id": core.mint_token(kind="client_id")[0],
                "redirect_uris": "https://claude.ai/api/mcp/auth_callback",
                "approver_id": cls.manager.id,
            }
        )
        cls.partner = cls.env["res.partner"].create({"name": "Azure Interior"})
        cls.other_partner = cls.env["res.partner"].create({"name": "Deco Addict"})

    def ask(self, tool_name, arguments):
        tool = self.env["mcp.tool"].search([("name", "=", tool_name)])
        request = self.env["mcp.approval.request"]._open(
            self.connection, self.user, self.user.company_id, tool, arguments, ["mcp:write"], "127.0.0.1"
        )
        return request.with_user(self.manager)

    def test_delete_names_the_count_the_model_and_the_records(self):
        request = self.ask("delete_records", {"model": "res.partner", "ids": [self.partner.id]})
        self.assertEqual(request.name, "Delete 1 Contact: Azure Interior")
        self.assertEqual(request.display_name, "Delete 1 Contact: Azure Interior")
        self.assertEqual(request.model_label, "Contact")
        link = etree.fromstring(f"<div>{request.arguments_html}</div>").xpath("//a[@class='o_mcp_record_link']")
        self.assertEqual(
            [(a.get("href"), a.text) for a in link], [(f"/odoo/res.partner/{self.partner.id}", "Azure Interior")]
        )

    def test_a_deleted_record_keeps_its_name_without_a_link(self):
        request = self.ask("delete_records", {"model": "res.partner", "ids": [self.partner.id, self.other_partner.id]})
        self.partner.unlink()
        request.invalidate_recordset()
        self.assertEqual(request.name, "Delete 2 Contact records: Azure Interior, Deco Addict")
        html = etree.fromstring(f"<div>{request.arguments_html}</div>")
        self.assertEqual([a.text for a in html.xpath("//a")], ["Deco Addict"])
        self.assertIn("Azure Interior (no longer exists)", "".join(html.itertext()))

    def test_update_shows_the_new_values_under_their_labels(self):
        request = self.ask(
            "update_records", {"model": "res.partner", "ids": [self.partner.id], "values": {"phone": "+32 2 555 01 01"}}
        )
        self.assertEqual(request.name, "Update 1 Contact: Azure Interior")
        html = etree.fromstring(f"<div>{request.arguments_html}</div>")
        rows = [[cell.text for cell in row] for row in html.xpath("//table//tr")]
        self.assertEqual(rows, [["Phone", "+32 2 555 01 01"]])
        self.assertNotIn("{", "".join(html.itertext()))

    def test_create_names_what_is_created(self):
        request = self.ask(
            "create_records", {"model": "res.partner", "values_list": [{"name": "Acme"}, {"name": "Beta"}]}
        )
        self.assertEqual(request.name, "Create 2 Contact records: Acme, Beta")
        one = self.ask("create_records", {"model": "res.partner", "values": {"name": "Acme", "is_company": True}})
        self.assertEqual(one.name, "Create 1 Contact: Acme")
        html = etree.fromstring(f"<div>{one.arguments_html}</div>")
        self.assertEqual(
            [[cell.text for cell in row] for row in html.xpath("//tr")], [["Name", "Acme"], ["Is a Company", "Yes"]]
        )

    def test_call_method_names_the_method_and_the_records(self):
        request = self.ask(
            "call_method", {"model": "res.partner", "method": "action_archive", "ids": [self.partner.id]}
        )
        self.assertEqual(request.name, "Run action_archive on 1 Contact: Azure Interior")
        model_level = self.ask("call_method", {"model": "res.partner", "method": "action_x"})
        self.assertEqual(model_level.name, "Run action_x on Contact")

    def test_arguments_that_name_no_records_still_read(self):
        abstract = self.ask("delete_records", {"model": "mail.thread", "ids": [1]})
        self.assertEqual(abstract.name, "Delete 1 Email Thread: #1")
        self.assertIn("#1 (no longer exists)", str(abstract.arguments_html))
        unknown = self.ask("update_records", {"model": "no.such.model", "ids": "7", "values": ["x"]})
        self.assertEqual(unknown.name, "Update 0 no.such.model records")
        self.assertFalse(unknown.arguments_html)

    def test_the_model_name_is_translated(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        model = self.env["ir.model"]._get("res.partner")
        model.with_context(lang="fr_FR").name = "Contact FR"
        request = self.ask("delete_records", {"model": "res.partner", "ids": [self.partner.id]})
        self.assertEqual(request.with_context(lang="fr_FR").model_label, "Contact FR")

    def test_the_approvers_activity_reads_the_same(self):
        request = self.ask("delete_records", {"model": "res.partner", "ids": [self.partner.id]})
        activity = request.activity_ids
        self.assertEqual(activity.user_id, self.manager)
        self.assertEqual(activity.summary, "Approve: Delete 1 Contact: Azure Interior")
        self.assertIn("Delete 1 Contact: Azure Interior", str(activity.note))
        self.assertIn("Claude", str(activity.note))

    def test_the_form_labels_and_the_technical_section(self):
        arch = etree.fromstring(
            self.env["mcp.approval.request"]
            .with_user(self.manager)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        fields = self.env["mcp.approval.request"]._fields
        self.assertEqual(fields["client_ip"].string, "Client IP")
        self.assertEqual(fields["expires_at"].string, "Expires")
        self.assertTrue(arch.xpath("//field[@name='arguments_html']"))
        [page] = arch.xpath("//page[@name='technical']")
        self.assertTrue(page.xpath(".//field[@name='arguments']"))
        user_arch = etree.fromstring(
            self.env["mcp.approval.request"].with_user(self.user).get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertFalse(user_arch.xpath("//field[@name='arguments']"))


@tagged("post_install", "-at_install")
class TestMyAiConnectionsFacts(HttpCase):
    """My AI Connections shows a personal token's expiry and the employee's own last use (not another
    user's), on a phone with Revoke access in each card's header, and a token saved from the menu
    at once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env, login="mcp_token_user", password="mcp_token_user", groups="mcp_connect.group_mcp_user"
        )
        cls.other = new_test_user(cls.env, login="mcp_token_other", groups="mcp_connect.group_mcp_user")

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.com")

    def page(self):
        [page] = (
            self.env["res.users"]
            .with_user(self.user)
            .browse(self.user.id)
            .web_read(
                {"mcp_consent_ids": {"fields": {"connection_id": {"fields": {}}, "last_used_at": {}, "expires_at": {}}}}
            )
        )
        return page["mcp_consent_ids"]

    def test_a_personal_token_shows_its_expiry(self):
        connection = self.env["mcp.connection"]._create_personal_token(
            self.user, "Laptop", core.mint_token(kind="personal")[0], "read", 30
        )
        [row] = self.page()
        self.assertEqual(row["connection_id"]["id"], connection.id)
        token = self.env["mcp.token"].sudo().search([("connection_id", "=", connection.id)])
        self.assertEqual(row["expires_at"], token.expires_at)
        self.assertAlmostEqual(token.expires_at, fields.Datetime.now() + timedelta(days=30), delta=timedelta(minutes=5))

    def test_last_used_is_the_employees_own_use(self):
        connection = self.env["mcp.connection"].create(
            {
                "name": "claude.ai",
                "connection_type": "browser",
                "client_id": core.mint_token(kind="client_id")[0],
                "redirect_uris": "https://claude.ai/api/mcp/auth_callback",
            }
        )
        self.env["mcp.consent"]._remember(self.user, connection, ["mcp:read"])
        self.env["mcp.consent"]._remember(self.other, connection, ["mcp:read"])
        mine = self.env["mcp.token"]._create_personal(
            connection, self.user, core.mint_token(kind="personal")[0], "read", 30
        )
        theirs = self.env["mcp.token"]._create_personal(
            connection, self.other, core.mint_token(kind="personal")[0], "read", 30
        )
        mine.sudo().last_used_at = fields.Datetime.now() - timedelta(days=3)
        theirs.sudo().last_used_at = connection.sudo().last_used_at = fields.Datetime.now()
        [row] = self.page()
        self.assertEqual(row["last_used_at"], mine.last_used_at)
        self.assertEqual(self.env["mcp.consent"]._fields["last_used_at"].string, "Your last use")

    def test_the_phone_card_has_revoke_access_in_its_header(self):
        view_id = self.env.ref("mcp_connect.res_users_view_form_my_ai_connections").id
        arch = etree.fromstring(
            self.env["res.users"].with_user(self.user).get_views([(view_id, "form")])["views"]["form"]["arch"]
        )
        [card] = arch.xpath("//field[@name='mcp_consent_ids']/kanban//t[@t-name='card']")
        header = card[0]
        self.assertEqual(header.xpath("./field/@name"), ["connection_id"])
        self.assertEqual(header.xpath("./button/@name"), ["action_revoke_access"])
        self.assertTrue(arch.xpath("//widget[@name='mcp_reload_after_dialogs']"))

    def test_a_token_saved_from_the_menu_appears_without_a_reload(self):
        self.start_tour("/odoo", "mcp_connect_my_token_from_menu", login="mcp_token_user")
        token = self.env["mcp.token"].search([("user_id", "=", self.user.id), ("kind", "=", "personal")])
        self.assertEqual(token.connection_id.name, "Tour token")


@tagged("post_install", "-at_install")
class TestOneWordingEverywhere(TransactionCase):
    """One meaning per word, Odoo's sentence case for labels, and a name for every audit entry."""

    def test_an_audit_entry_always_has_a_name(self):
        log = self.env["mcp.audit.log"]
        log._record_many(
            [
                {"method": "tools/call", "tool": "delete_records", "model_name": "res.partner", "outcome": "ok"},
                {"method": "initialize", "outcome": "ok"},
                {"http_status": 401, "outcome": "denied"},
                {"outcome": "denied"},
            ]
        )
        log._record_event("consent_withdrawn", summary="Ada no longer allows Claude")
        entries = log.search([], order="id desc", limit=5)
        names = [entry.display_name for entry in entries.sorted("id")]
        self.assertEqual(
            names,
            [
                "delete_records on res.partner",
                "initialize",
                "HTTP 401",
                f"Audit entry #{entries.sorted('id')[3].id}",
                "Consent revoked by the user",
            ],
        )

    def test_labels_use_sentence_case(self):
        labels = {
            ("mcp.audit.log", "http_status"): "HTTP status",
            ("mcp.audit.log", "arguments_summary"): "Arguments summary",
            ("mcp.audit.log", "client_ip"): "Client IP",
            ("mcp.connection", "client_type"): "Client type",
            ("mcp.connection", "software_id"): "Software ID",
            ("mcp.session", "last_seen_at"): "Last seen",
            ("res.users", "mcp_endpoint_url"): "MCP endpoint URL",
            ("mcp.connection", "allowed_tool_ids"): "Allowed MCP tools",
            ("mcp.connection", "approval_tool_ids"): "MCP tools that need approval",
        }
        for (model, field), label in labels.items():
            with self.subTest(model=model, field=field):
                self.assertEqual(self.env[model]._fields[field].string, label)

    def connection_form(self):
        return etree.fromstring(self.env["mcp.connection"].get_views([(False, "form")])["views"]["form"]["arch"])

    def test_rotate_says_client_secret_like_the_window_it_opens(self):
        [button] = self.connection_form().xpath("//button[@name='action_rotate_secret']")
        self.assertEqual(button.get("string"), "Rotate client secret")
        arch = etree.fromstring(self.env["mcp.credential.show"].get_views([(False, "form")])["views"]["form"]["arch"])
        [field] = arch.xpath("//div[hasclass('o_mcp_rotation')]//field[@name='client_secret']")
        self.assertEqual(field.get("string"), "New client secret")

    def test_the_model_rule_dialog_is_titled_model_rule(self):
        for model in ("mcp.connection", "mcp.connection.template"):
            with self.subTest(model=model):
                arch = etree.fromstring(self.env[model].get_views([(False, "form")])["views"]["form"]["arch"])
                [field] = arch.xpath("//field[@name='model_rule_ids']")
                self.assertEqual(field.get("string"), "Model rule")

    def test_the_scopes_read_the_same_on_every_page(self):
        from ..oauth import scopes as scope_rules

        labels = {"read": scope_rules.LABELS["mcp:read"], "write": scope_rules.LABELS["mcp:write"]}
        self.assertEqual(labels, {"read": "Read only (mcp:read)", "write": "Read and write (mcp:write)"})
        for model, field in (
            ("mcp.connection", "allowed_scope"),
            ("mcp.connection", "registered_scope"),
            ("mcp.connection.template", "allowed_scope"),
            ("mcp.connect.wizard", "token_scope"),
        ):
            with self.subTest(model=model, field=field):
                self.assertEqual(dict(self.env[model]._fields[field].selection), labels)
        for scope, label in labels.items():
            self.assertTrue(scope_rules.DESCRIPTIONS[f"mcp:{scope}"].startswith(label + ": "))
        consent_words = scope_rules.describe(["mcp:read", "mcp:write"], scope_rules.LABELS)
        self.assertEqual(consent_words, ["Read and write (mcp:write)"])
