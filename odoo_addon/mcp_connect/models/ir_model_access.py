from odoo import api, models
from odoo.exceptions import AccessError

from .. import guard


class IrModelAccess(models.Model):
    """Model access during an MCP call: Odoo's rights, narrowed by the connection (``guard``)."""

    _inherit = "ir.model.access"

    @api.model
    def check(self, model, mode="read", raise_exception=True):
        allowed = super().check(model, mode, raise_exception)
        current = guard.current()
        # Reads are checked with the records read (``base._check_access``).
        if not allowed or current is None or self.env.su or mode == "read":
            return allowed
        reason = current.model_refusal(model, mode)
        if reason is None:
            return allowed
        if raise_exception:
            raise AccessError(reason)
        return False

    def _make_access_error(self, model, mode):
        current = guard.current()
        reason = (
            current.model_refusal(model, mode) if current is not None and not self.env.su and mode != "read" else None
        )
        if reason is not None:
            return AccessError(reason)
        return super()._make_access_error(model, mode)
