"""The MCP transport's backend over Odoo: sessions, tools, resources, policy, limits, audit.

One instance serves one HTTP request, already authenticated by ``ir.http._auth_method_mcp``
(the environment is the token's user in the token's companies). It checks the request
as a whole (origin, IP allowlist), lets the transport answer, and writes one audit row per
message. Each message then passes one gate: the rate limit of its user on this connection
(``admit``), and for tools and resources the connection's policy (``_gate``).

The Origin rule has one owner, ``cors_headers``: the request check here and the endpoint's
CORS preflight both ask it.
"""

import ast
import json
import re
import time
from dataclasses import replace
from pathlib import Path

from odoo import fields

from . import config, guard
from .mcp import jsonrpc, registry
from .mcp.jsonrpc import JsonRpcError
from .mcp.registry import SAME_DATA
from .mcp.transport import Reply, ResourceNotFound, Transport
from .oauth import bearer
from .oauth.errors import InsufficientScope
from .tools import runner
from .tools.context import ToolContext, ToolError
from .tools.values import default_fields, serialize_records, summarize_arguments

RESOURCE_URI = re.compile(r"^odoo://(?P<model>[a-z0-9_.]{1,128})/(?P<id>[1-9][0-9]{0,18})$")
SERVER_NAME = "odoo-mcp-connect"
INSTRUCTIONS = (
    "Odoo ERP data of the companies the user allowed, reached as the signed-in user: Odoo's access rights "
    "apply and the administrator may restrict models and tools further. Find models with list_models, "
    "their fields with describe_model, then use search_records with an Odoo domain such as "
    '[["customer_rank", ">", 0]]. Results are paged: follow next_offset. Writes need the mcp:write scope; '
    "some tools may wait for a human approval (see get_approval_status)."
)
INSTRUCTIONS_MAX_MODELS = 25
RATE_WINDOW_SECONDS = 60
# A resource read is a read of one record: it passes the gate of this tool.
RESOURCE_TOOL = "read_records"
WAITING_FOR_APPROVAL = (
    "Forbidden: this AI tool is waiting for approval. An MCP Connect manager must approve it in Odoo "
    "(MCP Connect > Connections) before it can be used; signing in again does not help."
)
VERSION = ast.literal_eval((Path(__file__).parent / "__manifest__.py").read_text())["version"]


def cors_headers(env, urls, origin):
    """The CORS headers for a browser ``Origin`` this server accepts (itself or one listed in
    Settings); None for any other origin."""
    if not config.origin_allowed(env, urls.issuer, origin):
        return None
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": bearer.EXPOSE_HEADERS,
        "Vary": "Origin",
    }


