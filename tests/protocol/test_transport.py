"""Streamable HTTP framing and version negotiation (mcp/transport.py) against a fake ``Backend``."""

import base64
import json

import pytest
from mcp_connect.mcp import jsonrpc, versions
from mcp_connect.mcp.jsonrpc import JsonRpcError
from mcp_connect.mcp.transport import ResourceNotFound, Transport

LEGACY = "2025-11-25"
MODERN = "2026-07-28"


class FakeBackend:
    """The ``Backend`` protocol in memory: sessions in a dict, a rate limit of ``limit`` working
    messages, one tool (``echo``) and one resource; ``begun`` and ``notes`` are the audit trail."""

    def __init__(self, limit=None):
        self.limit = limit
        self.admitted = 0
        self.sessions = {}
        self.ended = set()
        self.latest_version = None
        self.begun = []
        self.notes = []
        self.prompt_templates = []

    def server_info(self):
        return {"name": "fake", "version": "1"}

    def instructions(self):
        return "Fake instructions."

    def create_session(self, version, client_info):
        session_id = f"session-{len(self.sessions) + 1}"
        self.sessions[session_id] = version
        self.latest_version = version
        return session_id

    def recall_session(self, session_id):
        if session_id in self.ended:
            return None, True
        return self.sessions.get(session_id, self.latest_version), False

    def end_session(self, session_id):
        if session_id not in self.sessions:
            return False
        del self.sessions[session_id]
        self.ended.add(session_id)
        return True

    def admit(self, count):
        if self.limit is None:
            return count
        admitted = max(0, min(count, self.limit - self.admitted))
        self.admitted += count
        return admitted

    def rate_limited(self):
        return JsonRpcError(jsonrpc.SERVER_ERROR, "Rate limit exceeded", http_status=429, headers={"Retry-After": "30"})

    def begin(self, method, version=None):
        self.begun.append(method)

    def list_tools(self):
        return [{"name": "echo", "inputSchema": {"type": "object"}}]

    def call_tool(self, name, arguments, call):
        if name != "echo":
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, f"Unknown tool: {name}")
        return {"content": [{"type": "text", "text": json.dumps(arguments)}], "isError": False, "era": call.era}

    def list_resources(self):
        return []

    def resource_templates(self):
        return []

    def read_resource(self, uri):
        raise ResourceNotFound(uri)

    def prompts(self):
        return self.prompt_templates

    def note(self, **details):
        self.notes.append(details)


@pytest.fixture
def backend():
    return FakeBackend()


@pytest.fixture
def mcp(backend):
    return Transport(backend)


def message(method, request_id=1, params=None):
    body = {"jsonrpc": "2.0", "method": method}
    if request_id is not None:
        body["id"] = request_id
    if params is not None:
        body["params"] = params
    return body


def post(mcp, body, headers=None, *, raw=None):
    return mcp.post(headers or {}, raw if raw is not None else json.dumps(body).encode())


def modern(mcp, method, params=None, *, headers=None, meta=None, request_id=1):
    params = dict(params or {})
    params["_meta"] = {versions.META_VERSION: MODERN, versions.META_CAPABILITIES: {}} if meta is None else meta
    sent = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if method in ("tools/call", "prompts/get"):
        sent["Mcp-Name"] = params.get("name", "")
    if method == "resources/read":
        sent["Mcp-Name"] = params.get("uri", "")
    sent.update(headers or {})
    sent = {key: value for key, value in sent.items() if value is not None}
    return post(mcp, message(method, request_id, params), sent)


def initialize(mcp, version=LEGACY):
    reply = post(mcp, message("initialize", params={"protocolVersion": version, "clientInfo": {"name": "t"}}))
    return reply.headers["Mcp-Session-Id"], reply


# -- parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{nope", b"\xff\xfe", b"[" * 65 + b"]" * 65, b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 70 + b"1" + b"}" * 70],
)
def test_what_is_not_json_of_a_sane_depth_is_a_parse_error(mcp, raw):
    reply = post(mcp, None, raw=raw)
    assert reply.status == 400
    assert reply.body == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32700, "message": reply.body["error"]["message"]},
    }


