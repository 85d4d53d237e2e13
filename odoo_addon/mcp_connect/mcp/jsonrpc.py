"""JSON-RPC 2.0 framing and the error codes MCP uses.

Standard codes (JSON-RPC 2.0 §5.1) plus MCP's: -32002 "resource not found" in the
initialize-era revisions (replaced by -32602 in 2026-07-28), and the 2026-07-28
transport codes -32020 (header mismatch), -32021 (missing client capability),
-32022 (unsupported protocol version).
"""

import json

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
RESOURCE_NOT_FOUND_LEGACY = -32002
HEADER_MISMATCH = -32020
MISSING_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022
# Deeper than any real message; bounds the recursion of everything that walks a message later.
MAX_DEPTH = 64


class JsonRpcError(Exception):
    """An error answered as a JSON-RPC error object, with the HTTP status to use."""

    def __init__(self, code, message, data=None, *, http_status=200, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.http_status = http_status
        self.headers = dict(headers or {})

    def to_dict(self):
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def loads(body):
    """Parse a request body; ``ValueError`` for anything that is not JSON of a sane depth.

    Python's parser answers very deep nesting with ``RecursionError``, which would
    otherwise escape as a server error.
    """
    try:
        value = json.loads(body)
    except RecursionError as error:
        raise ValueError("JSON nested too deeply") from error
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= MAX_DEPTH:
                    raise ValueError("JSON nested too deeply")
                stack.append((child, depth + 1))
    return value


class Encoded(dict):
    """A JSON object whose text is already known (``text``): ``dumps`` writes that text rather
    than encoding the object again. Anything else sees a plain dict."""

    __slots__ = ("text",)

    def __init__(self, value, text):
        super().__init__(value)
        self.text = text


class EncodedList(list):
    """A JSON array whose text is already known, as ``Encoded`` is for an object."""

    __slots__ = ("text",)

    def __init__(self, value, text):
        super().__init__(value)
        self.text = text


# ``json.dumps`` with these arguments builds an encoder on every call; one is enough.
encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


def dumps(value):
    """``value`` as JSON text, written once: an ``Encoded`` object (a tool's structured result, a
    row of records measured for the size budget) is copied as its text, whether it is ``value``
    itself, in one of its objects, or an item of one of their lists; the rest is ``json.dumps``'s."""
    if isinstance(value, Encoded | EncodedList):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_dumps(str(key))}: {dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list) and any(isinstance(item, Encoded) for item in value):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    return _dumps(value)


def _dumps(value):
    return encode(value)


def response(request_id, result):
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error_response(request_id, error):
    body = {"jsonrpc": "2.0", "error": error.to_dict()}
    # JSON-RPC 2.0 §5: id is null when it could not be read; omitted is also accepted by MCP.
    body["id"] = request_id
    return body


def request_id_of(body):
    """The id of a single JSON-RPC request in a raw body, for errors answered before parsing
    it properly (a refused origin, a rate limit); None when there is no valid one."""
    try:
        message = loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(message, dict) and valid_id(message.get("id")):
        return message["id"]
    return None


def valid_id(value):
    """MCP: request ids are strings or integers, never null (and never booleans)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def classify(message):
    """Return ``"request"``, ``"notification"``, ``"response"`` or raise ``JsonRpcError``."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message", http_status=400)
    if "method" in message:
        if not isinstance(message["method"], str) or not message["method"]:
            raise JsonRpcError(INVALID_REQUEST, "Invalid Request: method must be a string", http_status=400)
        params = message.get("params")
        if params is not None and not isinstance(params, dict):
            raise JsonRpcError(INVALID_REQUEST, "Invalid Request: params must be an object", http_status=400)
        if "id" not in message:
            return "notification"
        if not valid_id(message["id"]):
            raise JsonRpcError(INVALID_REQUEST, "Invalid Request: id must be a string or an integer", http_status=400)
        return "request"
    if "id" in message and ("result" in message or "error" in message):
        return "response"
    raise JsonRpcError(
        INVALID_REQUEST, "Invalid Request: neither a request, a notification nor a response", http_status=400
    )
