import base64
import io
import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from .. import config
from ..tools import documents
from .common import McpCase
from .test_mcp_policy import tool_ids

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
REPORT_NAME = "mcp_connect.test_partner_sheet"


@tagged("post_install", "-at_install")
class TestPrintReport(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.ui.view"].create(
            {
                "name": "test_partner_sheet",
                "type": "qweb",
                "key": REPORT_NAME,
                "arch": f'<t t-name="{REPORT_NAME}"><t t-call="web.html_container"><t t-foreach="docs" t-as="o">'
                '<div class="page"><h1 t-out="o.name"/></div></t></t></t>',
            }
        )
        Report = cls.env["ir.actions.report"]
        cls.report = Report.create(
            {"name": "Partner sheet", "model": "res.partner", "report_type": "qweb-pdf", "report_name": REPORT_NAME}
        )
        cls.country_report = Report.create(
            {"name": "Country sheet", "model": "res.country", "report_type": "qweb-pdf", "report_name": REPORT_NAME}
        )
        cls.partner = cls.env["res.partner"].create({"name": "Printed Pxq", "ref": "CUST-1"})
        cls.outside = cls.env["res.partner"].create({"name": "Hidden Pxq", "ref": "SUPP-1"})

    def pdf_of(self, result):
        resource = result["content"][1]
        self.assertEqual(resource["type"], "resource")
        self.assertEqual(resource["resource"]["mimeType"], "application/pdf")
        return base64.b64decode(resource["resource"]["blob"])

    def assert_pdf(self, raw):
        self.assertTrue(raw.startswith(b"%PDF"), raw[:20])
        pages = PdfFileReader(io.BytesIO(raw)).pages
        self.assertEqual(len(pages), 1)
        # The partner's own report, though the country report shares its template name.
        self.assertIn("Printed Pxq", " ".join(pages[0].extract_text().split()))

    def test_a_report_of_a_record_is_a_real_pdf_in_the_result(self):
        result = self.call_tool(
            "print_report", {"model": "res.partner", "report": "Partner sheet", "ids": [self.partner.id]}
        )
        self.assertFalse(result["isError"], result)
        self.assertEqual(result["structuredContent"]["delivery"], "inline")
        self.assertNotIn("resource", result["structuredContent"])
        raw = self.pdf_of(result)
        self.assert_pdf(raw)
        self.assertEqual(result["structuredContent"]["size"], len(raw))
        by_name = self.tool_ok(
            "print_report", {"model": "res.partner", "report": REPORT_NAME, "ids": [self.partner.id]}
        )
        self.assertEqual(by_name["report"], REPORT_NAME)

    def test_without_a_report_the_model_s_reports_are_listed(self):
        listed = self.tool_ok("print_report", {"model": "res.partner"})["reports"]
        self.assertIn("Partner sheet", [entry["name"] for entry in listed])
        self.assertNotIn("Country sheet", [entry["name"] for entry in listed])

    def test_the_report_must_belong_to_the_model(self):
        text = self.tool_error(
            "print_report", {"model": "res.partner", "report": "Country sheet", "ids": [self.partner.id]}
        )
        self.assertIn("No report 'Country sheet' of res.partner", text)
        self.assertIn("Partner sheet", text)

    def test_the_report_s_groups_apply(self):
        self.report.write(
            {documents.compat.action_groups_field(self.env): [(6, 0, self.env.ref("base.group_system").ids)]}
        )
        self.tool_error(
            "print_report",
            {"model": "res.partner", "report": REPORT_NAME, "ids": [self.partner.id]},
            contains="No report",
        )

    def test_the_connection_s_models_and_record_filters_apply(self):
        self.env["mcp.connection.model"].create(
            {
                "connection_id": self.connection.id,
                "model_id": self.env["ir.model"]._get("res.partner").id,
                "domain": "[('ref', '=like', 'CUST%')]",
            }
        )
        self.tool_ok("print_report", {"model": "res.partner", "report": REPORT_NAME, "ids": [self.partner.id]})
        audit = self.env["mcp.audit.log"].search([("tool", "=", "print_report")], order="id desc", limit=1)
        self.assertEqual((audit.model_name, audit.outcome), ("res.partner", "ok"))
        self.tool_error(
            "print_report",
            {"model": "res.partner", "report": REPORT_NAME, "ids": [self.outside.id]},
            contains=f"No res.partner record with id {self.outside.id}",
        )
        self.tool_error(
            "print_report",
            {"model": "res.country", "report": "Country sheet", "ids": [1]},
            contains="model res.country is not allowed",
        )

    def test_a_field_list_on_the_model_refuses_its_reports(self):
        """A report reads whatever its template names; a connection that shows only some fields of
        the model cannot print it (the field list would hold on every path but this one)."""
        self.env["mcp.connection.model"].create(
            {
                "connection_id": self.connection.id,
                "model_id": self.env["ir.model"]._get("res.partner").id,
                "field_ids": [(6, 0, self.env["ir.model.fields"]._get("res.partner", "name").ids)],
            }
        )
        self.tool_error(
            "print_report",
            {"model": "res.partner", "report": REPORT_NAME, "ids": [self.partner.id]},
            contains="shows only some fields of res.partner",
        )

    def test_an_approval_holds_the_report(self):
        self.connection.write(
            {
                "approval_tool_ids": [(6, 0, tool_ids(self.env, "print_report"))],
                "approver_id": self.env.ref("base.user_admin").id,
            }
        )
        data = self.tool_ok("print_report", {"model": "res.partner", "report": REPORT_NAME, "ids": [self.partner.id]})
        self.assertEqual(data["approval_status"], "pending")

    def test_a_head_request_does_not_use_up_the_link(self):
        arguments = {"model": "res.partner", "report": REPORT_NAME, "ids": [self.partner.id]}
        with patch.object(documents, "INLINE_MAX_BYTES", 100):
            url = self.tool_ok("print_report", arguments)["download_url"]
        head = self.opener.head(url, timeout=30)
        self.assertEqual(head.status_code, 405)
        self.assertEqual(head.headers["Allow"], "GET")
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, "a link preview's HEAD must not spend the single use")
        self.assert_pdf(response.content)

    def test_bad_input(self):
        self.tool_error("print_report", {"model": "res.partner", "report": REPORT_NAME}, contains="ids")
        self.tool_error(
            "print_report", {"model": "res.partner", "report": REPORT_NAME, "ids": ["x"]}, contains="Invalid arguments"
        )
        self.tool_error(
            "print_report", {"model": "no.such.model", "report": REPORT_NAME, "ids": [1]}, contains="Unknown model"
        )

    def test_a_large_file_goes_by_a_single_use_link_of_its_user(self):
        arguments = {"model": "res.partner", "report": REPORT_NAME, "ids": [self.partner.id]}
        with patch.object(documents, "INLINE_MAX_BYTES", 100):
            result = self.call_tool("print_report", arguments)
            again = self.tool_ok("print_report", arguments)
            third = self.tool_ok("print_report", arguments)
        data = result["structuredContent"]
        self.assertEqual(data["delivery"], "link")
        self.assertEqual(len(result["content"]), 1)
        self.assertNotIn("content", self.env["mcp.download"].sudo().search_read([], ["digest"], limit=1)[0])
        url = data["download_url"]
        self.assertTrue(url.startswith(self.base_url() + "/api/mcp/download/"))
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assert_pdf(response.content)
        self.assertEqual(self.url_open(url).status_code, 404, "a link works once")
        self.assertEqual(self.url_open(url[:-3] + "abc").status_code, 404)
        self.assertEqual(self.url_open(self.base_url() + "/api/mcp/download/garbage").status_code, 404)

        link = self.env["mcp.download"].sudo().search([], order="id desc", limit=1)
        link.expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(self.url_open(third["download_url"]).status_code, 404, "an expired link works no more")

        self.authenticate(self.other_user.login, self.password)
        self.assertEqual(self.url_open(again["download_url"]).status_code, 404, "another user's browser gets nothing")


