import mcp_connect_core as core
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..mcp import registry

MCP_FIELDS = ("mcp_tool", "mcp_tool_name", "mcp_tool_description", "model_id", "name", "active")


class IrActionsServer(models.Model):
    """A server action a manager makes *Available to AI tools* is a tool of its own
    (``tools/server_actions.py``), listed in the tool catalogue so that connections can allow it
    or hold it for approval."""

    _inherit = "ir.actions.server"

    # Only MCP Connect managers see and set these: a server action can run code.
    mcp_tool = fields.Boolean(
        "Available to AI tools",
        copy=False,
        groups="mcp_connect.group_mcp_manager",
        help="AI tools connected with MCP Connect may run this action on records of its model, as the user, "
        "under each connection's policy (allowed tools, approvals, the model's 'call' operation).",
    )
    mcp_tool_name = fields.Char(
        "AI tool name",
        copy=False,
        groups="mcp_connect.group_mcp_manager",
        help="The tool's name for AI tools: letters, digits, _ . and -, e.g. send_reminder.",
    )
    mcp_tool_description = fields.Text(
        "AI tool description",
        groups="mcp_connect.group_mcp_manager",
        help="What the action does and when to use it, for the AI tool.",
    )

    @api.constrains("mcp_tool", "mcp_tool_name")
    def _check_mcp_tool_name(self):
        # sudo: an action's tool name is checked whatever rights the user editing it has on other actions
        for action in self.sudo().filtered("mcp_tool"):
            name = action.mcp_tool_name
            if not name or not core.is_tool_name(name):
                raise ValidationError(
                    self.env._("The AI tool name of %s must be 1 to 128 letters, digits, _ . or -.", action.name)
                )
            if name in registry.TOOLS:
                raise ValidationError(self.env._("%s is the name of a tool of MCP Connect or of an addon.", name))
            # sudo: the uniqueness of a tool name is checked against every action, not only those the user reads
            if self.sudo().search_count(
                [("mcp_tool", "=", True), ("mcp_tool_name", "=", name), ("id", "!=", action.id)]
            ):
                raise ValidationError(self.env._("Another server action is already the AI tool %s.", name))

    @api.model_create_multi
    def create(self, vals_list):
        actions = super().create(vals_list)
        if any(vals.get("mcp_tool") for vals in vals_list):
            # sudo: the tool catalogue is system data that follows the actions, whoever changed them
            self.env["mcp.tool"].sudo()._sync_catalogue()
        return actions

    def write(self, vals):
        # sudo: whether an action was a tool is known from all its rows, not only those the user reads
        listed = self.sudo().filtered("mcp_tool")
        result = super().write(vals)
        if set(vals) & set(MCP_FIELDS) and (listed or vals.get("mcp_tool")):
            # sudo: the tool catalogue is system data that follows the actions, whoever changed them
            self.env["mcp.tool"].sudo()._sync_catalogue()
        return result

    def unlink(self):
        # sudo: whether an action was a tool is known from all its rows, not only those the user reads
        listed = self.sudo().filtered("mcp_tool")
        result = super().unlink()
        if listed:
            # sudo: the tool catalogue is system data that follows the actions, whoever changed them
            self.env["mcp.tool"].sudo()._sync_catalogue()
        return result
