from odoo import fields, models


class McpSecretRotation(models.TransientModel):
    """Shows a freshly rotated client secret once, with what to do next. Closing it wipes the secret."""

    _name = "mcp.secret.rotation"
    _description = "New client secret"
    _transient_max_hours = 0.25

    connection_id = fields.Many2one("mcp.connection", required=True, readonly=True, ondelete="cascade")
    client_id = fields.Char(related="connection_id.client_id", string="Client ID")
    client_secret = fields.Char(string="New client secret", readonly=True)

    def action_done(self):
        self.write({"client_secret": False})
        return {"type": "ir.actions.act_window_close"}
