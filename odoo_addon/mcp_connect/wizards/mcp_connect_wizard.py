import json

import mcp_connect_core as core
from odoo import _, api, fields, models
from odoo.addons.base.models.res_users import check_identity
from odoo.exceptions import AccessError, UserError

from .. import config
from ..storage import server_urls


class McpConnectWizard(models.TransientModel):
    """Connect a New Tool: pick how the tool signs in, then get what to paste into it.

    Credentials exist only once saved: until then the wizard holds a client secret or a
    token that no connection accepts, and saving stores only their digests and wipes
    them from the wizard row.
    """

    _name = "mcp.connect.wizard"
    _description = "Connect a New Tool"
    # An abandoned wizard row holds at most an unsaved (and so unusable) credential; drop it soon.
    _transient_max_hours = 0.25

    step = fields.Selection(
        [("type", "Choose"), ("custom", "Custom OAuth"), ("personal", "Personal token"), ("done", "Done")],
        default="type",
        required=True,
    )
    connection_type = fields.Selection(
        [("browser", "Browser login"), ("custom", "Custom OAuth"), ("personal", "Personal access token")]
    )
    endpoint_url = fields.Char(string="MCP Endpoint URL", compute="_compute_endpoint_url")
    registration_enabled = fields.Boolean(
        readonly=True, default=lambda self: config.get(self.env, "registration_enabled")
    )
    is_manager = fields.Boolean(
        readonly=True, default=lambda self: self.env.user.has_group("mcp_connect.group_mcp_manager")
    )
    client_name = fields.Char(string="OAuth client name")
    client_type = fields.Selection(
        [("confidential", "Confidential (has client_secret)"), ("public", "Public (PKCE-only, no secret)")],
        default="confidential",
    )
    redirect_uris = fields.Text(
        string="Allowed redirect URIs",
        help="One per line. A line ending with * allows one extra path segment (per-connector callbacks).",
    )
    token_user_id = fields.Many2one("res.users", string="User", default=lambda self: self.env.user)
    token_name = fields.Char(string="Token name", default=lambda self: _("Personal access token"))
    token_scope = fields.Selection(
        [("read", "Read only (mcp:read)"), ("write", "Read and write (mcp:write)")], default="read"
    )
    token_days = fields.Selection(
        [("30", "30 days"), ("90", "90 days"), ("365", "1 year")], string="Expires after", default="90"
    )
    client_id = fields.Char(string="Client ID", readonly=True)
    client_secret = fields.Char(string="Client Secret", readonly=True)
    personal_token = fields.Char(string="Token", readonly=True)
    config_snippet = fields.Text(string="Configuration", readonly=True)
    saved = fields.Boolean(readonly=True)

    @api.depends_context("uid")
    def _compute_endpoint_url(self):
        url = server_urls(self.env).resource
        for wizard in self:
            wizard.endpoint_url = url

    # -- navigation ---------------------------------------------------------------------

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Connect a New Tool"),
        }

    def _require_manager(self):
        if not self.env.user.has_group("mcp_connect.group_mcp_manager"):
            raise AccessError(_("Only MCP Connect managers can create OAuth connections."))

    def action_choose_browser(self):
        self._require_manager()
        self.write({"connection_type": "browser", "step": "done"})
        return self._reopen()

    def action_choose_custom(self):
        self._require_manager()
        self.write({"connection_type": "custom", "step": "custom"})
        return self._reopen()

    def action_choose_personal(self):
        self.write({"connection_type": "personal", "step": "personal"})
        return self._reopen()

    def action_back(self):
        self._wipe()
        target = "type" if self.step != "done" or self.connection_type == "browser" else self.connection_type
        self.write({"step": target, "client_id": False})
        return self._reopen()

    def action_cancel(self):
        self._wipe()
        return {"type": "ir.actions.act_window_close"}

    def _wipe(self):
        self.write({"client_secret": False, "personal_token": False})

    # -- Custom OAuth -------------------------------------------------------------------

    @check_identity
    def action_custom_next(self):
        self._require_manager()
        self.ensure_one()
        if not (self.client_name or "").strip():
            raise UserError(_("Give the OAuth client a name, such as the tool it is for."))
        problems = self._redirect_problems()
        if problems:
            raise UserError(_("Some redirect URIs cannot be used:\n%s", "\n".join(problems)))
        client_id, _digest = core.mint_token(kind="client_id")
        secret = core.mint_token(kind="client_secret")[0] if self.client_type == "confidential" else False
        self.write({"client_id": client_id, "client_secret": secret, "step": "done"})
        return self._reopen()

    def _redirect_problems(self):
        lines = [line.strip() for line in (self.redirect_uris or "").splitlines() if line.strip()]
        if not lines:
            return [_("Enter at least one redirect URI (the address the tool receives the sign-in at).")]
        problems = []
        for number, line in enumerate(lines, start=1):
            try:
                if line.endswith("*"):
                    core.validate_redirect_prefix(line[:-1])
                else:
                    core.validate_redirect_uri(line, client_kind="custom")
            except core.InvalidRedirectUriError as error:
                problems.append(_("Line %(number)s (%(uri)s): %(error)s", number=number, uri=line, error=str(error)))
        return problems

    def action_save_connection(self):
        self._require_manager()
        self.ensure_one()
        if self.connection_type != "custom" or self.step != "done" or not self.client_id or self.saved:
            raise UserError(_("Nothing to save: start again from Connect a New Tool."))
        values = {
            "name": self.client_name.strip(),
            "connection_type": "custom",
            "client_id": self.client_id,
            "client_type": self.client_type,
            "redirect_uris": "\n".join(line.strip() for line in self.redirect_uris.splitlines() if line.strip()),
        }
        connection = self.env["mcp.connection"].create(values)
        if self.client_secret:
            connection.sudo().secret_hash = core.hash_secret(self.client_secret)
        connection.message_post(body=_("Connection created with the Connect a New Tool wizard."))
        self.write({"client_secret": False, "saved": True})
        action = self.env["ir.actions.actions"]._for_xml_id("mcp_connect.mcp_connection_action")
        action["target"] = "main"
        return action

    # -- Personal access token ----------------------------------------------------------

    def action_personal_next(self):
        self.ensure_one()
        user = self.token_user_id or self.env.user
        if user != self.env.user and not self.env.user.has_group("mcp_connect.group_mcp_manager"):
            raise AccessError(_("You can only create personal access tokens for yourself."))
        if not user.has_group("mcp_connect.group_mcp_user"):
            raise UserError(_("%(name)s is not allowed to use AI tools (MCP Connect: User).", name=user.name))
        if not (self.token_name or "").strip():
            raise UserError(_("Give the token a name, such as the tool that will use it."))
        token, _digest = core.mint_token(kind="personal")
        endpoint = self.endpoint_url
        snippet = {
            "mcpServers": {
                "odoo": {"type": "http", "url": endpoint, "headers": {"Authorization": f"Bearer {token}"}},
            }
        }
        self.write({"personal_token": token, "step": "done", "config_snippet": json.dumps(snippet, indent=2)})
        return self._reopen()

    @check_identity
    def action_save_token(self):
        self.ensure_one()
        if self.connection_type != "personal" or self.step != "done" or not self.personal_token or self.saved:
            raise UserError(_("Nothing to save: start again from Connect a New Tool."))
        user = self.token_user_id or self.env.user
        if user != self.env.user and not self.env.user.has_group("mcp_connect.group_mcp_manager"):
            raise AccessError(_("You can only create personal access tokens for yourself."))
        self.env["mcp.connection"]._create_personal_token(
            user, self.token_name.strip(), self.personal_token, self.token_scope, int(self.token_days)
        )
        self.write({"personal_token": False, "config_snippet": False, "saved": True})
        return {"type": "ir.actions.act_window_close"}

    def action_finish(self):
        self._wipe()
        return {"type": "ir.actions.act_window_close"}
