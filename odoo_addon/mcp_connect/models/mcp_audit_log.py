from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .. import config
from ..transactions import independent_cursor


class McpAuditLog(models.Model):
    """One row per MCP request: who, from where, what, and how it ended. Never a secret or a value."""

    _name = "mcp.audit.log"
    _description = "MCP audit log"
    _order = "id desc"
    _rec_name = "method"

    connection_id = fields.Many2one("mcp.connection", index=True, ondelete="cascade", readonly=True)
    user_id = fields.Many2one("res.users", index=True, ondelete="set null", readonly=True)
    client_ip = fields.Char(string="Client address", readonly=True)
    method = fields.Char(readonly=True)
    tool = fields.Char(readonly=True)
    model_name = fields.Char(string="Model", readonly=True)
    outcome = fields.Selection(
        [
            ("ok", "OK"),
            ("denied", "Denied"),
            ("error", "Error"),
            ("pending", "Pending approval"),
            ("rate_limited", "Rate limited"),
        ],
        readonly=True,
        index=True,
    )
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True, aggregator="avg")
    http_status = fields.Integer(readonly=True)
    protocol_version = fields.Char(readonly=True)
    arguments_summary = fields.Char(readonly=True)
    error_summary = fields.Char(readonly=True)

    @api.model
    def _record(self, values):
        """Write the row in its own transaction: it stays even when the request fails."""
        with independent_cursor(self.env) as cr:
            self.env(cr=cr, su=True)["mcp.audit.log"].create(values)

    @api.autovacuum
    def _gc_old_entries(self):
        days = config.get(self.env, "audit_retention_days")
        limit = fields.Datetime.now() - timedelta(days=days)
        self.env.cr.execute(SQL("DELETE FROM mcp_audit_log WHERE create_date < %s", limit))
