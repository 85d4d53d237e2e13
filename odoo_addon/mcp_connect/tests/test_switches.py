"""Switches of an administrator: Pause all AI access, and archived tools."""

import json
from unittest.mock import patch

from lxml import etree
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .. import config
from .common import McpCase
from .test_register import CLAUDE


def tool_ids(env, *names):
    return env["mcp.tool"].with_context(active_test=False).search([("name", "in", names)]).ids


@tagged("post_install", "-at_install")
class TestPause(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="mcp_pause_manager", groups="base.group_user,mcp_connect.group_mcp_manager"
        )
        cls.connections = cls.env["mcp.connection"].with_user(cls.manager)

    def pause(self):
        self.connections.action_pause_ai_access()

    def resume(self):
        self.connections.action_resume_ai_access()

    def assert_paused(self, response):
        self.assertEqual(response.status_code, 503, response.text)
        self.assertGreater(int(response.headers["Retry-After"]), 0)
        self.assertEqual(response.json()["error"], "temporarily_unavailable")
        self.assertIn("paused AI access", response.json()["error_description"])

    def refresh(self, refresh_token):
        return self.post_form(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            self.basic(self.confidential.client_id, self.secret),
        )

    def client_credentials(self):
        return self.post_form(
            "/oauth/token", {"grant_type": "client_credentials"}, self.basic(self.confidential.client_id, self.secret)
        )

    def test_pause_stops_every_path_and_resume_restores_them(self):
        signed_in = self.tokens_for(self.confidential)
        verifier, params, code = self.obtain_code(self.confidential)
        tokens_before = self.env["mcp.token"].sudo().search_read([], ["digest", "revoked", "rotated_at"])
        registered_before = self.env["mcp.connection"].search_count([])

        self.pause()
        for token in (signed_in["access_token"], self.token):
            response = self.modern("tools/list", token=token, request_id=41)
            self.assertEqual(response.status_code, 503, response.text)
            self.assertGreater(int(response.headers["Retry-After"]), 0)
            self.assertNotIn("WWW-Authenticate", response.headers)
            body = response.json()
            self.assertEqual(body["id"], 41)
            self.assertIn("An administrator paused AI access in Odoo", body["error"]["message"])
        userinfo = self.url_open("/oauth/userinfo", headers={"Authorization": f"Bearer {self.token}"})
        self.assert_paused(userinfo)
        self.assert_paused(self.exchange(self.confidential, code, verifier, params))
        self.assert_paused(self.refresh(signed_in["refresh_token"]))
        self.assert_paused(self.client_credentials())
        self.assert_paused(self.post_json("/oauth/register", CLAUDE))
        _verifier, again = self.authorize_params(self.confidential)
        answer = self.get("/oauth/authorize", again)
        self.assertEqual(answer.status_code, 302)
        self.assertEqual(self.query(answer)["error"], "temporarily_unavailable")
        self.assertEqual(self.query(answer)["state"], again["state"])
        # Nothing was revoked, rotated, spent or created.
        self.assertEqual(
            self.env["mcp.token"].sudo().search_read([], ["digest", "revoked", "rotated_at"]), tokens_before
        )
        self.assertEqual(self.env["mcp.connection"].search_count([]), registered_before)

        self.resume()
        self.assertEqual(self.modern("tools/list", token=signed_in["access_token"]).status_code, 200)
        self.assertEqual(self.modern("tools/list").status_code, 200)
        self.assertEqual(self.exchange(self.confidential, code, verifier, params).status_code, 200)
        self.assertEqual(self.refresh(signed_in["refresh_token"]).status_code, 200)
        self.assertEqual(self.client_credentials().status_code, 200)
        self.assertEqual(self.post_json("/oauth/register", CLAUDE).status_code, 201)
        self.assertIn("code", self.query(self.get("/oauth/authorize", again)))

    def test_a_consent_sent_while_paused_goes_back_to_the_tool(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.public)
        _page, handle, csrf = self.consent_page(params)
        self.pause()
        answer = self.decide(handle, csrf)
        self.assertEqual(answer.status_code, 302)
        self.assertEqual(self.query(answer)["error"], "temporarily_unavailable")
        self.assertFalse(self.env["mcp.authorization.code"].sudo().search([("connection_id", "=", self.public.id)]))

    def test_an_approval_waits_for_the_resumption(self):
        partner = self.env["res.partner"].create({"name": "Old"})
        self.connection.approval_tool_ids = [(6, 0, tool_ids(self.env, "update_records"))]
        data = self.tool_ok("update_records", {"model": "res.partner", "ids": [partner.id], "values": {"name": "New"}})
        request = self.env["mcp.approval.request"].browse(data["approval_id"])
        self.pause()
        with self.assertRaisesRegex(UserError, "paused"):
            request.with_user(self.manager).action_approve()
        self.assertEqual((request.state, partner.name), ("pending", "Old"))
        self.resume()
        request.with_user(self.manager).action_approve()
        self.assertEqual((request.state, partner.name), ("done", "New"))

    def test_only_managers_pause_and_each_change_is_announced_once(self):
        with self.assertRaises(AccessError):
            self.env["mcp.connection"].with_user(self.user).action_pause_ai_access()
        self.assertFalse(config.get(self.env, "paused"))
        model = type(self.env["mcp.connection"])
        with patch.object(model, "_on_pause_changed", autospec=True) as announced:
            self.pause()
            self.pause()
            self.assertEqual([call.args[1] for call in announced.call_args_list], [True])
            # Settings reach the same switch.
            self.env["res.config.settings"].create({"mcp_paused": False}).execute()
            self.assertEqual([call.args[1] for call in announced.call_args_list], [True, False])
        self.assertFalse(config.get(self.env, "paused"))

    def test_the_connections_list_shows_the_state(self):
        menu = self.env.ref("mcp_connect.mcp_connect_menu_connections")
        self.assertEqual(menu.action, self.env.ref("mcp_connect.mcp_connection_action_open"))
        opened = self.connections._action_open_connections()
        self.assertEqual(opened["res_model"], "mcp.connection")
        self.assertIs(opened["context"]["mcp_ai_paused"], False)
        self.assertEqual(self.connections.browse(self.connection.id).ai_paused, False)
        action = self.connections.action_pause_ai_access()
        self.assertIs(action["context"]["mcp_ai_paused"], True)
        self.assertIn("paused", action["name"])
        self.assertTrue(self.connections.browse(self.connection.id).ai_paused)
        views = self.connections.get_views([(False, "list"), (False, "form")])["views"]
        header = etree.fromstring(views["list"]["arch"]).xpath("//header")[0]
        pause = header.xpath("button[@name='action_pause_ai_access']")[0]
        resume = header.xpath("button[@name='action_resume_ai_access']")[0]
        self.assertEqual(pause.get("invisible"), "context.get('mcp_ai_paused', False)")
        self.assertEqual(resume.get("invisible"), "not context.get('mcp_ai_paused', True)")
        self.assertIn("AI access paused", views["form"]["arch"])
        # A user who is not a manager does not see the buttons.
        user_arch = self.env["mcp.connection"].with_user(self.user).get_views([(False, "list")])["views"]["list"]
        self.assertNotIn("action_pause_ai_access", user_arch["arch"])


