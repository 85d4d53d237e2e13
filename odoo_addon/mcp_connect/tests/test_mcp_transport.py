import base64
import json

from odoo.tests import tagged

from .common import LEGACY, MODERN, McpCase


@tagged("post_install", "-at_install")
class TestLegacyTransport(McpCase):
    def test_initialize_negotiates_and_opens_a_session(self):
        session, body = self.initialize(version="2025-06-18")
        result = body["result"]
        self.assertEqual(result["protocolVersion"], "2025-06-18")
        self.assertEqual(result["serverInfo"]["name"], "odoo-mcp-connect")
        self.assertIn("tools", result["capabilities"])
        self.assertTrue(result["instructions"])
        self.assertGreater(len(session), 20)
        _session, body = self.initialize(version="2099-01-01")
        self.assertEqual(body["result"]["protocolVersion"], LEGACY)

    def test_notifications_and_responses_get_202(self):
        session, _body = self.initialize()
        headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY}
        response = self.post_mcp({"jsonrpc": "2.0", "method": "notifications/initialized"}, self.token, headers)
        self.assertEqual(response.status_code, 202)
        self.assertEqual(response.content, b"")
        response = self.post_mcp({"jsonrpc": "2.0", "id": 5, "result": {}}, self.token, headers)
        self.assertEqual(response.status_code, 202)

    def test_ping_tools_list_and_set_level(self):
        session, _body = self.initialize()
        self.assertEqual(self.legacy("ping", session=session).json()["result"], {})
        tools = self.legacy("tools/list", session=session).json()["result"]["tools"]
        self.assertIn("search_records", [t["name"] for t in tools])
        self.assertEqual(self.legacy("logging/setLevel", {"level": "info"}, session=session).json()["result"], {})
        error = self.legacy("logging/setLevel", {"level": "loud"}, session=session).json()["error"]
        self.assertEqual(error["code"], -32602)

    def test_session_is_a_hint_bound_to_its_user(self):
        # Field clients (claude.ai) send neither the session id nor the version header.
        response = self.post_mcp({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, self.token)
        self.assertEqual(response.status_code, 200, response.text)
        session, _body = self.initialize()
        other_token = self.make_token(user=self.other_user)
        # Another user's session id is unknown to this user: served as the bearer, never as its owner.
        response = self.legacy("tools/call", {"name": "whoami", "arguments": {}}, token=other_token, session=session)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["result"]["structuredContent"]["user"]["id"], self.other_user.id)
        response = self.legacy("tools/list", session="not-a-session")
        self.assertEqual(response.status_code, 200)

    def test_delete_ends_the_session(self):
        session, _body = self.initialize()
        # Known to the worker (its cache) before it is ended: the end still reaches the next call.
        self.assertEqual(self.legacy("ping", session=session).status_code, 200)
        response = self.opener.request(
            "DELETE",
            self.base_url() + "/api/mcp",
            headers={"Authorization": f"Bearer {self.token}", "Mcp-Session-Id": session},
        )
        self.assertEqual(response.status_code, 204)
        self.assertEqual(self.legacy("ping", session=session).status_code, 404)

    def test_batches_only_in_2025_03_26(self):
        old_session, _body = self.initialize(version="2025-03-26")
        batch = [{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
        response = self.post_mcp(batch, self.token, {"Mcp-Session-Id": old_session})
        self.assertEqual(response.status_code, 200)
        self.assertEqual([item["id"] for item in response.json()], [1, 2])
        session, _body = self.initialize()
        response = self.post_mcp(batch, self.token, {"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY})
        self.assertEqual(response.status_code, 400)
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26"}}
        self.assertEqual(self.post_mcp([init], self.token).status_code, 400)

    def test_unknown_method(self):
        error = self.legacy("frobnicate").json()["error"]
        self.assertEqual(error["code"], -32601)

    def test_malformed_bodies(self):
        response = self.post_mcp(None, self.token, raw="{nope")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"]["code"], -32700)
        response = self.post_mcp({"hello": "world"}, self.token)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"]["code"], -32600)
        response = self.post_mcp(None, self.token, headers={"Content-Type": "text/plain"}, raw="{}")
        self.assertEqual(response.status_code, 415)
        response = self.post_mcp(None, self.token, raw=json.dumps({"jsonrpc": "2.0", "id": None, "method": "ping"}))
        self.assertEqual(response.status_code, 400)

    def test_get_is_405(self):
        response = self.url_open("/api/mcp", allow_redirects=False)
        self.assertEqual(response.status_code, 405)
        self.assertIn("POST", response.headers["Allow"])


@tagged("post_install", "-at_install")
class TestModernTransport(McpCase):
    def test_discover(self):
        response = self.modern("server/discover")
        self.assertEqual(response.status_code, 200, response.text)
        result = response.json()["result"]
        self.assertEqual(result["resultType"], "complete")
        self.assertIn(MODERN, result["supportedVersions"])
        self.assertIn(LEGACY, result["supportedVersions"])
        self.assertIn("tools", result["capabilities"])
        self.assertEqual(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "odoo-mcp-connect")
        self.assertIsInstance(result["ttlMs"], int)
        self.assertIn(result["cacheScope"], ("public", "private"))
        self.assertNotIn("Mcp-Session-Id", response.headers)

    def test_results_carry_result_type_and_cache_hints(self):
        result = self.modern("tools/list").json()["result"]
        self.assertEqual(result["resultType"], "complete")
        self.assertEqual(result["cacheScope"], "private")
        self.assertEqual(result["ttlMs"], 0)
        call = self.modern("tools/call", {"name": "whoami", "arguments": {}}).json()["result"]
        self.assertEqual(call["resultType"], "complete")

    def test_missing_meta_is_invalid_params(self):
        response = self.modern("tools/list", meta={})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"]["code"], -32602)
        self.assertEqual(response.json()["id"], 1)

    def test_header_mismatches(self):
        cases = [
            {"MCP-Protocol-Version": "2025-11-25"},
            {"Mcp-Method": "tools/call"},
            {"Mcp-Method": "TOOLS/LIST"},
        ]
        for headers in cases:
            response = self.modern("tools/list", headers=headers)
            self.assertEqual(response.status_code, 400, headers)
            self.assertEqual(response.json()["error"]["code"], -32020, headers)
        response = self.modern(
            "tools/call", {"name": "whoami", "arguments": {}}, headers={"Mcp-Name": "search_records"}
        )
        self.assertEqual(response.json()["error"]["code"], -32020)
        response = self.modern("tools/call", {"name": "whoami", "arguments": {}}, headers={"Mcp-Name": "=?base64?!!?="})
        self.assertEqual(response.json()["error"]["code"], -32020)

    def test_missing_required_headers(self):
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/list",
            "params": {
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": MODERN,
                    "io.modelcontextprotocol/clientCapabilities": {},
                }
            },
        }
        response = self.post_mcp(body, self.token, {"MCP-Protocol-Version": MODERN})
        self.assertEqual(response.json()["error"]["code"], -32020)
        body["method"] = "tools/call"
        body["params"]["name"] = "whoami"
        response = self.post_mcp(body, self.token, {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call"})
        self.assertEqual(response.json()["error"]["code"], -32020)

    def test_base64_encoded_name_is_decoded(self):
        encoded = "=?base64?" + base64.b64encode(b"whoami").decode() + "?="
        response = self.modern("tools/call", {"name": "whoami", "arguments": {}}, headers={"Mcp-Name": encoded})
        self.assertEqual(response.status_code, 200, response.text)

    def test_unsupported_version(self):
        meta = {"io.modelcontextprotocol/protocolVersion": "v999.0.0", "io.modelcontextprotocol/clientCapabilities": {}}
        response = self.modern("tools/list", meta=meta, headers={"MCP-Protocol-Version": "v999.0.0"})
        self.assertEqual(response.status_code, 400)
        error = response.json()["error"]
        self.assertEqual(error["code"], -32022)
        self.assertEqual(error["data"]["requested"], "v999.0.0")
        discovered = self.modern("server/discover").json()["result"]["supportedVersions"]
        self.assertTrue(set(error["data"]["supported"]) <= set(discovered))

    def test_removed_and_unknown_methods_are_404(self):
        for method in ("initialize", "ping", "logging/setLevel", "resources/subscribe", "unknown/method"):
            response = self.modern(method)
            self.assertEqual(response.status_code, 404, method)
            self.assertEqual(response.json()["error"]["code"], -32601, method)

    def test_no_batches_and_no_delete(self):
        body = [{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}]
        response = self.post_mcp(body, self.token, {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"})
        self.assertEqual(response.status_code, 400)
        response = self.opener.request(
            "DELETE",
            self.base_url() + "/api/mcp",
            headers={"Authorization": f"Bearer {self.token}", "MCP-Protocol-Version": MODERN},
        )
        self.assertEqual(response.status_code, 405)

    def test_discover_then_initialize_fallback_works(self):
        self.assertEqual(self.modern("server/discover").status_code, 200)
        session, body = self.initialize()
        self.assertTrue(session)
        self.assertEqual(body["result"]["protocolVersion"], LEGACY)


@tagged("post_install", "-at_install")
class TestEndpointAuthentication(McpCase):
    def assert_challenge(self, response, status=401, error=None):
        self.assertEqual(response.status_code, status, response.text)
        challenge = response.headers["WWW-Authenticate"]
        self.assertTrue(challenge.startswith("Bearer "))
        self.assertIn(f'resource_metadata="{self.issuer}/.well-known/oauth-protected-resource/api/mcp"', challenge)
        self.assertIn('scope="mcp:read mcp:write"', challenge)
        self.assertIn("WWW-Authenticate", response.headers["Access-Control-Expose-Headers"])
        if error:
            self.assertIn(f'error="{error}"', challenge)

    def test_missing_token(self):
        # RFC 6750 §3.1: no error code when the request carries no credentials for this resource.
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": ""}):
            response = self.post_mcp({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
            self.assert_challenge(response)
            self.assertNotIn("error=", response.headers["WWW-Authenticate"], headers)
            self.assertNotIn("error_description=", response.headers["WWW-Authenticate"], headers)

    def test_empty_bearer_is_an_invalid_token(self):
        response = self.post_mcp({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Authorization": "Bearer "})
        self.assert_challenge(response, error="invalid_token")

    def test_token_in_query_string_is_refused(self):
        response = self.url_open(
            f"/api/mcp?access_token={self.token}",
            data="{}",
            headers={"Content-Type": "application/json"},
            allow_redirects=False,
        )
        self.assert_challenge(response, status=400, error="invalid_request")

    def test_wrong_kinds_and_garbage(self):
        refresh = self.make_token(kind="refresh")
        for token in (refresh, "garbage", self.token[:-1] + ("A" if self.token[-1] != "A" else "B")):
            self.assert_challenge(self.modern("tools/list", token=token), error="invalid_token")

    def test_expired_and_revoked(self):
        from datetime import timedelta

        from odoo import fields

        expired = self.make_token(expires_at=fields.Datetime.now() - timedelta(seconds=1))
        self.assert_challenge(self.modern("tools/list", token=expired), error="invalid_token")
        revoked = self.make_token(revoked=True)
        self.assert_challenge(self.modern("tools/list", token=revoked), error="invalid_token")

    def test_revoked_connection(self):
        self.connection.action_revoke()
        token = self.make_token()
        self.assert_challenge(self.modern("tools/list", token=token), error="invalid_token")

    def test_token_for_another_audience(self):
        token = self.make_token(resource="https://other.example/api/mcp")
        self.assert_challenge(self.modern("tools/list", token=token), error="invalid_token")

    def test_user_removed_from_the_group(self):
        group = self.env.ref("mcp_connect.group_mcp_user")
        self.assertEqual(self.modern("tools/list").status_code, 200)
        group.sudo().write({self._users_field(group): [(3, self.user.id)]})
        self.assert_challenge(self.modern("tools/list"), error="invalid_token")

    def _users_field(self, group):
        return "user_ids" if "user_ids" in group._fields else "users"

    def test_origin_validation(self):
        response = self.modern("tools/list", headers={"Origin": "https://evil.example"})
        self.assertEqual(response.status_code, 403)
        response = self.modern("tools/list", headers={"Origin": self.issuer})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], self.issuer)
        self.env["ir.config_parameter"].sudo().set_param("mcp_connect.allowed_origins", '"http://localhost:6274"')
        response = self.modern("tools/list", headers={"Origin": "http://localhost:6274"})
        self.assertEqual(response.status_code, 200)

    def test_preflight(self):
        allowed = self.opener.request(
            "OPTIONS",
            self.base_url() + "/api/mcp",
            headers={"Origin": self.issuer, "Access-Control-Request-Method": "POST"},
        )
        self.assertEqual(allowed.status_code, 204)
        self.assertIn("Mcp-Session-Id", allowed.headers["Access-Control-Allow-Headers"])
        refused = self.opener.request(
            "OPTIONS",
            self.base_url() + "/api/mcp",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        self.assertEqual(refused.status_code, 403)

    def test_oversized_body(self):
        response = self.post_mcp(None, self.token, raw=json.dumps({"pad": "x" * (1024 * 1024 + 10)}))
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json()["error"]["code"], -32600)
        self.assertIsNone(response.json()["id"])
