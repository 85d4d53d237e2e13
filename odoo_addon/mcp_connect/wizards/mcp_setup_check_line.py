from odoo import fields, models


class McpSetupCheckLine(models.TransientModel):
    """One verdict of a setup check, with what to do about it."""

    _name = "mcp.setup.check.line"
    _description = "Setup check verdict"
    _order = "sequence, id"

    check_id = fields.Many2one("mcp.setup.check", string="Setup check", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer()
    name = fields.Char(string="Check", required=True)
    verdict = fields.Selection(
        [("ok", "OK"), ("warning", "Warning"), ("problem", "Problem"), ("unknown", "Could not check")],
        required=True,
    )
    message = fields.Text(string="Finding")
    fix = fields.Text(string="How to fix")