@tagged("post_install", "-at_install")
class TestArchivedTools(McpCase):
    def archive(self, *names):
        self.env["mcp.tool"].search([("name", "in", names)]).action_archive()

    def recompute_policy(self):
        """Any later edit of the connection recomputes its stored policy."""
        self.connection.ip_allowlist = "0.0.0.0/0\n::/0"

    def tool_names(self):
        return [tool["name"] for tool in self.modern("tools/list").json()["result"]["tools"]]

    def test_archiving_the_only_allowed_tool_does_not_allow_every_tool(self):
        self.connection.allowed_tool_ids = [(6, 0, tool_ids(self.env, "whoami"))]
        self.archive("whoami")
        self.recompute_policy()
        self.assertEqual(json.loads(self.connection.policy_document)["allowed_tools"], ["whoami"])
        self.assertEqual(self.connection.allowed_tool_ids.mapped("name"), ["whoami"])
        self.assertEqual(self.tool_names(), [])
        self.tool_error("count_records", {"model": "res.partner"}, contains="count_records is not allowed")
        self.tool_error("whoami", contains="archived")

    def test_archiving_a_tool_that_needs_approval_keeps_the_approval(self):
        partner = self.env["res.partner"].create({"name": "Old"})
        self.connection.approval_tool_ids = [(6, 0, tool_ids(self.env, "update_records"))]
        self.archive("update_records")
        self.recompute_policy()
        arguments = {"model": "res.partner", "ids": [partner.id], "values": {"name": "New"}}
        self.tool_error("update_records", arguments, contains="archived")
        self.assertEqual(partner.name, "Old")
        self.env["mcp.tool"].with_context(active_test=False).search(
            [("name", "=", "update_records")]
        ).action_unarchive()
        self.assertEqual(self.tool_ok("update_records", arguments)["approval_status"], "pending")
        self.assertEqual(partner.name, "Old")

    def test_an_archived_tool_is_not_listed_and_is_refused(self):
        self.archive("count_records", "read_records")
        names = self.tool_names()
        self.assertNotIn("count_records", names)
        self.assertIn("search_records", names)
        # fetch shows what read_records shows: it goes with it.
        self.assertNotIn("fetch", names)
        text = self.tool_error("count_records", {"model": "res.partner"}, contains="archived it in Odoo")
        self.assertIn("count_records", text)
        self.tool_error("fetch", {"id": f"res.partner/{self.user.partner_id.id}"}, contains="archived")
        error = self.modern("resources/read", {"uri": f"odoo://res.partner/{self.user.partner_id.id}"}).json()["error"]
        self.assertIn("archived", error["message"])
        self.assertEqual(self.modern("resources/list").json()["result"]["resources"], [])
        refused = self.env["mcp.audit.log"].search([("tool", "=", "count_records")])
        self.assertEqual((refused.outcome, refused.error_summary), ("denied", "tool archived"))

    def test_an_approved_call_of_a_tool_archived_since_is_not_run(self):
        partner = self.env["res.partner"].create({"name": "Old"})
        self.connection.approval_tool_ids = [(6, 0, tool_ids(self.env, "update_records"))]
        arguments = {"model": "res.partner", "ids": [partner.id], "values": {"name": "New"}}
        request = self.env["mcp.approval.request"].browse(self.tool_ok("update_records", arguments)["approval_id"])
        self.archive("update_records")
        request.with_user(self.env.ref("base.user_admin")).action_approve()
        self.assertEqual(request.state, "failed")
        self.assertIn("archived", request.error)
        self.assertEqual(partner.name, "Old")

    def test_an_approved_fetch_obeys_the_archiving_of_read_records(self):
        partner = self.env["res.partner"].create({"name": "Fetched"})
        self.connection.approval_tool_ids = [(6, 0, tool_ids(self.env, "read_records"))]
        data = self.tool_ok("fetch", {"id": f"odoo://res.partner/{partner.id}"})
        request = self.env["mcp.approval.request"].browse(data["approval_id"])
        self.assertEqual(request.tool, "fetch")
        self.archive("read_records")
        request.with_user(self.env.ref("base.user_admin")).action_approve()
        self.assertEqual(request.state, "failed")
        self.assertIn("archived the MCP tool read_records", request.error)

    def test_an_update_of_the_module_keeps_archived_tools_archived(self):
        self.archive("delete_records")
        self.env["mcp.tool"]._sync_catalogue()
        tool = self.env["mcp.tool"].with_context(active_test=False).search([("name", "=", "delete_records")])
        self.assertFalse(tool.active)
        self.assertIn("archived", tool.display_name)
