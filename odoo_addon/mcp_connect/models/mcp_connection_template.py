from fnmatch import fnmatchcase

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .mcp_connection_policy import ALLOWED_TOOLS_HELP, APPROVAL_TOOLS_HELP, redirect_hosts, tool_list

CRITERIA = ("match_client_name", "match_redirect_host", "match_software_id", "match_metadata_url")


class McpConnectionTemplate(models.Model):
    """The policy a tool's first connection starts with, chosen by what the tool says about itself.

    A tool that registers itself (RFC 7591) or signs in with a client metadata document gets the
    policy of the first template, by sequence, whose criteria all match; the default template
    when none does. A tool the company already knows starts from its previous connection instead.
    """

    _name = "mcp.connection.template"
    _description = "AI tool connection template"
    _inherit = ["mail.thread", "mcp.connection.policy"]
    _order = "is_default, sequence, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10, help="Templates are tried in this order; the first that matches applies.")
    active = fields.Boolean(default=True, tracking=True)
    is_default = fields.Boolean(
        string="Default template",
        tracking=True,
        help="Applies to a new AI tool that no other template matches. There is one default template.",
    )
    match_client_name = fields.Char(
        string="Client name",
        tracking=True,
        help="The name the AI tool registers with; * matches any characters, case is ignored (e.g. Claude*).",
    )
    match_redirect_host = fields.Char(
        string="Redirect host",
        tracking=True,
        help="A host one of the AI tool's redirect URIs points to; * matches any characters (e.g. *.openai.com).",
    )
    match_software_id = fields.Char(
        string="Software ID",
        tracking=True,
        help="The software_id the AI tool registers with, exactly.",
    )
    match_metadata_url = fields.Char(
        string="Metadata URL starts with",
        tracking=True,
        help="For AI tools that identify themselves with a client metadata document: the start of its web address "
        "(e.g. https://claude.ai/).",
    )
    allowed_scope = fields.Selection(tracking=True)
    allowed_tool_ids = tool_list("mcp_connection_template_allowed_tool_rel", "Allowed MCP tools", ALLOWED_TOOLS_HELP)
    approval_tool_ids = tool_list(
        "mcp_connection_template_approval_tool_rel", "MCP tools that need approval", APPROVAL_TOOLS_HELP
    )
    model_rule_ids = fields.One2many(
        "mcp.connection.model",
        "template_id",
        string="Allowed models",
        help="Leave empty to allow every model the user can access in Odoo.",
    )
    connection_ids = fields.One2many("mcp.connection", "template_id", string="Connections")
    connection_count = fields.Integer(compute="_compute_connection_count", string="Connections made")

    @api.depends("connection_ids")
    def _compute_connection_count(self):
        counts = dict(
            self.env["mcp.connection"]
            .with_context(active_test=False)
            ._read_group([("template_id", "in", self.ids)], ["template_id"], ["__count"])
        )
        for template in self:
            template.connection_count = counts.get(template, 0)

    @api.constrains("is_default", "active", *CRITERIA)
    def _check_criteria(self):
        for template in self:
            if not template.is_default and not any(template[name] for name in CRITERIA):
                raise ValidationError(
                    self.env._(
                        "Template %(name)s: give at least one criterion (client name, redirect host, software ID or "
                        "metadata URL), or make it the default template.",
                        name=template.name,
                    )
                )
        defaults = self.search([("is_default", "=", True)])
        if len(defaults) > 1:
            raise ValidationError(self.env._("There is one default template: %s.", ", ".join(defaults.mapped("name"))))

    def _matches(self, name, hosts, software_id, metadata_url):
        """Whether every criterion this template sets matches the tool."""
        self.ensure_one()
        if self.match_client_name and not fnmatchcase((name or "").lower(), self.match_client_name.strip().lower()):
            return False
        if self.match_redirect_host:
            pattern = self.match_redirect_host.strip().lower()
            if not any(fnmatchcase(host, pattern) for host in hosts):
                return False
        if self.match_software_id and self.match_software_id.strip() != (software_id or ""):
            return False
        return not self.match_metadata_url or (metadata_url or "").startswith(self.match_metadata_url.strip())

    @api.model
    def _for_tool(self, name, redirect_uris, software_id=None, metadata_url=None):
        """The template a new tool starts from: the first that matches, else the default (may be empty)."""
        hosts = redirect_hosts(redirect_uris)
        # sudo: a tool registers itself before anyone signs in, and the templates are managers' records.
        # Every template is matched in turn: a short list that administrators keep by hand.
        templates = self.sudo().search([])  # pylint: disable=no-search-all
        for template in templates.filtered(lambda t: not t.is_default):
            if template._matches(name, hosts, software_id, metadata_url):
                return template
        return templates.filtered("is_default")[:1]

    def action_view_connections(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("mcp_connect.mcp_connection_action")
        action["domain"] = [("template_id", "=", self.id)]
        return action
