from dataclasses import dataclass

from odoo import Command
from odoo.tests import tagged

from ..tools import preview
from .common import McpCase

# The tables a write of a partner with followers and messages touches.
COUNTED = ("res.partner", "mail.message", "mail.mail", "mail.followers", "mail.notification", "mail.tracking.value")


@tagged("post_install", "-at_install")
class TestPreviews(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.follower = cls.env["res.partner"].create({"name": "Follower Pvw", "email": "follower.pvw@example.com"})
        cls.partner = cls.env["res.partner"].create({"name": "Target Pvw", "email": "target.pvw@example.com"})
        cls.partner.message_subscribe(partner_ids=cls.follower.ids)

    def counts(self):
        self.env.invalidate_all()
        return {name: self.env[name].sudo().with_context(active_test=False).search_count([]) for name in COUNTED}

    def last_audit(self):
        return self.env["mcp.audit.log"].search([("connection_id", "=", self.connection.id)], limit=1)

    def test_preview_of_a_create_changes_nothing(self):
        before = self.counts()
        data = self.tool_ok(
            "create_records",
            {
                "model": "res.partner",
                "values": {"name": "New Pvw", "email": "new.pvw@example.com", "message_follower_ids": []},
                "preview": True,
            },
        )
        self.assertTrue(data["preview"])
        self.assertEqual(data["would_create"][0]["name"], "New Pvw")
        self.assertEqual(data["would_create"][0]["email"], "new.pvw@example.com")
        self.assertNotIn("id", data["would_create"][0])
        self.assertEqual(self.counts(), before)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "New Pvw")]))
        audit = self.last_audit()
        self.assertTrue(audit.preview)
        self.assertEqual(audit.tool, "create_records")
        self.assertEqual(audit.outcome, "ok")

    def test_preview_of_an_update_shows_before_and_after(self):
        before = self.counts()
        data = self.tool_ok(
            "update_records",
            {"model": "res.partner", "ids": self.partner.ids, "values": {"name": "Renamed Pvw"}, "preview": True},
        )
        change = data["would_change"][0]
        self.assertEqual(change["id"], self.partner.id)
        self.assertEqual(change["before"]["name"], "Target Pvw")
        self.assertEqual(change["after"]["name"], "Renamed Pvw")
        self.assertNotIn("write_date", change["after"])
        # The name is tracked: the preview shows the chatter line the change would log.
        self.assertEqual(data["also_created"].get("mail.tracking.value"), 1)
        self.assertEqual(self.counts(), before)
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.name, "Target Pvw")

    def test_preview_of_a_delete_keeps_the_record(self):
        before = self.counts()
        data = self.tool_ok("delete_records", {"model": "res.partner", "ids": self.partner.ids, "preview": True})
        self.assertEqual([row["id"] for row in data["would_delete"]], self.partner.ids)
        self.assertEqual(self.counts(), before)
        self.assertTrue(self.partner.exists())

    def test_preview_of_a_method_that_mails_followers_sends_nothing(self):
        self.connection.allowed_methods = "res.partner.message_post"
        arguments = {
            "model": "res.partner",
            "method": "message_post",
            "ids": self.partner.ids,
            "kwargs": {"body": "Hello Pvw", "message_type": "comment", "subtype_xmlid": "mail.mt_comment"},
        }
        before = self.counts()
        data = self.tool_ok("call_method", {**arguments, "preview": True})
        self.assertTrue(data["preview"])
        self.assertEqual(data["result"]["model"], "mail.message")
        self.assertEqual(data["also_created"]["mail.message"], 1)
        self.assertEqual(self.counts(), before)
        # The same call for real mails the follower: the preview above would have too.
        self.tool_ok("call_method", arguments)
        after = self.counts()
        self.assertEqual(after["mail.message"], before["mail.message"] + 1)
        self.assertGreater(after["mail.mail"], before["mail.mail"])

    def test_preview_needs_no_approval_but_says_the_call_will(self):
        admin = self.env.ref("base.user_admin")
        tools = self.env["mcp.tool"].search([("name", "=", "delete_records")])
        self.connection.write({"approval_tool_ids": [Command.set(tools.ids)], "approver_id": admin.id})
        requests = self.env["mcp.approval.request"].search_count([])
        data = self.tool_ok("delete_records", {"model": "res.partner", "ids": self.partner.ids, "preview": True})
        self.assertTrue(data["approval_required"])
        self.assertEqual(self.env["mcp.approval.request"].search_count([]), requests)
        self.assertTrue(self.partner.exists())
        pending = self.tool_ok("delete_records", {"model": "res.partner", "ids": self.partner.ids})
        self.assertEqual(pending["approval_status"], "pending")

    def test_preview_obeys_the_policy(self):
        partner_model = self.env["ir.model"]._get("res.partner")
        fields = self.env["ir.model.fields"].search([("model", "=", "res.partner"), ("name", "in", ["name", "ref"])])
        self.connection.model_rule_ids = [
            Command.create(
                {
                    "model_id": partner_model.id,
                    "can_delete": False,
                    "domain": "[('ref', '=like', 'PVW%')]",
                    "field_ids": [Command.set(fields.ids)],
                }
            )
        ]
        self.tool_error(
            "delete_records",
            {"model": "res.partner", "ids": self.partner.ids, "preview": True},
            contains="operation delete on res.partner",
        )
        self.tool_error(
            "update_records",
            {"model": "res.partner", "ids": self.partner.ids, "values": {"name": "x"}, "preview": True},
            contains=f"No res.partner record with id {self.partner.id}",
        )
        self.partner.ref = "PVW-1"
        self.tool_error(
            "update_records",
            {"model": "res.partner", "ids": self.partner.ids, "values": {"email": "x@example.com"}, "preview": True},
            contains="may not use these fields of res.partner: email",
        )
        data = self.tool_ok(
            "update_records",
            {"model": "res.partner", "ids": self.partner.ids, "values": {"name": "Inside Pvw"}, "preview": True},
        )
        # Only the fields the connection may use are shown.
        self.assertEqual(set(data["would_change"][0]["after"]), {"name"})
        self.tool_error(
            "update_records",
            {"model": "res.partner", "ids": self.partner.ids, "values": {"ref": "OUT-1"}, "preview": True},
            contains="outside",
        )

    def test_preview_of_many_records_is_capped(self):
        names = [{"name": f"Bulk Pvw {index} " + "x" * 900} for index in range(100)]
        data = self.tool_ok("create_records", {"model": "res.partner", "values_list": names, "preview": True})
        self.assertTrue(data["truncated"])
        self.assertLess(len(data["would_create"]), 100)
        self.assertFalse(self.env["res.partner"].search([("name", "like", "Bulk Pvw")]))

    def test_bad_preview_argument(self):
        text = self.tool_error("delete_records", {"model": "res.partner", "ids": self.partner.ids, "preview": "yes"})
        self.assertIn("Invalid arguments", text)
        self.assertTrue(self.partner.exists())

    def test_callbacks_registered_by_a_preview_go_with_it(self):
        """A preview that fails before settling leaves no before- or after-commit callback behind
        (they would run at the real commit on records that were rolled back), and gives the cursor
        back its own commit (here the test framework's)."""

        @dataclass
        class Context:
            env: object

        cr = self.env.cr
        own_commit = cr.commit

        def tracked():
            pass

        def mailed():
            pass

        def work(ctx):
            ctx.env.cr.precommit.add(tracked)
            ctx.env.cr.postcommit.add(mailed)
            ctx.env.cr.precommit.data["mcp.preview.test"] = True
            raise ValueError("failed before settling")

        with self.assertRaises(ValueError):
            preview.run(Context(self.env), work)
        self.assertNotIn(tracked, cr.precommit._funcs)
        self.assertNotIn(mailed, cr.postcommit._funcs)
        self.assertNotIn("mcp.preview.test", cr.precommit.data)
        self.assertIs(cr.commit, own_commit)
