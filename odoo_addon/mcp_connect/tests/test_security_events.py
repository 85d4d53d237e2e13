"""Security events in the audit trail, driven over HTTP as tools, users and managers cause them.

Each event writes exactly one row (the log is counted before and after), with the requester's
address and the endpoint, and no column of it holds a secret: no whole token of a secret kind,
and no 8 characters of the random part of any token, code or client secret the step used.
"""

import json
import secrets
from contextlib import suppress
from datetime import timedelta
from unittest.mock import patch

from lxml import etree
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .. import config
from ..oauth import client_metadata_document as cimd
from .common import CALLBACK, McpHttpCase, clock_frozen, secret_pattern
from .test_connection_template import SelfRegisteredCase
from .test_metadata_document import DocumentServer, answer_document, answer_not_found

REGISTERED_CALLBACK = "https://claude.ai/api/mcp/auth_callback"
WINDOW = 8
GOVERNANCE_EVENTS = ("access_paused", "access_resumed", "tool_approved", "tool_refused", "registration_joined")


@tagged("post_install", "-at_install")
class TestSecurityEvents(McpHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="mcp_events_manager", groups="mcp_connect.group_mcp_manager", password=cls.password
        )
        cls.pattern = secret_pattern()

    def setUp(self):
        super().setUp()
        cimd.CACHE.clear()
        self.addCleanup(cimd.CACHE.clear)

    # -- the rows -------------------------------------------------------------------------

    def log(self):
        return self.env["mcp.audit.log"].sudo()

    def mark(self):
        """Where the log stands before a step: its size and its newest row."""
        return self.log().search_count([]), self.log().search([], limit=1).id or 0

    def assertEvents(self, mark, events, *secrets_used):
        """The step wrote exactly ``events`` (one row each, in this order), and no secret."""
        self.env.invalidate_all()
        count, last = mark
        rows = self.log().search([("id", ">", last)], order="id")
        self.assertEqual(rows.mapped("event"), list(events))
        self.assertEqual(self.log().search_count([]) - count, len(events))
        for row in rows:
            self.assertNoSecret(row, secrets_used)
        return rows

    def assertOneEvent(self, mark, event, *secrets_used):
        return self.assertEvents(mark, [event], *secrets_used)

    def assertNoSecret(self, row, secrets_used):
        self.env.cr.execute("SELECT to_jsonb(log)::text FROM mcp_audit_log log WHERE id = %s", [row.id])
        text = self.env.cr.fetchone()[0]
        self.env.cr.execute("SELECT %s ~ %s", [text, self.pattern])
        self.assertFalse(self.env.cr.fetchone()[0], f"a token in {text}")
        for secret in secrets_used:
            body = secret.split("_", 1)[1]
            for start in range(len(body) - WINDOW + 1):
                self.assertNotIn(body[start : start + WINDOW], text, f"part of {secret[:6]}... in the row")

    # -- the web client's calls -----------------------------------------------------------

    def button(self, model, method, record_id):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": [[record_id]], "kwargs": {}},
        }
        response = self.url_open(
            "/web/dataset/call_button", data=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertNotIn("error", response.json(), response.text[:500])

    def register(self, **changes):
        metadata = {
            "client_name": "Claude",
            "redirect_uris": [REGISTERED_CALLBACK],
            "grant_types": ["authorization_code", "refresh_token"],
            **changes,
        }
        return self.post_json("/oauth/register", metadata)

    # -- registration ---------------------------------------------------------------------

    def test_a_dynamic_registration_is_one_event(self):
        mark = self.mark()
        response = self.register()
        self.assertEqual(response.status_code, 201, response.text)
        body = response.json()
        row = self.assertOneEvent(mark, "client_registered", body["client_secret"])
        self.assertEqual(row.connection_id.client_id, body["client_id"])
        self.assertEqual((row.outcome, row.method, row.client_ip), ("ok", "/oauth/register", "127.0.0.1"))
        self.assertFalse(row.user_id)
        self.assertEqual(row.summary, "Claude registered itself as a confidential client (RFC 7591).")

    def test_a_refused_registration_is_one_event_with_its_reason(self):
        mark = self.mark()
        response = self.register(redirect_uris=["http://evil.example/cb"])
        self.assertEqual(response.status_code, 400, response.text)
        row = self.assertOneEvent(mark, "registration_refused")
        self.assertEqual(row.outcome, "denied")
        self.assertTrue(row.summary.startswith("Registration refused (invalid_redirect_uri): "), row.summary)
        self.assertFalse(row.connection_id)

    @clock_frozen
    def test_a_registration_over_the_budget_is_one_rate_limited_event(self):
        config.set_value(self.env, "registrations_per_hour", 1)
        self.assertEqual(self.register(client_name="First").status_code, 201)
        mark = self.mark()
        response = self.register(client_name="Second")
        self.assertEqual(response.status_code, 429, response.text)
        row = self.assertOneEvent(mark, "registration_refused")
        self.assertEqual(row.outcome, "rate_limited")
        self.assertTrue(row.summary.startswith("Registration refused (too_many_requests): "), row.summary)

    def serve(self, answer):
        """A metadata document server the fetcher may reach (loopback, test certificate) in this test."""
        server = DocumentServer(answer)
        self.addCleanup(server.stop)
        for patcher in (
            patch.object(cimd, "_public_addresses", lambda host, port: ["127.0.0.1"]),
            patch.object(cimd, "_tls_context", server.tls_context),
        ):
            patcher.start()
            self.addCleanup(patcher.stop)
        return server

    def test_a_new_metadata_document_connection_is_one_event_and_the_consent_another(self):
        server = self.serve(answer_document)
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.public, redirect_uri=CALLBACK, client_id=server.url)
        _page, handle, csrf = self.consent_page(params)
        mark = self.mark()
        response = self.decide(handle, csrf)
        self.assertEqual(response.status_code, 302, response.text[:300])
        registered, consent = self.assertEvents(
            mark, ["client_registered", "consent_given"], self.query(response)["code"]
        )
        self.assertEqual(registered.connection_id.client_id, server.url)
        self.assertEqual(registered.summary, "Metadata document tool connected through its client metadata document.")
        self.assertEqual(consent.connection_id, registered.connection_id)
        self.assertEqual(consent.user_id, self.user)

    @clock_frozen
    def test_a_client_metadata_document_over_the_budget_is_one_rate_limited_event(self):
        config.set_value(self.env, "metadata_fetches_per_ip", 1)
        server = self.serve(answer_not_found)
        _verifier, params = self.authorize_params(self.public, redirect_uri=CALLBACK, client_id=server.url)
        mark = self.mark()
        self.assertEqual(self.get("/oauth/authorize", params).status_code, 400)
        self.assertEvents(mark, [])
        params["client_id"] = server.origin + "/other.json"
        self.assertEqual(self.get("/oauth/authorize", params).status_code, 400)
        row = self.assertOneEvent(mark, "registration_refused")
        self.assertEqual((row.outcome, row.method), ("rate_limited", "/oauth/authorize"))
        self.assertIn("too many were requested from this address", row.summary)
        self.assertEqual(server.connections, 1)

    # -- consent ---------------------------------------------------------------------------

    def test_consent_given_and_withdrawn_are_one_event_each(self):
        self.authenticate(self.user.login, self.password)
        verifier, params = self.authorize_params(self.public, scope="mcp:read")
        mark = self.mark()
        _page, handle, csrf = self.consent_page(params)
        self.assertEvents(mark, [])
        response = self.decide(handle, csrf)
        code = self.query(response)["code"]
        row = self.assertOneEvent(mark, "consent_given", code)
        self.assertEqual((row.user_id, row.connection_id), (self.user, self.public))
        self.assertEqual(row.summary, "Test public allowed on the consent page (mcp:read).")
        tokens = self.exchange(self.public, code, verifier, params).json()

        consent = self.env["mcp.consent"].search([("user_id", "=", self.user.id)])
        mark = self.mark()
        self.button("mcp.consent", "action_revoke_access", consent.id)
        row = self.assertOneEvent(mark, "consent_withdrawn", code, tokens["access_token"], tokens["refresh_token"])
        self.assertEqual((row.user_id, row.connection_id), (self.user, self.public))
        self.assertEqual(row.client_ip, "127.0.0.1")
        self.assertIn("Ada Lovelace no longer allows Test public", row.summary)

    # -- the token endpoint ----------------------------------------------------------------

    def refresh(self, refresh_token):
        return self.post_form(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            self.basic(self.confidential.client_id, self.secret),
        )

    def test_refresh_token_reuse_is_one_event_a_retry_within_the_grace_window_none(self):
        first = self.tokens_for(self.confidential)
        mark = self.mark()
        rotated = self.refresh(first["refresh_token"])
        self.assertEqual(rotated.status_code, 200, rotated.text)
        retried = self.refresh(first["refresh_token"])
        self.assertEqual(retried.status_code, 200, retried.text)
        self.assertEvents(mark, [])
        # The rotation is now older than the grace window.
        used = self.token_record(first["refresh_token"])
        used.rotated_at -= timedelta(seconds=config.get(self.env, "refresh_grace_seconds") + 1)
        self.env.flush_all()
        response = self.refresh(first["refresh_token"])
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json()["error"], "invalid_grant")
        secrets_used = [
            body[kind] for body in (first, rotated.json(), retried.json()) for kind in ("access_token", "refresh_token")
        ]
        row = self.assertOneEvent(mark, "refresh_token_reused", *secrets_used)
        self.assertEqual((row.user_id, row.connection_id, row.outcome), (self.user, self.confidential, "denied"))
        self.assertEqual(row.method, "/oauth/token")
        self.assertTrue(self.token_record(retried.json()["access_token"]).revoked)

    def test_a_valid_code_replay_is_one_event(self):
        verifier, params, code = self.obtain_code(self.confidential)
        self.assertEqual(self.exchange(self.confidential, code, verifier, params).status_code, 200)
        mark = self.mark()
        self.assertEqual(self.exchange(self.confidential, code, verifier, params).status_code, 400)
        row = self.assertOneEvent(mark, "code_replayed", code)
        self.assertEqual((row.user_id, row.connection_id, row.outcome), (self.user, self.confidential, "denied"))

    # -- client authentication ---------------------------------------------------------------

    def test_a_failed_client_authentication_at_each_endpoint_is_one_event(self):
        wrong = "mcpcs_" + secrets.token_urlsafe(32)
        for path in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
            with self.subTest(path=path):
                mark = self.mark()
                data = {"grant_type": "client_credentials"} if path == "/oauth/token" else {"token": "x"}
                response = self.post_form(path, data, self.basic(self.confidential.client_id, wrong))
                self.assertEqual(response.status_code, 401, response.text)
                row = self.assertOneEvent(mark, "client_auth_failed", wrong)
                self.assertEqual((row.connection_id, row.method, row.outcome), (self.confidential, path, "denied"))
                self.assertEqual(
                    row.summary, "Client authentication failed: secret verification failed: SecretMismatchError"
                )

    def test_an_unknown_client_is_one_event_that_keeps_nothing_it_sent(self):
        unknown = "mcpci_" + secrets.token_urlsafe(24)
        mark = self.mark()
        response = self.post_form("/oauth/token", {"grant_type": "client_credentials"}, self.basic(unknown, "x"))
        self.assertEqual(response.status_code, 401, response.text)
        row = self.assertOneEvent(mark, "client_auth_failed", unknown)
        self.assertFalse(row.connection_id)
        self.assertEqual(row.summary, "Client authentication failed: unknown or revoked client")

    @clock_frozen
    def test_a_throttled_client_authentication_is_one_rate_limited_event(self):
        config.set_value(self.env, "client_auth_failures", 1)
        headers = self.basic(self.confidential.client_id, "wrong")
        self.assertEqual(self.post_form("/oauth/token", {"grant_type": "client_credentials"}, headers).status_code, 401)
        mark = self.mark()
        right = self.basic(self.confidential.client_id, self.secret)
        response = self.post_form("/oauth/token", {"grant_type": "client_credentials"}, right)
        self.assertEqual(response.status_code, 429, response.text)
        row = self.assertOneEvent(mark, "client_auth_throttled", self.secret)
        self.assertEqual((row.connection_id, row.outcome), (self.confidential, "rate_limited"))

    # -- revocations -----------------------------------------------------------------------

    def test_a_token_revoked_at_the_revocation_endpoint_is_one_event(self):
        tokens = self.tokens_for(self.confidential)
        mark = self.mark()
        response = self.post_form(
            "/oauth/revoke",
            {"token": tokens["refresh_token"]},
            self.basic(self.confidential.client_id, self.secret),
        )
        self.assertEqual(response.status_code, 200, response.text)
        row = self.assertOneEvent(mark, "token_revoked", tokens["access_token"], tokens["refresh_token"], self.secret)
        self.assertEqual((row.user_id, row.connection_id, row.outcome), (self.user, self.confidential, "ok"))
        self.assertEqual(row.method, "/oauth/revoke")

    def test_a_manager_revokes_a_token_one_event(self):
        tokens = self.tokens_for(self.confidential)
        self.authenticate(self.manager.login, self.password)
        mark = self.mark()
        self.button("mcp.token", "action_revoke", self.token_record(tokens["refresh_token"]).id)
        row = self.assertOneEvent(mark, "token_revoked", tokens["access_token"], tokens["refresh_token"])
        self.assertEqual((row.user_id, row.connection_id), (self.user, self.confidential))
        self.assertEqual(
            row.summary, f"{self.manager.name} revoked a token (refresh token), and every token of its family."
        )
        self.assertTrue(self.token_record(tokens["access_token"]).revoked)

    def test_a_manager_revokes_and_reactivates_a_connection_one_event_each(self):
        self.authenticate(self.manager.login, self.password)
        mark = self.mark()
        self.button("mcp.connection", "action_revoke", self.confidential.id)
        row = self.assertOneEvent(mark, "connection_revoked")
        self.assertEqual(
            (row.user_id, row.connection_id, row.client_ip), (self.manager, self.confidential, "127.0.0.1")
        )
        mark = self.mark()
        self.button("mcp.connection", "action_reactivate", self.confidential.id)
        row = self.assertOneEvent(mark, "connection_reactivated")
        self.assertEqual((row.user_id, row.connection_id), (self.manager, self.confidential))

    # -- the views -------------------------------------------------------------------------

    def filter_domain(self, name):
        arch = etree.fromstring(self.env.ref("mcp_connect.mcp_audit_log_view_search").arch)
        (node,) = arch.xpath(f"//filter[@name='{name}']")
        return safe_eval(node.get("domain"))

    def test_the_filters_separate_calls_and_security_events(self):
        log = self.log()
        last = log.search([], limit=1).id or 0
        base = {"connection_id": self.confidential.id, "user_id": self.user.id, "method": "tools/call"}
        log._record_many([{**base, "outcome": outcome} for outcome in ("ok", "error", "denied", "rate_limited")])
        log._record_event("connection_revoked", user=self.manager, connection=self.confidential)
        rows = log.search([("id", ">", last)])
        calls = rows.filtered_domain(self.filter_domain("filter_calls"))
        events = rows.filtered_domain(self.filter_domain("filter_events"))
        self.assertEqual(sorted(calls.mapped("outcome")), ["denied", "error", "ok", "rate_limited"])
        self.assertEqual(
            sorted(events.mapped(lambda r: r.event or r.outcome)), ["connection_revoked", "denied", "rate_limited"]
        )
        # The same domains as the database answers them.
        for name, expected in (("filter_calls", calls), ("filter_events", events)):
            self.assertEqual(log.search([("id", ">", last), *self.filter_domain(name)]), expected)
        grouped = dict(log._read_group([("id", ">", last)], ["event"], ["__count"]))
        self.assertEqual(grouped, {False: 4, "connection_revoked": 1})
        self.assertEqual(rows.filtered("event").display_name, "Connection revoked")


