import json
import time
from datetime import timedelta

from markupsafe import Markup
from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from .. import compat, config
from ..mcp import registry
from ..oauth import scopes as scope_rules
from ..tools import runner
from ..tools.context import ToolContext
from ..tools.values import summarize_arguments

EXPIRY_HOURS = 24
# Records named in a summary; the rest are counted.
NAMED_RECORDS = 5


class McpApprovalRequest(models.Model):
    """A risky tool call held until a person approves it; it then runs as the user who asked."""

    _name = "mcp.approval.request"
    _description = "MCP approval request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name", string="Summary")
    connection_id = fields.Many2one("mcp.connection", required=True, ondelete="cascade", readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="Requested by", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    company_ids = fields.Many2many(
        "res.company",
        "mcp_approval_request_company_rel",
        "request_id",
        "company_id",
        readonly=True,
        string="Companies",
        help="The companies the call worked in; it runs in them once approved.",
    )
    tool = fields.Char(string="MCP tool", required=True, readonly=True)
    server_action_id = fields.Many2one(
        "ir.actions.server",
        readonly=True,
        ondelete="set null",
        help="The server action the tool ran when the call was asked (none for the tools of modules): "
        "the approval runs this action, not whichever one bears the tool's name by then.",
    )
    model_name = fields.Char(string="Technical model name", readonly=True)
    model_label = fields.Char(compute="_compute_name", string="Model")
    arguments = fields.Text(string="Arguments (JSON)", readonly=True)
    record_names = fields.Text(readonly=True, help="The names of the records named, when asked (JSON, by id).")
    arguments_html = fields.Html(compute="_compute_arguments_html", string="Details", sanitize=False)
    scopes = fields.Char(readonly=True)
    client_ip = fields.Char(string="Client IP", readonly=True)
    approver_id = fields.Many2one(
        "res.users", readonly=True, help="Who approves; MCP Connect managers when empty. Never the user who asked."
    )
    can_approve = fields.Boolean(compute="_compute_can_approve")
    approval_note = fields.Char(compute="_compute_can_approve", help="Why you cannot approve this pending request.")
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("done", "Approved and done"),
            ("failed", "Approved but failed"),
            ("rejected", "Rejected"),
            ("expired", "Expired"),
        ],
        required=True,
        default="pending",
        readonly=True,
        tracking=True,
    )
    result = fields.Text(readonly=True)
    error = fields.Char(readonly=True)
    expires_at = fields.Datetime(string="Expires", required=True, readonly=True)
    decided_by_id = fields.Many2one("res.users", string="Decided by", readonly=True)
    decided_at = fields.Datetime(string="Decided on", readonly=True)

    @api.depends("tool", "model_name", "arguments")
    @api.depends_context("lang")
    def _compute_name(self):
        for request in self:
            request.name = request._summary()
            request.model_label = request._model_label()

    @api.depends("tool", "model_name", "arguments")
    @api.depends_context("lang")
    def _compute_arguments_html(self):
        for request in self:
            request.arguments_html = request._arguments_html()

    # -- in words, for the person who approves ---------------------------------------------

    def _parsed_arguments(self):
        try:
            arguments = json.loads(self.arguments or "{}")
        except ValueError:
            return {}
        return arguments if isinstance(arguments, dict) else {}

    def _target_model(self):
        """The model the call works on, when Odoo has it as a table of records."""
        name = self.model_name
        if not name or name not in self.env or self.env[name]._abstract:
            return None
        return self.env[name]

    def _model_label(self):
        """The model's name as Odoo shows it (``ir.model``'s, in the reader's language), else its technical name."""
        if not self.model_name:
            return ""
        # sudo: the model's label is shown to approvers who may not read ir.model
        model = self.env["ir.model"].sudo()._get(self.model_name)
        return model.name if model else self.model_name

    def _record_ids(self):
        """The ids of the records the call names (``ids``, or the ``record_id`` of the chatter tools)."""
        arguments = self._parsed_arguments()
        ids = arguments.get("ids")
        if ids is None and "record_id" in arguments:
            ids = [arguments["record_id"]]
        if not isinstance(ids, list):
            return []
        return [value for value in ids if isinstance(value, int) and not isinstance(value, bool)]

    def _records(self):
        """The records named that still exist, read as the system: the approver decides on them by name."""
        model = self._target_model()
        ids = self._record_ids()
        if model is None or not ids:
            return None
        # sudo: the approver decides on the records by name, even those outside their own record rules
        return model.sudo().with_context(active_test=False).browse(ids).exists()

    def _current_names(self):
        """``{id: name}`` of the named records that exist now."""
        records = self._records()
        if records is None:
            return {}
        return dict(zip(records.ids, records.mapped("display_name"), strict=True))

    def _record_names(self):
        """The names of the records the call works on: as they are now, else as they were when asked
        (a deleted record keeps its name), else their id."""
        try:
            asked = json.loads(self.record_names or "{}")
        except ValueError:
            asked = {}
        names = self._current_names()
        return [
            names.get(record_id) or asked.get(str(record_id)) or f"#{record_id}" for record_id in self._record_ids()
        ]

    def _created_values(self):
        arguments = self._parsed_arguments()
        if isinstance(arguments.get("values_list"), list):
            return [values for values in arguments["values_list"] if isinstance(values, dict)]
        return [arguments["values"]] if isinstance(arguments.get("values"), dict) else []

    def _summary(self):
        """The call in words: "Delete 1 Contact: Azure Interior"."""
        self.ensure_one()
        arguments = self._parsed_arguments()
        model = self._model_label()
        if self.tool == "create_records":
            created = self._created_values()
            names = [str(values.get("name") or "") for values in created if values.get("name")]
            return self._counted(self.env._("Create"), len(created), model, names)
        if self.tool == "update_records":
            return self._counted(self.env._("Update"), len(self._record_ids()), model, self._record_names())
        if self.tool == "delete_records":
            return self._counted(self.env._("Delete"), len(self._record_ids()), model, self._record_names())
        if self.tool == "call_method":
            verb = self.env._("Run %(method)s on", method=arguments.get("method") or "?")
            if not self._record_ids():
                return self.env._("Run %(method)s on %(model)s", method=arguments.get("method") or "?", model=model)
            return self._counted(verb, len(self._record_ids()), model, self._record_names())
        tool = registry.TOOLS.get(self.tool)
        title = tool.title if tool else self.tool
        if not model:
            return title
        names = self._record_names()
        if not names:
            return self.env._("%(title)s on %(model)s", title=title, model=model)
        return self._counted(self.env._("%(title)s on", title=title), len(names), model, names)

    def _counted(self, verb, count, model, names):
        shown = ", ".join(names[:NAMED_RECORDS])
        if len(names) > NAMED_RECORDS:
            shown = self.env._("%(names)s and %(count)s more", names=shown, count=len(names) - NAMED_RECORDS)
        if count == 1:
            counted = self.env._("%(verb)s 1 %(model)s", verb=verb, model=model)
        else:
            counted = self.env._("%(verb)s %(count)s %(model)s records", verb=verb, count=count, model=model)
        return f"{counted}: {shown}" if shown else counted

    def _field_label(self, name):
        model = self._target_model()
        field = model._fields.get(name) if model is not None and isinstance(name, str) else None
        return field._description_string(self.env) if field else str(name)

    def _record_links(self):
        """The records named, each a link to its form where it still exists."""
        existing = self._current_names()
        links = []
        for record_id, name in zip(self._record_ids(), self._record_names(), strict=True):
            if record_id in existing:
                url = f"/odoo/{self.model_name}/{record_id}"
                links.append(Markup('<a href="%s" class="o_mcp_record_link">%s</a>') % (url, name))
            else:
                links.append(Markup("%s") % self.env._("%(name)s (no longer exists)", name=name))
        return Markup(", ").join(links)

    def _values_table(self, values):
        rows = Markup("").join(
            Markup("<tr><th>%s</th><td>%s</td></tr>") % (self._field_label(name), self._readable(value))
            for name, value in values.items()
        )
        return Markup('<table class="table table-sm o_mcp_values"><tbody>%s</tbody></table>') % rows

    def _readable(self, value):
        """A value as a person reads it: text as it is, lists comma-separated, anything else as compact JSON."""
        if value is None or value is False:
            return "—"
        if value is True:
            return self.env._("Yes")
        if isinstance(value, str | int | float):
            return str(value)
        if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
            return ", ".join(str(item) for item in value)
        return json.dumps(value, ensure_ascii=False, default=str)

    def _arguments_html(self):
        """The arguments for a person: the records as links, the values as a table of field labels."""
        self.ensure_one()
        arguments = self._parsed_arguments()
        parts = []
        if self._record_ids():
            parts.append(Markup("<p><strong>%s</strong> %s</p>") % (self.env._("Records:"), self._record_links()))
        if self.tool == "call_method" and arguments.get("method"):
            parts.append(
                Markup("<p><strong>%s</strong> <code>%s</code></p>") % (self.env._("Method:"), arguments["method"])
            )
        for number, values in enumerate(self._created_values() if self.tool == "create_records" else []):
            if len(self._created_values()) > 1:
                parts.append(Markup("<p><strong>%s</strong></p>") % self.env._("Record %(number)s", number=number + 1))
            parts.append(self._values_table(values))
        if self.tool == "update_records" and isinstance(arguments.get("values"), dict):
            parts.append(Markup("<p><strong>%s</strong></p>") % self.env._("New values:"))
            parts.append(self._values_table(arguments["values"]))
        shown = {"model", "ids", "record_id", "method", "values", "values_list"}
        others = {name: value for name, value in arguments.items() if name not in shown}
        if others:
            parts.append(self._values_table(others))
        return Markup("").join(parts)

    @api.depends("state", "user_id", "approver_id")
    @api.depends_context("uid")
    def _compute_can_approve(self):
        for request in self:
            refusal = request._approval_refusal(self.env.user) if request.state == "pending" else None
            request.can_approve = request.state == "pending" and not refusal
            request.approval_note = refusal or False

    @api.model
    def _open(self, connection, user, companies, tool, arguments, scopes, client_ip):
        """``tool`` is a registry ``Tool`` (or anything with its name and title)."""
        # Nobody approves their own call: without another approver, MCP Connect managers do.
        approver = connection.approver_id if connection.approver_id != user else self.env["res.users"]
        # sudo: requests are created by the system for the user whose call waits; users cannot create them
        request = self.sudo().create(
            {
                "connection_id": connection.id,
                "user_id": user.id,
                "company_id": companies[:1].id,
                "company_ids": [Command.set(companies.ids)],
                "tool": tool.name,
                "server_action_id": self.env["mcp.tool"]._server_action(tool.name).id,
                "model_name": getattr(tool, "model", None)
                or (arguments.get("model") if isinstance(arguments.get("model"), str) else False),
                "arguments": json.dumps(arguments, ensure_ascii=False, default=str),
                "scopes": " ".join(scopes),
                "client_ip": client_ip,
                "approver_id": approver.id,
                "expires_at": fields.Datetime.now() + timedelta(hours=EXPIRY_HOURS),
            }
        )
        names = request._current_names()
        if names:
            request.record_names = json.dumps({str(key): value for key, value in names.items()}, ensure_ascii=False)
        for decider in approver or compat.group_members(self.env.ref("mcp_connect.group_mcp_manager")) - user:
            request.with_context(lang=decider.lang)._schedule_approval(decider)
        return request

    def _schedule_approval(self, decider):
        """The approver's to-do, in their language, with the call in words."""
        self.ensure_one()
        summary = self._summary()
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Approve: %(summary)s", summary=summary),
            note=self.env._(
                "%(user)s's AI tool %(connection)s asks to: %(summary)s. Approve or reject it.",
                user=self.user_id.name,
                connection=self.connection_id.name,
                summary=summary,
            ),
            user_id=decider.id,
        )

    def _approver_label(self):
        self.ensure_one()
        return self.approver_id.name or self.env._("an MCP Connect manager")

    def _status(self):
        self.ensure_one()
        return {
            "approval_id": self.id,
            "state": self.state,
            "tool": self.tool,
            "result": json.loads(self.result) if self.result else None,
            "error": self.error or None,
        }

    def _approval_refusal(self, user):
        """Why ``user`` may not approve this request, or None."""
        self.ensure_one()
        if user == self.user_id:
            return self.env._("Nobody approves their own request: another approver or an MCP Connect manager must.")
        if user != self.approver_id and not user.has_group("mcp_connect.group_mcp_manager"):
            return self.env._("Only %(name)s or an MCP Connect manager can approve.", name=self._approver_label())
        return None

    def _check_pending(self):
        for request in self:
            if request.state != "pending":
                raise UserError(self.env._("This request was already decided."))
            if request.expires_at <= fields.Datetime.now():
                raise UserError(self.env._("This request expired."))

    def action_approve(self):
        self._check_pending()
        if config.get(self.env, "paused"):
            raise UserError(self.env._("AI access is paused: resume it before approving calls."))
        for request in self:
            refusal = request._approval_refusal(self.env.user)
            if refusal:
                raise UserError(refusal)
        for request in self:
            # sudo: the decision is stamped by the system: approvers may not write requests themselves
            request.sudo().write({"decided_by_id": self.env.uid, "decided_at": fields.Datetime.now()})
            started = time.monotonic()
            # sudo: _execute switches to the requesting user itself; reading the request needs the system
            result, error = request.sudo()._execute()
            request._audit_run(error, started)
            values = (
                {"state": "done", "result": json.dumps(result, default=str)}
                if error is None
                else {"state": "failed", "error": error[:500]}
            )
            # sudo: the outcome is written by the system: approvers may not write requests themselves
            request.sudo().write(values)
            # sudo: the approver closes the request's activity even when it was assigned to another approver
            request.sudo().activity_ids.action_feedback(feedback=self.env._("Approved"))
        return True

    def _audit_run(self, error, started):
        """The approved call in the audit trail, like every call that reaches the endpoint."""
        self.ensure_one()
        # sudo: the audit row is about the requesting user and connection, which the approver may not read
        request = self.sudo()
        # sudo: audit rows are written by the system, never by the user they are about
        self.env["mcp.audit.log"].sudo()._record(
            {
                "connection_id": request.connection_id.id,
                "user_id": request.user_id.id,
                "client_ip": request.client_ip,
                "method": "approval/run",
                "tool": request.tool,
                "model_name": request.model_name,
                "outcome": "ok" if error is None else "error",
                "duration_ms": int((time.monotonic() - started) * 1000),
                "arguments_summary": summarize_arguments(json.loads(request.arguments or "{}")),
                "error_summary": (error or "")[:250] or False,
            }
        )

    def action_reject(self):
        """The approver, a manager, or the user who asked (withdrawing it: a rejection only stops the call)."""
        self._check_pending()
        user = self.env.user
        for request in self:
            if user != request.user_id and request._approval_refusal(user):
                raise UserError(request._approval_refusal(user))
        for request in self:
            # sudo: the decision is stamped by the system: approvers may not write requests themselves
            request.sudo().write(
                {"state": "rejected", "decided_by_id": self.env.uid, "decided_at": fields.Datetime.now()}
            )
            # sudo: the approver closes the request's activity even when it was assigned to another approver
            request.sudo().activity_ids.action_feedback(feedback=self.env._("Rejected"))
        return True

    def _execute(self):
        """Run the call as the user who asked, re-checked against the connection's current policy."""
        self.ensure_one()
        connection = self.connection_id
        tool = self.env["mcp.tool"]._available(self.tool).get(self.tool)
        if connection.state != "active":
            return None, "The connection was revoked before the approval."
        if tool is None:
            return None, f"The tool {self.tool} no longer exists."
        if self.env["mcp.tool"]._server_action(tool.name) != self.server_action_id:
            asked = f" ({self.server_action_id.name})" if self.server_action_id else ""
            return None, f"The tool {self.tool} runs another server action than the one asked for{asked}."
        archived = {tool.name, registry.SAME_DATA.get(tool.name)} & self.env["mcp.tool"]._archived_names()
        if archived:
            return None, f"An administrator archived the MCP tool {min(archived)} since the request."
        scopes = tuple(scope_rules.expand(self.scopes.split()))
        arguments = json.loads(self.arguments or "{}")
        policy = connection._compiled_policy()
        decision = policy.evaluate(
            tool=tool.name,
            required_scope=tool.scope,
            granted_scopes=list(scopes),
            model=(tool.model or arguments.get("model")) if tool.operation else None,
            operation=tool.operation,
            client_ip=self.client_ip or None,
        )
        if decision.outcome == "deny":
            return None, f"The connection's policy changed since the request: {decision.message}."
        user = self.user_id
        if not user.active or not user.has_group("mcp_connect.group_mcp_user"):
            return None, "The user who asked may no longer use AI tools."
        companies = connection._working_companies(self.company_id | self.company_ids, user)
        if not companies:
            return None, "The user who asked no longer has access to the companies of the call."
        context = dict(self.env.context, allowed_company_ids=companies.ids)
        env = self.env(user=user.id, su=False, context=context)
        ctx = ToolContext(
            env=env,
            policy=policy,
            scopes=scopes,
            client_ip=self.client_ip,
            connection_record=connection,
        )
        return runner.run(tool, ctx, arguments)

    @api.autovacuum
    def _gc_expire(self):
        stale = self.search([("state", "=", "pending"), ("expires_at", "<", fields.Datetime.now())])
        stale.write({"state": "expired"})
        stale.activity_ids.unlink()
