"""The MCP transport's backend over Odoo: sessions, tools, resources, policy, limits, audit.

One instance serves one HTTP request, already authenticated by ``ir.http._auth_method_mcp``
(the environment is the token's user in the token's company). It checks the request
as a whole (origin, IP allowlist, rate limit), lets the transport answer, and writes
the request's audit row.
"""

import ast
import json
import re
import time
from pathlib import Path

from . import config
from .mcp import jsonrpc, registry, runner
from .mcp.context import ToolContext, exposure
from .mcp.jsonrpc import JsonRpcError
from .mcp.transport import Reply, ResourceNotFound, Transport
from .mcp.values import default_fields, serialize_records, summarize_arguments
from .oauth import bearer
from .oauth import scopes as scope_rules
from .oauth.errors import InsufficientScope

RESOURCE_URI = re.compile(r"^odoo://(?P<model>[a-z0-9_.]{1,128})/(?P<id>[1-9][0-9]{0,18})$")
SERVER_NAME = "odoo-mcp-connect"
INSTRUCTIONS = (
    "Odoo ERP data of one company, reached as the signed-in user: Odoo's access rights apply and the "
    "administrator may restrict models and tools further. Call whoami first. Find models with list_models, "
    "their fields with describe_model, then use search_records with an Odoo domain such as "
    '[["customer_rank", ">", 0]]. Results are paged: follow next_offset. Writes need the mcp:write scope; '
    "some tools may wait for a human approval (see get_approval_status)."
)
RATE_WINDOW_SECONDS = 60
VERSION = ast.literal_eval((Path(__file__).parent / "__manifest__.py").read_text())["version"]


