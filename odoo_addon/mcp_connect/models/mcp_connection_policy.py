from urllib.parse import urlsplit

import mcp_connect_core as core
from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError

from .. import config
from ..tools.methods import refusal as method_refusal

# The policy fields copied from a template, or from a tool's previous connection, onto a new connection.
POLICY_FIELDS = ("allowed_scope", "approver_id", "allowed_methods", "ip_allowlist", "rate_limit", "session_days")


def redirect_hosts(redirect_uris):
    """The host names of a list of redirect URIs, lower-case."""
    hosts = set()
    for uri in redirect_uris:
        try:
            host = urlsplit(uri.strip()).hostname
        except ValueError:
            continue
        if host:
            hosts.add(host.lower())
    return hosts


def tool_list(relation, string, help_text):
    """A policy's list of tools, in a table of its own. Archived tools stay in it: archiving the only
    allowed tool must not turn the list into "every tool", nor archiving a tool drop its approval, on a
    connection or on the template or previous connection a new one copies."""
    return fields.Many2many("mcp.tool", relation, string=string, context={"active_test": False}, help=help_text)


ALLOWED_TOOLS_HELP = (
    "Leave empty to allow every MCP tool of the granted scopes. An archived MCP tool stays listed but cannot be called."
)
APPROVAL_TOOLS_HELP = "Calls to these MCP tools wait until the approver accepts them in Odoo."


class McpConnectionPolicy(models.AbstractModel):
    """What a connection may do, shared by connections and the templates new connections start from.

    The relational parts (tools, tools needing approval, model rules) are declared by each model
    with tables of its own.
    """

    _name = "mcp.connection.policy"
    _description = "AI tool connection policy"

    allowed_scope = fields.Selection(
        [("read", "Read only (mcp:read)"), ("write", "Read and write (mcp:write)")],
        string="Access",
        required=True,
        default="write",
        help="The most a token of this connection can be granted. Odoo's access rights of the signed-in "
        "user always apply on top.",
    )
    approver_id = fields.Many2one(
        "res.users",
        help="Who approves risky calls; MCP Connect managers when empty. Nobody approves a call they asked for "
        "themselves: a manager does.",
    )
    allowed_methods = fields.Text(
        string="Extra methods",
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
    session_days = fields.Integer(
        string="Sign-in lifetime (days)",
        help="However often the AI tool refreshes, its users must sign in again after this many days. It can only "
        "shorten the maximum sign-in lifetime of Settings, never lengthen it. 0 uses the Settings value.",
    )

    default_rate_limit = fields.Integer(
        compute="_compute_settings_defaults",
        string="Settings default rate limit",
        help="The calls per minute a rate limit of 0 stands for (Settings); 0 there means no limit.",
    )
    default_session_days = fields.Integer(
        compute="_compute_settings_defaults",
        string="Settings maximum sign-in lifetime",
        help="The days a sign-in lifetime of 0 stands for (Settings).",
    )

    def _compute_settings_defaults(self):
        rate_limit = config.get(self.env, "default_rate_limit")
        session_days = config.get(self.env, "family_max_days")
        for policy in self:
            policy.default_rate_limit = rate_limit
            policy.default_session_days = session_days

    @api.constrains("ip_allowlist")
    def _check_ip_allowlist(self):
        for policy in self:
            try:
                core.parse_ip_allowlist((policy.ip_allowlist or "").splitlines())
            except core.InvalidCidrError as error:
                raise ValidationError(
                    self.env._(
                        "IP allowlist, line %(line)s: %(entry)r is not an address or a network such as 10.0.0.0/8.",
                        line=error.line,
                        entry=error.entry,
                    )
                ) from error

    @api.constrains("rate_limit")
    def _check_rate_limit(self):
        if any(policy.rate_limit < 0 for policy in self):
            raise ValidationError(self.env._("The rate limit cannot be negative (0 uses the default)."))

    @api.constrains("session_days")
    def _check_session_days(self):
        if any(policy.session_days < 0 for policy in self):
            raise ValidationError(self.env._("The sign-in lifetime cannot be negative (0 uses the Settings value)."))

    @api.constrains("allowed_methods")
    def _check_allowed_methods(self):
        for policy in self:
            for number, line in enumerate((policy.allowed_methods or "").splitlines(), start=1):
                line = line.strip()
                if not line:
                    continue
                model_name, _dot, method = line.rpartition(".")
                if model_name not in self.env:
                    raise ValidationError(
                        self.env._(
                            "Extra methods, line %(line)s: write model.method, e.g. res.partner.address_get.",
                            line=number,
                        )
                    )
                reason = method_refusal(self.env[model_name], method)
                if reason:
                    raise ValidationError(
                        self.env._("Extra methods, line %(line)s: %(reason)s", line=number, reason=reason)
                    )

    def _policy_values(self, scope_ceiling="write"):
        """Values that give a new connection this policy; model rules are copied as new rows.

        ``scope_ceiling`` is what the tool itself asked for: a policy never grants more.
        """
        self.ensure_one()
        # sudo: a new connection copies the policy even when the tool registering it has no user
        policy = self.sudo()
        values = {name: policy._fields[name].convert_to_write(policy[name], policy) for name in POLICY_FIELDS}
        if scope_ceiling == "read":
            values["allowed_scope"] = "read"
        values["allowed_tool_ids"] = [Command.set(policy.allowed_tool_ids.ids)]
        values["approval_tool_ids"] = [Command.set(policy.approval_tool_ids.ids)]
        values["model_rule_ids"] = [Command.create(rule._copy_values()) for rule in policy.model_rule_ids]
        return values
