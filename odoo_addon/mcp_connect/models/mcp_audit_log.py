from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .. import config

RECORDED = (
    "connection_id",
    "user_id",
    "client_ip",
    "method",
    "tool",
    "model_name",
    "outcome",
    "duration_ms",
    "http_status",
    "protocol_version",
    "arguments_summary",
    "error_summary",
)


def _column_value(value):
    """False and empty values are NULL in the database, as the ORM stores them."""
    if value is False or value is None or value == "":
        return None
    return value


class McpAuditLog(models.Model):
    """One row per MCP message (each message of a batch): who, from where, what, and how it ended.

    Never a secret or a value.
    """

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
        """Write one row (see ``_record_many``)."""
        self._record_many([values])

    @api.model
    def _record_many(self, rows):
        """Write the rows of one request, one per message, with the request's transaction.

        The backend writes them last, once the answer is decided: tool errors, refusals and
        rate limits are answers, committed with it. A request Odoo replays after a
        serialization failure writes its rows once, on the attempt that commits. One plain
        insert: this runs on every MCP request (and once for a whole batch), and the row has
        no computed field, default or hook an ORM create would add.
        """
        if not rows:
            return
        now = fields.Datetime.now()
        query = SQL(
            "INSERT INTO mcp_audit_log (%s, create_uid, write_uid, create_date, write_date) VALUES %s",
            SQL(", ").join(SQL.identifier(column) for column in RECORDED),
            SQL(", ").join(
                SQL(
                    "(%s, %s, %s, %s, %s)",
                    SQL(", ").join(SQL("%s", _column_value(values.get(column))) for column in RECORDED),
                    self.env.uid,
                    self.env.uid,
                    now,
                    now,
                )
                for values in rows
            ),
        )
        self.env.cr.execute(query)

    @api.autovacuum
    def _gc_old_entries(self):
        days = config.get(self.env, "audit_retention_days")
        limit = fields.Datetime.now() - timedelta(days=days)
        self.env.cr.execute(SQL("DELETE FROM mcp_audit_log WHERE create_date < %s", limit))
