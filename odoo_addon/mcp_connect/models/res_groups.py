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
