from odoo import api, models

from .. import compat


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model
    def _mcp_connect_set_section(self):
        """Called from security/mcp_connect_groups.xml (see compat.set_groups_section)."""
        groups = self.env.ref("mcp_connect.group_mcp_user") | self.env.ref("mcp_connect.group_mcp_manager")
        compat.set_groups_section(
            self.env,
            groups,
            "mcp_connect.module_category_mcp_connect",
            "mcp_connect.res_groups_privilege_mcp_connect",
            "MCP Connect",
        )

    @api.model
    def _mcp_connect_demo_members(self):
        """Called from demo/mcp_connect_demo.xml: the demo user gets *MCP Connect: User*."""
        demo = self.env.ref("base.user_demo", raise_if_not_found=False)
        if demo:
            group = self.env.ref("mcp_connect.group_mcp_user")
            demo.write({compat.user_groups_field(self.env): [(4, group.id)]})
