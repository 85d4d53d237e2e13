from odoo import api, models
from odoo.exceptions import AccessError

from .. import compat, guard


class IrRule(models.Model):
    """Record rules during an MCP call: the connection's record filter is one more rule."""

    _inherit = "ir.rule"

    @api.model
    def _compute_domain(self, model_name, mode="read"):
        domain = super()._compute_domain(model_name, mode)
        current = guard.current()
        if current is None or self.env.su:
            return domain
        record_filter = current.record_filter(model_name, mode)
        if record_filter is None:
            return domain
        return compat.domain_and(domain or [], record_filter)

    def _make_access_error(self, operation, records):
        if guard.current() is None or self.env.su:
            return super()._make_access_error(operation, records)
        verb = guard.VERBS[guard.MODES.get(operation, operation)]
        ids = ", ".join(str(record_id) for record_id in records.ids[:20])
        return AccessError(
            f"This connection may not {verb} {records._name} records {ids}: they are outside its record filter, "
            "or the change needs an approval, or Odoo's record rules refuse it."
        )
