import json
import time
from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from .. import compat, config
from ..mcp import registry
from ..oauth import scopes as scope_rules
from ..tools import runner
from ..tools.context import ToolContext
from ..tools.values import summarize_arguments

EXPIRY_HOURS = 24


class McpApprovalRequest(models.Model):
    """A risky tool call held until a person approves it; it then runs as the user who asked."""

    _name = "mcp.approval.request"
    _description = "MCP approval request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
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
    tool = fields.Char(required=True, readonly=True)
    model_name = fields.Char(string="Model", readonly=True)
    arguments = fields.Text(readonly=True)
    scopes = fields.Char(readonly=True)
    client_ip = fields.Char(readonly=True)
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
    expires_at = fields.Datetime(required=True, readonly=True)
    decided_by_id = fields.Many2one("res.users", readonly=True)
    decided_at = fields.Datetime(readonly=True)

    @api.depends("tool", "model_name")
    def _compute_name(self):
        for request in self:
            request.name = _(
                "Approval #%(id)s: %(tool)s %(model)s", id=request.id, tool=request.tool, model=request.model_name or ""
            )

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
        request = self.sudo().create(
            {
                "connection_id": connection.id,
                "user_id": user.id,
                "company_id": companies[:1].id,
                "company_ids": [Command.set(companies.ids)],
                "tool": tool.name,
                "model_name": getattr(tool, "model", None)
                or (arguments.get("model") if isinstance(arguments.get("model"), str) else False),
                "arguments": json.dumps(arguments, ensure_ascii=False, default=str),
                "scopes": " ".join(scopes),
                "client_ip": client_ip,
                "approver_id": approver.id,
                "expires_at": fields.Datetime.now() + timedelta(hours=EXPIRY_HOURS),
            }
        )
        for decider in approver or compat.group_members(self.env.ref("mcp_connect.group_mcp_manager")) - user:
            request.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_("Approve an AI tool call: %(tool)s", tool=tool.title),
                note=_(
                    "%(user)s's AI tool %(connection)s asks to run %(tool)s. Approve or reject it.",
                    user=user.name,
                    connection=connection.name,
                    tool=tool.name,
                ),
                user_id=decider.id,
            )
        return request

    def _approver_label(self):
        self.ensure_one()
        return self.approver_id.name or _("an MCP Connect manager")

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
            return _("Nobody approves their own request: another approver or an MCP Connect manager must.")
        if user != self.approver_id and not user.has_group("mcp_connect.group_mcp_manager"):
            return _("Only %(name)s or an MCP Connect manager can approve.", name=self._approver_label())
        return None

    def _check_pending(self):
        for request in self:
            if request.state != "pending":
                raise UserError(_("This request was already decided."))
            if request.expires_at <= fields.Datetime.now():
                raise UserError(_("This request expired."))

    def action_approve(self):
        self._check_pending()
        if config.get(self.env, "paused"):
            raise UserError(_("AI access is paused: resume it before approving calls."))
        for request in self:
            refusal = request._approval_refusal(self.env.user)
            if refusal:
                raise UserError(refusal)
        for request in self:
            request.sudo().write({"decided_by_id": self.env.uid, "decided_at": fields.Datetime.now()})
            started = time.monotonic()
            result, error = request.sudo()._execute()
            request._audit_run(error, started)
            values = (
                {"state": "done", "result": json.dumps(result, default=str)}
                if error is None
                else {"state": "failed", "error": error[:500]}
            )
            request.sudo().write(values)
            request.sudo().activity_ids.action_feedback(feedback=_("Approved"))
        return True

    def _audit_run(self, error, started):
        """The approved call in the audit trail, like every call that reaches the endpoint."""
        self.ensure_one()
        request = self.sudo()
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
            request.sudo().write(
                {"state": "rejected", "decided_by_id": self.env.uid, "decided_at": fields.Datetime.now()}
            )
            request.sudo().activity_ids.action_feedback(feedback=_("Rejected"))
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
        archived = {tool.name, registry.SAME_DATA.get(tool.name)} & self.env["mcp.tool"]._archived_names()
        if archived:
            return None, f"An administrator archived the tool {min(archived)} since the request."
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
