from odoo import api, fields, models


class McpCredentialShow(models.AbstractModel):
    """What to paste into the tool, shown once, like Odoo's own API keys (res.users.apikeys.show).

    The values travel only in the context of the action that opens this form (``default_*``):
    the model has no table, so no row ever holds a secret, and closing the form forgets it.
    """

    _name = "mcp.credential.show"
    _description = "New credentials"

    # The onchange that fills the form from the context's defaults needs an id.
    id = fields.Id()
    purpose = fields.Selection(
        [("custom", "Custom OAuth client"), ("personal", "Personal access token"), ("rotation", "Rotated secret")],
        readonly=True,
    )
    connection_name = fields.Char(string="Connection", readonly=True)
    endpoint_url = fields.Char(string="MCP endpoint URL", readonly=True)
    authorize_url = fields.Char(string="Authorization URL", readonly=True)
    token_url = fields.Char(string="Token URL", readonly=True)
    scopes = fields.Char(readonly=True)
    client_id = fields.Char(string="Client ID", readonly=True)
    client_secret = fields.Char(string="Client secret", readonly=True)
    personal_token = fields.Char(string="Token", readonly=True)
    config_snippet = fields.Text(string="Configuration", readonly=True)

    @api.model
    def _show(self, name, **values):
        """The action showing ``values`` (field names of this model) once, in a dialog."""
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "name": name,
            "views": [(False, "form")],
            "target": "new",
            # The web client passes the dialog size of the window a button is in on to the next one:
            # after the password check (a medium one on 19.0) this one would shrink.
            "context": {"dialog_size": "large"} | {f"default_{key}": value for key, value in values.items() if value},
        }
