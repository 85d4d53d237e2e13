import secrets
from datetime import timedelta

from odoo import api, fields, models

from .. import compat
from ..transactions import touch


class McpSession(models.Model):
    """An initialize-era MCP session (``Mcp-Session-Id``): bound to its user and connection, never authentication."""

    _name = "mcp.session"
    _description = "MCP session"
    _order = "id desc"

    handle = fields.Char(required=True, readonly=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True, readonly=True)
    connection_id = fields.Many2one("mcp.connection", required=True, ondelete="cascade", readonly=True)
    protocol_version = fields.Char(required=True, readonly=True)
    client_name = fields.Char(readonly=True)
    client_version = fields.Char(readonly=True)
    last_seen_at = fields.Datetime(readonly=True)
    ended = fields.Boolean(readonly=True)

    def init(self):
        compat.ensure_unique_index(self.env.cr, "mcp_session_handle_uniq", self._table, ["handle"])

    @api.model
    def _open(self, connection, user, version, client_info):
        info = client_info or {}
        session = self.sudo().create(
            {
                "handle": secrets.token_urlsafe(24),
                "user_id": user.id,
                "connection_id": connection.id,
                "protocol_version": version,
                "client_name": str(info.get("name") or "")[:100] or False,
                "client_version": str(info.get("version") or "")[:50] or False,
                "last_seen_at": fields.Datetime.now(),
            }
        )
        return session.handle

    @api.model
    def _find(self, handle, user, connection):
        if not isinstance(handle, str) or len(handle) > 100:
            return self.browse()
        return self.sudo().search(
            [
                ("handle", "=", handle),
                ("user_id", "=", user.id),
                ("connection_id", "=", connection.id),
                ("ended", "=", False),
            ],
            limit=1,
        )

    @api.model
    def _live_version(self, handle, user, connection):
        session = self._find(handle, user, connection)
        if not session:
            return None
        touch(session, "last_seen_at", 300)
        return session.protocol_version

    @api.model
    def _end(self, handle, user, connection):
        session = self._find(handle, user, connection)
        session.ended = True
        return bool(session)

    @api.autovacuum
    def _gc_sessions(self):
        limit = fields.Datetime.now() - timedelta(days=2)
        self.search(["|", ("ended", "=", True), ("last_seen_at", "<", limit)]).unlink()
