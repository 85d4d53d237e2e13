"""The endpoint as hosted clients use it in the field, not only as the spec says they should.

claude.ai never echoes ``Mcp-Session-Id`` nor sends ``MCP-Protocol-Version`` after initialize;
Claude Code and the Copilot CLI have dropped the session header or replayed a stale one;
``mcp-remote`` needs a session id on the initialize answer. Batches (2025-03-26) and
resources pass the same gate as single tool calls: rate limit, allowed tools, audit.
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import LEGACY, McpCase, clock_frozen
from .test_mcp_policy import tool_ids


def request(method, params=None, request_id=1):
    body = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = params
    return body


def whoami_call(request_id=1):
    return request("tools/call", {"name": "whoami", "arguments": {}}, request_id)


@tagged("post_install", "-at_install")
class TestSessionsAreHints(McpCase):
    def bare(self, payload, token=None, headers=None):
        """A request as claude.ai sends it after initialize: no session id, no version header."""
        return self.post_mcp(payload, token or self.token, headers)

    def delete_session(self, session, token=None):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if session:
            headers["Mcp-Session-Id"] = session
        return self.opener.request("DELETE", self.base_url() + "/api/mcp", headers=headers)

    def test_tool_call_without_session_nor_version_header(self):
        session, _body = self.initialize()
        self.assertTrue(session, "mcp-remote needs a session id on the initialize answer")
        response = self.bare(whoami_call())
        self.assertEqual(response.status_code, 200, response.text)
        result = response.json()["result"]
        self.assertFalse(result["isError"], result)
        self.assertEqual(result["structuredContent"]["user"]["id"], self.user.id)

    def test_version_comes_from_the_last_initialize_of_the_token(self):
        batch = [whoami_call(1), request("tools/list", request_id=2)]
        self.initialize(version="2025-03-26")
        response = self.bare(batch)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual([item["id"] for item in response.json()], [1, 2])
        self.initialize(version="2025-06-18")
        response = self.bare(batch)
        self.assertEqual(response.status_code, 400, response.text)
        self.assertIn("2025-06-18", response.json()["error"]["message"])
        # A header, when present, wins over what the token last negotiated.
        response = self.bare(batch, headers={"MCP-Protocol-Version": "2025-03-26"})
        self.assertEqual(response.status_code, 200, response.text)
        # Another token (another sign-in) has not initialized: the spec's default, 2025-03-26.
        response = self.bare(batch, token=self.make_token())
        self.assertEqual(response.status_code, 200, response.text)

    def test_unsupported_version_header_is_still_refused(self):
        self.initialize()
        response = self.bare(whoami_call(), headers={"MCP-Protocol-Version": "2024-01-01"})
        self.assertEqual(response.status_code, 400, response.text)

    def test_unknown_session_is_served(self):
        for stale in ("not-a-session", "x" * 300):
            response = self.bare(whoami_call(), headers={"Mcp-Session-Id": stale})
            self.assertEqual(response.status_code, 200, response.text)
            self.assertFalse(response.json()["result"]["isError"])
        session, _body = self.initialize()
        self.env["mcp.session"].sudo().search([("handle", "=", session)]).unlink()
        response = self.bare(whoami_call(), headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY})
        self.assertEqual(response.status_code, 200, response.text)

    def test_another_users_session_grants_nothing(self):
        other_token = self.make_token(user=self.other_user)
        other_session, _body = self.initialize(token=other_token, version="2025-03-26")
        self.initialize(version="2025-06-18")
        response = self.bare(whoami_call(), headers={"Mcp-Session-Id": other_session})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["result"]["structuredContent"]["user"]["id"], self.user.id)
        # Nor does it lend its version: this token negotiated 2025-06-18, which has no batches.
        response = self.bare([whoami_call()], headers={"Mcp-Session-Id": other_session})
        self.assertEqual(response.status_code, 400, response.text)
        # Ended by its own user, it is still only unknown to this one.
        self.assertEqual(self.delete_session(other_session, other_token).status_code, 204)
        response = self.bare(whoami_call(), headers={"Mcp-Session-Id": other_session})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self.delete_session(other_session).status_code, 404)

    def test_deleted_session_is_404(self):
        session, _body = self.initialize()
        self.assertEqual(self.delete_session(session).status_code, 204)
        response = self.bare(whoami_call(), headers={"Mcp-Session-Id": session})
        self.assertEqual(response.status_code, 404, response.text)
        response = self.bare(whoami_call(), headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY})
        self.assertEqual(response.status_code, 404, response.text)
        self.assertEqual(self.bare(whoami_call()).status_code, 200)
        self.assertEqual(self.delete_session(session).status_code, 404)
        self.assertEqual(self.delete_session(None).status_code, 400)

    def test_a_deleted_session_lends_its_version_to_nobody(self):
        batch = [whoami_call(1), request("tools/list", request_id=2)]
        self.initialize(version="2025-03-26")
        session, _body = self.initialize(version="2025-06-18")
        self.assertEqual(self.bare(batch).status_code, 400)
        self.assertEqual(self.delete_session(session).status_code, 204)
        # The sign-in's live initialize (2025-03-26, batches allowed) answers now.
        self.assertEqual(self.bare(batch).status_code, 200)

    def test_a_batch_is_bounded(self):
        self.initialize(version="2025-03-26")
        before = self.env["mcp.audit.log"].search_count([])
        response = self.bare([request("ping", request_id=n) for n in range(1, 102)])
        self.assertEqual(response.status_code, 400, response.text)
        self.assertIn("at most 100", response.json()["error"]["message"])
        self.assertEqual(self.env["mcp.audit.log"].search_count([]), before + 1)

    def test_discover_then_initialize_era_without_headers(self):
        self.assertEqual(self.modern("server/discover").status_code, 200)
        response = self.bare(whoami_call())
        self.assertEqual(response.status_code, 200, response.text)
        self.assertFalse(response.json()["result"]["isError"])

    def test_initialize_era_then_2026_07_28(self):
        self.initialize(version="2025-06-18")
        self.assertEqual(self.bare(whoami_call()).status_code, 200)
        result = self.modern("tools/call", {"name": "whoami", "arguments": {}}).json()["result"]
        self.assertEqual(result["resultType"], "complete")
        self.assertEqual(self.bare(request("tools/list")).status_code, 200)


@tagged("post_install", "-at_install")
class TestInstructions(McpCase):
    def test_instructions_name_the_user_and_the_connection_limits(self):
        self.user.write({"tz": "Europe/Brussels", "lang": "en_US"})
        _session, body = self.initialize()
        for instructions in (body["result"]["instructions"], self.modern("server/discover").json()["result"]):
            if isinstance(instructions, dict):
                self.assertEqual(instructions["cacheScope"], "private")
                instructions = instructions["instructions"]
            self.assertIn("Ada Lovelace", instructions)
            self.assertIn(self.user.company_id.name, instructions)
            self.assertIn("en_US", instructions)
            self.assertIn("Europe/Brussels", instructions)
            self.assertIn("every model", instructions)
        partner = self.env["ir.model"]._get("res.partner")
        country = self.env["ir.model"]._get("res.country")
        self.connection.model_rule_ids = [(0, 0, {"model_id": partner.id}), (0, 0, {"model_id": country.id})]
        instructions = self.initialize()[1]["result"]["instructions"]
        self.assertIn("res.partner", instructions)
        self.assertIn("res.country", instructions)
        self.assertNotIn("every model", instructions)
        self.assertLess(len(instructions), 1500)


@tagged("post_install", "-at_install")
class TestRateLimitPerUser(McpCase):
    @clock_frozen
    def test_each_user_of_a_connection_has_a_bucket(self):
        self.connection.rate_limit = 2
        other = self.make_token(user=self.other_user)
        for _call in range(2):
            self.assertEqual(self.modern("tools/list").status_code, 200)
        self.assertEqual(self.modern("tools/list").status_code, 429)
        self.assertEqual(self.modern("tools/list", token=other).status_code, 200)

    @clock_frozen
    def test_only_messages_that_do_work_count(self):
        self.connection.rate_limit = 1
        for _round in range(3):
            session, _body = self.initialize()
            headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY}
            self.assertEqual(self.post_mcp(request("ping"), self.token, headers).status_code, 200)
            notification = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            self.assertEqual(self.post_mcp(notification, self.token, headers).status_code, 202)
            self.assertEqual(self.post_mcp(request("no/such/method"), self.token, headers).status_code, 200)
            self.assertEqual(self.post_mcp({"jsonrpc": "1.0"}, self.token, headers).status_code, 400)
            self.assertEqual(self.modern("server/discover").status_code, 200)
        self.assertEqual(self.post_mcp(whoami_call(), self.token).status_code, 200)
        response = self.post_mcp(whoami_call(7), self.token)
        self.assertEqual(response.status_code, 429)
        self.assertEqual(response.json()["id"], 7)
        self.assertGreater(int(response.headers["Retry-After"]), 0)

    @clock_frozen
    def test_each_message_of_a_batch_counts(self):
        self.connection.rate_limit = 3
        self.initialize(version="2025-03-26")
        batch = [whoami_call(i) for i in range(1, 6)] + [request("ping", request_id=6)]
        response = self.post_mcp(batch, self.token)
        self.assertEqual(response.status_code, 200, response.text)
        answers = {item["id"]: item for item in response.json()}
        for served in (1, 2, 3, 6):
            self.assertIn("result", answers[served])
        for refused in (4, 5):
            self.assertEqual(answers[refused]["error"]["code"], -32000)
            self.assertIn("Rate limit", answers[refused]["error"]["message"])
        self.assertEqual(self.post_mcp(whoami_call(), self.token).status_code, 429)
        outcomes = (
            self.env["mcp.audit.log"]
            .search([("connection_id", "=", self.connection.id), ("method", "=", "tools/call")], order="id")
            .mapped("outcome")
        )
        self.assertEqual(outcomes, ["ok"] * 3 + ["rate_limited"] * 3)


@tagged("post_install", "-at_install")
class TestOneGateForEveryMessage(McpCase):
    def audit(self, **domain):
        return self.env["mcp.audit.log"].search(
            [("connection_id", "=", self.connection.id)] + [(k, "=", v) for k, v in domain.items()], order="id"
        )

    def test_one_audit_row_per_message_of_a_batch(self):
        self.initialize(version="2025-03-26")
        before = self.audit()
        batch = [
            request("tools/call", {"name": "count_records", "arguments": {"model": "res.partner"}}, 1),
            request(
                "tools/call",
                {"name": "create_records", "arguments": {"model": "res.partner", "values": {"name": "Batched"}}},
                2,
            ),
            request("tools/call", {"name": "search_records", "arguments": {"model": "ir.config_parameter"}}, 3),
            request("tools/list", request_id=4),
        ]
        response = self.post_mcp(batch, self.token)
        self.assertEqual(response.status_code, 200, response.text)
        rows = self.audit() - before
        self.assertEqual(
            [(row.method, row.tool, row.model_name, row.outcome) for row in rows],
            [
                ("tools/call", "count_records", "res.partner", "ok"),
                ("tools/call", "create_records", "res.partner", "ok"),
                ("tools/call", "search_records", "ir.config_parameter", "error"),
                ("tools/list", False, False, "ok"),
            ],
        )
        self.assertEqual(set(rows.mapped("protocol_version")), {"2025-03-26"})

    def test_resources_read_needs_read_records(self):
        uri = f"odoo://res.users/{self.user.id}"
        self.assertEqual(self.modern("resources/read", {"uri": uri}).status_code, 200)
        self.connection.allowed_tool_ids = [(6, 0, tool_ids(self.env, "whoami"))]
        error = self.modern("resources/read", {"uri": uri}).json()["error"]
        self.assertIn("read_records", error["message"])
        self.assertEqual(self.modern("resources/list").json()["result"]["resources"], [])
        row = self.audit(method="resources/read")[-1]
        self.assertEqual((row.tool, row.model_name, row.outcome), ("read_records", "res.users", "denied"))

    def test_resources_list_shows_only_models_the_connection_may_read(self):
        listed = self.modern("resources/list").json()["result"]["resources"]
        self.assertEqual(len(listed), 2)
        partner = self.env["ir.model"]._get("res.partner")
        self.connection.model_rule_ids = [(0, 0, {"model_id": partner.id})]
        self.assertEqual(self.modern("resources/list").json()["result"]["resources"], [])
        users = self.env["ir.model"]._get("res.users")
        self.connection.model_rule_ids = [(0, 0, {"model_id": users.id})]
        listed = self.modern("resources/list").json()["result"]["resources"]
        self.assertEqual([item["uri"] for item in listed], [f"odoo://res.users/{self.user.id}"])

    def test_resources_read_is_refused_when_read_records_needs_an_approval(self):
        self.connection.write(
            {
                "approval_tool_ids": [(6, 0, tool_ids(self.env, "read_records"))],
                "approver_id": self.env.ref("base.user_admin").id,
            }
        )
        error = self.modern("resources/read", {"uri": f"odoo://res.users/{self.user.id}"}).json()["error"]
        self.assertIn("approval", error["message"])
        self.assertFalse(self.env["mcp.approval.request"].search([("connection_id", "=", self.connection.id)]))

    @clock_frozen
    def test_resources_count_against_the_rate_limit(self):
        self.connection.rate_limit = 1
        uri = f"odoo://res.users/{self.user.id}"
        self.assertEqual(self.modern("resources/read", {"uri": uri}).status_code, 200)
        self.assertEqual(self.modern("resources/read", {"uri": uri}).status_code, 429)
        self.assertEqual(self.modern("resources/list").status_code, 429)


@tagged("post_install", "-at_install")
class TestSessionGarbageCollection(McpCase):
    def test_latest_initialize_of_a_live_sign_in_outlives_two_days(self):
        family = self.token_record(self.token).family
        sessions = self.env["mcp.session"].sudo()
        older = sessions._open(self.connection, self.user, "2025-03-26", None, family)
        latest = sessions._open(self.connection, self.user, "2025-06-18", None, family)
        orphan = sessions._open(self.connection, self.user, "2025-06-18", None, "no-such-family")
        old = fields.Datetime.now() - timedelta(days=3)
        sessions.search([("handle", "in", [older, latest, orphan])]).write({"last_seen_at": old})
        sessions._gc_sessions()
        self.assertEqual(sessions.search([("handle", "in", [older, latest, orphan])]).mapped("handle"), [latest])
        self.assertEqual(sessions._recall(None, self.user, self.connection, family), ("2025-06-18", False))
