from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def module_uninstall(self):
        """The tools of an uninstalled addon leave the tool catalogue with it (they come back
        archived as missing, and return on a new install)."""
        removed = self.mapped("name")
        result = super().module_uninstall()
        if "mcp_connect" not in removed:
            # sudo: the tool catalogue is system data that follows the installed modules
            self.env["mcp.tool"].sudo()._sync_catalogue()
        return result
