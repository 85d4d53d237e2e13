import mcp_connect_core as core
from lxml import etree
from odoo.tests import TransactionCase, new_test_user, tagged


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
