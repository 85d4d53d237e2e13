import json
from datetime import timedelta

import mcp_connect_core as core
from odoo import _, api, fields, models, tools
from odoo.addons.base.models.res_users import check_identity
from odoo.exceptions import UserError, ValidationError

from .. import compat, config
from ..oauth import redirect_uris as redirect_uri_rules
from ..oauth import scopes as scope_rules
from ..oauth.storage import CUSTOM, DYNAMIC, METADATA_DOCUMENT, PERSONAL
from ..tools.methods import refusal as method_refusal
from ..transactions import touch
from .mcp_connection_model import OPERATIONS

DESCRIPTION_ATTRIBUTES = (
    "type",
    "string",
    "relation",
    "required",
    "readonly",
    "selection",
    "store",
    "help",
    "groupable",
    "sortable",
    "aggregator",
    "group_operator",
)

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
    allow_client_credentials = fields.Boolean(
        string="Allow machine-to-machine access",
        compute="_compute_allow_client_credentials",
        inverse="_inverse_allow_client_credentials",
        help="Confidential Custom OAuth clients only: the tool may get tokens with its client secret alone "
        "(client credentials), acting as the connection's owner without anyone signing in.",
    )
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
    company_ids = fields.Many2many(
        "res.company",
        "mcp_connection_company_rel",
        "connection_id",
        "company_id",
        string="Limit to companies",
        tracking=True,
        help="The companies this connection's tokens may work in, whatever else a user has access to. "
        "Empty: any of the user's companies.",
    )
    last_used_at = fields.Datetime(string="Last used", readonly=True)
    application_type = fields.Char(readonly=True)
    token_endpoint_auth_method = fields.Char(
        string="Client authentication",
        readonly=True,
        help="How a self-registered confidential tool said it would send its client secret "
        "(client_secret_basic or client_secret_post); the token endpoint accepts only that method.",
    )
    client_uri = fields.Char(string="Tool website", readonly=True)
    logo_uri = fields.Char(readonly=True)
    software_id = fields.Char(readonly=True)
    software_version = fields.Char(readonly=True)
    metadata_expires_at = fields.Datetime(readonly=True, copy=False)
    registration_address = fields.Char(
        string="Registered from",
        readonly=True,
        copy=False,
        index=True,
        help="The address a self-registered tool registered from. The same tool registering again from there "
        "with the same details gets this connection back instead of a new one.",
    )
    allowed_tool_ids = fields.Many2many(
        "mcp.tool",
        "mcp_connection_allowed_tool_rel",
        string="Allowed tools",
        help="Leave empty to allow every tool of the granted scopes.",
    )
    model_rule_ids = fields.One2many(
        "mcp.connection.model",
        "connection_id",
        string="Allowed models",
        help="Leave empty to allow every model the user can access in Odoo.",
    )
    approval_tool_ids = fields.Many2many(
        "mcp.tool",
        "mcp_connection_approval_tool_rel",
        string="Tools that need approval",
        help="Calls to these tools wait until the approver accepts them in Odoo.",
    )
    approver_id = fields.Many2one(
        "res.users",
        string="Approver",
        help="Who approves risky calls; MCP Connect managers when empty. Nobody approves a call they asked for "
        "themselves: a manager does.",
    )
    allowed_methods = fields.Text(
        string="Extra methods",
        tracking=True,
        help="call_method may call the buttons of each model's views. List other public methods here, one "
        "model.method per line (e.g. res.partner.address_get). The web client's and the ORM's methods, and "
        "names starting with _, are never callable.",
    )
    ip_allowlist = fields.Text(
        string="IP allowlist",
        help="Addresses or networks (CIDR) allowed to call, one per line; empty allows any address. "
        "claude.ai and ChatGPT call from their vendors' clouds, so for them this identifies the vendor, "
        "not the person.",
    )
    rate_limit = fields.Integer(
        string="Rate limit (calls per minute)",
        help="Counted for each user of the connection separately, per message that does work (each message "
        "of a batch). 0 uses the default from Settings.",
    )
    policy_document = fields.Text(
        compute="_compute_policy_document",
        store=True,
        readonly=True,
        groups="mcp_connect.group_mcp_manager",
        help="The connection's restrictions as the policy engine reads them.",
    )
    token_ids = fields.One2many("mcp.token", "connection_id", string="Tokens")
    user_ids = fields.Many2many("res.users", compute="_compute_usage", string="Users")
    calls_24h = fields.Integer(compute="_compute_usage", string="Calls (24 h)")
    audit_count = fields.Integer(compute="_compute_usage", string="Calls")
    pending_approval_count = fields.Integer(compute="_compute_usage", string="Pending approvals")
    consent_ids = fields.One2many("mcp.consent", "connection_id", string="Users who allowed it")

    def init(self):
        compat.ensure_unique_index(self.env.cr, "mcp_connection_client_id_uniq", self._table, ["client_id"])

    @api.depends("grant_types")
    def _compute_allow_client_credentials(self):
        for connection in self:
            connection.allow_client_credentials = "client_credentials" in (connection.grant_types or "").split()

    def _inverse_allow_client_credentials(self):
        for connection in self:
            grants = [g for g in (connection.grant_types or "").split() if g != "client_credentials"]
            if connection.allow_client_credentials:
                grants.append("client_credentials")
            connection.grant_types = " ".join(grants)

    def _compute_usage(self):
        since = fields.Datetime.now() - timedelta(days=1)
        audit = self.env["mcp.audit.log"].sudo()
        recent = dict(
            audit._read_group(
                [("connection_id", "in", self.ids), ("create_date", ">=", since)], ["connection_id"], ["__count"]
            )
        )
        total = dict(audit._read_group([("connection_id", "in", self.ids)], ["connection_id"], ["__count"]))
        pending = dict(
            self.env["mcp.approval.request"]
            .sudo()
            ._read_group([("connection_id", "in", self.ids), ("state", "=", "pending")], ["connection_id"], ["__count"])
        )
        now = fields.Datetime.now()
        tokens = (
            self.env["mcp.token"]
            .sudo()
            .search(
                [
                    ("connection_id", "in", self.ids),
                    ("revoked", "=", False),
                    ("expires_at", ">", now),
                    ("family_expires_at", ">", now),
                ]
            )
        )
        for connection in self:
            connection.calls_24h = recent.get(connection, 0)
            connection.audit_count = total.get(connection, 0)
            connection.pending_approval_count = pending.get(connection, 0)
            connection.user_ids = tokens.filtered(lambda t, c=connection: t.connection_id == c).user_id

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
            entries = registered + [prefix + redirect_uri_rules.PREFIX_MARK for prefix in prefixes]
            kind, custom = CLIENT_KINDS[connection.connection_type], connection.connection_type == "custom"
            problems = []
            # A loop, not a comprehension: _() finds the language in the calling frame.
            for problem in redirect_uri_rules.problems(entries, client_kind=kind, prefixes=custom):
                if problem.prefix:
                    problems.append(
                        _("%(uri)s*: a prefix must be an https address ending with /", uri=problem.entry[:-1])
                    )
                else:
                    problems.append(f"{problem.entry}: {problem.error}")
            if problems:
                raise ValidationError(_("Some redirect URIs cannot be used:\n%s", "\n".join(problems)))
            if connection.connection_type == "custom" and not registered and not prefixes:
                raise ValidationError(_("A Custom OAuth connection needs at least one redirect URI."))

    @api.constrains("grant_types", "client_type", "connection_type")
    def _check_client_credentials(self):
        for connection in self:
            wants = "client_credentials" in (connection.grant_types or "").split()
            if wants and (connection.connection_type != "custom" or connection.client_type != "confidential"):
                raise ValidationError(
                    _("Only confidential Custom OAuth connections may use machine-to-machine access.")
                )

    @api.constrains("skip_consent", "connection_type")
    def _check_skip_consent(self):
        for connection in self:
            if connection.skip_consent and connection.connection_type != "custom":
                raise ValidationError(_("Only Custom OAuth connections created by an administrator may skip consent."))

    @api.constrains("ip_allowlist")
    def _check_ip_allowlist(self):
        for connection in self:
            try:
                core.parse_ip_allowlist((connection.ip_allowlist or "").splitlines())
            except core.InvalidCidrError as error:
                raise ValidationError(
                    _(
                        "IP allowlist, line %(line)s: %(entry)r is not an address or a network such as 10.0.0.0/8.",
                        line=error.line,
                        entry=error.entry,
                    )
                ) from error

    @api.constrains("rate_limit")
    def _check_rate_limit(self):
        if any(connection.rate_limit < 0 for connection in self):
            raise ValidationError(_("The rate limit cannot be negative (0 uses the default)."))

    @api.constrains("allowed_methods")
    def _check_allowed_methods(self):
        for connection in self:
            for number, line in enumerate((connection.allowed_methods or "").splitlines(), start=1):
                line = line.strip()
                if not line:
                    continue
                model_name, _dot, method = line.rpartition(".")
                if model_name not in self.env:
                    raise ValidationError(
                        _(
                            "Extra methods, line %(line)s: write model.method, e.g. res.partner.address_get.",
                            line=number,
                        )
                    )
                reason = method_refusal(self.env[model_name], method)
                if reason:
                    raise ValidationError(_("Extra methods, line %(line)s: %(reason)s", line=number, reason=reason))

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
        """Registered redirect URIs and prefixes (lines ending with ``*``).

        Only an administrator sets prefixes: on a connection a tool registered itself, such a
        line stays an exact URI (which registration never accepts, so it matches nothing).
        """
        self.ensure_one()
        registered, prefixes = [], []
        for line in (self.redirect_uris or "").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.endswith("*") and self.connection_type == "custom":
                prefixes.append(line[:-1])
            else:
                registered.append(line)
        return registered, prefixes

    def _policy_document(self):
        self.ensure_one()
        document = {
            "approval_tools": self.approval_tool_ids.mapped("name"),
            "ip_allowlist": (self.ip_allowlist or "").splitlines(),
            "allowed_scopes": list(self._allowed_scopes()),
        }
        if self.allowed_tool_ids:
            document["allowed_tools"] = self.allowed_tool_ids.mapped("name")
        if self.model_rule_ids:
            document["allowed_models"] = {rule.model_id.model: rule._operations() for rule in self.model_rule_ids}
        return json.dumps(document)

    @api.depends(
        "approval_tool_ids.name",
        "ip_allowlist",
        "allowed_scope",
        "allowed_tool_ids.name",
        "model_rule_ids.model_id.model",
        *(f"model_rule_ids.can_{operation}" for operation in OPERATIONS),
    )
    def _compute_policy_document(self):
        for connection in self:
            connection.policy_document = connection._policy_document()

    def _compiled_policy(self):
        """The Rust policy for this connection.

        The document is stored with the connection and kept current by the ORM whenever
        the connection or one of its model rules changes; it is read with the connection
        on every request (so a change made in any worker applies to the next request
        everywhere) and compiled once per distinct document and worker.
        """
        self.ensure_one()
        connection = self.sudo()
        return self.env["mcp.connection"]._policy_for(connection.policy_document or connection._policy_document())

    @api.model
    @tools.ormcache("document")
    def _policy_for(self, document):
        return core.Policy(document)

    @api.model
    @tools.ormcache("model_name", "self.env.uid", "self.env.lang")
    def _mcp_field_descriptions(self, model_name):
        """``fields_get`` of ``model_name`` for the current user and language, kept across requests.

        Callers still check field access on every request (``tools.values.readable_fields``):
        a user who lost a group loses its fields at once. Cleared with the registry's caches,
        so a module update that adds fields is seen at once.
        """
        return self.env[model_name].fields_get(attributes=list(DESCRIPTION_ATTRIBUTES))

    def _data_scopes(self, user):
        """Per-model record filters and field allow-lists, evaluated for ``user``."""
        self.ensure_one()
        connection = self.sudo()
        if connection.policy_document and "allowed_models" not in json.loads(connection.policy_document):
            return {}  # no model rules: nothing more to read
        return {rule.model_id.model: rule._data_scope(user) for rule in connection.model_rule_ids}

    def _listed_methods(self):
        """Model name -> the method names a manager listed for ``call_method``."""
        self.ensure_one()
        listed = {}
        for line in (self.sudo().allowed_methods or "").splitlines():
            model_name, _dot, method = line.strip().rpartition(".")
            if model_name:
                listed.setdefault(model_name, set()).add(method)
        return {model_name: frozenset(methods) for model_name, methods in listed.items()}

    def _effective_rate_limit(self):
        self.ensure_one()
        return self.rate_limit or config.get(self.env, "default_rate_limit")

    def _limits(self):
        """What the connection restricts, as whoami shows it."""
        self.ensure_one()
        return {
            "id": self.id,
            "name": self.name,
            "access": self.allowed_scope,
            "allowed_tools": self.allowed_tool_ids.mapped("name") or "all tools of the granted scopes",
            "allowed_models": (
                {rule.model_id.model: rule._operations() for rule in self.model_rule_ids}
                or "every model your Odoo access rights allow"
            ),
            "tools_needing_approval": self.approval_tool_ids.mapped("name"),
            "rate_limit_per_minute": self._effective_rate_limit() or None,
            "ip_allowlist": bool(self.ip_allowlist),
        }

    def _allowed_scopes(self):
        self.ensure_one()
        return tuple(scope_rules.expand([scope_rules.WRITE if self.allowed_scope == "write" else scope_rules.READ]))

    def _touch(self):
        """Record use, at most once a minute per connection, outside the request's transaction."""
        touch(self.sudo(), "last_used_at", 60)

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

    @check_identity
    def action_rotate_secret(self):
        """A new client secret; the current one stops working at once. Only its digest is stored:
        the secret itself is shown once, from the context of the returned action."""
        self.ensure_one()
        if not self.has_secret:
            raise UserError(_("This connection has no client secret to rotate."))
        secret, _digest = core.mint_token(kind="client_secret")
        self.sudo().secret_hash = core.hash_secret(secret)
        self.message_post(body=_("Client secret rotated; the previous secret stopped working."))
        return self.env["mcp.credential.show"]._show(
            _("New client secret"),
            purpose="rotation",
            connection_name=self.name,
            client_id=self.client_id,
            client_secret=secret,
        )

    def action_view_audit_log(self):
        action = self.env["ir.actions.actions"]._for_xml_id("mcp_connect.mcp_audit_log_action")
        action["domain"] = [("connection_id", "in", self.ids)]
        return action

    def action_view_approvals(self):
        action = self.env["ir.actions.actions"]._for_xml_id("mcp_connect.mcp_approval_request_action")
        action["domain"] = [("connection_id", "in", self.ids)]
        return action

    def action_connect_new_tool(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": "mcp.connect.wizard",
            "view_mode": "form",
            "target": "new",
            "name": _("Connect a New Tool"),
        }

    @api.model
    def _create_personal_token(self, user, name, token, scope, days, companies=None):
        """A personal access token is a connection of its own, so it can be restricted and revoked alone."""
        connection = self.sudo().create(
            {
                "name": name,
                "connection_type": "personal",
                "client_id": core.mint_token(kind="client_id")[0],
                "client_type": "public",
                "allowed_scope": scope,
                "owner_user_id": user.id,
                "company_id": user.company_id.id,
            }
        )
        personal = self.env["mcp.token"].sudo()._create_personal(connection, user, token, scope, days, companies)
        self.env["mcp.consent"]._remember(
            user, connection, [scope_rules.WRITE if scope == "write" else scope_rules.READ], personal._companies().ids
        )
        connection.message_post(body=_("Personal access token created for %(user)s.", user=user.name))
        return connection

    def _default_company(self, user):
        """The company a token of ``user`` works in when nobody chose one: their current company,
        else the first of their companies the cap allows."""
        self.ensure_one()
        if not self.company_ids or user.company_id in self.company_ids:
            return user.company_id
        return (user.company_ids & self.company_ids)[:1] or user.company_id

    def _owner_company(self):
        """The company client-credentials tokens work in (they act as the owner)."""
        self.ensure_one()
        return self._default_company(self.owner_user_id) if self.owner_user_id else self.company_id

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