def test_nesting_up_to_the_limit_is_parsed():
    assert jsonrpc.loads(b"[" * jsonrpc.MAX_DEPTH + b"]" * jsonrpc.MAX_DEPTH)
    with pytest.raises(ValueError):
        jsonrpc.loads(b"[" * (jsonrpc.MAX_DEPTH + 1) + b"]" * (jsonrpc.MAX_DEPTH + 1))


def test_dumps_copies_what_is_already_encoded_and_encodes_the_rest_as_json_dumps_does():
    plain = {"model": "res.partner", "records": [{"id": 1, "name": "Zoë", "tags": [1, 2]}], "next": None}
    assert jsonrpc.dumps(plain) == json.dumps(plain, ensure_ascii=False)
    # The text of an Encoded object is copied as it is (the marker is only in the text), at the
    # top, in an object, or as an item of a list; to anything else it is the plain dict.
    marked = jsonrpc.Encoded({"id": 1}, '{"id": 1, "copied": true}')
    assert marked == {"id": 1}
    assert json.loads(jsonrpc.dumps(marked)) == {"id": 1, "copied": True}
    body = jsonrpc.response(7, {"content": [], "structuredContent": marked, "isError": False})
    assert json.loads(jsonrpc.dumps(body))["result"]["structuredContent"] == {"id": 1, "copied": True}
    listed = json.loads(jsonrpc.dumps({"records": [marked, {"id": 2}], "total": 2}))
    assert listed == {"records": [{"id": 1, "copied": True}, {"id": 2}], "total": 2}
    # A whole array whose text is known is copied too.
    page = jsonrpc.EncodedList([{"id": 1}], '[{"id": 1, "copied": true}]')
    assert page == [{"id": 1}]
    assert json.loads(jsonrpc.dumps({"records": page})) == {"records": [{"id": 1, "copied": True}]}
    assert jsonrpc.encode(plain) == json.dumps(plain, ensure_ascii=False)


@pytest.mark.parametrize(
    "body",
    [
        {"hello": "world"},
        {"jsonrpc": "1.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": None, "method": "ping"},
        {"jsonrpc": "2.0", "id": True, "method": "ping"},
        {"jsonrpc": "2.0", "id": 1, "method": ""},
        {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]},
        "a string",
    ],
)
def test_what_is_not_a_json_rpc_message_is_an_invalid_request(mcp, body):
    reply = post(mcp, body)
    assert reply.status == 400
    assert reply.body["error"]["code"] == -32600


# -- initialize era ----------------------------------------------------------------


def test_initialize_negotiates_and_opens_a_session(mcp, backend):
    session, reply = initialize(mcp, "2025-06-18")
    assert reply.status == 200
    assert reply.body["result"]["protocolVersion"] == "2025-06-18"
    assert reply.body["result"]["serverInfo"] == backend.server_info()
    assert backend.sessions[session] == "2025-06-18"
    _session, reply = initialize(mcp, "1999-01-01")
    assert reply.body["result"]["protocolVersion"] == versions.LATEST_LEGACY
    reply = post(mcp, message("initialize", params={}))
    assert reply.body["error"]["code"] == -32602


def test_notifications_and_responses_get_202(mcp, backend):
    assert post(mcp, message("notifications/initialized", request_id=None)).status == 202
    assert post(mcp, {"jsonrpc": "2.0", "id": 5, "result": {}}).status == 202
    assert backend.begun == ["notifications/initialized", "response"]


def test_requests_are_answered(mcp):
    assert post(mcp, message("ping", "a")).body == {"jsonrpc": "2.0", "id": "a", "result": {}}
    assert post(mcp, message("tools/list")).body["result"]["tools"][0]["name"] == "echo"
    call = post(mcp, message("tools/call", params={"name": "echo", "arguments": {"x": 1}})).body["result"]
    assert call["era"] == "legacy"
    assert post(mcp, message("logging/setLevel", params={"level": "loud"})).body["error"]["code"] == -32602
    unknown = post(mcp, message("frobnicate"))
    assert (unknown.status, unknown.body["error"]["code"]) == (200, -32601)
    missing = post(mcp, message("resources/read", params={"uri": "odoo://res.partner/1"}))
    assert missing.body["error"]["code"] == jsonrpc.RESOURCE_NOT_FOUND_LEGACY
    assert post(mcp, message("tools/list", params={"cursor": "x"})).body["error"]["code"] == -32602


