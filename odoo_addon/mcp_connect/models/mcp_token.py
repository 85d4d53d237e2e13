from datetime import timedelta

import mcp_connect_core as core
from odoo import Command, api, fields, models, tools

from .. import compat, grants
from ..oauth import scopes as scope_rules
from ..oauth.errors import InvalidToken
from ..storage import server_urls, subject

BEARER_FIELDS = (
    "kind",
    "family",
    "revoked",
    "expires_at",
    "family_expires_at",
    "connection_id",
    "resource",
    "user_id",
    "company_id",
    "company_ids",
    "scopes",
    "last_used_at",
)


class McpToken(models.Model):
    """Access, refresh and personal tokens. Only the SHA-256 digest of a token is stored."""

    _name = "mcp.token"
    _description = "AI tool access token"
    _inherit = ["mcp.grant.source"]
    _grant_neutral_fields = frozenset({"last_used_at", "rotated_at"})
    _grant_forget_on_create = False
    _order = "create_date desc, id desc"
    _rec_name = "display_label"

    name = fields.Char(help="A label for personal access tokens.")
    digest = fields.Char(required=True, groups=fields.NO_ACCESS, copy=False)
    hint = fields.Char(
        readonly=True,
        help="The last characters of a personal access token, to recognise it (never the token).",
    )
    kind = fields.Selection(
        [("access", "Access token"), ("refresh", "Refresh token"), ("personal", "Personal access token")],
        required=True,
        readonly=True,
    )
    connection_id = fields.Many2one("mcp.connection", required=True, ondelete="cascade", index=True, readonly=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True, string="Main company")
    company_ids = fields.Many2many(
        "res.company",
        "mcp_token_company_rel",
        "token_id",
        "company_id",
        readonly=True,
        string="Companies",
        help="The companies the token works in, as the user chose them when they allowed the AI tool.",
    )
    scopes = fields.Char(required=True, readonly=True)
    resource = fields.Char(required=True, readonly=True, string="Audience")
    expires_at = fields.Datetime(required=True, readonly=True, string="Expires")
    family = fields.Char(required=True, index=True, readonly=True, copy=False)
    family_expires_at = fields.Datetime(string="Family expires", required=True, readonly=True)
    parent_id = fields.Many2one("mcp.token", readonly=True, ondelete="set null", string="Rotated from")
    rotated_at = fields.Datetime(string="Rotated on", readonly=True)
    revoked = fields.Boolean(readonly=True, index=True)
    revoked_at = fields.Datetime(string="Revoked on", readonly=True)
    last_used_at = fields.Datetime(readonly=True, string="Last used")
    active_token = fields.Boolean(compute="_compute_active_token", string="Valid")
    display_label = fields.Char(compute="_compute_display_label")

    def init(self):
        compat.ensure_unique_index(self.env.cr, "mcp_token_digest_uniq", self._table, ["digest"])

    @api.depends("revoked", "expires_at", "family_expires_at")
    def _compute_active_token(self):
        now = fields.Datetime.now()
        for token in self:
            token.active_token = not token.revoked and token.expires_at > now and token.family_expires_at > now

    @api.depends("name", "kind", "hint", "connection_id")
    def _compute_display_label(self):
        kinds = dict(self._fields["kind"].selection)
        for token in self:
            label = token.name or f"{kinds.get(token.kind, '')} ({token.connection_id.name})"
            token.display_label = f"{label} …{token.hint}" if token.hint else label

    def _revoke(self):
        self.filtered(lambda t: not t.revoked).write({"revoked": True, "revoked_at": fields.Datetime.now()})

    def action_revoke(self):
        """Revoke one token; a refresh token takes its whole grant family with it."""
        families = self.filtered(lambda t: t.kind == "refresh").mapped("family")
        # sudo: a refresh token takes its whole family with it, including tokens the user may not read
        siblings = self.sudo().search([("family", "in", families)]) if families else self.browse()
        # sudo: tokens are written by the system only: no user may write them
        live = self.sudo().filtered(lambda t: not t.revoked)
        # sudo: tokens are written by the system only: no user may write them
        (self.sudo() | siblings)._revoke()
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for token in live:
            family = ", and every token of its family" if token.kind == "refresh" else ""
            # sudo: audit rows are written by the system, never by the user they are about
            self.env["mcp.audit.log"].sudo()._record_event(
                "token_revoked",
                user=token.user_id,
                connection=token.connection_id,
                summary=f"{self.env.user.name} revoked a token ({kinds[token.kind].lower()}){family}.",
            )
        return True

    @api.model
    def _authenticate_bearer(self, presented, urls):
        """What the token a bearer request presents grants (``grants.Grant``), if it may be used now;
        raise ``InvalidToken`` otherwise.

        The token, its user and connection are read once per worker (``_grant``); the clock is
        checked on every request.
        """
        grant = self._grant(self._token_id_of(presented.digest))
        now = fields.Datetime.now()
        if grant.kind != presented.kind:
            raise InvalidToken(log_detail="unknown token")
        if grant.revoked:
            raise InvalidToken("The access token was revoked.")
        if grant.expires_at <= now or grant.family_expires_at <= now:
            raise InvalidToken("The access token has expired.")
        if grant.connection_state == "revoked":
            raise InvalidToken("An administrator revoked this connection.")
        if grant.resource != urls.resource:
            raise InvalidToken("The access token was issued for another resource.", log_detail=grant.resource)
        if not grant.user_usable:
            raise InvalidToken("This Odoo user may no longer use AI tools.")
        if not grant.company_ids:
            raise InvalidToken(
                "This token's companies are no longer among the user's companies or the connection's; connect again."
            )
        if grants.touch_row(self.env, self._table, grant.token_id, grant.last_used_at, "last_used_at", 60):
            self.browse(grant.token_id).invalidate_recordset(["last_used_at"])
        connections = self.env["mcp.connection"]
        if grants.touch_row(
            self.env, connections._table, grant.connection_id, grant.connection_last_used_at, "last_used_at", 60
        ):
            connections.browse(grant.connection_id).invalidate_recordset(["last_used_at"])
        return grant

    @api.model
    @tools.ormcache("digest")
    def _token_id_of(self, digest):
        """The id of the token with ``digest``. An unknown digest raises, so it is never cached: a
        client sending random tokens cannot fill the cache."""
        # sudo: the token is found by its digest before anyone is known
        token = self.sudo().search([("digest", "=", digest)], limit=1)
        if not token:
            raise InvalidToken(log_detail="unknown token")
        return token.id

    @api.model
    @tools.ormcache("token_id")
    def _grant(self, token_id):
        """What the token grants, as plain values (``grants.Grant``), kept until ``grants.forget``."""
        # sudo: the grant is read for a bearer whose user is not known yet, and cached per token
        token = self.sudo().with_context(active_test=True).browse(token_id)
        token.fetch(BEARER_FIELDS)
        user = token.user_id
        connection = token.connection_id
        return grants.Grant(
            token_id=token.id,
            kind=token.kind,
            revoked=token.revoked,
            expires_at=token.expires_at,
            family_expires_at=token.family_expires_at,
            family=token.family,
            resource=token.resource,
            scopes=tuple(scope_rules.expand(token.scopes.split())),
            user_id=user.id,
            user_usable=user.active and user.has_group("mcp_connect.group_mcp_user"),
            company_ids=tuple(token._working_companies().ids),
            connection_id=connection.id,
            connection_state=connection.state,
            rate_limit=connection.rate_limit,
            policy=connection._compiled_policy(),
            last_used_at=token.last_used_at,
            connection_last_used_at=connection.last_used_at,
            # As superuser: the user's own language and time zone are read for them, whatever
            # their access to their user record (an archived user's token is still refused: user_usable).
            user_context=self.env(user=user.id, su=True)["res.users"].context_get(),
        )

    def _companies(self):
        """The token's companies, the main one first (a token stored before it carried a set: its one company)."""
        self.ensure_one()
        return self.company_id | self.company_ids

    def _working_companies(self):
        """The companies a request with this token runs in: its own, as far as the user still has them
        and the connection's cap allows, the main one first."""
        self.ensure_one()
        return self.connection_id._working_companies(self._companies(), self.user_id)

    @api.model
    def _userinfo(self):
        """Claims about the user of the bearer token of this request (OpenID Connect Core §5.3 names)."""
        # sudo: the token behind this request was checked by auth='mcp'; users cannot read tokens
        token = self.sudo().browse(self.env.context.get("mcp_token_id"))
        user = self.env.user
        claims = {
            "sub": subject(self.env, user.id),
            "name": user.name,
            "preferred_username": user.login,
            "locale": (user.lang or "").replace("_", "-") or None,
            "zoneinfo": user.tz or None,
            "company": {"id": self.env.company.id, "name": self.env.company.name},
        }
        if scope_rules.EMAIL in token.scopes.split():
            claims["email"] = user.email or None
        return claims

    @api.model
    def _create_personal(self, connection, user, token, scope, days, companies=None):
        """Store a personal access token (its digest and last four characters only), working in
        ``companies`` (the user's current one first when chosen), else in the connection's default."""
        digest = core.digest_token(token, kind="personal")
        expires = fields.Datetime.now() + timedelta(days=days)
        companies = companies or connection._default_company(user)
        companies = companies.filtered(lambda company: company == user.company_id) | companies
        # sudo: tokens are created by the system only; the caller checked the user and the companies
        return self.sudo().create(
            {
                "name": connection.name,
                "digest": digest,
                "hint": token[-4:],
                "kind": "personal",
                "connection_id": connection.id,
                "user_id": user.id,
                "company_id": companies[0].id,
                "company_ids": [Command.set(companies.ids)],
                "scopes": scope_rules.join([scope_rules.WRITE if scope == "write" else scope_rules.READ]),
                "resource": server_urls(self.env).resource,
                "expires_at": expires,
                "family": digest[:32],
                "family_expires_at": expires,
            }
        )

    @api.autovacuum
    def _gc_expired_tokens(self):
        """Expired and revoked tokens, a week after they stopped working (kept briefly for the audit trail)."""
        limit = fields.Datetime.now() - timedelta(days=7)
        expired = self.search(
            [
                "|",
                "|",
                ("expires_at", "<", limit),
                ("family_expires_at", "<", limit),
                ("revoked_at", "<", limit),
            ]
        )
        expired.unlink()
