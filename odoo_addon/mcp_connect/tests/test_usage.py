from datetime import timedelta

import mcp_connect_core as core
from lxml import etree
from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .. import config


def search_filter(model, name):
    """The domain of the search view's filter ``name``, as the web client evaluates it."""
    arch = etree.fromstring(model.get_views([(False, "search")])["views"]["search"]["arch"])
    (node,) = arch.xpath(f"//filter[@name='{name}']")
    return safe_eval(node.get("domain"))


@tagged("post_install", "-at_install")
class TestUsage(TransactionCase):
    """Usage at a glance: figures counted from known audit rows, the filters that keep the lists
    readable, and an employee who sees their own calls only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="mcp_usage_manager", groups="mcp_connect.group_mcp_manager")
        cls.ada = new_test_user(cls.env, login="mcp_usage_ada", groups="mcp_connect.group_mcp_user")
        cls.bob = new_test_user(cls.env, login="mcp_usage_bob", groups="mcp_connect.group_mcp_user")
        cls.claude = cls._connection("Claude", "browser")
        cls.cursor = cls._connection("Cursor", "custom")
        consents = cls.env["mcp.consent"]
        cls.ada_claude = consents._remember(cls.ada, cls.claude, ["mcp:read"])
        cls.bob_claude = consents._remember(cls.bob, cls.claude, ["mcp:read"])
        cls.bob_cursor = consents._remember(cls.bob, cls.cursor, ["mcp:read"])
        audit = cls.env["mcp.audit.log"]
        rows = []
        # Ada on Claude: 100 search_records calls of 1 to 100 ms; the first three failed, the next
        # two were denied.
        for duration in range(1, 101):
            outcome = "error" if duration <= 3 else "denied" if duration <= 5 else "ok"
            rows.append(cls._call(cls.ada, cls.claude, "tools/call", "search_records", duration, outcome))
        # Protocol housekeeping, a call refused by the rate limit before it named its tool, a security event.
        rows += [
            cls._call(cls.ada, cls.claude, "initialize", None, 900),
            cls._call(cls.ada, cls.claude, "notifications/initialized", None, 900),
            cls._call(cls.ada, cls.claude, "tools/list", None, 900),
            cls._call(cls.ada, cls.claude, "tools/call", None, 900, "rate_limited"),
            {
                "event": "consent_withdrawn",
                "connection_id": cls.claude.id,
                "user_id": cls.ada.id,
                "outcome": "denied",
            },
        ]
        # Bob on Cursor: four calls.
        rows += [cls._call(cls.bob, cls.cursor, "tools/call", "whoami", 10) for _ in range(4)]
        audit._record_many(rows)
        cls.ten_days_ago = cls._aged(cls._call(cls.ada, cls.claude, "tools/call", "read_records", 7), days=10)
        cls._aged(cls._call(cls.ada, cls.claude, "tools/call", "read_records", 100000, "error"), days=40)

    @classmethod
    def _connection(cls, name, connection_type, **values):
        return cls.env["mcp.connection"].create(
            {
                "name": name,
                "connection_type": connection_type,
                "client_id": core.mint_token(kind="client_id")[0],
                "redirect_uris": "https://client.example.com/callback",
                # A tool that registers itself has no owner.
                "owner_user_id": cls.env.user.id if connection_type == "custom" else False,
                **values,
            }
        )

    @staticmethod
    def _call(user, connection, method, tool, duration, outcome="ok"):
        return {
            "connection_id": connection.id,
            "user_id": user.id,
            "method": method,
            "tool": tool,
            "outcome": outcome,
            "duration_ms": duration,
        }

    @classmethod
    def _aged(cls, row, days):
        """Write ``row`` as if it had been recorded ``days`` ago."""
        cls.env["mcp.audit.log"]._record(row)
        entry = cls.env["mcp.audit.log"].search([], limit=1)
        when = fields.Datetime.now() - timedelta(days=days)
        cls.env.cr.execute(SQL("UPDATE mcp_audit_log SET create_date = %s WHERE id = %s", when, entry.id))
        entry.invalidate_recordset()
        return when

    def test_calls_errors_and_refusals_are_measures(self):
        entries = self.env["mcp.audit.log"].search([("connection_id", "=", self.claude.id)])
        self.assertEqual(sum(entries.mapped("call_count")), 106)  # every row but the event
        self.assertEqual(sum(entries.mapped("error_count")), 4)
        self.assertEqual(sum(entries.mapped("refusal_count")), 3)  # two denied, one rate limited
        event = entries.filtered("event")
        self.assertEqual((event.call_count, event.error_count, event.refusal_count), (0, 0, 0))

    def test_connection_figures(self):
        claude = self.claude.with_user(self.manager)
        self.assertEqual(claude.tool_calls_7d, 100)
        self.assertEqual(claude.tool_calls_30d, 101)  # and not the call of 40 days ago
        self.assertEqual(claude.errors_30d, 3)
        self.assertEqual(claude.refusals_30d, 3)
        # 95th percentile (continuous) of 1..100 and 7, not counting housekeeping (900 ms) nor the
        # call of 40 days ago (100 s).
        self.assertEqual(claude.p95_duration_ms, 95)
        cursor = self.cursor.with_user(self.manager)
        self.assertEqual((cursor.tool_calls_30d, cursor.errors_30d, cursor.p95_duration_ms), (4, 0, 10))

    def test_figures_per_tool(self):
        rows = self.claude.with_user(self.manager).usage_ids
        by_tool = {row.tool: row for row in rows}
        self.assertEqual(set(by_tool), {"search_records", "read_records"})
        search = by_tool["search_records"]
        self.assertEqual((search.calls, search.errors, search.refusals), (100, 3, 2))
        self.assertEqual(search.p95_duration_ms, 95)  # 95.05
        self.assertEqual(search.avg_duration_ms, 51)  # 50.5, rounded
        read = by_tool["read_records"]
        self.assertEqual((read.calls, read.errors, read.p95_duration_ms), (1, 0, 7))
        self.assertEqual(read.last_call_at, self.ten_days_ago.replace(microsecond=0))

    def test_employee_sees_their_own_figures_only(self):
        ada_claude = self.ada_claude.with_user(self.ada)
        self.assertEqual(ada_claude.my_calls_30d, 101)
        self.assertTrue(ada_claude.my_last_call_at)
        # Bob allowed Claude too, but every call on it is Ada's.
        bob = self.env["mcp.consent"].with_user(self.bob).search([])
        self.assertEqual(bob, self.bob_claude | self.bob_cursor)
        self.assertEqual(self.bob_claude.with_user(self.bob).my_calls_30d, 0)
        self.assertFalse(self.bob_claude.with_user(self.bob).my_last_call_at)
        self.assertEqual(self.bob_cursor.with_user(self.bob).my_calls_30d, 4)

    def test_employee_reads_their_own_calls_only(self):
        action = self.env["res.users"].with_user(self.bob).action_view_my_mcp_usage()
        audit = self.env["mcp.audit.log"].with_user(self.bob)
        mine = audit.search(action["domain"])
        self.assertEqual(len(mine), 4)
        self.assertEqual(mine.user_id, self.bob)
        # The record rule, whatever the domain: none of Ada's calls on the tool Bob also allowed.
        self.assertFalse(audit.search([("connection_id", "=", self.claude.id)]))
        self.assertEqual(audit.search_count([]), 4)
        groups = dict(audit._read_group([], ["connection_id"], ["call_count:sum"]))
        self.assertEqual(groups, {self.cursor: 4})

    def test_employee_reads_no_connection_wide_figures(self):
        with self.assertRaises(AccessError):
            self.env["mcp.usage.report"].with_user(self.bob).search([])
        for name in ("tool_calls_30d", "errors_30d", "refusals_30d", "p95_duration_ms", "usage_ids"):
            with self.subTest(field=name), self.assertRaises(AccessError):
                self.claude.with_user(self.bob).read([name])

    def test_housekeeping_filter(self):
        audit = self.env["mcp.audit.log"].with_user(self.manager)
        domain = search_filter(audit, "filter_hide_housekeeping")
        shown = audit.search([*domain, ("connection_id", "=", self.claude.id)])
        self.assertFalse({"initialize", "notifications/initialized", "tools/list"} & set(shown.mapped("method")))
        self.assertEqual(len(shown.filtered(lambda e: e.method == "tools/call")), 103)
        self.assertTrue(shown.filtered("event"), "security events stay")
        for xmlid in ("mcp_connect.mcp_audit_log_action", "mcp_connect.mcp_usage_action"):
            action = self.env["ir.actions.actions"]._for_xml_id(xmlid)
            self.assertEqual(safe_eval(action["context"]).get("search_default_filter_hide_housekeeping"), 1)
        self.assertEqual(
            self.claude.action_view_audit_log()["context"].get("search_default_filter_hide_housekeeping"), 1
        )

    def test_unused_registrations_filter(self):
        unused = self._connection("Claude", "browser")
        unused_metadata = self._connection("Claude", "metadata")
        waiting = self._connection("Claude", "browser", state="pending")
        used = self._connection("Claude", "browser")
        used.last_used_at = fields.Datetime.now()
        new_custom = self._connection("Cursor", "custom")
        connections = self.env["mcp.connection"].with_user(self.manager)
        domain = search_filter(connections, "filter_hide_unused")
        shown = connections.search(domain)
        self.assertNotIn(unused, shown)
        self.assertNotIn(unused_metadata, shown)
        for kept in (waiting, used, new_custom, self.claude):  # self.claude: users allowed it
            self.assertIn(kept, shown)
        action = connections._action_open_connections()
        self.assertEqual(action["context"].get("search_default_filter_hide_unused"), 1)

    def test_list_says_who_and_when(self):
        self.assertEqual(self.claude.signed_in_by_id, self.ada)  # the first who allowed it
        self.assertEqual(self.cursor.signed_in_by_id, self.env.user)  # its owner
        arch = etree.fromstring(
            self.env["mcp.connection"].with_user(self.manager).get_views([(False, "list")])["views"]["list"]["arch"]
        )
        names = arch.xpath("//field/@name")
        self.assertIn("signed_in_by_id", names)
        self.assertIn("create_date", names)
        optional = [node.get("name") for node in arch.xpath("//field[@optional]")]
        self.assertIn("calls_24h", optional)

    def test_rate_limit_zero_shows_the_settings_default(self):
        config.set_value(self.env, "default_rate_limit", 45)
        self.cursor.invalidate_recordset()
        self.assertEqual(self.cursor.default_rate_limit, 45)
        for model in ("mcp.connection", "mcp.connection.template"):
            views = self.env[model].with_user(self.manager).get_views([(False, "form")])
            arch = etree.fromstring(views["views"]["form"]["arch"])
            hint = arch.xpath("//div[hasclass('o_mcp_rate_limit_default')]")
            self.assertTrue(hint[0].xpath("./field[@name='default_rate_limit']"), model)
            self.assertEqual(hint[0].get("invisible"), "rate_limit", model)


@tagged("post_install", "-at_install")
class TestUsageViews(TransactionCase):
    def test_views_load(self):
        manager = new_test_user(self.env, login="mcp_usage_views", groups="mcp_connect.group_mcp_manager")
        for xmlid in (
            "mcp_connect.mcp_usage_action",
            "mcp_connect.mcp_usage_report_action",
            "mcp_connect.mcp_audit_log_action",
            "mcp_connect.mcp_connection_action",
        ):
            action = self.env["ir.actions.actions"].with_user(manager)._for_xml_id(xmlid)
            views = [(False, mode) for mode in action["view_mode"].split(",")] + [(False, "search")]
            with self.subTest(action=xmlid):
                loaded = self.env[action["res_model"]].with_user(manager).get_views(views)
                self.assertEqual(set(loaded["views"]), {mode for _id, mode in views})
        audit = self.env["mcp.audit.log"].with_user(manager)
        audit._read_group([], ["create_date:day", "connection_id"], ["call_count:sum"])
        audit._read_group(
            [], ["connection_id", "tool"], ["call_count:sum", "error_count:sum", "refusal_count:sum", "duration_ms:avg"]
        )
        self.env["mcp.usage.report"].with_user(manager).search_read([])

    def test_status_is_a_badge_and_revoked_a_ribbon(self):
        manager = new_test_user(self.env, login="mcp_usage_form", groups="mcp_connect.group_mcp_manager")
        form = self.env["mcp.connection"].with_user(manager).get_views([(False, "form")])["views"]["form"]["arch"]
        arch = etree.fromstring(form)
        self.assertFalse(arch.xpath("//field[@widget='statusbar']"))
        self.assertTrue(arch.xpath("//sheet//field[@name='status'][@widget='badge']"))
        self.assertTrue(arch.xpath("//widget[@name='web_ribbon'][@title='Revoked']"))
