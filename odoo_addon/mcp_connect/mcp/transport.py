"""Streamable HTTP for both protocol eras on one endpoint, answering with JSON only.

- initialize era (2025-03-26, 2025-06-18, 2025-11-25): ``initialize`` opens a session
  (``Mcp-Session-Id``, bound to the user); notifications and responses get 202; batches
  only in 2025-03-26; DELETE ends the session, after which it answers 404. The session is
  a hint, never a requirement (clients in the field do not echo it): a request without a
  known session takes its version from ``MCP-Protocol-Version``, else from the latest
  initialize of its sign-in, else 2025-03-26.
- 2026-07-28: stateless; every request carries its version and client capabilities in
  ``_meta`` and repeats them in ``MCP-Protocol-Version``/``Mcp-Method``/``Mcp-Name``;
  ``server/discover``; results carry ``resultType``; unknown methods are 404/-32601.

A client probing with ``server/discover`` and falling back to ``initialize`` works
either way. No long-lived SSE streams: each would hold an Odoo worker.

Every message that does work (not notifications, responses, ``initialize``, ``ping``,
``server/discover``, nor messages refused as malformed) counts against the rate limit, each
message of a batch on its own: the messages of a batch over the limit are answered with a
rate-limit error each, the others are served. Every message gets its own audit record
(``Backend.begin``).

The ORM is behind ``Backend`` (implemented by ``mcp_connect.mcp_backend``).
"""

from dataclasses import dataclass, field
from typing import Protocol

from . import headers as mcp_headers
from . import jsonrpc, prompts, versions
from .jsonrpc import JsonRpcError

# Each message of a batch is gated, run and audited on its own: a bound keeps one request small.
MAX_BATCH = 100
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
LEGACY_CAPABILITIES = {
    "tools": {"listChanged": False},
    "resources": {"subscribe": False, "listChanged": False},
    "prompts": {"listChanged": False},
    "logging": {},
}
MODERN_CAPABILITIES = {"tools": {}, "resources": {}, "prompts": {}}
# 2026-07-28 caching hints: lists vary with the token's authorization ("private") and
# must reflect a policy change on the next request (no caching).
CACHE_HINTS = {
    # The instructions name the user: private.
    "server/discover": {"ttlMs": 3_600_000, "cacheScope": "private"},
    "tools/list": {"ttlMs": 0, "cacheScope": "private"},
    "prompts/list": {"ttlMs": 0, "cacheScope": "private"},
    "resources/list": {"ttlMs": 0, "cacheScope": "private"},
    "resources/templates/list": {"ttlMs": 3_600_000, "cacheScope": "private"},
    "resources/read": {"ttlMs": 0, "cacheScope": "private"},
}
# Messages that do no work: they never count against the rate limit.
UNCOUNTED_METHODS = frozenset({"initialize", "ping", "server/discover"})


@dataclass
class Reply:
    status: int
    body: object = None
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """What a method handler knows about the request it serves."""

    era: str
    version: str
    request_id: object = None


class ResourceNotFound(Exception):
    def __init__(self, uri):
        super().__init__(uri)
        self.uri = uri


class Backend(Protocol):
    """Implemented by ``mcp_connect.mcp_backend.OdooBackend``."""

    def server_info(self) -> dict: ...

    def instructions(self) -> str: ...

    def create_session(self, version: str, client_info: dict | None) -> str: ...

    def recall_session(self, session_id: str | None) -> tuple[str | None, bool]:
        """``(version, ended)``: the version negotiated by the live session ``session_id`` of this
        user, else by the latest initialize of this token's sign-in, else None; ``ended`` when
        ``session_id`` is a session of this user ended with DELETE."""

    def end_session(self, session_id: str) -> bool: ...

    def admit(self, count: int) -> int:
        """Count ``count`` messages that do work against the rate limit; return how many may run."""

    def rate_limited(self) -> JsonRpcError:
        """The refusal of a message over the rate limit (HTTP 429 with ``Retry-After`` when alone)."""

    def begin(self, method: str, version: str | None = None) -> None:
        """Start the audit record of one message (a request, notification or response)."""

    def list_tools(self) -> list[dict]: ...

    def call_tool(self, name: str, arguments: dict, call: Call) -> dict:
        """A CallToolResult; raise JsonRpcError for an unknown tool or a refused scope."""

    def list_resources(self) -> list[dict]: ...

    def resource_templates(self) -> list[dict]: ...

    def read_resource(self, uri: str) -> list[dict]:
        """Resource contents; raise ResourceNotFound."""

    def prompts(self) -> list[dict]:
        """The prompt templates: name, title, description, arguments (name, description, required)
        and text with ``{argument}`` placeholders."""

    def note(self, **details) -> None:
        """Record details of the current message (tool, model, outcome) for the audit trail."""


