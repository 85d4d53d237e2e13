import functools

from odoo import api, models

from .. import compat, guard


class IrAttachment(models.Model):
    """The attachments that hold binary fields, during an MCP call.

    Odoo keeps a binary field's value (a contact's photo) in an attachment with ``res_field``
    set: it is the field, not a file attached to the record. A call reads it through its own
    model (``read_records``), under the connection's field list; reached through
    ``ir.attachment`` (a search with a domain on ``res_field``, a read by id, an export, a
    write) it would pass that list by. So during a call such attachments are out of the
    user's reach as attachments. Odoo reads and writes binary fields as the superuser, which
    the guard leaves alone.
    """

    _inherit = "ir.attachment"

    @api.model
    def _search(self, domain, *args, **kwargs):
        if guard.current() is not None and not self.env.su:
            domain = compat.domain_and([("res_field", "=", False)], domain)
        return super()._search(domain, *args, **kwargs)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        if result or guard.current() is None or self.env.su or not self._ids:
            return result
        # sudo: which attachments hold a binary field is known whatever the user may read
        fields_held = self.sudo().filtered("res_field")
        if not fields_held:
            return None
        reason = "Attachments that hold a record's binary fields are read with read_records, as fields."
        return self.browse(fields_held.ids), functools.partial(guard.access_error, reason)
