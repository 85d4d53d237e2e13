import json
import logging
from datetime import timedelta

import mcp_connect_core as core
from odoo import Command, api, fields, models, tools
from odoo.addons.base.models.res_users import check_identity
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from .. import compat, config, grants
from ..oauth import redirect_uris as redirect_uri_rules
from ..oauth import scopes as scope_rules
from ..oauth.storage import CUSTOM, DYNAMIC, METADATA_DOCUMENT, PERSONAL
from ..tools.context import DataScope, DataScopes
from ..transactions import touch
from .mcp_connection_model import OPERATIONS, evaluate_domain
from .mcp_connection_policy import ALLOWED_TOOLS_HELP, APPROVAL_TOOLS_HELP, redirect_hosts, tool_list

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

_logger = logging.getLogger(__name__)

# connection_type -> the client kind of the protocol layer and the Rust redirect rules
CLIENT_KINDS = {"browser": DYNAMIC, "custom": CUSTOM, "metadata": METADATA_DOCUMENT, "personal": PERSONAL}
SELF_REGISTERED = ("browser", "metadata")
CONNECTED_DAYS = 7


class McpConnection(models.Model):
    _name = "mcp.connection"
    _description = "AI tool connection"
    _inherit = ["mail.thread", "mail.activity.mixin", "mcp.connection.policy", "mcp.grant.source"]
    _grant_neutral_fields = frozenset({"last_used_at"})
    _grant_forget_on_create = False
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
        string="Client type",
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
    grant_types = fields.Char(string="Grant types", default="authorization_code refresh_token", required=True)
    allow_client_credentials = fields.Boolean(
        string="Allow machine-to-machine access",
        compute="_compute_allow_client_credentials",
        inverse="_inverse_allow_client_credentials",
        help="Confidential Custom OAuth clients only: the AI tool may get tokens with its client secret alone "
        "(client credentials), acting as the connection's owner without anyone signing in.",
    )
    allowed_scope = fields.Selection(tracking=True)
    state = fields.Selection(
        [("active", "Active"), ("pending", "Waiting for approval"), ("revoked", "Revoked")],
        required=True,
        default="active",
        readonly=True,
        tracking=True,
    )
    status = fields.Selection(
        [
            ("connected", "Connected"),
            ("awaiting", "Unused"),
            ("idle", "Idle"),
            ("waiting", "To approve"),
            ("revoked", "Revoked"),
        ],
        compute="_compute_status",
        search="_search_status",
        help="Connected: used in the last 7 days. Unused: never used yet. Idle: not used for 7 days. "
        "To approve: waits for a manager's approval.",
    )
    skip_consent = fields.Boolean(
        string="Skip the consent screen",
        tracking=True,
        help="Trusted Custom OAuth AI tools only: users are not asked to confirm access.",
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
    application_type = fields.Char(string="Application type", readonly=True)
    token_endpoint_auth_method = fields.Char(
        string="Client authentication",
        readonly=True,
        help="How a self-registered confidential AI tool said it would send its client secret "
        "(client_secret_basic or client_secret_post); the token endpoint accepts only that method.",
    )
    client_uri = fields.Char(string="AI tool website", readonly=True)
    logo_uri = fields.Char(string="Logo URI", readonly=True)
    software_id = fields.Char(string="Software ID", readonly=True)
    software_version = fields.Char(string="Software version", readonly=True)
    metadata_expires_at = fields.Datetime(string="Metadata expires", readonly=True, copy=False)
    registration_address = fields.Char(
        string="Registered from",
        readonly=True,
        copy=False,
        index=True,
        help="The address a self-registered AI tool registered from. The same AI tool registering again from there "
        "with the same details gets this connection back instead of a new one.",
    )
    registered_scope = fields.Selection(
        [("read", "Read only (mcp:read)"), ("write", "Read and write (mcp:write)")],
        string="Registered scope",
        readonly=True,
        copy=False,
        help="The broadest access a self-registered AI tool asked for when it registered.",
    )
    template_id = fields.Many2one(
        "mcp.connection.template",
        readonly=True,
        ondelete="set null",
        help="The template whose policy this self-registered connection started with.",
    )
    previous_connection_id = fields.Many2one(
        "mcp.connection",
        string="Follows",
        readonly=True,
        ondelete="set null",
        help="The AI tool's previous connection in this company: this one started with its policy.",
    )
    first_connection_id = fields.Many2one(
        "mcp.connection",
        string="AI tool",
        readonly=True,
        index=True,
        ondelete="set null",
        help="The first connection of this AI tool in this company; its later registrations share it, so "
        "the connections of one AI tool can be grouped together.",
    )
    allowed_tool_ids = tool_list("mcp_connection_allowed_tool_rel", "Allowed MCP tools", ALLOWED_TOOLS_HELP)
    model_rule_ids = fields.One2many(
        "mcp.connection.model",
        "connection_id",
        string="Allowed models",
        help="Leave empty to allow every model the user can access in Odoo.",
    )
    approval_tool_ids = tool_list(
        "mcp_connection_approval_tool_rel", "MCP tools that need approval", APPROVAL_TOOLS_HELP
    )
    allowed_methods = fields.Text(tracking=True)
    policy_document = fields.Text(
        string="Policy document",
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
    tool_calls_7d = fields.Integer(
        compute="_compute_figures", string="Tool calls (7 days)", groups="mcp_connect.group_mcp_manager"
    )
    tool_calls_30d = fields.Integer(
        compute="_compute_figures", string="Tool calls (30 days)", groups="mcp_connect.group_mcp_manager"
    )
    errors_30d = fields.Integer(
        compute="_compute_figures",
        string="Errors (30 days)",
        help="MCP calls that ended in an error.",
        groups="mcp_connect.group_mcp_manager",
    )
    refusals_30d = fields.Integer(
        compute="_compute_figures",
        string="Refusals (30 days)",
        help="MCP calls refused: denied by the connection's restrictions or rate limited.",
        groups="mcp_connect.group_mcp_manager",
    )
    p95_duration_ms = fields.Integer(
        compute="_compute_figures",
        string="p95 duration (ms)",
        help="95 of 100 tool calls of the last 30 days took at most this long.",
        groups="mcp_connect.group_mcp_manager",
    )
    usage_ids = fields.One2many(
        "mcp.usage.report", "connection_id", string="Usage by tool", groups="mcp_connect.group_mcp_manager"
    )
    signed_in_by_id = fields.Many2one(
        "res.users",
        compute="_compute_signed_in_by",
        string="User",
        help="Who created the connection; for a tool that registered itself, the first user who allowed it.",
    )
    consent_ids = fields.One2many("mcp.consent", "connection_id", string="Users who allowed it")
    ai_paused = fields.Boolean(
        string="AI access paused",
        compute="_compute_ai_paused",
        help="An administrator paused all AI access (Settings): every connection is refused until it is resumed.",
    )

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
        # sudo: the usage figures count every call of the connection, not only the reader's own
        audit = self.env["mcp.audit.log"].sudo()
        calls = [("connection_id", "in", self.ids), ("event", "=", False)]
        recent = dict(audit._read_group([*calls, ("create_date", ">=", since)], ["connection_id"], ["__count"]))
        total = dict(audit._read_group(calls, ["connection_id"], ["__count"]))
        # sudo: the pending count covers every request of the connection, not only the reader's own
        pending = dict(
            self.env["mcp.approval.request"]
            .sudo()
            ._read_group([("connection_id", "in", self.ids), ("state", "=", "pending")], ["connection_id"], ["__count"])
        )
        now = fields.Datetime.now()
        # sudo: the token facts cover every user's tokens of the connection, not only the reader's own
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

    def _compute_figures(self):
        figures = self.env["mcp.audit.log"]._usage_figures(self.ids)
        for connection in self:
            row = figures.get(connection.id, {})
            connection.tool_calls_7d = row.get("calls_7d", 0)
            connection.tool_calls_30d = row.get("calls_30d", 0)
            connection.errors_30d = row.get("errors_30d", 0)
            connection.refusals_30d = row.get("refusals_30d", 0)
            connection.p95_duration_ms = row.get("p95_ms", 0)

    def _compute_signed_in_by(self):
        # sudo: who signed in is told from every user's consent, not only the reader's own
        consents = self.env["mcp.consent"].sudo().search([("connection_id", "in", self.ids)], order="id")
        first = {}
        for consent in consents:
            first.setdefault(consent.connection_id.id, consent.user_id)
        for connection in self:
            connection.signed_in_by_id = connection.owner_user_id or first.get(connection.id, False)

    def _compute_ai_paused(self):
        paused = config.get(self.env, "paused")
        for connection in self:
            connection.ai_paused = paused

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
            elif connection.state == "pending":
                connection.status = "waiting"
            elif not connection.last_used_at:
                connection.status = "awaiting"
            elif connection.last_used_at >= recent:
                connection.status = "connected"
            else:
                connection.status = "idle"

    def _search_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Unsupported search on status."))
        values = {value} if isinstance(value, str) else set(value)
        recent = fields.Datetime.now() - timedelta(days=CONNECTED_DAYS)
        domains = {
            "revoked": [("state", "=", "revoked")],
            "waiting": [("state", "=", "pending")],
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
            # A loop, not a comprehension: self.env._() finds the language in the calling frame.
            for problem in redirect_uri_rules.problems(entries, client_kind=kind, prefixes=custom):
                if problem.prefix:
                    problems.append(
                        self.env._("%(uri)s*: a prefix must be an https address ending with /", uri=problem.entry[:-1])
                    )
                else:
                    problems.append(f"{problem.entry}: {problem.error}")
            if problems:
                raise ValidationError(self.env._("Some redirect URIs cannot be used:\n%s", "\n".join(problems)))
            if connection.connection_type == "custom" and not registered and not prefixes:
                raise ValidationError(self.env._("A Custom OAuth connection needs at least one redirect URI."))

    @api.constrains("grant_types", "client_type", "connection_type")
    def _check_client_credentials(self):
        for connection in self:
            wants = "client_credentials" in (connection.grant_types or "").split()
            if wants and (connection.connection_type != "custom" or connection.client_type != "confidential"):
                raise ValidationError(
                    self.env._("Only confidential Custom OAuth connections may use machine-to-machine access.")
                )

    @api.constrains("skip_consent", "connection_type")
    def _check_skip_consent(self):
        for connection in self:
            if connection.skip_consent and connection.connection_type != "custom":
                raise ValidationError(
                    self.env._("Only Custom OAuth connections created by an administrator may skip consent.")
                )

    def write(self, vals):
        if "redirect_uris" in vals and not self.env.context.get("mcp_registration_update"):
            if any(c.connection_type in SELF_REGISTERED for c in self):
                raise UserError(
                    self.env._(
                        "The redirect URIs of an AI tool that registered itself cannot be changed. "
                        "Revoke the connection and let the AI tool register again."
                    )
                )
        return super().write(vals)

    def _working_companies(self, companies, user):
        """Of ``companies`` (in order), those ``user`` still has and this connection's cap allows."""
        self.ensure_one()
        cap = self.company_ids
        return companies.filtered(lambda company: company in user.company_ids and (not cap or company in cap))

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
        # sudo: the policy binds users who may not read the connection it belongs to
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
        """Model name -> ``DataScope``: per-model record filters and field allow-lists for ``user``.

        A rule's filter is evaluated when a call first reaches its model, not for every rule
        of the connection on every request.
        """
        self.ensure_one()
        rules = self.env["mcp.connection"]._scope_rules(self.id)
        return DataScopes(rules, lambda rule: DataScope(domain=evaluate_domain(rule.domain, user), fields=rule.fields))

    @api.model
    @tools.ormcache("connection_id")
    def _scope_rules(self, connection_id):
        """Model name -> ``grants.ScopeRule`` of the connection, as stored, kept until ``grants.forget``
        (any change of the connection or of a model rule)."""
        # sudo: the model rules bind users who may not read them; cached per connection, not per user
        connection = self.sudo().browse(connection_id)
        if connection.policy_document and "allowed_models" not in json.loads(connection.policy_document):
            return {}  # no model rules: nothing more to read
        return {
            rule.model_id.model: grants.ScopeRule(
                rule_id=rule.id,
                domain=rule.domain or "",
                fields=frozenset(rule.field_ids.mapped("name")) or None,
            )
            for rule in connection.model_rule_ids
        }

    def _listed_methods(self):
        """Model name -> the method names a manager listed for ``call_method``."""
        self.ensure_one()
        listed = {}
        # sudo: the listed methods bind users who may not read the connection
        for line in (self.sudo().allowed_methods or "").splitlines():
            model_name, _dot, method = line.strip().rpartition(".")
            if model_name:
                listed.setdefault(model_name, set()).add(method)
        return {model_name: frozenset(methods) for model_name, methods in listed.items()}

    def _effective_rate_limit(self):
        self.ensure_one()
        return self._rate_limit_of(self.rate_limit)

    @api.model
    def _rate_limit_of(self, own_limit):
        """A connection's calls per minute: its own limit, else the Settings' default."""
        return own_limit or config.get(self.env, "default_rate_limit")

    def _effective_session_days(self):
        """How long a sign-in lasts: the Settings' maximum, shortened by this connection's own lifetime."""
        self.ensure_one()
        maximum = config.get(self.env, "family_max_days")
        return min(self.session_days, maximum) if self.session_days else maximum

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
            "sign_in_lifetime_days": self._effective_session_days(),
            "ip_allowlist": bool(self.ip_allowlist),
        }

    def _allowed_scopes(self):
        self.ensure_one()
        return tuple(scope_rules.expand([scope_rules.WRITE if self.allowed_scope == "write" else scope_rules.READ]))

    def _touch(self):
        """Record use, at most once a minute per connection, outside the request's transaction."""
        # sudo: last use is bookkeeping written on every call, by users who may not write connections
        touch(self.sudo(), "last_used_at", 60)

    def _revoke_credentials(self):
        """Every token and code of these connections stops working now."""
        # sudo: revoking a connection revokes every user's tokens, which are writable by no one
        tokens = self.env["mcp.token"].sudo().search([("connection_id", "in", self.ids), ("revoked", "=", False)])
        tokens._revoke()
        # sudo: revoking a connection drops its pending authorization codes, which no user may delete
        codes = (
            self.env["mcp.authorization.code"]
            .sudo()
            .search([("connection_id", "in", self.ids), ("consumed", "=", False)])
        )
        codes.write({"consumed": True, "consumed_at": fields.Datetime.now()})

    def action_revoke(self):
        for connection in self:
            waiting = connection.state == "pending"
            # sudo: the credentials are system rows that no user may write; access to the connection was checked above
            connection.sudo()._revoke_credentials()
            connection.state = "revoked"
            if waiting:
                connection.message_post(body=self.env._("Refused: the AI tool stays out; every token stopped working."))
                connection._on_quarantine_decision(approved=False)
            else:
                connection.message_post(body=self.env._("Connection revoked: every token stopped working."))
                # sudo: audit rows are written by the system, never by the user they are about
                self.env["mcp.audit.log"].sudo()._record_event(
                    "connection_revoked",
                    user=self.env.user,
                    connection=connection,
                    summary=f"{self.env.user.name} revoked the connection: every token stopped working.",
                )
        return True

    def action_approve(self):
        """Let a tool waiting for approval make MCP calls, from its next request on."""
        for connection in self.filtered(lambda c: c.state == "pending"):
            connection.state = "active"
            connection.message_post(body=self.env._("Approved: the AI tool may now make MCP calls."))
            connection._on_quarantine_decision(approved=True)
        return True

    def _on_quarantine_decision(self, approved):
        """A manager approved (or refused, by revoking) a connection that was waiting for approval."""
        self.ensure_one()
        # sudo: the deciding manager closes the review activity whoever it was assigned to
        self.sudo().activity_ids.action_feedback(feedback=self.env._("Approved") if approved else self.env._("Refused"))
        # sudo: audit rows are written by the system, never by the user they are about
        self.env["mcp.audit.log"].sudo()._record_event(
            "tool_approved" if approved else "tool_refused",
            user=self.env.user,
            connection=self,
            summary=f"{self.env.user.name} {'approved' if approved else 'refused'} the AI tool waiting for approval.",
        )

    def _on_tool_recognised(self, previous):
        """A new registration was recognised as ``previous``'s tool and started with its policy."""
        self.ensure_one()
        self.message_post(
            body=self.env._(
                "Registered again by an AI tool this company already knows: it starts with the restrictions of "
                "%(previous)s (#%(id)s).",
                previous=previous.name,
                id=previous.id,
            )
        )
        # sudo: audit rows are written by the system, never by the user they are about
        self.env["mcp.audit.log"].sudo()._record_event(
            "registration_joined",
            connection=self,
            summary=f"Registered again as a known tool: follows the restrictions of connection #{previous.id}.",
        )

    @api.model
    def _create_self_registered(self, values, requested_scope, metadata_url=None):
        """A connection for a tool that registered itself or named its metadata document.

        It starts with the policy of the tool's most recent connection in the company when the tool
        is known (same redirect hosts, and same software ID or name), else with its
        template's. It waits for a manager's approval when Settings hold new tools, and always when
        the tool's most recent connection was revoked or is itself waiting.
        """
        redirect_uris = (values.get("redirect_uris") or "").splitlines()
        company = self.env["res.company"].browse(values["company_id"])
        previous = self._previous_of_tool(values["name"], redirect_uris, values.get("software_id"), company)
        values = dict(values, registered_scope=requested_scope)
        if previous:
            first = previous.first_connection_id or previous
            values.update(previous._policy_values(requested_scope))
            values.update(previous_connection_id=previous.id, first_connection_id=first.id)
        else:
            template = self.env["mcp.connection.template"]._for_tool(
                values["name"], redirect_uris, values.get("software_id"), metadata_url
            )
            values.update(template._policy_values(requested_scope) if template else self._unmatched_policy())
            values["template_id"] = template.id
        held = previous.state in ("pending", "revoked")
        if held or config.get(self.env, "quarantine_new_tools"):
            values["state"] = "pending"
        # sudo: a tool registers itself before anyone signs in (public route, no user)
        connection = self.sudo().create(values)
        if not previous:
            connection.first_connection_id = connection
        else:
            connection._on_tool_recognised(previous)
        if connection.state == "pending":
            connection._hold_for_approval(previous if held else None)
        return connection

    @api.model
    def _unmatched_policy(self):
        """Without any template (the default one archived or deleted): every change waits for approval."""
        # sudo: the tools of the catalogue are read for a registration made without a user
        writers = self.env["mcp.tool"].sudo().search([("read_only", "=", False)])
        return {"approval_tool_ids": [Command.set(writers.ids)]}

    @api.model
    def _previous_of_tool(self, name, redirect_uris, software_id, company):
        """The most recent self-registered connection of the same tool in ``company``, if any: the same
        redirect hosts, and the same software ID or name."""
        hosts = redirect_hosts(redirect_uris)
        domain = [("company_id", "=", company.id), ("connection_type", "in", SELF_REGISTERED)]
        if software_id:
            domain += ["|", ("software_id", "=", software_id), ("name", "=", name)]
        else:
            domain.append(("name", "=", name))
        # A tool names itself and its software ID as it likes: only the hosts its sign-in codes go to
        # make it the same tool, so they must match whatever else does.
        # sudo: the tool's earlier connections are found for a registration made without a user
        for connection in self.sudo().search(domain, order="create_date desc, id desc", limit=50):
            same_software = software_id and connection.software_id == software_id
            same_hosts = redirect_hosts(connection._redirect_rules()[0]) == hosts
            if same_hosts and (same_software or connection.name == name):
                return connection
        return self.browse()

    def _hold_for_approval(self, held_previous=None):
        """Ask the connection's approver, when an MCP Connect manager (only they approve connections), else
        every manager, to approve or refuse. ``held_previous``: the tool's previous connection, revoked or
        itself waiting, which is why this one waits."""
        self.ensure_one()
        if held_previous and held_previous.state == "revoked":
            reason = self.env._(
                "The same AI tool's previous connection %(previous)s was revoked: it stays out until a manager "
                "approves this one.",
                previous=held_previous.name,
            )
        elif held_previous:
            reason = self.env._(
                "The same AI tool's previous connection %(previous)s is itself waiting for approval.",
                previous=held_previous.name,
            )
        else:
            reason = self.env._("Settings hold new AI tools until a manager approves them.")
        self.message_post(body=self.env._("Waiting for approval. %(reason)s", reason=reason))
        managers = compat.group_members(self.env.ref("mcp_connect.group_mcp_manager"))
        deciders = (self.approver_id & managers) or managers
        for decider in deciders:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Approve a new AI tool: %(name)s", name=self.name),
                note=self.env._(
                    "%(name)s registered itself and waits for approval before it can make MCP calls. "
                    "Check its restrictions, then Approve or Revoke it. %(reason)s",
                    name=self.name,
                    reason=reason,
                ),
                user_id=decider.id,
            )

    @check_identity
    def action_rotate_secret(self):
        """A new client secret; the current one stops working at once. Only its digest is stored:
        the secret itself is shown once, from the context of the returned action."""
        self.ensure_one()
        if not self.has_secret:
            raise UserError(self.env._("This connection has no client secret to rotate."))
        if self.connection_type != "custom":
            # The tool registered itself and keeps the secret it was given: there is nowhere to
            # paste a new one (claude.ai, ChatGPT), so a rotation would only break it for good.
            raise UserError(
                self.env._(
                    "Only the secret of a Custom OAuth connection can be rotated: an AI tool that registered itself "
                    "cannot be given a new one. Revoke the connection instead, and let the AI tool register again."
                )
            )
        secret, _digest = core.mint_token(kind="client_secret")
        # sudo: the secret's hash is a field no user may write (NO_ACCESS); the manager's right was checked above
        self.sudo().secret_hash = core.hash_secret(secret)
        self.message_post(body=self.env._("Client secret rotated; the previous secret stopped working."))
        return self.env["mcp.credential.show"]._show(
            self.env._("New client secret"),
            purpose="rotation",
            connection_name=self.name,
            client_id=self.client_id,
            client_secret=secret,
        )

    # -- Pause all AI access ---------------------------------------------------------------

    @api.model
    def _set_ai_paused(self, paused):
        """Pause or resume all AI access. Stored as a setting: ir.config_parameter's cache is
        invalidated in every worker, so the next request anywhere sees it. Returns whether it changed."""
        paused = bool(paused)
        if config.get(self.env, "paused") == paused:
            return False
        config.set_value(self.env, "paused", paused)
        self.env["mcp.connection"].invalidate_model(["ai_paused"])
        self._on_pause_changed(paused)
        return True

    @api.model
    def _on_pause_changed(self, paused):
        """Called once each time AI access is paused (``paused`` True) or resumed, as the user who did it."""
        _logger.warning("AI access %s by %s", "paused" if paused else "resumed", self.env.user.login)
        # sudo: audit rows are written by the system, never by the user they are about
        self.env["mcp.audit.log"].sudo()._record_event(
            "access_paused" if paused else "access_resumed",
            user=self.env.user,
            summary=f"{self.env.user.name} {'paused' if paused else 'resumed'} all AI access.",
        )

    def _check_may_pause(self):
        if not self.env.user.has_group("mcp_connect.group_mcp_manager"):
            raise AccessError(self.env._("Only MCP Connect managers may pause or resume AI access."))

    def action_pause_ai_access(self):
        self._check_may_pause()
        self._set_ai_paused(True)
        return self._action_open_connections()

    def action_resume_ai_access(self):
        self._check_may_pause()
        self._set_ai_paused(False)
        return self._action_open_connections()

    @api.model
    def _action_open_connections(self):
        """The Connections list, knowing whether AI access is paused (its header shows Pause or Resume)."""
        action = self.env["ir.actions.actions"]._for_xml_id("mcp_connect.mcp_connection_action")
        paused = config.get(self.env, "paused")
        context = safe_eval(action.get("context") or "{}", {"uid": self.env.uid, "context": self.env.context})
        action["context"] = {**context, "mcp_ai_paused": paused}
        action["target"] = "main"
        if paused:
            action["name"] = self.env._("Connections (AI access paused)")
        return action

    def action_view_audit_log(self):
        action = self.env["ir.actions.actions"]._for_xml_id("mcp_connect.mcp_audit_log_action")
        action["domain"] = [("connection_id", "in", self.ids)]
        # The button counts calls; the connection's security events and handshakes are one filter away.
        action["context"] = {"search_default_filter_calls": 1, "search_default_filter_hide_housekeeping": 1}
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
            "name": self.env._("Connect a New Tool"),
        }

    @api.model
    def _create_personal_token(self, user, name, token, scope, days, companies=None):
        """A personal access token is a connection of its own, so it can be restricted and revoked alone."""
        # sudo: users create their own personal token's connection without the right to create connections
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
        # sudo: tokens are created by the system only; the user and companies were checked by the wizard
        personal = self.env["mcp.token"].sudo()._create_personal(connection, user, token, scope, days, companies)
        self.env["mcp.consent"]._remember(
            user, connection, [scope_rules.WRITE if scope == "write" else scope_rules.READ], personal._companies().ids
        )
        connection.message_post(body=self.env._("Personal access token created for %(user)s.", user=user.name))
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
            connection.message_post(body=self.env._("Connection reactivated: users sign in again from the AI tool."))
            # sudo: audit rows are written by the system, never by the user they are about
            self.env["mcp.audit.log"].sudo()._record_event(
                "connection_reactivated",
                user=self.env.user,
                connection=connection,
                summary=f"{self.env.user.name} reactivated the connection.",
            )
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
