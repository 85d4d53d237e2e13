from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..mcp.context import exposure

OPERATIONS = ("read", "create", "write", "delete", "call")


class McpConnectionModel(models.Model):
    """A model a connection may use, and what it may do with it."""

    _name = "mcp.connection.model"
    _description = "Model allowed to an AI tool connection"
    _order = "model_id"

    connection_id = fields.Many2one("mcp.connection", required=True, ondelete="cascade", index=True)
    model_id = fields.Many2one(
        "ir.model", string="Model", required=True, ondelete="cascade", domain=[("transient", "=", False)]
    )
    model_name = fields.Char(related="model_id.model", string="Technical name")
    can_read = fields.Boolean(string="Read", default=True)
    can_create = fields.Boolean(string="Create", default=True)
    can_write = fields.Boolean(string="Update", default=True)
    can_delete = fields.Boolean(string="Delete", default=True)
    can_call = fields.Boolean(string="Call methods", default=True)

    @api.constrains("model_id")
    def _check_model_exposed(self):
        for rule in self:
            reason = exposure(rule.model_id.model, "read")
            if reason:
                raise ValidationError(reason)

    def _operations(self):
        self.ensure_one()
        return [op for op in OPERATIONS if self[f"can_{op}"]]