@tagged("post_install", "-at_install")
class TestAttachments(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Filed Axq", "ref": "CUST-1"})
        cls.outside = cls.env["res.partner"].create({"name": "Hidden Axq", "ref": "SUPP-1"})
        Attachment = cls.env["ir.attachment"]
        record = {"res_model": "res.partner", "res_id": cls.partner.id}
        cls.text = Attachment.create({"name": "notes.csv", "raw": b"a,b\n1,2\n", "mimetype": "text/csv", **record})
        cls.html = Attachment.create(
            {"name": "page.html", "raw": b"<p>Hello <b>world</b></p>", "mimetype": "text/html", **record}
        )
        cls.image = Attachment.create({"name": "dot.png", "raw": PNG, **record})
        cls.hidden = Attachment.create(
            {"name": "secret.txt", "raw": b"secret", "res_model": "res.partner", "res_id": cls.outside.id}
        )

    def scope_partners(self, **values):
        self.env["mcp.connection.model"].create(
            {
                "connection_id": self.connection.id,
                "model_id": self.env["ir.model"]._get("res.partner").id,
                "domain": "[('ref', '=like', 'CUST%')]",
                **values,
            }
        )

    def test_list_and_read(self):
        data = self.tool_ok("list_attachments", {"model": "res.partner", "record_id": self.partner.id})
        self.assertEqual(data["total"], 3)
        self.assertEqual({a["name"] for a in data["attachments"]}, {"notes.csv", "page.html", "dot.png"})
        self.assertTrue(all(a["created"].endswith("Z") and a["size"] > 0 for a in data["attachments"]))
        arguments = {"model": "res.partner", "record_id": self.partner.id}
        text = self.tool_ok("read_attachment", {**arguments, "attachment_id": self.text.id})
        self.assertEqual((text["delivery"], text["text"]), ("text", "a,b\n1,2\n"))
        html = self.tool_ok("read_attachment", {**arguments, "attachment_id": self.html.id})
        self.assertEqual(html["text"], "Hello *world*")
        result = self.call_tool("read_attachment", {**arguments, "attachment_id": self.image.id})
        self.assertEqual(result["structuredContent"]["mimetype"], "image/png")
        self.assertEqual(base64.b64decode(result["content"][1]["resource"]["blob"]), PNG)

    def test_a_large_file_goes_by_a_link(self):
        arguments = {"model": "res.partner", "record_id": self.partner.id, "attachment_id": self.image.id}
        with patch.object(documents, "INLINE_MAX_BYTES", 10):
            data = self.tool_ok("read_attachment", arguments)
        self.assertEqual(data["delivery"], "link")
        response = self.url_open(data["download_url"])
        self.assertEqual(response.content, PNG)
        self.assertEqual(self.url_open(data["download_url"]).status_code, 404)

    def test_attachments_follow_their_record(self):
        self.scope_partners()
        self.tool_error(
            "list_attachments", {"model": "res.partner", "record_id": self.outside.id}, contains="No res.partner"
        )
        self.tool_error(
            "read_attachment",
            {"model": "res.partner", "record_id": self.partner.id, "attachment_id": self.hidden.id},
            contains="No attachment",
        )
        self.tool_error(
            "read_attachment",
            {"model": "res.partner", "record_id": self.outside.id, "attachment_id": self.hidden.id},
            contains="No res.partner",
        )
        self.tool_error(
            "list_attachments",
            {"model": "res.country", "record_id": 1},
            contains="model res.country is not allowed",
        )

    def photo_attachment(self):
        """The attachment Odoo keeps the partner's photo (a binary field) in."""
        # sudo: the test finds the attachment Odoo keeps the photo in
        return (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [("res_model", "=", "res.partner"), ("res_id", "=", self.partner.id), ("res_field", "=", "image_1920")]
            )
        )

    def test_a_binary_field_is_a_field_not_an_attachment(self):
        """Odoo keeps binary fields (a contact's photo) in ir.attachment: they are the record's fields,
        read with read_records under the field list, never through the attachment tools."""
        self.partner.image_1920 = base64.b64encode(PNG)
        photo = self.photo_attachment()
        self.assertEqual(len(photo), 1)
        self.scope_partners(field_ids=[(6, 0, self.env["ir.model.fields"]._get("res.partner", "name").ids)])
        arguments = {"model": "res.partner", "record_id": self.partner.id}
        self.tool_error("read_attachment", {**arguments, "attachment_id": photo.id}, contains="No attachment")
        self.tool_error(
            "read_records",
            {"model": "res.partner", "ids": [self.partner.id], "fields": ["image_1920"]},
            contains="image_1920",
        )
        # The files attached to the record are documents of their own, not fields: a field list leaves them.
        listed = self.tool_ok("list_attachments", arguments)["attachments"]
        self.assertEqual({a["name"] for a in listed}, {"notes.csv", "page.html", "dot.png"})
        self.assertEqual(
            self.tool_ok("read_attachment", {**arguments, "attachment_id": self.text.id})["text"], "a,b\n1,2\n"
        )

    def test_a_hidden_binary_field_is_not_reached_as_an_attachment_record(self):
        """The attachment that holds a binary field is the field: on a connection that allows
        ir.attachment too, searching, reading or writing it as an attachment does not pass by
        the field list of its model."""
        self.partner.image_1920 = base64.b64encode(PNG)
        photo = self.photo_attachment()
        self.assertEqual(len(photo), 1)
        stored = photo.datas
        self.scope_partners(field_ids=[(6, 0, self.env["ir.model.fields"]._get("res.partner", "name").ids)])
        self.env["mcp.connection.model"].create(
            {"connection_id": self.connection.id, "model_id": self.env["ir.model"]._get("ir.attachment").id}
        )
        domain = [["res_model", "=", "res.partner"], ["res_id", "=", self.partner.id], ["res_field", "=", "image_1920"]]
        found = self.tool_ok(
            "search_records", {"model": "ir.attachment", "domain": domain, "fields": ["name", "datas"]}
        )
        self.assertEqual((found["total"], found["records"]), (0, []))
        by_id = {"model": "ir.attachment", "ids": [photo.id]}
        for name, arguments in (
            ("read_records", {**by_id, "fields": ["name", "datas"]}),
            ("update_records", {**by_id, "values": {"datas": base64.b64encode(b"replaced").decode()}}),
        ):
            with self.subTest(tool=name):
                result = self.call_tool(name, arguments)
                self.assertTrue(result["isError"], result)
                self.assertNotIn(base64.b64encode(PNG).decode()[:40], json.dumps(result))
        photo.invalidate_recordset()
        self.assertEqual(photo.datas, stored)
        # The files attached to the record stay reachable as attachments.
        self.assertEqual(
            self.tool_ok("read_records", {"model": "ir.attachment", "ids": [self.text.id]})["records"][0]["id"],
            self.text.id,
        )

    def test_attach_a_file(self):
        arguments = {"model": "res.partner", "record_id": self.partner.id}
        data = self.tool_ok("attach_file", {**arguments, "name": "list.csv", "text": "x,y\n3,4\n"})
        attachment = self.env["ir.attachment"].browse(data["attachment_id"])
        self.assertEqual((attachment.res_model, attachment.res_id), ("res.partner", self.partner.id))
        self.assertEqual((attachment.raw, attachment.mimetype), (b"x,y\n3,4\n", "text/csv"))
        # The type is read from the content, whatever the name says.
        data = self.tool_ok(
            "attach_file", {**arguments, "name": "photo.txt", "content_base64": base64.b64encode(PNG).decode()}
        )
        self.assertEqual(data["mimetype"], "image/png")
        self.assertEqual(self.env["ir.attachment"].browse(data["attachment_id"]).raw, PNG)
        self.assertEqual(self.env["ir.attachment"].browse(data["attachment_id"]).create_uid, self.user)

    def test_attach_needs_the_write_scope_write_access_and_the_policy(self):
        arguments = {"model": "res.partner", "record_id": self.partner.id, "name": "a.txt", "text": "a"}
        count = self.env["ir.attachment"].search_count([])
        response = self.modern("tools/call", {"name": "attach_file", "arguments": arguments}, token=self.read_token)
        self.assertEqual(response.status_code, 403)
        self.scope_partners(can_write=False)
        self.tool_error("attach_file", arguments, contains="write on res.partner")
        self.env["mcp.connection.model"].search([("connection_id", "=", self.connection.id)]).unlink()
        self.scope_partners()
        self.tool_error("attach_file", {**arguments, "record_id": self.outside.id}, contains="No res.partner")
        token = self.make_token(user=self.other_user)
        self.env["mcp.consent"]._remember(self.other_user, self.connection, ["mcp:write"])
        self.tool_error("attach_file", arguments, token=token, contains="Access denied")
        self.assertEqual(self.env["ir.attachment"].search_count([]), count)

    def test_attach_is_held_by_the_default_template_s_approvals(self):
        template = self.env.ref("mcp_connect.mcp_connection_template_default")
        self.assertIn("attach_file", template.approval_tool_ids.mapped("name"))
        self.assertNotIn("read_attachment", template.approval_tool_ids.mapped("name"))
        self.connection.write(
            {
                "approval_tool_ids": [(6, 0, tool_ids(self.env, "attach_file"))],
                "approver_id": self.env.ref("base.user_admin").id,
            }
        )
        arguments = {"model": "res.partner", "record_id": self.partner.id, "name": "a.txt", "text": "a"}
        self.assertEqual(self.tool_ok("attach_file", arguments)["approval_status"], "pending")
        self.assertFalse(self.env["ir.attachment"].search([("name", "=", "a.txt")]))

    def test_attach_size_limit_and_bad_input(self):
        count = self.env["ir.attachment"].search_count([])
        config.set_value(self.env, "attachment_max_kb", 1)
        arguments = {"model": "res.partner", "record_id": self.partner.id, "name": "big.txt"}
        self.tool_error("attach_file", {**arguments, "text": "x" * 2048}, contains="at most 1 KB")
        self.tool_error("attach_file", {**arguments, "content_base64": "not base64!"}, contains="not valid base64")
        self.tool_error("attach_file", {**arguments, "text": "a", "content_base64": "YQ=="}, contains="either")
        self.tool_error("attach_file", arguments, contains="either")
        self.tool_error("attach_file", {**arguments, "text": ""}, contains="empty")
        self.tool_error(
            "read_attachment",
            {"model": "res.partner", "record_id": self.partner.id, "attachment_id": "x"},
            contains="Invalid arguments",
        )
        self.assertEqual(self.env["ir.attachment"].search_count([]), count)