@tagged("post_install", "-at_install")
class TestRecordEvent(TransactionCase):
    def test_the_governance_events_take_one_call_each(self):
        log = self.env["mcp.audit.log"].sudo()
        user = self.env.user
        for event in GOVERNANCE_EVENTS:
            with self.subTest(event=event):
                before = log.search_count([])
                log._record_event(event, user=user, summary=f"{event} by {user.name}")
                row = log.search([], limit=1)
                self.assertEqual(log.search_count([]), before + 1)
                self.assertEqual((row.event, row.user_id, row.outcome), (event, user, "ok"))
                self.assertEqual(row.summary, f"{event} by {user.name}")
                self.assertFalse(row.client_ip, "no request, no address")

    def test_an_unknown_event_is_a_programming_error_and_writes_nothing(self):
        log = self.env["mcp.audit.log"].sudo()
        before = log.search_count([])
        with self.assertRaises(ValueError):
            log._record_event("something_else")
        self.assertEqual(log.search_count([]), before)

    def test_a_refusal_survives_the_rollback_of_its_request_an_action_does_not(self):
        """Outside the test mode of HTTP tests, the independent transaction is a real one: it is
        committed, and read back and deleted here from another cursor."""
        marker = f"rollback test {secrets.token_hex(8)}"
        log = self.env["mcp.audit.log"].sudo()
        with suppress(RuntimeError), self.env.cr.savepoint():
            log._record_event("client_auth_failed", summary=f"{marker} refused", outcome="denied")
            log._record_event("token_revoked", summary=f"{marker} done")
            raise RuntimeError("the request fails")
        with self.registry.cursor() as cr:
            cr.execute("SELECT summary FROM mcp_audit_log WHERE summary LIKE %s", [f"{marker}%"])
            kept = [row[0] for row in cr.fetchall()]
            cr.execute("DELETE FROM mcp_audit_log WHERE summary LIKE %s", [f"{marker}%"])
        self.assertEqual(kept, [f"{marker} refused"])


