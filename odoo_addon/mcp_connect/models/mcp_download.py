import base64
from datetime import timedelta

import mcp_connect_core as core
from odoo import api, fields, models

# Links carry no bearer: they are short-lived and work once.
LIFETIME_MINUTES = 10
# The link token has the shape and the lifetime of an authorization code; it is stored only here.
LINK_KIND = "code"


class McpDownload(models.Model):
    """A file too large for a tool result, waiting for one download by a link.

    The file is rendered when the tool runs, as the token's user under the connection's
    policy, and kept as an attachment of the link: the download reads nothing else, and
    the link dies with its first use, its expiry, its connection or its user's access.
    Only the SHA-256 digest of the link's token is stored.
    """

    _name = "mcp.download"
    _description = "AI tool download link"
    _order = "id desc"

    digest = fields.Char(required=True, groups=fields.NO_ACCESS, copy=False, index=True)
    name = fields.Char(required=True, readonly=True, string="File name")
    mimetype = fields.Char(required=True, readonly=True)
    content = fields.Binary(attachment=True, readonly=True, groups=fields.NO_ACCESS)
    size = fields.Integer(readonly=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True, readonly=True)
    connection_id = fields.Many2one("mcp.connection", required=True, ondelete="cascade", readonly=True)
    tool = fields.Char(readonly=True)
    expires_at = fields.Datetime(required=True, readonly=True, string="Expires")

    @api.model
    def _offer(self, connection, user, tool, name, mimetype, raw):
        """Store ``raw`` behind a new link; return ``(token, expires_at)``."""
        token, digest = core.mint_token(kind=LINK_KIND)
        expires = fields.Datetime.now() + timedelta(minutes=LIFETIME_MINUTES)
        # sudo: download links are made by the system for the caller's own file; no user may create them
        self.sudo().create(
            {
                "digest": digest,
                "name": name,
                "mimetype": mimetype,
                "content": base64.b64encode(raw),
                "size": len(raw),
                "user_id": user.id,
                "connection_id": connection.id,
                "tool": tool,
                "expires_at": expires,
            }
        )
        return token, expires

    @api.model
    def _claim(self, token, session_uid=None):
        """The file of a live link, ``(name, mimetype, raw)``, consuming the link; None otherwise.

        A browser signed in to Odoo as another user than the link's gets nothing."""
        try:
            digest = core.digest_token(token, kind=LINK_KIND)
        except (core.McpCoreError, ValueError):
            return None
        # sudo: the link is found by its digest before anyone is known; _claim checks who claims it
        link = self.sudo().search([("digest", "=", digest)], limit=1)
        if not link:
            return None
        # Single use: the row is locked and removed before the file leaves.
        self.env.cr.execute("SELECT id FROM mcp_download WHERE id = %s FOR UPDATE SKIP LOCKED", [link.id])
        if not self.env.cr.fetchone():
            return None
        user = link.user_id
        usable = (
            link.expires_at > fields.Datetime.now()
            and session_uid in (None, user.id)
            and link.connection_id.state == "active"
            and user.active
            and user.has_group("mcp_connect.group_mcp_user")
        )
        found = (link.name, link.mimetype, base64.b64decode(link.content or b"")) if usable else None
        link.unlink()
        return found

    @api.autovacuum
    def _gc_expired(self):
        # sudo: the autovacuum cron deletes every expired link, whoever made it
        self.sudo().search([("expires_at", "<", fields.Datetime.now())]).unlink()
