import base64
import csv
import io
from unittest.mock import patch

import openpyxl
from markupsafe import Markup
from odoo import Command
from odoo.tests import tagged

from .. import compat, config
from ..tools import exports
from .common import McpCase


def partner_rule(env, connection, domain=None, field_names=None):
    values = {"connection_id": connection.id, "model_id": env["ir.model"]._get("res.partner").id}
    if domain:
        values["domain"] = domain
    if field_names:
        fields = env["ir.model.fields"].search([("model", "=", "res.partner"), ("name", "in", field_names)])
        values["field_ids"] = [Command.set(fields.ids)]
    return env["mcp.connection.model"].create(values)


def needs_approval(env, connection, name):
    tools = env["mcp.tool"].search([("name", "=", name)])
    connection.write({"approval_tool_ids": [Command.set(tools.ids)], "approver_id": env.ref("base.user_admin").id})


@tagged("post_install", "-at_install")
class TestExportRecords(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        belgium = cls.env.ref("base.be")
        cls.partners = cls.env["res.partner"].create(
            [
                {"name": "Exp Qxz A", "ref": "CUST-1", "email": "a@example.com", "country_id": belgium.id},
                {"name": "Exp Qxz B", "ref": "CUST-2", "email": "=cmd()"},
                {"name": "Exp Qxz C", "ref": "SUPP-1"},
            ]
        )
        # Odoo's own right to export, which the web client's Export button needs too.
        cls.user.write({compat.user_groups_field(cls.env): [Command.link(cls.env.ref("base.group_allow_export").id)]})

    def export(self, **arguments):
        result = self.call_tool("export_records", {"model": "res.partner", **arguments})
        self.assertFalse(result.get("isError"), result)
        resource = result["content"][1]["resource"]
        return result["structuredContent"], resource, base64.b64decode(resource["blob"])

    def test_csv_of_a_search(self):
        data, resource, raw = self.export(
            fields=["name", "email", "country_id/name", "country_id.code", "id"],
            domain=[["name", "like", "Exp Qxz"]],
            order="name",
        )
        self.assertEqual(resource["mimeType"], "text/csv")
        self.assertEqual((data["records"], data["total"], data["truncated"]), (3, 3, False))
        self.assertEqual(data["size"], len(raw))
        self.assertNotIn("resource", data)
        rows = list(csv.reader(io.StringIO(raw.decode())))
        self.assertEqual(rows[0][:3], ["Name", "Email", "Country/Country Name"])
        self.assertEqual(rows[1][:4], ["Exp Qxz A", "a@example.com", "Belgium", "BE"])
        self.assertEqual(int(rows[1][4]), self.partners[0].id)
        # Odoo's writer defuses what a spreadsheet would run as a formula.
        self.assertEqual(rows[2][1], "'=cmd()")

    def test_xlsx_opens_as_a_workbook(self):
        _data, resource, raw = self.export(fields=["name", "ref"], domain=[["name", "like", "Exp Qxz"]], format="xlsx")
        self.assertEqual(resource["mimeType"], exports.FORMATS["xlsx"][1])
        sheet = openpyxl.load_workbook(io.BytesIO(raw)).active
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
        self.assertEqual(values[0], ["Name", "Reference"])
        self.assertEqual(sorted(row[0] for row in values[1:]), ["Exp Qxz A", "Exp Qxz B", "Exp Qxz C"])

    def test_field_list_and_record_filter_apply(self):
        partner_rule(self.env, self.connection, "[('ref', '=like', 'CUST%')]", ["name", "ref", "country_id"])
        data, _resource, raw = self.export(fields=["name", "ref"], domain=[["name", "like", "Exp Qxz"]])
        self.assertEqual(data["records"], 2)
        self.assertNotIn("SUPP-1", raw.decode())
        self.tool_error(
            "export_records",
            {"model": "res.partner", "fields": ["name", "email"]},
            contains="'email' is an unknown or not allowed field of res.partner",
        )
        # A path reads the model it reaches: res.country is not on this connection.
        self.tool_error(
            "export_records",
            {"model": "res.partner", "fields": ["country_id/name"]},
            contains="model res.country is not allowed",
        )

    def test_approval_holds_the_export(self):
        needs_approval(self.env, self.connection, "export_records")
        data = self.tool_ok("export_records", {"model": "res.partner", "fields": ["name"]})
        self.assertEqual(data["approval_status"], "pending")

    def test_caps(self):
        config.set_value(self.env, "export_max_records", 2)
        self.tool_error(
            "export_records", {"model": "res.partner", "fields": ["name"], "limit": 3}, contains="at most 2"
        )
        data, _resource, _raw = self.export(fields=["name"], domain=[["name", "like", "Exp Qxz"]])
        self.assertEqual((data["records"], data["total"], data["truncated"]), (2, 3, True))
        with patch.object(exports, "MAX_EXPORT_BYTES", 20):
            self.tool_error(
                "export_records",
                {"model": "res.partner", "fields": ["name"], "domain": [["name", "like", "Exp Qxz"]]},
                contains="more than the 20 bytes",
            )

    def test_odoo_right_to_export_applies(self):
        export_group = self.env.ref("base.group_allow_export")
        self.user.write({compat.user_groups_field(self.env): [Command.unlink(export_group.id)]})
        self.tool_error("export_records", {"model": "res.partner", "fields": ["name"]}, contains="export")

    def test_bad_input(self):
        for arguments, fragment in (
            ({"fields": []}, "Invalid arguments"),
            ({"fields": ["name"], "format": "pdf"}, "Invalid arguments"),
            ({"fields": ["no_such_field"]}, "'no_such_field' is an unknown or not allowed field"),
            ({"fields": ["name/x"]}, "name of res.partner is not a relation"),
            ({"fields": ["name"], "order": "name; drop"}, "order must look like"),
            ({"fields": ["name"], "domain": "x"}, "Invalid arguments"),
        ):
            with self.subTest(arguments=arguments):
                self.tool_error("export_records", {"model": "res.partner", **arguments}, contains=fragment)


@tagged("post_install", "-at_install")
class TestReadMessages(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Chat Qxz", "ref": "CUST-9", "email": "old@example.com"})
        # Changes in the transaction that created a record are not tracked: the creation is logged.
        cls.env.cr.flush()
        cls.partner.message_post(
            body=Markup("<p>Hello <b>there</b></p>"), message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        cls.partner.message_post(body="Private memo", message_type="comment", subtype_xmlid="mail.mt_note")
        cls.partner.email = "new@example.com"
        cls.env.cr.flush()

    def test_newest_first_with_text_notes_and_tracking(self):
        data = self.tool_ok("read_messages", {"model": "res.partner", "record_id": self.partner.id})
        messages = data["messages"]
        self.assertEqual([m["id"] for m in messages], sorted((m["id"] for m in messages), reverse=True))
        tracked = [m for m in messages if m.get("tracking")]
        self.assertEqual(len(tracked), 1, messages)
        tracking = tracked[0]["tracking"]
        self.assertEqual(
            [(t["field"], t["old"], t["new"]) for t in tracking], [("email", "old@example.com", "new@example.com")]
        )
        memo = next(m for m in messages if m["body"] == "Private memo")
        self.assertTrue(memo["internal"])
        hello = next(m for m in messages if m["body"] and "Hello" in m["body"])
        self.assertIn("Hello", hello["body"])
        self.assertNotIn("<", hello["body"])
        self.assertFalse(hello["internal"])
        self.assertIsNone(data["next_before_id"])

    def test_pages(self):
        first = self.tool_ok("read_messages", {"model": "res.partner", "record_id": self.partner.id, "limit": 1})
        self.assertEqual(len(first["messages"]), 1)
        second = self.tool_ok(
            "read_messages",
            {"model": "res.partner", "record_id": self.partner.id, "limit": 1, "before_id": first["next_before_id"]},
        )
        self.assertLess(second["messages"][0]["id"], first["messages"][0]["id"])
        by_offset = self.tool_ok(
            "read_messages", {"model": "res.partner", "record_id": self.partner.id, "limit": 1, "offset": 1}
        )
        self.assertEqual(by_offset["messages"], second["messages"])

    def test_policy_applies(self):
        rule = partner_rule(self.env, self.connection, "[('ref', '=like', 'CUST%')]", ["name", "ref"])
        data = self.tool_ok("read_messages", {"model": "res.partner", "record_id": self.partner.id})
        # The email field is outside the connection's field list: so are its changes.
        self.assertFalse([m for m in data["messages"] if m.get("tracking")])
        outside = self.env["res.partner"].create({"name": "Outside Qxz", "ref": "SUPP-9"})
        self.tool_error(
            "read_messages",
            {"model": "res.partner", "record_id": outside.id},
            contains=f"No res.partner record with id {outside.id}",
        )
        rule.unlink()
        self.env["mcp.connection.model"].create(
            {"connection_id": self.connection.id, "model_id": self.env["ir.model"]._get("res.country").id}
        )
        self.tool_error(
            "read_messages", {"model": "res.partner", "record_id": self.partner.id}, contains="is not allowed"
        )

    def test_approval_holds_the_read(self):
        needs_approval(self.env, self.connection, "read_messages")
        data = self.tool_ok("read_messages", {"model": "res.partner", "record_id": self.partner.id})
        self.assertEqual(data["approval_status"], "pending")

    def test_long_history_is_capped(self):
        for index in range(30):
            self.partner.message_post(body=f"Long {index} " + "x" * 3000, subtype_xmlid="mail.mt_note")
        data = self.tool_ok("read_messages", {"model": "res.partner", "record_id": self.partner.id, "limit": 100})
        self.assertTrue(data["truncated"])
        self.assertLess(len(data["messages"]), 33)
        self.assertEqual(data["next_before_id"], data["messages"][-1]["id"])

    def test_bad_input(self):
        for arguments, fragment in (
            ({"model": "res.partner", "record_id": self.partner.id, "limit": 0}, "Invalid arguments"),
            ({"model": "res.partner"}, "Invalid arguments"),
            ({"model": "res.country", "record_id": 1}, "res.country has no chatter"),
            ({"model": "res.partner", "record_id": 10**9}, "No res.partner record"),
        ):
            with self.subTest(arguments=arguments):
                self.tool_error("read_messages", arguments, contains=fragment)
