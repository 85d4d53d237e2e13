from odoo import _, api, fields, models, tools

from .. import compat, grants
from ..mcp import registry


class McpTool(models.Model):
    """The tool catalogue, kept in step with the tools declared in code (``mcp/registry.py``)."""

    _name = "mcp.tool"
    _description = "MCP tool"
    _order = "category desc, name"

    name = fields.Char(required=True, readonly=True)
    title = fields.Char(readonly=True)
    description = fields.Text(readonly=True)
    category = fields.Selection([("read", "Read"), ("write", "Write")], readonly=True)
    risk = fields.Selection([("low", "Low"), ("medium", "Medium"), ("high", "High")], readonly=True)
    read_only = fields.Boolean(string="Read only", readonly=True)
    scope = fields.Char(readonly=True)
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
            record.display_name = name if record.active else _("%s (archived)", name)

    @api.model_create_multi
    def create(self, vals_list):
        grants.forget(self.env)
        return super().create(vals_list)

    def write(self, vals):
        grants.forget(self.env)
        return super().write(vals)

    def unlink(self):
        grants.forget(self.env)
        return super().unlink()

    @api.model
    @tools.ormcache()
    def _archived_names(self):
        """The names of the tools an administrator archived: not offered, and refused when called.
        Kept until a tool changes (``grants.forget``)."""
        archived = self.sudo().with_context(active_test=False).search([("active", "=", False)])
        return frozenset(archived.mapped("name"))

    @api.model
    def _sync_catalogue(self):
        """Called on install and update (data/mcp_tool_data.xml). A tool an administrator archived
        stays archived: an update never turns a tool back on."""
        existing = {tool.name: tool for tool in self.with_context(active_test=False).search([])}
        for tool in registry.ordered():
            values = {
                "name": tool.name,
                "title": tool.title,
                "description": tool.description,
                "category": tool.category,
                "risk": tool.risk,
                "read_only": tool.read_only,
                "scope": tool.scope,
            }
            if tool.name in existing:
                existing.pop(tool.name).write(values)
            else:
                self.create(values)
        for gone in existing.values():
            gone.active = False