def test_the_session_is_a_hint(mcp, backend):
    # Without a session or header: the latest initialize of this sign-in, else 2025-03-26.
    batch = [message("ping", 1), message("ping", 2)]
    assert post(mcp, batch).status == 200
    initialize(mcp, "2025-06-18")
    assert post(mcp, batch).status == 400
    assert post(mcp, batch, {"MCP-Protocol-Version": "2025-03-26"}).status == 200
    assert post(mcp, message("ping"), {"Mcp-Session-Id": "never-issued"}).status == 200


def test_delete_ends_the_session(mcp):
    session, _reply = initialize(mcp)
    assert mcp.delete({"Mcp-Session-Id": session}).status == 204
    assert post(mcp, message("ping"), {"Mcp-Session-Id": session}).status == 404
    assert mcp.delete({"Mcp-Session-Id": session}).status == 404
    assert mcp.delete({}).status == 400
    assert mcp.delete({"MCP-Protocol-Version": MODERN}).status == 405


def test_batches_only_in_2025_03_26(mcp, backend):
    session, _reply = initialize(mcp, "2025-03-26")
    batch = [message("ping", 1), message("notifications/progress", None), message("tools/list", 2)]
    reply = post(mcp, batch, {"Mcp-Session-Id": session})
    assert reply.status == 200
    assert [item["id"] for item in reply.body] == [1, 2]
    only_notifications = [message("notifications/progress", None)]
    assert post(mcp, only_notifications, {"Mcp-Session-Id": session}).status == 202
    newer, _reply = initialize(mcp)
    assert post(mcp, batch, {"Mcp-Session-Id": newer, "MCP-Protocol-Version": LEGACY}).status == 400
    for refused in (
        [],
        [message("initialize", params={"protocolVersion": "2025-03-26"})],
        [message("ping", n) for n in range(101)],
    ):
        reply = post(mcp, refused, {"Mcp-Session-Id": session})
        assert (reply.status, reply.body["error"]["code"]) == (400, -32600)


def test_each_message_of_a_batch_counts_against_the_rate_limit():
    backend = FakeBackend(limit=2)
    mcp = Transport(backend)
    batch = [message("tools/list", 1), message("ping", 2), message("tools/list", 3), message("tools/list", 4)]
    reply = post(mcp, batch, {"MCP-Protocol-Version": "2025-03-26"})
    assert reply.status == 200
    assert ["result" in item for item in reply.body] == [True, True, True, False]
    assert reply.body[3]["error"]["message"] == "Rate limit exceeded"
    single = post(mcp, message("tools/list", 5))
    assert (single.status, single.headers) == (429, {"Retry-After": "30"})
    assert single.body["id"] == 5
    # initialize, ping and server/discover do no work and never count.
    assert post(mcp, message("ping", 6)).status == 200
    assert initialize(mcp)[1].status == 200


# -- 2026-07-28 ----------------------------------------------------------------------


def test_discover_and_results(mcp, backend):
    reply = modern(mcp, "server/discover")
    assert reply.status == 200
    result = reply.body["result"]
    assert result["resultType"] == "complete"
    assert result["supportedVersions"] == list(versions.SUPPORTED)
    assert result["_meta"][versions.META_SERVER_INFO] == backend.server_info()
    assert (result["ttlMs"], result["cacheScope"]) == (3_600_000, "private")
    assert "Mcp-Session-Id" not in reply.headers
    tools = modern(mcp, "tools/list").body["result"]
    assert (tools["resultType"], tools["ttlMs"], tools["cacheScope"]) == ("complete", 0, "private")
    call = modern(mcp, "tools/call", {"name": "echo", "arguments": {}}).body["result"]
    assert call["era"] == "modern"
    missing = modern(mcp, "resources/read", {"uri": "odoo://res.partner/1"})
    assert missing.body["error"]["code"] == -32602


def test_a_modern_notification_gets_202(mcp):
    assert modern(mcp, "notifications/cancelled", request_id=None).status == 202


