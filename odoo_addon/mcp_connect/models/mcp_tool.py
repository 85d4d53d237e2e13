from odoo import api, fields, models

from .. import compat
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
    read_only = fields.Boolean(readonly=True)
    scope = fields.Char(readonly=True)
    active = fields.Boolean(default=True)

    def init(self):
        compat.ensure_unique_index(self.env.cr, "mcp_tool_name_uniq", self._table, ["name"])

    @api.depends("title", "name")
    def _compute_display_name(self):
        for record in self:
            record.display_name = f"{record.title} ({record.name})" if record.title else record.name

    @api.model
    def _sync_catalogue(self):
        """Called on install and update (data/mcp_tool_data.xml)."""
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
                "active": True,
            }
            if tool.name in existing:
                existing.pop(tool.name).write(values)
            else:
                self.create(values)
        for gone in existing.values():
            gone.active = False
