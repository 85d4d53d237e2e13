"""The MCP endpoint, ``/api/mcp`` (``/mcp`` belongs to Odoo Enterprise's own AI app)."""

import logging

from odoo import http
from odoo.http import content_disposition, request

from ..client_address import client_ip
from ..mcp import jsonrpc
from ..mcp.jsonrpc import JsonRpcError
from ..mcp_backend import OdooBackend, cors_headers
from ..storage import server_urls

_logger = logging.getLogger(__name__)

BODY_LIMIT = 1024 * 1024
ALLOWED_HEADERS = "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name"


def json_reply(reply):
    headers = {"Cache-Control": "no-store", **reply.headers}
    if reply.body is None:
        return request.make_response(b"", headers=list(headers.items()), status=reply.status)
    # Written by jsonrpc.dumps: what a tool's result already encoded is not encoded again.
    headers.setdefault("Content-Type", "application/json; charset=utf-8")
    return request.make_response(jsonrpc.dumps(reply.body), headers=list(headers.items()), status=reply.status)


class McpController(http.Controller):
    @http.route(
        "/api/mcp",
        type="http",
        auth="mcp",
        methods=["POST", "DELETE", "OPTIONS"],
        csrf=False,
        save_session=False,
        readonly=False,
        max_content_length=BODY_LIMIT,
        sitemap=False,
    )
    def endpoint(self, **_kwargs):
        httprequest = request.httprequest
        origin = httprequest.headers.get("Origin")
        if httprequest.method == "OPTIONS":
            return self._preflight(origin)
        if httprequest.method == "POST" and httprequest.mimetype != "application/json":
            error = JsonRpcError(jsonrpc.PARSE_ERROR, "Content-Type must be application/json", http_status=415)
            return request.make_json_response(jsonrpc.error_response(None, error), status=415)
        backend = OdooBackend(request.env, server_urls(request.env), client_ip())
        return json_reply(backend.serve(httprequest.method, httprequest.headers, httprequest.get_data(), origin))

    @http.route("/api/mcp", type="http", auth="none", methods=["GET"], csrf=False, save_session=False, sitemap=False)
    def no_stream(self, **_kwargs):
        """No server-initiated SSE stream (each would hold an Odoo worker): 405 in every revision."""
        return request.make_response(b"", headers=[("Allow", "POST, DELETE, OPTIONS")], status=405)

    @http.route(
        "/api/mcp/download/<string:token>",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=False,
        sitemap=False,
    )
    def download(self, token, **_kwargs):
        """A file a tool offered by a link (``mcp.download``): once, before it expires, while its user
        and connection may still use AI tools; every refusal looks the same."""
        if request.httprequest.method == "HEAD":
            # Werkzeug routes HEAD with GET; a link preview's HEAD must not spend the single use.
            return request.make_response(b"", headers=[("Allow", "GET")], status=405)
        session_uid = request.session.uid if request.session else None
        # sudo: the link is the credential: whoever presents it gets the file; _claim checks who made it
        found = request.env["mcp.download"].sudo()._claim(token[:200], session_uid=session_uid)
        if found is None:
            return request.make_response(
                b"This download link is unknown, expired or already used.",
                headers=[("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")],
                status=404,
            )
        name, mimetype, raw = found
        return request.make_response(
            raw,
            headers=[
                ("Content-Type", mimetype),
                ("Content-Disposition", content_disposition(name)),
                ("Content-Length", str(len(raw))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )

    def _preflight(self, origin):
        """The CORS preflight, for the origins the backend accepts (``mcp_backend.cors_headers``)."""
        headers = cors_headers(request.env, server_urls(request.env), origin) if origin else None
        if not headers:
            return request.make_response(b"", status=403)
        headers.update(
            {
                "Access-Control-Allow-Methods": "POST, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": "600",
            }
        )
        return request.make_response(b"", headers=list(headers.items()), status=204)