class OdooBackend:
    def __init__(self, env, urls, client_ip):
        self.env = env
        self.urls = urls
        self.client_ip = client_ip
        token_id = env.context.get("mcp_token_id")
        if not token_id:
            raise RuntimeError("the MCP backend serves only requests authenticated by auth='mcp'")
        # What the token grants, as ``_auth_method_mcp`` resolved it (cached per worker).
        self.grant = env["mcp.token"]._grant(token_id)
        # sudo: the connection's policy binds the caller, who may not read the connection itself
        self.connection = env["mcp.connection"].sudo().browse(self.grant.connection_id)
        self.scopes = self.grant.scopes
        self.policy = self.grant.policy
        # One audit record per message (``begin``); ``details`` is the current one.
        self.details = {}
        self.messages = []
        self.rate_limit = None
        self.retry_after = None
        self._archived_tools = None
        self._tools = None

    # -- the request as a whole ---------------------------------------------------------

    def serve(self, http_method, request_headers, body, origin):
        """The reply to one request; an accepted ``Origin`` gets its CORS headers with it."""
        started = time.monotonic()
        cors = cors_headers(self.env, self.urls, origin) if origin else {}
        reply = self._precheck(cors is not None, body)
        if reply is None:
            transport = Transport(self)
            reply = (
                transport.delete(request_headers) if http_method == "DELETE" else transport.post(request_headers, body)
            )
        if cors:
            reply = replace(reply, headers={**cors, **reply.headers})
        self._audit(reply, started, request_headers)
        return reply

    def _precheck(self, origin_accepted, body):
        request_id = jsonrpc.request_id_of(body)
        if not origin_accepted:
            self.details.update(outcome="denied", error="origin not allowed")
            return Reply(
                403,
                jsonrpc.error_response(
                    request_id,
                    JsonRpcError(jsonrpc.INVALID_REQUEST, "Forbidden: this Origin may not call the MCP endpoint"),
                ),
            )
        if self.grant.connection_state == "pending":
            self.details.update(outcome="denied", error="connection waiting for a manager's approval")
            return Reply(
                403,
                jsonrpc.error_response(
                    request_id,
                    JsonRpcError(jsonrpc.INVALID_REQUEST, WAITING_FOR_APPROVAL),
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
        return None

    def admit(self, count):
        """Per (connection, user): everyone signed in through one shared client (a client-metadata
        document, one company-wide registration) has a bucket of their own."""
        limit = self.connection._rate_limit_of(self.grant.rate_limit)
        if not limit:
            return count
        # sudo: rate counters are bookkeeping no user may write; the call being counted is not the user's to skip
        admitted, self.retry_after = (
            self.env["mcp.rate.counter"]
            .sudo()
            ._take(
                f"mcp:connection:{self.connection.id}:user:{self.env.uid}",
                limit,
                RATE_WINDOW_SECONDS,
                count,
                fields.Datetime.now(),
            )
        )
        self.rate_limit = limit
        return admitted

    def rate_limited(self):
        self.details.update(outcome="rate_limited", error=f"more than {self.rate_limit} calls per minute")
        return JsonRpcError(
            jsonrpc.SERVER_ERROR,
            f"Rate limit exceeded ({self.rate_limit} calls per minute for each user of this connection); "
            f"retry after {self.retry_after} seconds",
            {"retryAfter": self.retry_after},
            http_status=429,
            headers={"Retry-After": str(self.retry_after)},
        )

    def _audit(self, reply, started, request_headers):
        finished = time.monotonic()
        records = self.messages or [self.details]
        header_version = request_headers.get("MCP-Protocol-Version")
        reply_error = reply.body.get("error", {}).get("message") if isinstance(reply.body, dict) else None
        rows = []
        for index, details in enumerate(records):
            if "outcome" not in details and reply.status >= 400:
                details.update(outcome="error", error=details.get("error") or reply_error)
            begun = details.get("started", started) if index else started
            ended = records[index + 1]["started"] if index + 1 < len(records) else finished
            rows.append(
                {
                    "connection_id": self.connection.id,
                    "user_id": self.env.uid,
                    "client_ip": self.client_ip,
                    "method": details.get("method"),
                    "tool": details.get("tool"),
                    "model_name": details.get("model"),
                    "outcome": details.get("outcome", "ok"),
                    "duration_ms": int((ended - begun) * 1000),
                    "http_status": reply.status,
                    "protocol_version": details.get("version") or header_version,
                    "arguments_summary": details.get("arguments"),
                    "error_summary": (details.get("error") or "")[:250] or False,
                    "preview": bool(details.get("preview")),
                }
            )
        # sudo: audit rows are written by the system, never by the user they are about
        self.env["mcp.audit.log"].sudo()._record_many(rows)

    def begin(self, method, version=None):
        self.details = {"method": method, "started": time.monotonic()}
        if version:
            self.details["version"] = version
        self.messages.append(self.details)

    def note(self, **details):
        for key, value in details.items():
            self.details.setdefault(key, value)

    # -- transport.Backend --------------------------------------------------------------

    def server_info(self):
        return {"name": SERVER_NAME, "title": "MCP Connect for Odoo", "version": VERSION}

    def instructions(self):
        """The general instructions, then who the calls run as and what this connection may use,
        so an assistant does not spend its first calls finding out."""
        user = self.env.user
        # sudo: the connection's model rules restrict the caller, who may not read them
        rules = self.connection.sudo().model_rule_ids
        if rules:
            names = [f"{rule.model_id.model} ({', '.join(rule._operations())})" for rule in rules]
            extra = len(names) - INSTRUCTIONS_MAX_MODELS
            models = ", ".join(names[:INSTRUCTIONS_MAX_MODELS]) + (
                f" and {extra} more (see list_models)" if extra > 0 else ""
            )
            models = f"This connection may use these models only: {models}."
        else:
            models = "This connection may use every model your Odoo access rights allow."
        return (
            f"{INSTRUCTIONS}\n"
            f"You act as {user.name} (login {user.login}) in {self._companies_sentence()}; "
            f"language {user.lang or 'not set'}, time zone {user.tz or 'not set (UTC)'}.\n"
            f"{models}"
        )

    def _companies_sentence(self):
        companies = self.env.companies
        if len(companies) == 1:
            return f"the company {companies.name}"
        named = ", ".join(f"{company.name} (id {company.id})" for company in companies)
        return (
            f"the companies {named}; reads cover all of them, and new records go to {self.env.company.name} "
            "unless create_records names another company_id"
        )

    def create_session(self, version, client_info):
        self.details["version"] = version
        return self.env["mcp.session"]._open(self.connection, self.env.user, version, client_info, self.grant.family)

    def recall_session(self, session_id):
        return self.env["mcp.session"]._recall(session_id, self.env.user, self.connection, self.grant.family)

    def end_session(self, session_id):
        return self.env["mcp.session"]._end(session_id, self.env.user, self.connection)

    def available_tools(self):
        """Name -> tool: the tools of the modules installed in this database, and its server actions
        made available to AI tools."""
        if self._tools is None:
            self._tools = self.env["mcp.tool"]._available()
        return self._tools

    def list_tools(self):
        tools = self.available_tools()
        return [
            tools[name].definition()
            for name in sorted(tools)
            if not self._archived(tools[name]) and self._decision(tools[name]).outcome != "deny"
        ]

    def _archived(self, tool):
        """Whether an administrator archived ``tool``, or the tool whose data it shows (``SAME_DATA``)."""
        if self._archived_tools is None:
            self._archived_tools = self.env["mcp.tool"]._archived_names()
        return bool({tool.name, SAME_DATA.get(tool.name)} & self._archived_tools)

    def _decision(self, tool, model=None):
        """The connection's policy on one use of ``tool`` (on ``model``, for tools that touch one).
        The network rule is not evaluated again: ``_precheck`` admitted the client's address once
        for the whole request."""
        return self.policy.evaluate_admitted(
            tool=tool.name,
            required_scope=tool.scope,
            granted_scopes=list(self.scopes),
            model=(tool.model or model) if tool.operation else None,
            operation=tool.operation,
        )

    def _gate(self, tool, model=None):
        """One gate for every entry that uses a tool (tools/call, resources/read): tools allowed,
        scope, model and operation, approvals. Answers a missing scope with 403 and its
        challenge; notes a refusal for the audit trail and returns the decision."""
        decision = self._decision(tool, model)
        if decision.outcome == "deny":
            self.details.update(outcome="denied", error=decision.message)
        if decision.outcome == "deny" and decision.reason == "insufficient_scope":
            error = InsufficientScope(tool.scope, f"The tool {tool.name} needs the {tool.scope} scope.")
            raise JsonRpcError(
                jsonrpc.INVALID_REQUEST,
                f"Forbidden: {error.description}",
                http_status=403,
                headers=bearer.error_headers(self.urls, error, scope=tool.scope),
            )
        return decision

    def _context(self):
        return ToolContext(
            env=self.env,
            policy=self.policy,
            scopes=self.scopes,
            client_ip=self.client_ip,
            connection_record=self.connection,
        )

    def call_tool(self, name, arguments, call):
        tools = self._tools if self._tools is not None else self.env["mcp.tool"]._available(name)
        tool = tools.get(name)
        if tool is None:
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, f"Unknown tool: {name[:100]}")
        model = tool.model or (arguments.get("model") if isinstance(arguments.get("model"), str) else None)
        self.note(tool=name, model=model, arguments=summarize_arguments(arguments))
        if self._archived(tool):
            self.details.update(outcome="denied", error="tool archived")
            return _error_result(f"The tool {name} is turned off: an administrator archived it in Odoo.")
        decision = self._gate(tool, model)
        if decision.outcome == "deny":
            return _error_result(f"Refused by this connection's policy: {decision.message}.")
        # A preview writes nothing: it needs what the call needs, except the approval.
        previewing = "preview" in tool.input_schema["properties"] and arguments.get("preview") is True
        if previewing:
            self.details["preview"] = True
        approval = decision.outcome == "needs_approval" or self.policy.needs_approval(SAME_DATA.get(name, name))
        if approval and not previewing:
            return self._hold_for_approval(tool, arguments)
        # The first message of a request finds its transaction untouched (the rate counter and
        # "last used" stamps have cursors of their own); later messages of a batch may follow writes.
        result, error = runner.run(tool, self._context(), arguments, alone=len(self.messages) == 1)
        if error is not None:
            self.details.update(outcome="error", error=error)
            return _error_result(error)
        if previewing and approval:
            result = {**result, "approval_required": True}
        return _result(result)

    def _hold_for_approval(self, tool, arguments):
        request = self.env["mcp.approval.request"]._open(
            self.connection, self.env.user, self.env.companies, tool, arguments, self.scopes, self.client_ip
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

    def prompts(self):
        # sudo: prompts are offered to every connection; the caller needs no MCP Connect group to list them
        return [prompt._definition() for prompt in self.env["mcp.prompt"].sudo().search([])]

    def list_resources(self):
        """The user and the company, as far as the gate of a resource read lets this connection see them."""
        tool = registry.TOOLS[RESOURCE_TOOL]
        if self._archived(tool) or self._decision(tool).outcome != "allow":
            return []
        user, company = self.env.user, self.env.company
        listed = [
            (user, "You", "The Odoo user this connection acts as."),
            (company, "Your company", "The company your calls run in."),
        ]
        return [
            {
                "uri": f"odoo://{record._name}/{record.id}",
                "name": record.name,
                "title": title,
                "description": description,
                "mimeType": "application/json",
            }
            for record, title, description in listed
            if self.policy.allows_model(record._name, "read")
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
        self.note(tool=RESOURCE_TOOL)
        match = RESOURCE_URI.match(uri)
        # Every refusal of a record looks the same: the answer never tells which records exist.
        if not match:
            raise ResourceNotFound(uri)
        model_name, record_id = match.group("model"), int(match.group("id"))
        self.note(model=model_name)
        if self._archived(registry.TOOLS[RESOURCE_TOOL]):
            self.details.update(outcome="denied", error="tool archived")
            raise JsonRpcError(
                jsonrpc.INVALID_PARAMS,
                f"Resources cannot be read: an administrator archived the {RESOURCE_TOOL} tool in Odoo.",
            )
        decision = self._gate(registry.TOOLS[RESOURCE_TOOL], model_name)
        if decision.outcome == "deny":
            raise JsonRpcError(jsonrpc.INVALID_PARAMS, f"Refused by this connection's policy: {decision.message}.")
        if decision.outcome == "needs_approval":
            self.details.update(outcome="denied", error=f"{RESOURCE_TOOL} needs an approval")
            raise JsonRpcError(
                jsonrpc.INVALID_PARAMS,
                f"On this connection {RESOURCE_TOOL} needs a human approval, so resources cannot be read "
                f"directly: call the {RESOURCE_TOOL} tool, which asks for the approval.",
            )
        ctx = self._context()
        try:
            model = ctx.model(model_name, "read")
        except ToolError:
            raise ResourceNotFound(uri) from None
        try:
            with self.env.cr.savepoint(), guard.active(guard.for_context(ctx, RESOURCE_TOOL)):
                if not model.has_access("read"):
                    raise ResourceNotFound(uri)
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
    """A tool's result; a file it returns (``resource``) becomes an embedded resource of the content."""
    resource = structured.pop("resource", None) if isinstance(structured, dict) else None
    text = jsonrpc.dumps(structured)
    content = [{"type": "text", "text": text}]
    if resource:
        content.append({"type": "resource", "resource": resource})
    # The same JSON twice (the text for clients without structured output): encoded once.
    if isinstance(structured, dict):
        structured = jsonrpc.Encoded(structured, text)
    return {"content": content, "structuredContent": structured, "isError": False}


def _error_result(message):
    return {"content": [{"type": "text", "text": message}], "isError": True}