def _single(request_id, error):
    return Reply(error.http_status, jsonrpc.error_response(request_id, error), error.headers)


class Transport:
    def __init__(self, backend):
        self.backend = backend

    # -- HTTP verbs ------------------------------------------------------------------

    def post(self, request_headers, body):
        try:
            payload = jsonrpc.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _single(
                None, JsonRpcError(jsonrpc.PARSE_ERROR, "Parse error: the body is not JSON", http_status=400)
            )
        header_version = request_headers.get("MCP-Protocol-Version")
        first = payload[0] if isinstance(payload, list) and payload else payload
        if isinstance(payload, list) and header_version is None:
            modern = False
        else:
            modern = versions.is_modern(header_version, first)
        if modern:
            return self._modern(request_headers, payload, header_version)
        return self._legacy(request_headers, payload)

    def delete(self, request_headers):
        """Legacy: end a session. 2026-07-28 has no sessions: 405."""
        header_version = request_headers.get("MCP-Protocol-Version")
        if header_version is not None and header_version not in versions.LEGACY:
            return Reply(405, None, {"Allow": "POST, OPTIONS"})
        self.backend.begin("session/end")
        session_id = request_headers.get("Mcp-Session-Id")
        if not session_id:
            # Nothing to end: a client that never kept the session id has nothing to forget either.
            return _single(
                None, JsonRpcError(jsonrpc.INVALID_REQUEST, "Bad Request: missing Mcp-Session-Id", http_status=400)
            )
        if not self.backend.end_session(session_id):
            return _single(None, JsonRpcError(jsonrpc.INVALID_REQUEST, "Session not found", http_status=404))
        return Reply(204)

    # -- initialize era ----------------------------------------------------------------

    def _legacy(self, request_headers, payload):
        batch = isinstance(payload, list)
        messages = payload if batch else [payload]
        if batch and not messages:
            return _single(None, JsonRpcError(jsonrpc.INVALID_REQUEST, "Invalid Request: empty batch", http_status=400))
        if len(messages) > MAX_BATCH:
            return _single(
                None,
                JsonRpcError(
                    jsonrpc.INVALID_REQUEST,
                    f"Invalid Request: a batch carries at most {MAX_BATCH} messages",
                    http_status=400,
                ),
            )
        try:
            kinds = [jsonrpc.classify(message) for message in messages]
        except JsonRpcError as error:
            return _single(None, error)
        initializes = [m for m in messages if m.get("method") == "initialize"]
        if initializes:
            if batch:
                return _single(
                    None,
                    JsonRpcError(
                        jsonrpc.INVALID_REQUEST,
                        "Invalid Request: initialize must not be part of a batch",
                        http_status=400,
                    ),
                )
            if kinds[0] != "request":
                return _single(
                    None,
                    JsonRpcError(jsonrpc.INVALID_REQUEST, "Invalid Request: initialize is a request", http_status=400),
                )
            return self._initialize(messages[0])
        version = self._legacy_version(request_headers)
        if version is None:
            return _single(
                None,
                JsonRpcError(
                    jsonrpc.INVALID_REQUEST, "Session ended: send initialize to open a new one", http_status=404
                ),
            )
        if batch and version != "2025-03-26":
            return _single(
                None,
                JsonRpcError(
                    jsonrpc.INVALID_REQUEST, f"Invalid Request: batches are not supported in {version}", http_status=400
                ),
            )
        requests = [message for message, kind in zip(messages, kinds, strict=True) if kind == "request"]
        refused = self._over_limit(requests, LEGACY_METHODS)
        answers = []
        for message, kind in zip(messages, kinds, strict=True):
            if kind == "request":
                self.backend.begin(message["method"], version)
                if id(message) in refused:
                    answers.append(self._refuse(message))
                else:
                    answers.append(self._dispatch(message, Call("legacy", version, message["id"])))
            else:
                self.backend.begin(message.get("method") or "response", version)
        if not answers:
            return Reply(202)
        if batch:
            return Reply(200, [body for body, _status, _headers in answers])
        body, status, extra_headers = answers[0]
        return Reply(status, body, extra_headers)

    def _legacy_version(self, request_headers):
        """The version an initialize-era request speaks, or None if its session was ended.

        ``MCP-Protocol-Version`` when present (an unsupported value never gets here: it selects
        the 2026-07-28 rules, which refuse it); else the session's, or the latest initialize of
        the token's sign-in; else 2025-03-26 (Streamable HTTP, "Protocol Version Header").
        """
        session_id = request_headers.get("Mcp-Session-Id")
        header_version = request_headers.get("MCP-Protocol-Version")
        if not session_id and header_version is not None:
            return header_version
        recalled, ended = self.backend.recall_session(session_id or None)
        if ended:
            return None
        return header_version or recalled or versions.ASSUMED_WITHOUT_HEADER

    def _over_limit(self, requests, handlers):
        """The requests (by identity) that the rate limit refuses: those doing work, past the admitted count."""
        working = [m for m in requests if m["method"] in handlers and m["method"] not in UNCOUNTED_METHODS]
        if not working:
            return set()
        admitted = self.backend.admit(len(working))
        return {id(message) for message in working[admitted:]}

    def _refuse(self, message):
        error = self.backend.rate_limited()
        return jsonrpc.error_response(message["id"], error), error.http_status, error.headers

    def _initialize(self, message):
        request_id = message["id"]
        self.backend.begin("initialize")
        params = message.get("params") or {}
        requested = params.get("protocolVersion")
        if not isinstance(requested, str):
            return _single(request_id, JsonRpcError(jsonrpc.INVALID_PARAMS, "initialize needs protocolVersion"))
        version = versions.negotiate_legacy(requested)
        client_info = params.get("clientInfo") if isinstance(params.get("clientInfo"), dict) else None
        session_id = self.backend.create_session(version, client_info)
        result = {
            "protocolVersion": version,
            "capabilities": LEGACY_CAPABILITIES,
            "serverInfo": self.backend.server_info(),
            "instructions": self.backend.instructions(),
        }
        return Reply(200, jsonrpc.response(request_id, result), {"Mcp-Session-Id": session_id})

    # -- 2026-07-28 --------------------------------------------------------------------

    def _modern(self, request_headers, payload, header_version):
        if isinstance(payload, list):
            return _single(
                None,
                JsonRpcError(
                    jsonrpc.INVALID_REQUEST, "Invalid Request: batches are not supported in 2026-07-28", http_status=400
                ),
            )
        try:
            kind = jsonrpc.classify(payload)
        except JsonRpcError as error:
            return _single(payload.get("id") if isinstance(payload, dict) else None, error)
        request_id = payload.get("id")
        if kind == "response":
            return _single(
                request_id,
                JsonRpcError(
                    jsonrpc.INVALID_REQUEST,
                    "Invalid Request: clients do not send responses in 2026-07-28",
                    http_status=400,
                ),
            )
        method = payload["method"]
        self.backend.begin(method)
        params = payload.get("params") or {}
        meta = params.get("_meta")
        if (
            not isinstance(meta, dict)
            or not isinstance(meta.get(versions.META_VERSION), str)
            or not isinstance(meta.get(versions.META_CAPABILITIES), dict)
        ):
            return _single(
                request_id,
                JsonRpcError(
                    jsonrpc.INVALID_PARAMS,
                    "Invalid params: _meta must carry io.modelcontextprotocol/protocolVersion and "
                    "io.modelcontextprotocol/clientCapabilities",
                    http_status=400,
                ),
            )
        body_version = meta[versions.META_VERSION]
        mismatch = self._header_mismatch(request_headers, header_version, body_version, method, params)
        if mismatch:
            return _single(
                request_id, JsonRpcError(jsonrpc.HEADER_MISMATCH, f"Header mismatch: {mismatch}", http_status=400)
            )
        if body_version not in versions.MODERN:
            return _single(
                request_id,
                JsonRpcError(
                    jsonrpc.UNSUPPORTED_PROTOCOL_VERSION,
                    "Unsupported protocol version",
                    {"supported": list(versions.SUPPORTED), "requested": body_version},
                    http_status=400,
                ),
            )
        self.backend.note(version=body_version)
        if kind == "notification":
            return Reply(202)
        if self._over_limit([payload], MODERN_METHODS):
            body, status, extra_headers = self._refuse(payload)
            return Reply(status, body, extra_headers)
        body, status, extra_headers = self._dispatch(payload, Call("modern", body_version, request_id))
        return Reply(status, body, extra_headers)

    @staticmethod
    def _header_mismatch(request_headers, header_version, body_version, method, params):
        if header_version is None:
            return "the MCP-Protocol-Version header is required"
        if header_version.strip() != body_version:
            return f"MCP-Protocol-Version header {header_version!r} does not match the body's {body_version!r}"
        raw_method = request_headers.get("Mcp-Method")
        if raw_method is None:
            return "the Mcp-Method header is required"
        try:
            if mcp_headers.decode(raw_method) != method:
                return "the Mcp-Method header does not match the body's method"
            field_name = mcp_headers.NAME_METHODS.get(method)
            if field_name:
                raw_name = request_headers.get("Mcp-Name")
                if raw_name is None:
                    return "the Mcp-Name header is required for " + method
                if mcp_headers.decode(raw_name) != params.get(field_name):
                    return f"the Mcp-Name header does not match the body's {field_name}"
        except mcp_headers.HeaderError as error:
            return str(error)
        return None

    # -- methods -----------------------------------------------------------------------

    def _dispatch(self, message, call):
        handlers = MODERN_METHODS if call.era == "modern" else LEGACY_METHODS
        handler = handlers.get(message["method"])
        try:
            if handler is None:
                raise JsonRpcError(
                    jsonrpc.METHOD_NOT_FOUND,
                    f"Method not found: {message['method']}",
                    http_status=404 if call.era == "modern" else 200,
                )
            result = handler(self, message.get("params") or {}, call)
            if call.era == "modern":
                result = self._modern_result(message["method"], result)
            return jsonrpc.response(message["id"], result), 200, {}
        except JsonRpcError as error:
            self.backend.note(outcome="error", error=error.message)
            return jsonrpc.error_response(message["id"], error), error.http_status, error.headers

    def _modern_result(self, method, result):
        result = dict(result)
        result.setdefault("resultType", "complete")
        result.setdefault("_meta", {})[versions.META_SERVER_INFO] = self.backend.server_info()
        result.update(CACHE_HINTS.get(method, {}))
        return result

    def m_ping(self, params, call):
        return {}

    def m_discover(self, params, call):
        return {
            "supportedVersions": list(versions.SUPPORTED),
            "capabilities": MODERN_CAPABILITIES,
            "instructions": self.backend.instructions(),
        }

    def m_set_level(self, params, call):
        if params.get("level") not in LOG_LEVELS:
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, "level must be one of " + ", ".join(LOG_LEVELS))
        return {}

    @staticmethod
    def _no_cursor(params):
        # Every list fits in one page; a cursor can only be one we never issued.
        if params.get("cursor") is not None:
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, "Invalid cursor")

    def m_tools_list(self, params, call):
        self._no_cursor(params)
        return {"tools": self.backend.list_tools()}

    def m_tools_call(self, params, call):
        name = params.get("name")
        arguments = params.get("arguments", {})
        if not isinstance(name, str):
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, "tools/call needs a tool name")
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, "tools/call arguments must be an object")
        return self.backend.call_tool(name, arguments, call)

    def m_resources_list(self, params, call):
        self._no_cursor(params)
        return {"resources": self.backend.list_resources()}

    def m_resource_templates(self, params, call):
        self._no_cursor(params)
        return {"resourceTemplates": self.backend.resource_templates()}

    def m_resources_read(self, params, call):
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, "resources/read needs a uri")
        try:
            return {"contents": self.backend.read_resource(uri)}
        except ResourceNotFound as missing:
            code = jsonrpc.INVALID_PARAMS if call.era == "modern" else jsonrpc.RESOURCE_NOT_FOUND_LEGACY
            raise JsonRpcError(code, "Resource not found", {"uri": missing.uri}) from None

    def m_prompts_list(self, params, call):
        self._no_cursor(params)
        return {"prompts": [prompts.listed(prompt) for prompt in self.backend.prompts()]}

    def m_prompts_get(self, params, call):
        name = params.get("name")
        if not isinstance(name, str):
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, "prompts/get needs a prompt name")
        self.backend.note(arguments=f"prompt {name[:100]}")
        prompt = next((prompt for prompt in self.backend.prompts() if prompt["name"] == name), None)
        if prompt is None:
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, f"Unknown prompt: {name[:100]}")
        return prompts.render(prompt, params.get("arguments"))


COMMON_METHODS = {
    "tools/list": Transport.m_tools_list,
    "tools/call": Transport.m_tools_call,
    "resources/list": Transport.m_resources_list,
    "resources/templates/list": Transport.m_resource_templates,
    "resources/read": Transport.m_resources_read,
    "prompts/list": Transport.m_prompts_list,
    "prompts/get": Transport.m_prompts_get,
}
LEGACY_METHODS = {**COMMON_METHODS, "ping": Transport.m_ping, "logging/setLevel": Transport.m_set_level}
MODERN_METHODS = {**COMMON_METHODS, "server/discover": Transport.m_discover}
