from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .. import config
from ..client_address import client_ip
from ..oauth.events import EVENTS, OK
from ..transactions import independent_cursor

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
    "preview",
    "event",
    "summary",
)


def _column_value(value):
    """False and empty values are NULL in the database, as the ORM stores them."""
    if value is False or value is None or value == "":
        return None
    return value


class McpAuditLog(models.Model):
    """One row per MCP message (each message of a batch): who, from where, what, and how it ended;
    and one row per security event (``event`` set): a registration, a consent, a failed client
    authentication, a revocation.

    Never a secret or a value.
    """

    _name = "mcp.audit.log"
    _description = "MCP audit log"
    _order = "id desc"
    _rec_name = "method"

    connection_id = fields.Many2one("mcp.connection", index=True, ondelete="set null", readonly=True)
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
    preview = fields.Boolean(readonly=True, help="A preview of a write: it ran and was undone, nothing was written.")
    event = fields.Selection(
        list(EVENTS),
        readonly=True,
        index=True,
        help="Set for a security event; empty for an MCP call.",
    )
    summary = fields.Char(readonly=True)

    @api.depends("method", "event")
    def _compute_display_name(self):
        events = dict(self._fields["event"]._description_selection(self.env))
        for entry in self:
            entry.display_name = events[entry.event] if entry.event else entry.method

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
        if rows:
            self.env.cr.execute(self._insert_query(rows))

    @api.model
    def _record_event(self, event, *, user=None, connection=None, summary=None, outcome=OK, method=None):
        """Write one security event (``oauth.events.EVENTS``) about ``user`` and ``connection``
        (records, or None), with a short ``summary`` in words: never a token, code, secret or
        verifier, not even part of one. The address is the client's of the request being served.

        Something done (a consent, a revocation, a pause) is written with the request's
        transaction: if the action fails, so does its event. A refusal (``outcome`` denied or
        rate_limited) is answered as an error, and the request that carries it may still be rolled
        back: it is written in a transaction of its own, committed at once. Its connection and
        user are then rows already committed (a refused request creates neither).
        """
        if event not in self._fields["event"].get_values(self.env):
            raise ValueError(f"unknown security event {event!r}")
        row = {
            "event": event,
            "connection_id": connection.id if connection else None,
            "user_id": user.id if user else None,
            "client_ip": client_ip(),
            "method": method,
            "outcome": outcome,
            "summary": (summary or "")[:250],
        }
        if outcome == OK:
            self.env.cr.execute(self._insert_query([row]))
            return
        with independent_cursor(self.env) as cr:
            cr.execute(self._insert_query([row]))

    @api.model
    def _insert_query(self, rows):
        now = fields.Datetime.now()
        return SQL(
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

    @api.autovacuum
    def _gc_old_entries(self):
        days = config.get(self.env, "audit_retention_days")
        limit = fields.Datetime.now() - timedelta(days=days)
        self.env.cr.execute(SQL("DELETE FROM mcp_audit_log WHERE create_date < %s", limit))