@tagged("post_install", "-at_install")
class TestGovernanceEvents(SelfRegisteredCase):
    """The events of the pause, of quarantine decisions and of a tool recognised on registration."""

    def events(self, after):
        return self.env["mcp.audit.log"].sudo().search([("id", ">", after), ("event", "!=", False)], order="id")

    def last_id(self):
        return self.env["mcp.audit.log"].sudo().search([], limit=1).id or 0

    def test_pausing_and_resuming_are_one_event_each(self):
        connections = self.env["mcp.connection"].with_user(self.manager)
        mark = self.last_id()
        connections.action_pause_ai_access()
        connections.action_pause_ai_access()
        connections.action_resume_ai_access()
        rows = self.events(mark)
        self.assertEqual(rows.mapped("event"), ["access_paused", "access_resumed"])
        self.assertEqual(rows.user_id, self.manager)
        self.assertEqual(rows[0].summary, f"{self.manager.name} paused all AI access.")

    def test_approving_a_waiting_tool_is_one_event(self):
        config.set_value(self.env, "quarantine_new_tools", True)
        connection = self.register()
        mark = self.last_id()
        connection.with_user(self.manager).action_approve()
        row = self.events(mark)
        self.assertEqual((row.event, row.connection_id, row.user_id), ("tool_approved", connection, self.manager))

    def test_refusing_a_waiting_tool_is_one_refusal_not_a_revocation(self):
        config.set_value(self.env, "quarantine_new_tools", True)
        connection = self.register()
        mark = self.last_id()
        connection.with_user(self.manager).action_revoke()
        self.assertEqual(self.events(mark).mapped("event"), ["tool_refused"])

    def test_a_registration_recognised_as_a_known_tool_is_registered_and_joined(self):
        first = self.register()
        mark = self.last_id()
        again = self.register(redirect_uris=["http://localhost:50211/other-callback"])
        self.assertEqual(again.previous_connection_id, first)
        rows = self.events(mark)
        self.assertEqual(rows.mapped("event"), ["registration_joined", "client_registered"])
        self.assertEqual(rows.connection_id, again)
        self.assertIn(f"#{first.id}", rows[0].summary)
