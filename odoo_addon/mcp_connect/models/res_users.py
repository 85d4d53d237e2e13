from odoo import Command, api, fields, models

from .. import compat
from ..storage import server_urls


class ResUsers(models.Model):
    _inherit = "res.users"

    mcp_endpoint_url = fields.Char(
        string="MCP endpoint URL",
        compute="_compute_mcp_endpoint_url",
        groups="mcp_connect.group_mcp_user",
        help="The address to paste into an AI tool; the one Settings shows.",
    )
    mcp_consent_ids = fields.One2many(
        "mcp.consent", "user_id", string="AI tools allowed", groups="mcp_connect.group_mcp_user"
    )

    @api.depends_context("uid")
    def _compute_mcp_endpoint_url(self):
        url = server_urls(self.env).resource
        for user in self:
            user.mcp_endpoint_url = url

    @api.model
    def _action_my_ai_connections(self):
        """The signed-in user's page: the address to give an AI tool, and the tools they allowed."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("My AI Connections"),
            "res_model": "res.users",
            "res_id": self.env.uid,
            "views": [(self.env.ref("mcp_connect.res_users_view_form_my_ai_connections").id, "form")],
            "target": "current",
        }

    @api.model
    def action_view_my_mcp_usage(self):
        """The signed-in user's own MCP calls, as graph, pivot and list (record rules keep others' out)."""
        action = self.env["ir.actions.actions"]._for_xml_id("mcp_connect.mcp_usage_action")
        action["name"] = self.env._("My AI Tool Calls")
        action["domain"] = [("event", "=", False), ("user_id", "=", self.env.uid)]
        return action

    @api.model
    def _mcp_connect_set_my_connections_groups(self):
        """Called from views/mcp_consent.xml: every MCP user may open My AI Connections (a server action
        without groups runs only for users who may write its model, here res.users)."""
        action = self.env.ref("mcp_connect.mcp_consent_action_my_connections")
        action.write(
            {compat.action_groups_field(self.env): [Command.set(self.env.ref("mcp_connect.group_mcp_user").ids)]}
        )
