from datetime import timedelta

import mcp_connect_core as core
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import compat, config
from ..oauth import scopes as scope_rules
from ..oauth.storage import CUSTOM, DYNAMIC, METADATA_DOCUMENT, PERSONAL

# connection_type -> the client kind of the protocol layer and the Rust redirect rules
CLIENT_KINDS = {"browser": DYNAMIC, "custom": CUSTOM, "metadata": METADATA_DOCUMENT, "personal": PERSONAL}
SELF_REGISTERED = ("browser", "metadata")
CONNECTED_DAYS = 7


class McpConnection(models.Model):
    _name = "mcp.connection"
    _description = "AI tool connection"
    _inherit = ["mail.thread"]
    _order = "create_date desc, id desc"

    name = fields.Char(required=True, tracking=True)
    connection_type = fields.Selection(
        [
            ("browser", "Browser login"),
            ("custom", "Custom OAuth"),
            ("personal", "Personal access token"),
            ("metadata", "Client metadata document"),
        ],
        string="Type",
        required=True,
        default="custom",
        readonly=True,
        help="Browser login and client metadata document connections are created by the AI tool itself "
        "the first time a user connects it; Custom OAuth connections are created by an administrator.",
    )
    client_id = fields.Char(string="Client ID", readonly=True, copy=False, index=True)
    client_type = fields.Selection(
        [("confidential", "Confidential (has client_secret)"), ("public", "Public (PKCE-only, no secret)")],
        required=True,
        default="confidential",
        tracking=True,
    )
    secret_hash = fields.Char(groups=fields.NO_ACCESS, copy=False)
    has_secret = fields.Boolean(compute="_compute_has_secret")
    redirect_uris = fields.Text(
        string="Redirect URIs",
        tracking=True,
        help="One per line. A line ending with * allows one extra path segment after it "
        "(ChatGPT's per-connector callbacks: https://chatgpt.com/connector/oauth/*).",
    )
    grant_types = fields.Char(default="authorization_code refresh_token", required=True)
    allowed_scope = fields.Selection(
        [("read", "Read only (mcp:read)"), ("write", "Read and write (mcp:write)")],
        string="Access",
        required=True,
        default="write",
        tracking=True,
        help="The most a token of this connection can be granted. Odoo's access rights of the signed-in "
        "user always apply on top.",
    )
    state = fields.Selection(
        [("active", "Active"), ("revoked", "Revoked")],
        required=True,
        default="active",
        readonly=True,
        tracking=True,
    )
    status = fields.Selection(
        [
            ("connected", "Connected"),
            ("awaiting", "Awaiting first use"),
            ("idle", "Idle"),
            ("revoked", "Revoked"),
        ],
        compute="_compute_status",
        search="_search_status",
    )
    skip_consent = fields.Boolean(
        string="Skip the consent screen",
        tracking=True,
        help="Trusted Custom OAuth tools only: users are not asked to confirm access.",
    )
    owner_user_id = fields.Many2one(
        "res.users",
        string="Owner",
        default=lambda self: self.env.user,
        help="Who created the connection. Tokens obtained with client credentials act as this user.",
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    last_used_at = fields.Datetime(string="Last used", readonly=True)
    application_type = fields.Char(readonly=True)
    client_uri = fields.Char(string="Tool website", readonly=True)
    logo_uri = fields.Char(readonly=True)
    software_id = fields.Char(readonly=True)
    software_version = fields.Char(readonly=True)
    metadata_expires_at = fields.Datetime(readonly=True, copy=False)
    token_ids = fields.One2many("mcp.token", "connection_id", string="Tokens")
    consent_ids = fields.One2many("mcp.consent", "connection_id", string="Users who allowed it")

    def init(self):
        compat.ensure_unique_index(self.env.cr, "mcp_connection_client_id_uniq", self._table, ["client_id"])

    @api.depends("connection_type", "client_type")
    def _compute_has_secret(self):
        for connection in self:
            connection.has_secret = connection.client_type == "confidential" and connection.connection_type in (
                "custom",
                "browser",
            )

    @api.depends("state", "last_used_at")
    def _compute_status(self):
        recent = fields.Datetime.now() - timedelta(days=CONNECTED_DAYS)
        for connection in self:
            if connection.state == "revoked":
                connection.status = "revoked"
            elif not connection.last_used_at:
                connection.status = "awaiting"
            elif connection.last_used_at >= recent:
                connection.status = "connected"
            else:
                connection.status = "idle"

    def _search_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(_("Unsupported search on status."))
        values = {value} if isinstance(value, str) else set(value)
        recent = fields.Datetime.now() - timedelta(days=CONNECTED_DAYS)
        domains = {
            "revoked": [("state", "=", "revoked")],
            "awaiting": [("state", "=", "active"), ("last_used_at", "=", False)],
            "connected": [("state", "=", "active"), ("last_used_at", ">=", recent)],
            "idle": [("state", "=", "active"), ("last_used_at", "<", recent)],
        }
        ids = set()
        for name in values & domains.keys():
            ids.update(self.with_context(active_test=False)._search(domains[name]))
        positive = operator in ("=", "in")
        return [("id", "in" if positive else "not in", list(ids))]

    @api.constrains("redirect_uris", "connection_type")
    def _check_redirect_uris(self):
        for connection in self:
            if connection.connection_type == "personal":
                continue
            registered, prefixes = connection._redirect_rules()
            kind = CLIENT_KINDS[connection.connection_type]
            problems = []
            for uri in registered:
                try:
                    core.validate_redirect_uri(uri, client_kind=kind)
                except core.InvalidRedirectUriError as error:
                    problems.append(f"{uri}: {error}")
            for prefix in prefixes:
                try:
                    core.validate_redirect_prefix(prefix)
                except core.InvalidRedirectUriError:
                    problems.append(_("%(uri)s*: a prefix must be an https address ending with /", uri=prefix))
            if problems:
                raise ValidationError(_("Some redirect URIs cannot be used:\n%s", "\n".join(problems)))
            if connection.connection_type == "custom" and not registered and not prefixes:
                raise ValidationError(_("A Custom OAuth connection needs at least one redirect URI."))

    @api.constrains("skip_consent", "connection_type")
    def _check_skip_consent(self):
        for connection in self:
            if connection.skip_consent and connection.connection_type != "custom":
                raise ValidationError(_("Only Custom OAuth connections created by an administrator may skip consent."))

    def write(self, vals):
        if "redirect_uris" in vals and not self.env.context.get("mcp_registration_update"):
            if any(c.connection_type in SELF_REGISTERED for c in self):
                raise UserError(
                    _(
                        "The redirect URIs of a tool that registered itself cannot be changed. "
                        "Revoke the connection and let the tool register again."
                    )
                )
        return super().write(vals)

    def _redirect_rules(self):
        """Registered redirect URIs and prefixes (lines ending with ``*``)."""
        self.ensure_one()
        registered, prefixes = [], []
        for line in (self.redirect_uris or "").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.endswith("*"):
                prefixes.append(line[:-1])
            else:
                registered.append(line)
        return registered, prefixes

    def _allowed_scopes(self):
        self.ensure_one()
        return tuple(scope_rules.expand([scope_rules.WRITE if self.allowed_scope == "write" else scope_rules.READ]))

    def _touch(self):
        """Record use, at most once a minute per connection: the hot path stays write-free."""
        threshold = fields.Datetime.now() - timedelta(seconds=60)
        stale = self.filtered(lambda c: not c.last_used_at or c.last_used_at < threshold)
        if stale:
            stale.sudo().write({"last_used_at": fields.Datetime.now()})

    def _revoke_credentials(self):
        """Every token and code of these connections stops working now."""
        tokens = self.env["mcp.token"].sudo().search([("connection_id", "in", self.ids), ("revoked", "=", False)])
        tokens._revoke()
        codes = (
            self.env["mcp.authorization.code"]
            .sudo()
            .search([("connection_id", "in", self.ids), ("consumed", "=", False)])
        )
        codes.write({"consumed": True, "consumed_at": fields.Datetime.now()})

    def action_revoke(self):
        for connection in self:
            connection.sudo()._revoke_credentials()
            connection.state = "revoked"
            connection.message_post(body=_("Connection revoked: every token stopped working."))
        return True

    def action_reactivate(self):
        for connection in self.filtered(lambda c: c.state == "revoked"):
            connection.state = "active"
            connection.message_post(body=_("Connection reactivated: users sign in again from the tool."))
        return True

    @api.autovacuum
    def _gc_unused_self_registered(self):
        """Tools that registered themselves and were never used (Claude registers on every connection)."""
        days = config.get(self.env, "unused_client_days")
        limit = fields.Datetime.now() - timedelta(days=days)
        unused = self.with_context(active_test=False).search(
            [
                ("connection_type", "in", SELF_REGISTERED),
                ("last_used_at", "=", False),
                ("create_date", "<", limit),
                ("consent_ids", "=", False),
            ]
        )
        unused.unlink()
