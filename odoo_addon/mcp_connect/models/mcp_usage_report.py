from odoo import fields, models, tools
from odoo.tools import SQL

USAGE_DAYS = 30


class McpUsageReport(models.Model):
    """The tool calls of the last 30 days, one row per connection and MCP tool: how many, how many
    failed or were refused, and how long they took (average and 95th percentile).

    A view over ``mcp.audit.log``: a percentile cannot be summed from smaller groups, so it is
    computed here, in PostgreSQL, for each row.
    """

    _name = "mcp.usage.report"
    _description = "MCP tool usage (last 30 days)"
    _auto = False
    _order = "calls desc, id"
    _rec_name = "tool"

    connection_id = fields.Many2one("mcp.connection", readonly=True)
    tool = fields.Char(readonly=True)
    calls = fields.Integer(readonly=True, help="Tool calls in the last 30 days.")
    errors = fields.Integer(readonly=True, help="Calls that ended in an error.")
    refusals = fields.Integer(readonly=True, help="Calls refused: denied by the restrictions or rate limited.")
    avg_duration_ms = fields.Integer(string="Average (ms)", readonly=True, aggregator="avg")
    p95_duration_ms = fields.Integer(
        string="p95 (ms)",
        readonly=True,
        aggregator="max",
        help="95 of 100 calls took at most this long.",
    )
    last_call_at = fields.Datetime(string="Last call", readonly=True, aggregator="max")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """CREATE VIEW %s AS (
                    SELECT min(id) AS id,
                           connection_id,
                           tool,
                           count(*) AS calls,
                           sum(error_count) AS errors,
                           sum(refusal_count) AS refusals,
                           round(avg(duration_ms))::integer AS avg_duration_ms,
                           round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms))::integer
                               AS p95_duration_ms,
                           max(create_date) AS last_call_at
                      FROM mcp_audit_log
                     WHERE event IS NULL
                       AND tool IS NOT NULL
                       AND create_date >= (now() AT TIME ZONE 'UTC') - make_interval(days => %s)
                  GROUP BY connection_id, tool
                )""",
                SQL.identifier(self._table),
                USAGE_DAYS,
            )
        )