@pytest.mark.parametrize(
    ("headers", "params", "method"),
    [
        ({"MCP-Protocol-Version": LEGACY}, None, "tools/list"),
        ({"Mcp-Method": "tools/call"}, None, "tools/list"),
        ({"Mcp-Method": "TOOLS/LIST"}, None, "tools/list"),
        ({"Mcp-Method": None}, None, "tools/list"),
        ({"Mcp-Name": "other"}, {"name": "echo"}, "tools/call"),
        ({"Mcp-Name": None}, {"name": "echo"}, "tools/call"),
        ({"Mcp-Name": "=?base64?!!?="}, {"name": "echo"}, "tools/call"),
        ({"Mcp-Name": "two\nlines"}, {"name": "echo"}, "tools/call"),
    ],
)
def test_header_mismatches_are_32020(mcp, headers, params, method):
    reply = modern(mcp, method, params, headers=headers)
    assert reply.status == 400
    assert reply.body["error"]["code"] == jsonrpc.HEADER_MISMATCH
    assert reply.body["id"] == 1


def test_a_missing_protocol_version_header_is_a_mismatch(mcp):
    body = message("tools/list", params={"_meta": {versions.META_VERSION: MODERN, versions.META_CAPABILITIES: {}}})
    reply = post(mcp, body, {"Mcp-Method": "tools/list"})
    assert reply.body["error"]["code"] == jsonrpc.HEADER_MISMATCH


def test_a_base64_name_is_decoded(mcp):
    encoded = "=?base64?" + base64.b64encode("écho".encode()).decode() + "?="
    reply = modern(mcp, "tools/call", {"name": "écho", "arguments": {}}, headers={"Mcp-Name": encoded})
    assert reply.body["error"]["message"] == "Unknown tool: écho"


def test_missing_meta_is_invalid_params(mcp):
    for meta in ({}, {versions.META_VERSION: MODERN}, {versions.META_VERSION: 7, versions.META_CAPABILITIES: {}}):
        reply = modern(mcp, "tools/list", meta=meta)
        assert (reply.status, reply.body["error"]["code"], reply.body["id"]) == (400, -32602, 1)


def test_an_unsupported_version_is_32022(mcp):
    meta = {versions.META_VERSION: "v999.0.0", versions.META_CAPABILITIES: {}}
    reply = modern(mcp, "tools/list", meta=meta, headers={"MCP-Protocol-Version": "v999.0.0"})
    assert reply.status == 400
    error = reply.body["error"]
    assert error["code"] == jsonrpc.UNSUPPORTED_PROTOCOL_VERSION
    assert error["data"] == {"supported": list(versions.SUPPORTED), "requested": "v999.0.0"}
    # A legacy version in _meta selects the modern rules, which refuse it.
    meta = {versions.META_VERSION: LEGACY, versions.META_CAPABILITIES: {}}
    reply = modern(mcp, "tools/list", meta=meta, headers={"MCP-Protocol-Version": LEGACY})
    assert reply.body["error"]["code"] == jsonrpc.UNSUPPORTED_PROTOCOL_VERSION


@pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel", "resources/subscribe", "unknown/method"])
def test_removed_and_unknown_methods_are_404(mcp, method):
    reply = modern(mcp, method)
    assert (reply.status, reply.body["error"]["code"]) == (404, -32601)


def test_no_batches_and_no_client_responses(mcp):
    reply = post(mcp, [message("tools/list")], {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"})
    assert reply.status == 400
    reply = post(mcp, {"jsonrpc": "2.0", "id": 3, "result": {}}, {"MCP-Protocol-Version": MODERN})
    assert (reply.status, reply.body["id"]) == (400, 3)


def test_discover_then_initialize_fallback(mcp):
    assert modern(mcp, "server/discover").status == 200
    _session, reply = initialize(mcp)
    assert reply.body["result"]["protocolVersion"] == LEGACY


def test_the_modern_rate_limit_answers_429():
    mcp = Transport(FakeBackend(limit=1))
    assert modern(mcp, "tools/list").status == 200
    assert modern(mcp, "server/discover").status == 200
    reply = modern(mcp, "tools/list", request_id="call-3")
    assert (reply.status, reply.body["id"], reply.headers["Retry-After"]) == (429, "call-3", "30")
