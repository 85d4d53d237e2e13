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
    "call_count",
    "error_count",
    "refusal_count",
)
REFUSALS = ("denied", "rate_limited")
_INSERTED = (*RECORDED, "create_uid", "write_uid", "create_date", "write_date")
_INSERT_HEAD = SQL(
    "INSERT INTO mcp_audit_log (%s) VALUES ", SQL(", ").join(SQL.identifier(column) for column in _INSERTED)
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
    client_ip = fields.Char(string="Client IP", readonly=True)
    method = fields.Char(readonly=True)
    tool = fields.Char(readonly=True)
    model_name = fields.Char(string="Model", readonly=True)
    outcome = fields.Selection(
        # OK first, errors second: a graph grouped by outcome colours its first groups blue, then red.
        [
            ("ok", "OK"),
            ("error", "Error"),
            ("denied", "Denied"),
            ("rate_limited", "Rate limited"),
            ("pending", "Pending approval"),
        ],
        readonly=True,
        index=True,
    )
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True, aggregator="avg")
    http_status = fields.Integer(string="HTTP status", readonly=True)
    protocol_version = fields.Char(string="Protocol version", readonly=True)
    arguments_summary = fields.Char(string="Arguments summary", readonly=True)
    error_summary = fields.Char(string="Error summary", readonly=True)
    preview = fields.Boolean(readonly=True, help="A preview of a write: it ran and was undone, nothing was written.")
    event = fields.Selection(
        list(EVENTS),
        readonly=True,
        index=True,
        help="Set for a security event; empty for an MCP call.",
    )
    summary = fields.Char(readonly=True)
    # Measures for the graph and pivot views (sums), so that no view needs a group-by on the outcome.
    call_count = fields.Integer(
        string="Calls", compute="_compute_counts", store=True, help="1 for an MCP call, 0 for a security event."
    )
    error_count = fields.Integer(
        string="Errors", compute="_compute_counts", store=True, help="1 for an MCP call that ended in an error."
    )
    refusal_count = fields.Integer(
        string="Refusals",
        compute="_compute_counts",
        store=True,
        help="1 for an MCP call refused: denied by the connection's restrictions or rate limited.",
    )

    @api.depends("method", "event", "tool", "model_name", "http_status")
    def _compute_display_name(self):
        """What the entry is about, never empty: the event, the MCP tool and its model, the method,
        else the HTTP answer of a request refused before any method was read."""
        events = dict(self._fields["event"]._description_selection(self.env))
        for entry in self:
            if entry.event:
                name = events[entry.event]
            elif entry.tool:
                name = (
                    self.env._("%(tool)s on %(model)s", tool=entry.tool, model=entry.model_name)
                    if entry.model_name
                    else entry.tool
                )
            elif entry.method:
                name = entry.method
            elif entry.http_status:
                name = self.env._("HTTP %(status)s", status=entry.http_status)
            else:
                name = self.env._("Audit entry #%(id)s", id=entry.id)
            entry.display_name = name

    @api.depends("event", "outcome")
    def _compute_counts(self):
        # Rows are inserted in SQL with these values (_counts); this fills the rows of an older version.
        for entry in self:
            entry.update(self._counts(entry.event, entry.outcome))

    @api.model
    def _counts(self, event, outcome):
        call = not event
        return {
            "call_count": int(call),
            "error_count": int(call and outcome == "error"),
            "refusal_count": int(call and outcome in REFUSALS),
        }

    @api.model
    def _usage_figures(self, connection_ids):
        """Connection id -> its figures: ``calls_7d`` and ``calls_30d`` (tool calls), ``errors_30d``
        and ``refusals_30d`` (MCP calls of the last 30 days: a rate limit refuses a call before it
        names its tool) and ``p95_ms`` (the duration 95 of 100 tool calls of the last 30 days
        stayed under).

        Counted in SQL over every user's calls: the figures describe the connection, and the caller
        decides who may read them.
        """
        if not connection_ids:
            return {}
        self.flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """SELECT connection_id,
                          count(*) FILTER (WHERE tool IS NOT NULL AND create_date >= %(week)s),
                          count(*) FILTER (WHERE tool IS NOT NULL),
                          sum(error_count),
                          sum(refusal_count),
                          percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE tool IS NOT NULL)
                     FROM mcp_audit_log
                    WHERE connection_id IN %(ids)s AND event IS NULL AND create_date >= %(month)s
                 GROUP BY connection_id""",
                ids=tuple(connection_ids),
                week=now - timedelta(days=7),
                month=now - timedelta(days=30),
            )
        )
        return {
            connection: {
                "calls_7d": week,
                "calls_30d": month,
                "errors_30d": errors or 0,
                "refusals_30d": refusals or 0,
                "p95_ms": round(p95 or 0),
            }
            for connection, week, month, errors, refusals, p95 in self.env.cr.fetchall()
        }

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
        """One ``INSERT`` of ``rows``: one statement and one ``SQL`` object, however many columns
        (this runs on every MCP request)."""
        now = fields.Datetime.now()
        values = []
        for row in rows:
            row = {**row, **self._counts(row.get("event"), row.get("outcome"))}
            values.append(
                (*(_column_value(row.get(column)) for column in RECORDED), self.env.uid, self.env.uid, now, now)
            )
        return SQL("%s%s", _INSERT_HEAD, SQL(", ").join(SQL("%s", value) for value in values))

    @api.autovacuum
    def _gc_old_entries(self):
        days = config.get(self.env, "audit_retention_days")
        limit = fields.Datetime.now() - timedelta(days=days)
        self.env.cr.execute(SQL("DELETE FROM mcp_audit_log WHERE create_date < %s", limit))
