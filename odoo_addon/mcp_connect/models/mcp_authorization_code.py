from datetime import timedelta

from odoo import api, fields, models

from .. import compat


class McpAuthorizationCode(models.Model):
    """Authorization codes (RFC 6749 §4.1.2): digest only, single use, short-lived."""

    _name = "mcp.authorization.code"
    _description = "OAuth authorization code"
    _order = "id desc"

    digest = fields.Char(required=True, groups=fields.NO_ACCESS, copy=False)
    connection_id = fields.Many2one("mcp.connection", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    company_ids = fields.Many2many(
        "res.company", "mcp_authorization_code_company_rel", "code_id", "company_id", string="Companies"
    )
    redirect_uri = fields.Char()
    code_challenge = fields.Char()
    code_challenge_method = fields.Char()
    scopes = fields.Char(required=True)
    resource = fields.Char(required=True)
    expires_at = fields.Datetime(required=True)
    consumed = fields.Boolean()
    consumed_at = fields.Datetime()
    family = fields.Char(help="Grant family of the tokens issued for this code, revoked if the code is replayed.")

    def init(self):
        compat.ensure_unique_index(self.env.cr, "mcp_authorization_code_digest_uniq", self._table, ["digest"])

    @api.autovacuum
    def _gc_expired_codes(self):
        self.search([("expires_at", "<", fields.Datetime.now() - timedelta(days=1))]).unlink()
