from datetime import timedelta

from odoo import api, fields, models


class McpAuthorizationRequest(models.Model):
    """An authorization request waiting for the user's decision on the consent page.

    Stored and loaded by ``OdooStorage`` as ``oauth.storage.PendingRequest``; the flow
    that creates and answers it is ``oauth.authorize.begin`` and ``decide``.
    """

    _name = "mcp.authorization.request"
    _description = "Pending OAuth authorization request"
    _order = "id desc"

    handle = fields.Char(required=True, index=True, copy=False)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True)
    client_id = fields.Char(required=True)
    redirect_uri = fields.Char(required=True)
    redirect_uri_sent = fields.Boolean()
    state = fields.Char()
    scopes = fields.Char(required=True)
    code_challenge = fields.Char()
    code_challenge_method = fields.Char()
    resource = fields.Char(required=True)
    expires_at = fields.Datetime(required=True)
    used = fields.Boolean()

    @api.autovacuum
    def _gc_expired_requests(self):
        self.search([("expires_at", "<", fields.Datetime.now() - timedelta(hours=1))]).unlink()