class OdooBackend:
    def __init__(self, env, urls, client_ip):
        self.env = env
        self.urls = urls
        self.client_ip = client_ip
        token_id = env.context.get("mcp_token_id")
        if not token_id:
            raise RuntimeError("the MCP backend serves only requests authenticated by auth='mcp'")
        self.token = env["mcp.token"].sudo().browse(token_id)
        self.connection = self.token.connection_id
        self.scopes = tuple(scope_rules.expand(self.token.scopes.split()))
        self.policy = self.connection._compiled_policy()
        self.details = {"outcome": "ok"}

    # -- the request as a whole ---------------------------------------------------------

    def serve(self, http_method, request_headers, body, origin):
        started = time.monotonic()
        reply = self._precheck(origin, body)
        if reply is None:
            transport = Transport(self)
            reply = (
                transport.delete(request_headers) if http_method == "DELETE" else transport.post(request_headers, body)
            )
        if reply.status >= 400 and self.details["outcome"] == "ok":
            self.details["outcome"] = "error"
            if isinstance(reply.body, dict) and "error" in reply.body:
                self.details.setdefault("error", reply.body["error"].get("message"))
        self._audit(reply, started, request_headers)
        return reply

    def _precheck(self, origin, body):
        request_id = jsonrpc.request_id_of(body)
        if origin and not self.origin_allowed(origin):
            self.details.update(outcome="denied", error="origin not allowed")
            return Reply(
                403,
                jsonrpc.error_response(
                    request_id,
                    JsonRpcError(jsonrpc.INVALID_REQUEST, "Forbidden: this Origin may not call the MCP endpoint"),
                ),
            )
        if not self.policy.allows_ip(self.client_ip):
            self.details.update(outcome="denied", error="ip_not_allowed")
            return Reply(
                403,
                jsonrpc.error_response(
                    request_id,
                    JsonRpcError(
                        jsonrpc.INVALID_REQUEST, "Forbidden: this connection only accepts calls from its IP allowlist"
                    ),
                ),
            )
        limit = self.connection._effective_rate_limit()
        if limit:
            retry_after = (
                self.env["mcp.rate.counter"]
                .sudo()
                ._hit(f"mcp:connection:{self.connection.id}", limit, RATE_WINDOW_SECONDS)
            )
            if retry_after:
                self.details.update(outcome="rate_limited", error=f"more than {limit} calls per minute")
                return Reply(
                    429,
                    jsonrpc.error_response(
                        request_id,
                        JsonRpcError(
                            jsonrpc.SERVER_ERROR,
                            f"Rate limit exceeded ({limit} calls per minute); retry after {retry_after} seconds",
                        ),
                    ),
                    {"Retry-After": str(retry_after)},
                )
        return None

    def origin_allowed(self, origin):
        origin = origin.strip().lower().rstrip("/")
        return origin == self.urls.issuer.lower() or origin in config.allowed_origins(self.env)

    def _audit(self, reply, started, request_headers):
        self.env["mcp.audit.log"].sudo()._record(
            {
                "connection_id": self.connection.id,
                "user_id": self.env.uid,
                "client_ip": self.client_ip,
                "method": self.details.get("method"),
                "tool": self.details.get("tool"),
                "model_name": self.details.get("model"),
                "outcome": self.details["outcome"],
                "duration_ms": int((time.monotonic() - started) * 1000),
                "http_status": reply.status,
                "protocol_version": request_headers.get("MCP-Protocol-Version") or self.details.get("version"),
                "arguments_summary": self.details.get("arguments"),
                "error_summary": (self.details.get("error") or "")[:250] or False,
            }
        )

    def note(self, **details):
        for key, value in details.items():
            self.details.setdefault(key, value)

    # -- transport.Backend --------------------------------------------------------------

    def server_info(self):
        return {"name": SERVER_NAME, "title": "MCP Connect for Odoo", "version": VERSION}

    def instructions(self):
        return INSTRUCTIONS

    def create_session(self, version, client_info):
        self.details["version"] = version
        return self.env["mcp.session"]._open(self.connection, self.env.user, version, client_info)

    def session_version(self, session_id):
        return self.env["mcp.session"]._live_version(session_id, self.env.user, self.connection)

    def end_session(self, session_id):
        self.details["method"] = "session/end"
        return self.env["mcp.session"]._end(session_id, self.env.user, self.connection)

    def list_tools(self):
        return [
            tool.definition()
            for tool in registry.ordered()
            if self.policy.evaluate(
                tool=tool.name, required_scope=tool.scope, granted_scopes=list(self.scopes), client_ip=self.client_ip
            ).outcome
            != "deny"
        ]

    def _context(self):
        return ToolContext(
            env=self.env,
            policy=self.policy,
            scopes=self.scopes,
            client_ip=self.client_ip,
            connection_record=self.connection,
        )

    def call_tool(self, name, arguments, call):
        tool = registry.TOOLS.get(name)
        if tool is None:
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, f"Unknown tool: {name[:100]}")
        model = arguments.get("model") if isinstance(arguments.get("model"), str) else None
        self.note(tool=name, model=model, arguments=summarize_arguments(arguments))
        decision = self.policy.evaluate(
            tool=name,
            required_scope=tool.scope,
            granted_scopes=list(self.scopes),
            model=model if tool.operation else None,
            operation=tool.operation,
            client_ip=self.client_ip,
        )
        if decision.outcome == "deny" and decision.reason == "insufficient_scope":
            self.details.update(outcome="denied", error=decision.message)
            error = InsufficientScope(tool.scope, f"The tool {name} needs the {tool.scope} scope.")
            raise JsonRpcError(
                jsonrpc.INVALID_REQUEST,
                f"Forbidden: {error.description}",
                http_status=403,
                headers=bearer.error_headers(self.urls, error, scope=tool.scope),
            )
        if decision.outcome == "deny":
            self.details.update(outcome="denied", error=decision.message)
            return _error_result(f"Refused by this connection's policy: {decision.message}.")
        if decision.outcome == "needs_approval":
            return self._hold_for_approval(tool, arguments)
        result, error = runner.run(tool, self._context(), arguments)
        if error is not None:
            self.details.update(outcome="error", error=error)
            return _error_result(error)
        return _result(result)

    def _hold_for_approval(self, tool, arguments):
        request = self.env["mcp.approval.request"]._open(
            self.connection, self.env.user, self.env.company, tool, arguments, self.scopes, self.client_ip
        )
        self.details["outcome"] = "pending"
        approver = request._approver_label()
        return _result(
            {
                "approval_status": "pending",
                "approval_id": request.id,
                "message": f"{tool.name} needs the approval of {approver}. Approval request {request.id} is pending; "
                f"call get_approval_status with approval_id {request.id} to follow it.",
            }
        )

    def list_resources(self):
        user, company = self.env.user, self.env.company
        return [
            {
                "uri": f"odoo://res.users/{user.id}",
                "name": user.name,
                "title": "You",
                "description": "The Odoo user this connection acts as.",
                "mimeType": "application/json",
            },
            {
                "uri": f"odoo://res.company/{company.id}",
                "name": company.name,
                "title": "Your company",
                "description": "The company your calls run in.",
                "mimeType": "application/json",
            },
        ]

    def resource_templates(self):
        return [
            {
                "uriTemplate": "odoo://{model}/{id}",
                "name": "Odoo record",
                "title": "Odoo record",
                "description": "One record, e.g. odoo://res.partner/7, with its main fields as JSON.",
                "mimeType": "application/json",
            }
        ]

    def read_resource(self, uri):
        self.note(tool="resources/read")
        match = RESOURCE_URI.match(uri)
        # Every refusal looks the same: the answer never tells which records exist.
        if not match:
            raise ResourceNotFound(uri)
        model_name, record_id = match.group("model"), int(match.group("id"))
        self.note(model=model_name)
        if (
            model_name not in self.env
            or exposure(model_name, "read")
            or not self.policy.allows_model(model_name, "read")
            or self.env[model_name]._abstract
        ):
            raise ResourceNotFound(uri)
        model = self.env[model_name]
        try:
            if not model.has_access("read"):
                raise ResourceNotFound(uri)
            ctx = self._context()
            record = ctx.records(model, [record_id])
            record.check_access("read")
            described = ctx.fields(model)
            rows = serialize_records(record, default_fields(model, described), described)
        except ResourceNotFound:
            self.details.update(outcome="error", error="resource not found")
            raise
        except Exception as error:
            self.details.update(outcome="error", error="resource not found")
            raise ResourceNotFound(uri) from error
        return [{"uri": uri, "mimeType": "application/json", "text": json.dumps(rows[0], ensure_ascii=False)}]


def _result(structured):
    return {
        "content": [{"type": "text", "text": json.dumps(structured, ensure_ascii=False, default=str)}],
        "structuredContent": structured,
        "isError": False,
    }


def _error_result(message):
    return {"content": [{"type": "text", "text": message}], "isError": True}
