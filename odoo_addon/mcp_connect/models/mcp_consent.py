from odoo import api, fields, models

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
    scope_description = fields.Char(compute="_compute_scope_description", string="Access")
    last_used_at = fields.Datetime(related="connection_id.last_used_at", string="Last used")

    def init(self):
        compat.ensure_unique_index(
            self.env.cr, "mcp_consent_user_connection_uniq", self._table, ["user_id", "connection_id"]
        )

    @api.depends("scopes")
    def _compute_scope_description(self):
        for consent in self:
            consent.scope_description = ", ".join(scope_rules.describe((consent.scopes or "").split()))

    def _covers(self, scopes):
        self.ensure_one()
        return set(scope_rules.expand(scopes)) <= set(scope_rules.expand(self.scopes.split()))

    @api.model
    def _remember(self, user, connection, scopes):
        existing = self.sudo().search([("user_id", "=", user.id), ("connection_id", "=", connection.id)])
        merged = scope_rules.join([*scopes, *(existing.scopes.split() if existing else [])])
        if existing:
            existing.write({"scopes": merged})
            return existing
        return self.sudo().create({"user_id": user.id, "connection_id": connection.id, "scopes": merged})

    def action_revoke_access(self):
        """The user withdraws the tool: its tokens for this user stop working and consent is asked again."""
        for consent in self:
            tokens = (
                self.env["mcp.token"]
                .sudo()
                .search([("connection_id", "=", consent.connection_id.id), ("user_id", "=", consent.user_id.id)])
            )
            tokens._revoke()
        self.sudo().unlink()
        return True
