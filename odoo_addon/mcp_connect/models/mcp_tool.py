import sys

from odoo import api, fields, models, tools

from .. import compat
from ..mcp import registry
from ..tools import server_actions

# What a module must be to offer its tools while a catalogue sync runs (installs load data before
# the module counts as loaded).
OFFERING_STATES = ("installed", "to install", "to upgrade")


class McpTool(models.Model):
    """The tool catalogue, kept in step with the tools declared in code (``mcp/registry.py``)."""

    _name = "mcp.tool"
    _description = "MCP tool"
    _inherit = ["mcp.grant.source"]
    _order = "category desc, name"

    name = fields.Char(required=True, readonly=True)
    title = fields.Char(readonly=True)
    description = fields.Text(readonly=True)
    category = fields.Selection([("read", "Read"), ("write", "Write")], readonly=True)
    risk = fields.Selection([("low", "Low"), ("medium", "Medium"), ("high", "High")], readonly=True)
    read_only = fields.Boolean(string="Read only", readonly=True)
    scope = fields.Char(readonly=True)
    module = fields.Char(readonly=True, help="The Odoo module that declares the tool.")
    server_action_id = fields.Many2one("ir.actions.server", readonly=True, ondelete="set null")
    # Archived by a sync because its code or server action is gone (not by an administrator):
    # it comes back when they do.
    missing = fields.Boolean(readonly=True)
    active = fields.Boolean(
        default=True,
        help="Archive a tool to turn it off for every connection: it is no longer offered and calls to it are "
        "refused. Lists of allowed tools and of tools that need approval keep it.",
    )

    def init(self):
        compat.ensure_unique_index(self.env.cr, "mcp_tool_name_uniq", self._table, ["name"])

    @api.depends("title", "name", "active")
    def _compute_display_name(self):
        for record in self:
            name = f"{record.title} ({record.name})" if record.title else record.name
            record.display_name = name if record.active else self.env._("%s (archived)", name)

    @api.model
    @tools.ormcache()
    def _archived_names(self):
        """The names of the tools an administrator archived: not offered, and refused when called.
        Kept until a tool changes (``grants.forget``)."""
        # sudo: the archived tools are refused for every caller, whatever the caller may read
        archived = self.sudo().with_context(active_test=False).search([("active", "=", False)])
        return frozenset(archived.mapped("name"))

    @api.model
    def _available(self, name=None):
        """Name -> tool of the tools this database offers: those of its installed modules, and the
        server actions made available to AI tools; with ``name``, only that one (if offered)."""
        tools = {
            tool.name: tool
            for tool in registry.ordered(self.env.registry._init_modules)
            if name is None or tool.name == name
        }
        if name is not None and tools:
            return tools
        domain = [("mcp_tool", "=", True)] + ([("mcp_tool_name", "=", name)] if name is not None else [])
        # sudo: server actions are offered as tools to callers who may not read ir.actions.server
        for action in self.env["ir.actions.server"].sudo().search(domain):
            tools.setdefault(action.mcp_tool_name, server_actions.as_tool(action))
        return tools

    @api.model
    def _server_action(self, name):
        """The server action the tool ``name`` runs (``_available``'s choice), empty for a module's tool."""
        if any(tool.name == name for tool in registry.ordered(self.env.registry._init_modules)):
            return self.env["ir.actions.server"]
        # sudo: the action behind a tool is found for callers who may not read ir.actions.server
        actions = self.env["ir.actions.server"].sudo()
        return actions.search([("mcp_tool", "=", True), ("mcp_tool_name", "=", name)], limit=1)

    @api.model
    def _sync_catalogue(self):
        """Called on install and update (data/mcp_tool_data.xml, and the data of addons that declare
        tools), on uninstall, and when a server action is made available. A tool an administrator
        archived stays archived: an update never turns a tool back on. A tool whose module or
        server action is gone is archived, and comes back with them."""
        # sudo: the catalogue follows the installed modules, whoever triggered the update
        modules = self.env["ir.module.module"].sudo().search([("state", "in", OFFERING_STATES)]).mapped("name")
        declared = {tool.name: (tool, False) for tool in registry.ordered(set(modules))}
        # sudo: the catalogue follows the server actions marked as tools, whoever triggered the update
        for action in self.env["ir.actions.server"].sudo().search([("mcp_tool", "=", True)]):
            declared.setdefault(action.mcp_tool_name, (server_actions.as_tool(action), action))
        # sudo: the catalogue is system data kept up to date whoever triggered the update
        existing = {tool.name: tool for tool in self.sudo().with_context(active_test=False).search([])}
        for tool, action in declared.values():
            values = {
                "name": tool.name,
                "title": tool.title,
                "description": tool.description,
                "category": tool.category,
                "risk": tool.risk,
                "read_only": tool.read_only,
                "scope": tool.scope,
                "module": tool.module or False,
                "server_action_id": action.id if action else False,
            }
            record = existing.pop(tool.name, None)
            if record is None:
                # sudo: the catalogue is system data kept up to date whoever triggered the update
                self.sudo().create(values)
                continue
            if record.missing:
                values.update(active=True, missing=False)
            record.write(values)
        for gone in existing.values():
            # An installed addon whose code this process has not loaded yet (an update of
            # mcp_connect runs before its dependents load) still declares its tools.
            pending = gone.module in modules and f"odoo.addons.{gone.module}" not in sys.modules
            if gone.active and not pending:
                gone.write({"active": False, "missing": True})
