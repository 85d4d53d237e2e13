import json
from unittest.mock import patch

from odoo import fields
from odoo.models import BaseModel
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..transactions import independent_cursor
from .common import McpCase


def enter_registry_test_mode(case):
    """New cursors of the registry wrap the test's cursor until the test ends (named differently in 18.0)."""
    if hasattr(case, "registry_enter_test_mode"):  # 19.0
        case.registry_enter_test_mode()
    else:  # 18.0
        case.registry.enter_test_mode(case.cr)
        case.addCleanup(case.registry.leave_test_mode)


@tagged("post_install", "-at_install")
class TestIndependentCursor(TransactionCase):
    def isolation(self, cr):
        cr.execute("SHOW transaction_isolation")
        return cr.fetchone()[0]

    def test_a_cursor_of_its_own_reads_committed_data(self):
        with independent_cursor(self.env) as cr:
            self.assertIsNot(cr, self.env.cr)
            self.assertEqual(self.isolation(cr), "read committed")

    def test_under_test_mode_it_is_a_test_cursor_inside_the_tests_transaction(self):
        enter_registry_test_mode(self)
        self.assertEqual(self.isolation(self.env.cr), "repeatable read")
        with independent_cursor(self.env) as cr:
            self.assertIsNot(cr, self.env.cr)
            # Not the first statement of its transaction: the level is left alone, not an error.
            self.assertEqual(self.isolation(cr), "repeatable read")
        counter, now = self.env["mcp.rate.counter"], fields.Datetime.now()
        self.assertIsNone(counter._hit("test:independent", 2, 60, now))
        self.assertIsNone(counter._hit("test:independent", 2, 60, now))
        self.assertTrue(counter._hit("test:independent", 2, 60, now))
        self.env.cr.execute("SELECT count FROM mcp_rate_counter WHERE key = 'test:independent'")
        self.assertEqual(self.env.cr.fetchone()[0], 3)


FAILING_SEARCH = {"model": "res.partner", "domain": [["ref", "!=", "FAILING"]], "fields": ["name"]}


@tagged("post_install", "-at_install")
class TestReadToolFailure(McpCase):
    """A read-only tool that fails on a SQL error leaves nothing behind and still answers and
    audits cleanly, whether it runs alone in its request (no savepoint) or after a write."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Failing read Qzy", "ref": "BEFORE"})

    def failing_search(self):
        """The tool's search of partners (its domain names ``FAILING``) writes half-way, then runs a
        statement PostgreSQL refuses."""
        original = BaseModel._search
        partner_id = self.partner.id

        def _search(model, *args, **kwargs):
            if model._name == "res.partner" and "FAILING" in repr(args[:1]):
                model.env.cr.execute("UPDATE res_partner SET ref = 'HALF-WAY' WHERE id = %s", [partner_id])
                model.env.cr.execute("SELECT 1 / 0")
            return original(model, *args, **kwargs)

        return patch.object(BaseModel, "_search", _search)

    def last_audit(self, tool):
        return self.env["mcp.audit.log"].search([("tool", "=", tool)], order="id desc", limit=1)

    def partner_ref(self):
        self.env.cr.execute("SELECT ref FROM res_partner WHERE id = %s", [self.partner.id])
        return self.env.cr.fetchone()[0]

    @mute_logger("odoo.sql_db", "odoo.addons.mcp_connect.tools.runner")
    def test_a_sql_error_alone_in_its_request_is_a_clean_error_with_its_audit_row(self):
        with self.failing_search():
            text = self.tool_error("search_records", FAILING_SEARCH)
        self.assertIn("Internal error", text)
        audit = self.last_audit("search_records")
        self.assertEqual((audit.outcome, audit.http_status, audit.model_name), ("error", 200, "res.partner"))
        self.assertIn("Internal error", audit.error_summary)
        self.assertEqual(self.partner_ref(), "BEFORE")
        # The next call finds the database as it was.
        found = self.tool_ok("search_records", {"model": "res.partner", "domain": [["name", "=", "Failing read Qzy"]]})
        self.assertEqual(found["total"], 1)

    @mute_logger("odoo.sql_db", "odoo.addons.mcp_connect.tools.runner")
    def test_a_sql_error_after_a_write_of_the_same_batch_keeps_the_write(self):
        session, _body = self.initialize(version="2025-03-26")
        batch = [
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {
                    "name": "create_records",
                    "arguments": {"model": "res.partner", "values": {"name": "Kept Qzy"}},
                },
            },
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "search_records", "arguments": FAILING_SEARCH},
            },
        ]
        with self.failing_search():
            response = self.post_mcp(batch, self.token, {"Mcp-Session-Id": session})
        self.assertEqual(response.status_code, 200, response.text)
        created, failed = sorted(response.json(), key=lambda answer: answer["id"])
        self.assertFalse(created["result"].get("isError"), created)
        self.assertTrue(failed["result"]["isError"], failed)
        new_id = json.loads(created["result"]["content"][0]["text"])["ids"][0]
        self.assertEqual(self.env["res.partner"].browse(new_id).name, "Kept Qzy")
        self.assertEqual(self.partner_ref(), "BEFORE")
        self.assertEqual(self.last_audit("create_records").outcome, "ok")
        self.assertEqual(self.last_audit("search_records").outcome, "error")
