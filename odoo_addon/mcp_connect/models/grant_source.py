from odoo import api, models

from .. import grants


class McpGrantSource(models.AbstractModel):
    """Rows a bearer grant or a connection's rules are resolved from (``grants``): any change to
    them makes every worker resolve again from its next request."""

    _name = "mcp.grant.source"
    _description = "Source of cached MCP grants"

    # Fields whose change alters no grant: a write of only these keeps the cache.
    _grant_neutral_fields = frozenset()
    # False where a new row is in no cached grant yet (a token, a connection): issuing a token or
    # registering a client then clears no worker's cache.
    _grant_forget_on_create = True

    @api.model_create_multi
    def create(self, vals_list):
        if self._grant_forget_on_create:
            grants.forget(self.env)
        return super().create(vals_list)

    def write(self, vals):
        result = super().write(vals)
        if set(vals) - self._grant_neutral_fields:
            grants.forget(self.env)
        return result

    def unlink(self):
        grants.forget(self.env)
        return super().unlink()
