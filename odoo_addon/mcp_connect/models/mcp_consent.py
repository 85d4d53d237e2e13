from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL

from .. import compat
from ..oauth import scopes as scope_rules


class McpConsent(models.Model):
    """A user's decision to let an AI tool act for them, remembered so a reconnect does not ask again."""

    _name = "mcp.consent"
    _description = "AI tool allowed by a user"
    _order = "write_date desc, id desc"
    _rec_name = "connection_id"

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True, readonly=True)
    connection_id = fields.Many2one("mcp.connection", required=True, ondelete="cascade", index=True, readonly=True)
    scopes = fields.Char(required=True, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, ondelete="set null", string="Main company")
    company_ids = fields.Many2many(
        "res.company",
        "mcp_consent_company_rel",
        "consent_id",
        "company_id",
        readonly=True,
        string="Companies",
        help="The companies the user let the AI tool work in; a sign-in without the consent page uses those "
        "the user still has, else their current company.",
    )
    scope_description = fields.Char(compute="_compute_scope_description", string="Access")
    last_used_at = fields.Datetime(
        compute="_compute_token_facts",
        string="Your last use",
        help="When the AI tool last acted for you (not for others).",
    )
    expires_at = fields.Datetime(
        compute="_compute_token_facts",
        string="Expires",
        help="When a personal access token stops working; AI tools that sign in renew their access themselves.",
    )
    connection_type = fields.Selection(related="connection_id.connection_type")
    my_calls_30d = fields.Integer(
        compute="_compute_my_usage",
        string="Calls (30 days)",
        help="The MCP tool calls this AI tool made for you in the last 30 days.",
    )
    my_last_call_at = fields.Datetime(
        compute="_compute_my_usage",
        string="Last call",
        help="The last MCP call this AI tool made for you.",
    )

    def init(self):
        compat.ensure_unique_index(
            self.env.cr, "mcp_consent_user_connection_uniq", self._table, ["user_id", "connection_id"]
        )

    @api.depends("user_id", "connection_id")
    def _compute_token_facts(self):
        """From the user's own tokens of the connection: their latest use, and a personal token's expiry."""
        # sudo: the counts cover the tokens behind the consent, which the user may not read all of
        groups = (
            self.env["mcp.token"]
            .sudo()
            ._read_group(
                [("connection_id", "in", self.connection_id.ids), ("user_id", "in", self.user_id.ids)],
                ["connection_id", "user_id"],
                ["last_used_at:max"],
            )
        )
        used = {(connection.id, user.id): moment for connection, user, moment in groups}
        # sudo: the counts cover the tokens behind the consent, which the user may not read all of
        personal = (
            self.env["mcp.token"]
            .sudo()
            ._read_group(
                [
                    ("connection_id", "in", self.connection_id.ids),
                    ("user_id", "in", self.user_id.ids),
                    ("kind", "=", "personal"),
                    ("revoked", "=", False),
                ],
                ["connection_id", "user_id"],
                ["expires_at:max"],
            )
        )
        expiry = {(connection.id, user.id): moment for connection, user, moment in personal}
        for consent in self:
            key = (consent.connection_id.id, consent.user_id.id)
            consent.last_used_at = used.get(key) or False
            consent.expires_at = expiry.get(key) or False

    def _compute_my_usage(self):
        """Counted in SQL: a consent is read by its own user only (record rules), and the figures
        count that user's calls alone."""
        figures = {}
        if self.ids:
            self.env["mcp.audit.log"].flush_model()
            self.env.cr.execute(
                SQL(
                    """SELECT user_id, connection_id,
                              count(*) FILTER (WHERE tool IS NOT NULL AND create_date >= %(month)s),
                              max(create_date)
                         FROM mcp_audit_log
                        WHERE event IS NULL AND (user_id, connection_id) IN %(pairs)s
                     GROUP BY user_id, connection_id""",
                    pairs=tuple((consent.user_id.id, consent.connection_id.id) for consent in self),
                    month=fields.Datetime.now() - timedelta(days=30),
                )
            )
            figures = {(user, connection): (calls, last) for user, connection, calls, last in self.env.cr.fetchall()}
        for consent in self:
            calls, last = figures.get((consent.user_id.id, consent.connection_id.id), (0, False))
            consent.my_calls_30d = calls
            consent.my_last_call_at = last

    @api.depends("scopes")
    def _compute_scope_description(self):
        for consent in self:
            consent.scope_description = ", ".join(
                self.env._(label) for label in scope_rules.describe((consent.scopes or "").split(), scope_rules.LABELS)
            )

    @api.model
    def _remember(self, user, connection, scopes, companies=()):
        """Record (or widen) the user's consent for the connection; ``companies`` (ids, the main
        one first) replace the companies chosen before, none given keeps them.

        The same person often approves the same tool twice at once (two tabs, a client
        that retries). The insert therefore yields to a row another transaction wrote:
        under Odoo's REPEATABLE READ that surfaces as a serialization failure, which Odoo
        answers by replaying the request, and the replay then widens the existing row.
        """
        connection.flush_recordset()
        self.env.cr.execute(
            SQL(
                "INSERT INTO mcp_consent (user_id, connection_id, scopes, create_uid, write_uid, create_date, "
                "write_date) VALUES (%(user)s, %(connection)s, %(scopes)s, %(uid)s, %(uid)s, %(now)s, %(now)s) "
                "ON CONFLICT (user_id, connection_id) DO NOTHING RETURNING id",
                user=user.id,
                connection=connection.id,
                scopes=scope_rules.join(scopes),
                uid=self.env.uid,
                now=fields.Datetime.now(),
            ),
            # The serialization failure is expected and replayed by Odoo, not an error to log.
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if row:
            self.invalidate_model()
            # sudo: consents are written by the system when the user allows a tool; users cannot create them
            consent = self.sudo().browse(row[0])
        else:
            # sudo: consents are written by the system when the user allows a tool; users cannot create them
            consent = self.sudo().search([("user_id", "=", user.id), ("connection_id", "=", connection.id)])
            merged = scope_rules.join([*scopes, *consent.scopes.split()])
            if merged != consent.scopes:
                consent.write({"scopes": merged})
        if companies and list(companies) != consent._companies().ids:
            consent.write({"company_id": companies[0], "company_ids": [Command.set(list(companies))]})
        return consent

    def _companies(self):
        """The companies chosen, the main one first."""
        self.ensure_one()
        return self.company_id | self.company_ids

    def action_revoke_access(self):
        """The user withdraws the tool: its tokens for this user stop working and consent is asked again."""
        for consent in self:
            # sudo: the user's tokens of this connection are revoked by the system: no user may write tokens
            tokens = (
                self.env["mcp.token"]
                .sudo()
                .search([("connection_id", "=", consent.connection_id.id), ("user_id", "=", consent.user_id.id)])
            )
            tokens._revoke()
            by = "" if consent.user_id == self.env.user else f" (by {self.env.user.name})"
            # sudo: audit rows are written by the system, never by the user they are about
            self.env["mcp.audit.log"].sudo()._record_event(
                "consent_withdrawn",
                user=consent.user_id,
                connection=consent.connection_id,
                summary=f"{consent.user_id.name} no longer allows {consent.connection_id.name[:80]}{by}: "
                "its tokens for this user stopped working.",
            )
        # sudo: the consents were read above with the user's rights; their removal must not stop halfway
        self.sudo().unlink()
        return True
