import secrets
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

from .. import compat, grants

HANDLE_MAX_LENGTH = 100


class UnknownSession(LookupError):
    """No session of this user and connection has this handle."""


SEEN_EVERY_SECONDS = 300


class McpSession(models.Model):
    """An initialize-era MCP session (``Mcp-Session-Id``): bound to its user and connection, never authentication.

    A hint, never a requirement: clients in the field (claude.ai, some Claude Code and Copilot CLI
    versions) do not echo the id, or replay a stale one. A request without a known session takes
    the version negotiated by the latest initialize of its sign-in (the token family, which
    survives refreshes), read from the database so every worker answers alike.
    """

    _name = "mcp.session"
    _description = "MCP session"
    _order = "id desc"

    handle = fields.Char(required=True, readonly=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True, readonly=True)
    connection_id = fields.Many2one("mcp.connection", required=True, ondelete="cascade", readonly=True)
    protocol_version = fields.Char(string="Protocol version", required=True, readonly=True)
    token_family = fields.Char(index=True, readonly=True, help="The sign-in (token family) that opened the session.")
    client_name = fields.Char(string="Client name", readonly=True)
    client_version = fields.Char(string="Client version", readonly=True)
    last_seen_at = fields.Datetime(string="Last seen", readonly=True)
    ended = fields.Boolean(readonly=True)

    def init(self):
        compat.ensure_unique_index(self.env.cr, "mcp_session_handle_uniq", self._table, ["handle"])

    @api.model
    def _open(self, connection, user, version, client_info, token_family=None):
        info = client_info or {}
        # sudo: MCP sessions are system rows opened for the caller; users cannot create them
        session = self.sudo().create(
            {
                "handle": secrets.token_urlsafe(24),
                "user_id": user.id,
                "connection_id": connection.id,
                "protocol_version": version,
                "token_family": token_family or False,
                "client_name": str(info.get("name") or "")[:100] or False,
                "client_version": str(info.get("version") or "")[:50] or False,
                "last_seen_at": fields.Datetime.now(),
            }
        )
        return session.handle

    @api.model
    def _find(self, handle, user, connection):
        if not isinstance(handle, str) or len(handle) > HANDLE_MAX_LENGTH:
            return self.browse()
        # sudo: MCP sessions are system rows found by their handle; users cannot read them
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
    def _recall(self, handle, user, connection, token_family):
        """What a request's client negotiated: ``(version, ended)``.

        ``version`` is that of the session ``handle`` when it is a session of this user and
        connection, else that of the latest initialize of ``token_family`` whose session was not
        ended, else None.
        ``ended`` is True when ``handle`` names a session of this user that was ended with
        DELETE (the client must initialize again). A session of another user or connection
        is unknown here: it lends nothing, not even its version.

        A named session is read once per worker (``_named``); the fallback, for clients that do
        not echo their session id, in one indexed query.
        """
        if not isinstance(handle, str) or len(handle) > HANDLE_MAX_LENGTH:
            handle = None
        named = None
        if handle:
            try:
                named = self._named(handle, user.id, connection.id)
            except UnknownSession:
                named = None
        if named:
            session_id, ended, version, last_seen_at = named
            if ended:
                return None, True
            # last seen is bookkeeping written on every call, by users who may not write sessions
            grants.touch_row(self.env, self._table, session_id, last_seen_at, "last_seen_at", SEEN_EVERY_SECONDS)
            return version, False
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT protocol_version FROM mcp_session"
                " WHERE user_id = %(user)s AND connection_id = %(connection)s"
                " AND token_family = %(family)s AND ended IS NOT TRUE"
                " ORDER BY id DESC LIMIT 1",
                user=user.id,
                connection=connection.id,
                family=token_family,
            )
        )
        row = self.env.cr.fetchone()
        return (row[0] if row else None), False

    @api.model
    @tools.ormcache("handle", "user_id", "connection_id")
    def _named(self, handle, user_id, connection_id):
        """The session ``handle`` if it is one of this user and connection:
        ``(id, ended, protocol_version, last_seen_at)``; ``UnknownSession`` otherwise, which is
        never cached: a client naming made-up sessions cannot fill the cache.

        Kept in the registry's ormcache, so a client naming its session costs no query: ending a
        session forgets it on every worker (``grants.forget``), as revoking a token does. The
        version of a session never changes; ``last_seen_at`` only moves forward, and
        ``grants.touch_row`` also knows this worker's own later stamps.
        """
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT id, ended, protocol_version, last_seen_at FROM mcp_session"
                " WHERE handle = %s AND user_id = %s AND connection_id = %s",
                handle,
                user_id,
                connection_id,
            )
        )
        row = self.env.cr.fetchone()
        if not row:
            raise UnknownSession(handle)
        return tuple(row)

    @api.model
    def _end(self, handle, user, connection):
        session = self._find(handle, user, connection)
        # Kept (ended) as long as an unused session: a client replaying it gets 404 and initializes again.
        session.write({"ended": True, "last_seen_at": fields.Datetime.now()})
        if session:
            grants.forget(self.env)
        return bool(session)

    @api.autovacuum
    def _gc_sessions(self):
        """Sessions unused for two days go, except the latest of a sign-in whose tokens still
        exist: it keeps the version that sign-in negotiated for clients that never send their
        session id."""
        self.flush_model()
        self.env["mcp.token"].flush_model(["family"])
        self.env.cr.execute(
            SQL(
                "DELETE FROM mcp_session s WHERE s.last_seen_at < %(limit)s AND ("
                " s.token_family IS NULL"
                " OR EXISTS (SELECT 1 FROM mcp_session n WHERE n.token_family = s.token_family AND n.id > s.id)"
                " OR NOT EXISTS (SELECT 1 FROM mcp_token t WHERE t.family = s.token_family))",
                limit=fields.Datetime.now() - timedelta(days=2),
            )
        )
        if self.env.cr.rowcount:
            grants.forget(self.env)
