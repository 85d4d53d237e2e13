"""The bearer token resolved once per worker (``grants``): what a warm call still reads, and
every change that must reach the next call through the cache."""

import logging
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.sql_db import Cursor
from odoo.tests import tagged
from odoo.tests.common import freeze_time
from odoo.tools import SQL

from .. import grants
from ..storage import OdooStorage
from .common import McpCase

_logger = logging.getLogger(__name__)

# Tables a warm call must not read: what the cached grant and connection rules hold.
CACHED_TABLES = ('"mcp_token"', '"mcp_connection"', '"mcp_connection_model"', '"mcp_tool"', '"res_users"')


@contextmanager
def captured_queries():
    """Every SQL statement run in this process meanwhile, the HTTP server thread's included."""
    queries = []
    execute = Cursor.execute

    def recording(self, query, params=None, log_exceptions=None):
        queries.append(query.code if isinstance(query, SQL) else str(query))
        return execute(self, query, params, log_exceptions)

    with patch("odoo.sql_db.Cursor.execute", recording):
        yield queries


@tagged("post_install", "-at_install")
class TestBearerCache(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Cached Qzx", "ref": "CACHE-1"})

    def search(self, token=None):
        return self.tool_ok(
            "search_records",
            {"model": "res.partner", "domain": [["name", "like", "Qzx"]], "fields": ["name", "ref"]},
            token=token,
        )

    def assert_refused(self, token=None, contains=None):
        response = self.modern("tools/list", token=token or self.token)
        self.assertEqual(response.status_code, 401, response.text)
        if contains:
            self.assertIn(contains, response.headers.get("WWW-Authenticate", "") + response.text)

    def rule(self, model_name, domain="[]"):
        return self.env["mcp.connection.model"].create(
            {
                "connection_id": self.connection.id,
                "model_id": self.env["ir.model"]._get(model_name).id,
                "domain": domain,
            }
        )

    def test_a_warm_call_reads_no_token_connection_rule_or_user(self):
        arguments = {"model": "res.partner", "domain": [], "fields": ["name", "email"], "limit": 5}
        self.tool_ok("search_records", arguments)
        self.env.flush_all()
        with captured_queries() as queries:
            self.tool_ok("search_records", arguments)
        for query in queries:
            _logger.info("warm search_records query: %s", " ".join(query.split())[:160])
        _logger.info("warm search_records: %d queries", len(queries))
        self.assertEqual([q for q in queries if any(table in q for table in CACHED_TABLES)], [])

    def test_a_warm_call_naming_its_session_reads_no_session(self):
        session, _body = self.initialize()
        self.assertEqual(self.legacy("ping", session=session).status_code, 200)
        self.env.flush_all()
        with captured_queries() as queries:
            self.assertEqual(self.legacy("ping", session=session).status_code, 200)
        self.assertEqual([q for q in queries if "mcp_session" in q], [])
        # Ended in another transaction, as by another worker (which then signals the change).
        self.env["mcp.session"].search([("handle", "=", session)]).write({"ended": True})
        grants.forget(self.env)
        self.assertEqual(self.legacy("ping", session=session).status_code, 404)

    def test_a_session_the_server_never_gave_is_looked_up_each_time(self):
        """Only sessions that exist are kept in the worker's cache: a client with a valid token that
        names made-up sessions cannot fill it (nor evict the grants it holds)."""
        self.initialize()
        for _attempt in range(2):
            with captured_queries() as queries:
                self.legacy("ping", session="mcp_made_up_session")
            self.assertTrue([q for q in queries if "mcp_session" in q and "handle" in q], queries)

    def test_revocation_by_a_manager_applies_to_the_next_call(self):
        self.search()
        self.env["mcp.token"].search([("user_id", "=", self.user.id)]).action_revoke()
        self.assert_refused(contains="revoked")

    def test_revocation_at_the_revoke_endpoint_applies_to_the_next_call(self):
        self.search()
        response = self.post_form(
            "/oauth/revoke", {"token": self.token}, self.basic(self.connection.client_id, self.secret)
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assert_refused(contains="revoked")

    def test_a_family_revoked_by_a_replay_applies_to_the_next_call(self):
        self.search()
        family = self.env["mcp.token"].sudo().search([("user_id", "=", self.user.id)], limit=1).family
        self.env["mcp.token"].sudo().search([("user_id", "=", self.user.id)]).write({"family": family})
        self.env.flush_all()
        OdooStorage(self.env).revoke_family(family)
        self.assert_refused(contains="revoked")

    def test_withdrawal_by_the_user_applies_to_the_next_call(self):
        self.search()
        consent = self.env["mcp.consent"].search(
            [("user_id", "=", self.user.id), ("connection_id", "=", self.connection.id)]
        )
        consent.action_revoke_access()
        self.assert_refused(contains="revoked")

    def test_a_revoked_connection_applies_to_the_next_call(self):
        self.search()
        self.connection.action_revoke()
        self.assert_refused(contains="revoked")

    def test_a_connection_waiting_for_approval_applies_to_the_next_call(self):
        self.search()
        self.connection.sudo().state = "pending"
        response = self.modern("tools/call", {"name": "search_records", "arguments": {"model": "res.partner"}})
        self.assertEqual(response.status_code, 403, response.text)

    def test_expiry_is_checked_on_every_call(self):
        self.search()
        with freeze_time(fields.Datetime.now() + timedelta(hours=2)):
            self.assert_refused(contains="expired")

    def test_a_user_leaving_the_group_applies_to_the_next_call(self):
        self.search()
        self.user.write(
            {
                "group_ids" if "group_ids" in self.user._fields else "groups_id": [
                    Command.unlink(self.env.ref("mcp_connect.group_mcp_user").id)
                ]
            }
        )
        self.assert_refused(contains="no longer use AI tools")

    def test_a_group_losing_the_user_applies_to_the_next_call(self):
        self.search()
        group = self.env.ref("mcp_connect.group_mcp_user")
        group.write({"user_ids" if "user_ids" in group._fields else "users": [Command.unlink(self.user.id)]})
        self.assert_refused(contains="no longer use AI tools")

    def test_an_archived_user_applies_to_the_next_call(self):
        self.search()
        self.user.active = False
        self.assert_refused(contains="no longer use AI tools")

    def test_a_company_taken_from_the_user_applies_to_the_next_call(self):
        other = self.env["res.company"].create({"name": "Cache Other Co"})
        self.user.company_ids = [Command.link(other.id)]
        token = self.make_token(company_id=other.id)
        self.search(token)
        self.user.company_ids = [Command.unlink(other.id)]
        self.assert_refused(token, contains="companies")

    def test_a_tool_disallowed_applies_to_the_next_call(self):
        self.search()
        whoami = self.env["mcp.tool"].search([("name", "=", "whoami")])
        self.connection.allowed_tool_ids = [Command.set(whoami.ids)]
        self.tool_error("search_records", {"model": "res.partner"}, contains="Refused by this connection's policy")

    def test_an_archived_tool_applies_to_the_next_call(self):
        self.search()
        self.env["mcp.tool"].search([("name", "=", "search_records")]).active = False
        self.tool_error("search_records", {"model": "res.partner"}, contains="archived")

    def test_a_rate_limit_applies_to_the_next_call(self):
        self.search()
        self.connection.rate_limit = 1
        response = self.modern("tools/call", {"name": "search_records", "arguments": {"model": "res.partner"}})
        self.assertEqual(response.status_code, 429, response.text)

    def test_a_model_rule_added_changed_and_removed_applies_to_the_next_call(self):
        self.assertEqual([r["id"] for r in self.search()["records"]], [self.partner.id])
        rule = self.rule("res.partner", "[('ref', '=', 'NOT-THIS')]")
        self.assertEqual(self.search()["records"], [])
        rule.domain = "[('ref', '=', 'CACHE-1')]"
        self.assertEqual([r["id"] for r in self.search()["records"]], [self.partner.id])
        rule.can_read = False
        self.tool_error("search_records", {"model": "res.partner"}, contains="not allowed")
        rule.unlink()
        self.assertEqual([r["id"] for r in self.search()["records"]], [self.partner.id])


@tagged("post_install", "-at_install")
class TestDataScopesPerModel(McpCase):
    def test_only_the_rules_of_the_models_a_call_reaches_are_evaluated(self):
        """A rule of another model is not evaluated: here one that could not be (stored by SQL,
        past the constraint), which a call on res.partner never reaches."""
        self.env["mcp.connection.model"].create(
            {"connection_id": self.connection.id, "model_id": self.env["ir.model"]._get("res.partner").id}
        )
        broken = self.env["mcp.connection.model"].create(
            {"connection_id": self.connection.id, "model_id": self.env["ir.model"]._get("res.country").id}
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE mcp_connection_model SET domain = %s WHERE id = %s", "[('id', '=', 1 / 0)]", broken.id)
        )
        broken.invalidate_recordset(["domain"])
        grants.forget(self.env)
        data = self.tool_ok("search_records", {"model": "res.partner", "domain": [], "fields": ["name"], "limit": 1})
        self.assertEqual(len(data["records"]), 1)

    def test_a_filter_on_the_user_evaluated_inside_the_guard(self):
        """The filter of res.partner is first needed inside the ORM, while the guard is active (a
        partner reached from the user): it reads the user as ir.rule does, without recursion."""
        self.env["mcp.connection.model"].create(
            {
                "connection_id": self.connection.id,
                "model_id": self.env["ir.model"]._get("res.users").id,
                "domain": "[('id', '=', user.id)]",
            }
        )
        self.env["mcp.connection.model"].create(
            {
                "connection_id": self.connection.id,
                "model_id": self.env["ir.model"]._get("res.partner").id,
                "domain": "[('id', 'in', [user.partner_id.id, user.company_id.partner_id.id])]",
            }
        )
        data = self.tool_ok("search_records", {"model": "res.users", "domain": [], "fields": ["name", "partner_id"]})
        self.assertEqual([r["id"] for r in data["records"]], [self.user.id])
        self.assertEqual(data["records"][0]["partner_id"]["id"], self.user.partner_id.id)
        partners = self.tool_ok("search_records", {"model": "res.partner", "fields": ["name"]})
        self.assertEqual(
            {r["id"] for r in partners["records"]}, {self.user.partner_id.id, self.user.company_id.partner_id.id}
        )
