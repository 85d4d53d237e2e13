import werkzeug.exceptions
from odoo import models
from odoo.http import request

from .. import config
from ..mcp import jsonrpc
from ..mcp.jsonrpc import JsonRpcError
from ..oauth import bearer
from ..oauth.errors import AccessPaused, InvalidRequest, OAuthError
from ..storage import server_urls

MACHINE_ENDPOINTS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/register")
MCP_ENDPOINT = "/api/mcp"


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _auth_method_mcp(cls):
        """``auth='mcp'``: a bearer token of this server, for this resource (RFC 6750, RFC 8707).

        On success the request runs as the token's user, in the user's language and time zone
        (their context, as a signed-in session has it: not the client's Accept-Language), in
        the token's companies that the user still has (``allowed_company_ids``, the token's
        main company first); the token is in the context as ``mcp_token_id``. On failure the
        request stops here with 401 (400 for a token in the URL) and a ``WWW-Authenticate``
        challenge; while an administrator paused AI access, with 503 before any token is
        looked at.
        """
        # Start from an anonymous environment (on 19.0 this also sets the transaction's
        # default environment, which the ORM needs before any user is chosen).
        cls._auth_method_none()
        if request.httprequest.method == "OPTIONS":
            # A CORS preflight never carries credentials (Fetch standard); Odoo routes it to
            # the same endpoint, which answers it before doing anything else.
            return
        env = request.env
        if config.get(env, "paused"):
            raise werkzeug.exceptions.ServiceUnavailable(response=cls._paused_response())
        urls = server_urls(env)
        try:
            presented = bearer.extract(
                request.httprequest.headers.get("Authorization"), request.httprequest.args.keys()
            )
            # sudo: no user is known before the bearer token is checked, and tokens are readable by no one
            grant = env["mcp.token"].sudo()._authenticate_bearer(presented, urls)
        except OAuthError as error:
            response = request.make_json_response(
                error.to_dict(), status=error.status, headers=bearer.error_headers(urls, error)
            )
            raise werkzeug.exceptions.Unauthorized(response=response) from None
        request.update_env(
            user=grant.user_id,
            context=dict(
                env.context,
                **grant.user_context,
                allowed_company_ids=list(grant.company_ids),
                mcp_token_id=grant.token_id,
            ),
        )

    @classmethod
    def _paused_response(cls):
        """503 while an administrator paused AI access: in JSON-RPC at the MCP endpoint, as an OAuth
        error elsewhere. Not a 401, which would send the tool through its sign-in again."""
        paused = AccessPaused()
        headers = {"Cache-Control": "no-store", **paused.headers}
        if request.httprequest.path == MCP_ENDPOINT:
            error = JsonRpcError(jsonrpc.SERVER_ERROR, paused.description)
            body = jsonrpc.error_response(jsonrpc.request_id_of(request.httprequest.get_data()), error)
            return request.make_json_response(body, status=paused.status, headers=headers)
        return request.make_json_response(paused.to_dict(), status=paused.status, headers=headers)

    @classmethod
    def _handle_error(cls, exception):
        """A body over an endpoint's size limit, answered in the endpoint's own language.

        Werkzeug refuses it while Odoo reads the parameters, before the controller runs, with
        an HTML page; a tool expects an OAuth error (RFC 6749 §5.2) or a JSON-RPC error.
        """
        if isinstance(exception, werkzeug.exceptions.RequestEntityTooLarge):
            path = request.httprequest.path
            if path in MACHINE_ENDPOINTS:
                error = InvalidRequest("The request body is too large.")
                return request.make_json_response(error.to_dict(), status=413, headers={"Cache-Control": "no-store"})
            if path == MCP_ENDPOINT:
                error = JsonRpcError(jsonrpc.INVALID_REQUEST, "The request body is too large.", http_status=413)
                return request.make_json_response(jsonrpc.error_response(None, error), status=413)
        return super()._handle_error(exception)
