import json

import mcp_connect_core as core
from odoo import api, fields, models
from odoo.addons.base.models.res_users import check_identity
from odoo.exceptions import AccessError, UserError

from .. import compat, config
from ..oauth import redirect_uris as redirect_uri_rules
from ..storage import server_urls


class McpConnectWizard(models.TransientModel):
    """Connect a New Tool: pick how the tool signs in, then get what to paste into it.

    The wizard holds only what the user types (names, redirect addresses, scope). Next checks it
    and, when something is wrong, says what in the wizard itself, which keeps what was typed; only
    then does it ask for the password, once, create the connection or the token with only the
    digest of its secret, and hand the secret to mcp.credential.show, which shows it once from the
    action's context: no row, of the wizard or of anything else, ever holds a live secret.
    """

    _name = "mcp.connect.wizard"
    _description = "Connect a New Tool"

    step = fields.Selection(
        [("type", "Choose"), ("custom", "Custom OAuth"), ("personal", "Personal token"), ("done", "Done")],
        default="type",
        required=True,
    )
    connection_type = fields.Selection(
        [("browser", "Browser login"), ("custom", "Custom OAuth"), ("personal", "Personal access token")]
    )
    problem = fields.Text(readonly=True, help="Why Next did not go on, shown in the wizard until it does.")
    endpoint_url = fields.Char(string="MCP endpoint URL", compute="_compute_endpoint_url")
    registration_enabled = fields.Boolean(
        readonly=True, default=lambda self: config.get(self.env, "registration_enabled")
    )
    is_manager = fields.Boolean(
        readonly=True, default=lambda self: self.env.user.has_group("mcp_connect.group_mcp_manager")
    )
    client_name = fields.Char(string="OAuth client name")
    client_type = fields.Selection(
        [("confidential", "Confidential (has client_secret)"), ("public", "Public (PKCE-only, no secret)")],
        string="Client type",
        default="confidential",
    )
    redirect_uris = fields.Text(
        string="Allowed redirect URIs",
        help="One per line. A line ending with * allows one extra path segment (per-connector callbacks).",
    )
    token_user_id = fields.Many2one(
        "res.users",
        string="User",
        default=lambda self: self.env.user,
        # Only users who may use AI tools; Next checks it again.
        domain=lambda self: compat.group_members_domain(self.env, self.env.ref("mcp_connect.group_mcp_user")),
    )
    token_name = fields.Char(string="Token name", help="Name it after the AI tool that will use it.")
    token_scope = fields.Selection(
        [("read", "Read only (mcp:read)"), ("write", "Read and write (mcp:write)")], string="Access", default="read"
    )
    token_company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        default=lambda self: self.env.user.company_id,
        help="The companies the token works in, among the user's. New records go to the user's current "
        "company when it is one of them, else to the first one, unless the tool names another.",
    )
    token_user_company_ids = fields.Many2many(related="token_user_id.company_ids", string="User's companies")
    token_days = fields.Selection(
        [("30", "30 days"), ("90", "90 days"), ("365", "1 year")], string="Expires after", default="90"
    )

    @api.onchange("token_user_id")
    def _onchange_token_user_id(self):
        self.token_company_ids = self.token_user_id.company_id

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
            "name": self.env._("Connect a New Tool"),
            # The web client passes the dialog size of the window a button is in on to the next one.
            "context": {"dialog_size": "large"},
        }

    def _require_manager(self):
        if not self.env.user.has_group("mcp_connect.group_mcp_manager"):
            raise AccessError(self.env._("Only MCP Connect managers can create OAuth connections."))

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
        self.write({"step": "type", "problem": False})
        return self._reopen()

    def action_finish(self):
        return {"type": "ir.actions.act_window_close"}

    def _next(self, problems, create):
        """Say what is wrong in the wizard, which keeps what was typed; else ask for the password
        (once, by ``create``) and create."""
        if problems:
            self.problem = "\n".join(problems)
            return self._reopen()
        self.problem = False
        return create()

    def _show_once(self, **values):
        """Done: this wizard is spent (so a replayed password check creates nothing more), and the
        new credentials are shown once."""
        self.unlink()
        return self.env["mcp.credential.show"]._show(self.env._("Connect a New Tool"), **values)

    # -- Custom OAuth -------------------------------------------------------------------

    def action_custom_next(self):
        """Check what was typed first, so a mistake is reported in the wizard; then the password."""
        return self._next(self._custom_problems(), self._create_custom_connection)

    def _custom_problems(self):
        self._require_manager()
        self.ensure_one()
        if self.connection_type != "custom" or self.step != "custom":
            raise UserError(self.env._("Nothing to save: start again from Connect a New Tool."))
        problems = []
        if not (self.client_name or "").strip():
            problems.append(self.env._("Give the OAuth client a name, such as the tool it is for."))
        redirect_problems = self._redirect_problems()
        if redirect_problems:
            problems.append(self.env._("Some redirect URIs cannot be used:\n%s", "\n".join(redirect_problems)))
        return problems

    def _check_custom(self):
        problems = self._custom_problems()
        if problems:
            raise UserError("\n".join(problems))

    def _redirect_problems(self):
        lines = [line.strip() for line in (self.redirect_uris or "").splitlines() if line.strip()]
        if not lines:
            return [self.env._("Enter at least one redirect URI (the address the tool receives the sign-in at).")]
        problems = []
        # A loop, not a comprehension: self.env._() finds the language in the calling frame.
        for problem in redirect_uri_rules.problems(lines, client_kind="custom", prefixes=True):
            number, uri, error = problem.position, problem.entry, str(problem.error)
            problems.append(self.env._("Line %(number)s (%(uri)s): %(error)s", number=number, uri=uri, error=error))
        return problems

    @check_identity
    def _create_custom_connection(self):
        """Runs again, alone, once the password is confirmed."""
        self._check_custom()
        client_id, _digest = core.mint_token(kind="client_id")
        secret = core.mint_token(kind="client_secret")[0] if self.client_type == "confidential" else False
        name = self.client_name.strip()
        connection = self.env["mcp.connection"].create(
            {
                "name": name,
                "connection_type": "custom",
                "client_id": client_id,
                "client_type": self.client_type,
                "redirect_uris": "\n".join(line.strip() for line in self.redirect_uris.splitlines() if line.strip()),
            }
        )
        if secret:
            # sudo: the secret's hash is a field no user may write (NO_ACCESS); the manager just created the connection
            connection.sudo().secret_hash = core.hash_secret(secret)
        connection.message_post(body=self.env._("Connection created with the Connect a New Tool wizard."))
        # What a tool set up by hand (n8n, Power Automate, Postman) asks for: the endpoints the
        # discovery documents advertise, so it needs no discovery and no registration.
        urls = server_urls(self.env)
        return self._show_once(
            purpose="custom",
            connection_name=name,
            endpoint_url=self.endpoint_url,
            authorize_url=urls.authorization_endpoint,
            token_url=urls.token_endpoint,
            scopes=" ".join(connection._allowed_scopes()),
            client_id=client_id,
            client_secret=secret,
        )

    # -- Personal access token ----------------------------------------------------------

    def action_personal_next(self):
        """Check what was typed first, so a mistake is reported in the wizard; then the password."""
        return self._next(self._personal_problems(), self._create_personal_token)

    def _personal_problems(self):
        self.ensure_one()
        if self.connection_type != "personal" or self.step != "personal":
            raise UserError(self.env._("Nothing to save: start again from Connect a New Tool."))
        user = self.token_user_id or self.env.user
        if user != self.env.user and not self.env.user.has_group("mcp_connect.group_mcp_manager"):
            raise AccessError(self.env._("You can only create personal access tokens for yourself."))
        problems = []
        if not user.has_group("mcp_connect.group_mcp_user"):
            problems.append(self.env._("%(name)s is not allowed to use AI tools (MCP Connect: User).", name=user.name))
        if not (self.token_name or "").strip():
            problems.append(self.env._("Give the token a name, such as the tool that will use it."))
        # sudo: the user's companies, which the manager creating the token may not read
        if self.token_company_ids - user.sudo().company_ids:
            problems.append(self.env._("%(name)s has no access to some of the companies chosen.", name=user.name))
        return problems

    def _check_personal(self):
        problems = self._personal_problems()
        if problems:
            raise UserError("\n".join(problems))

    @check_identity
    def _create_personal_token(self):
        """Runs again, alone, once the password is confirmed."""
        self._check_personal()
        user = self.token_user_id or self.env.user
        token, _digest = core.mint_token(kind="personal")
        self.env["mcp.connection"]._create_personal_token(
            user, self.token_name.strip(), token, self.token_scope, int(self.token_days), self.token_company_ids
        )
        endpoint = self.endpoint_url
        snippet = {
            "mcpServers": {
                "odoo": {"type": "http", "url": endpoint, "headers": {"Authorization": f"Bearer {token}"}},
            }
        }
        return self._show_once(
            purpose="personal",
            endpoint_url=endpoint,
            personal_token=token,
            config_snippet=json.dumps(snippet, indent=2),
        )
