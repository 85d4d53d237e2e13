import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from odoo import api, fields, models

from ..oauth import authorize
from ..oauth import scopes as scope_rules
from ..oauth.errors import AccessDenied, ConsentRequired, LoginRequired, OAuthError, PageError
from ..storage import ClientLookupError, OdooStorage, server_urls

_logger = logging.getLogger(__name__)
PENDING_MINUTES = 10


class McpAuthorizationRequest(models.Model):
    """An authorization request waiting for the user's decision on the consent page.

    The decision POST names it by a random handle; it is bound server-side to the
    user who saw the page, used once and short-lived, so nothing in the form is
    trusted beyond "allow" or "deny".
    """

    _name = "mcp.authorization.request"
    _description = "Pending OAuth authorization request"
    _order = "id desc"

    handle = fields.Char(required=True, index=True, copy=False)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True)
    client_id = fields.Char(required=True)
    redirect_uri = fields.Char(required=True)
    redirect_uri_sent = fields.Boolean()
    state = fields.Char()
    scopes = fields.Char(required=True)
    code_challenge = fields.Char()
    code_challenge_method = fields.Char()
    resource = fields.Char(required=True)
    expires_at = fields.Datetime(required=True)
    used = fields.Boolean()

    @api.model
    def _begin(self, pairs, user):
        """GET /oauth/authorize: validate, then log in, consent, or issue a code at once.

        Returns an ``authorize`` outcome; raises ``PageError`` while the client or the
        redirect URI is not validated.
        """
        storage = OdooStorage(self.env)
        urls = server_urls(self.env)
        params, repeated = authorize.single_values(pairs)
        try:
            client, redirect_uri = authorize.resolve_client(params, repeated, storage.find_client)
        except ClientLookupError as error:
            raise PageError("Application not available", str(error)) from error
        state = authorize.safe_state(params)

        def refuse(error):
            _logger.info("authorization request refused for %s: %s", client.client_id, error)
            return authorize.Redirect(authorize.error_redirect(redirect_uri, error, state, urls.issuer))

        try:
            request = authorize.validate(params, repeated, client, redirect_uri, urls, storage.settings())
        except OAuthError as error:
            return refuse(error)
        if user._is_public():
            if request.prompt == "none":
                return refuse(LoginRequired("The user is not signed in to Odoo."))
            return authorize.Login()
        if not user.has_group("mcp_connect.group_mcp_user"):
            denied = AccessDenied("This Odoo user is not allowed to connect AI tools.")
            return authorize.NotAllowed(client.name, authorize.error_redirect(redirect_uri, denied, state, urls.issuer))
        connection = storage.connection_for(client.client_id)
        consent = (
            self.env["mcp.consent"]
            .sudo()
            .search([("user_id", "=", user.id), ("connection_id", "=", connection.id)], limit=1)
            if connection
            else self.env["mcp.consent"]
        )
        already_allowed = bool(connection) and (client.skip_consent or (consent and consent._covers(request.scopes)))
        if already_allowed and request.prompt != "consent":
            if not consent:
                self.env["mcp.consent"]._remember(user, connection, request.scopes)
            return self._issue(storage, urls, request, user)
        if request.prompt == "none":
            return refuse(ConsentRequired("The user has not allowed this application yet."))
        pending = self.sudo().create(
            {
                "handle": secrets.token_urlsafe(24),
                "user_id": user.id,
                "client_id": client.client_id,
                "redirect_uri": request.redirect_uri,
                "redirect_uri_sent": request.redirect_uri_sent,
                "state": request.state,
                "scopes": " ".join(request.scopes),
                "code_challenge": request.code_challenge,
                "code_challenge_method": request.code_challenge_method,
                "resource": request.resource,
                "expires_at": fields.Datetime.now() + timedelta(minutes=PENDING_MINUTES),
            }
        )
        return authorize.Consent(
            handle=pending.handle,
            client_name=client.name,
            verified=client.verified,
            redirect_host=urlsplit(request.redirect_uri).netloc or request.redirect_uri.split(":", 1)[0],
            scope_descriptions=tuple(scope_rules.describe(request.scopes)),
        )

    @api.model
    def _decide(self, handle, user, allow):
        """POST /oauth/authorize: the user's decision on a pending request."""
        pending = self.sudo().search([("handle", "=", handle or ""), ("user_id", "=", user.id)], limit=1)
        if not pending or pending.used or pending.expires_at <= fields.Datetime.now():
            raise PageError(
                "This sign-in request is no longer valid",
                "It was already answered or it expired. Start the connection again from the application.",
            )
        pending.used = True
        storage = OdooStorage(self.env)
        urls = server_urls(self.env)
        try:
            client = storage.find_client(pending.client_id)
        except ClientLookupError as error:
            raise PageError("Application not available", str(error)) from error
        if client is None or not client.active:
            raise PageError("Application not available", "This application's connection was removed or revoked.")
        if not allow:
            denied = AccessDenied("The user denied access.")
            return authorize.Redirect(
                authorize.error_redirect(pending.redirect_uri, denied, pending.state, urls.issuer)
            )
        try:
            connection = storage.ensure_connection(client)
        except ClientLookupError as error:
            raise PageError("Application not available", str(error)) from error
        scopes = tuple(pending.scopes.split())
        self.env["mcp.consent"]._remember(user, connection, scopes)
        request = authorize.AuthorizationRequest(
            client=client,
            redirect_uri=pending.redirect_uri,
            state=pending.state,
            scopes=scopes,
            offline_access=False,
            code_challenge=pending.code_challenge or None,
            code_challenge_method=pending.code_challenge_method or None,
            resource=pending.resource,
            prompt=None,
            redirect_uri_sent=pending.redirect_uri_sent,
        )
        return self._issue(storage, urls, request, user)

    @api.model
    def _issue(self, storage, urls, request, user):
        code = authorize.issue_code(storage, request, user.id, user.company_id.id)
        return authorize.Redirect(authorize.success_redirect(request, code, urls.issuer))

    @api.autovacuum
    def _gc_expired_requests(self):
        self.search([("expires_at", "<", fields.Datetime.now() - timedelta(hours=1))]).unlink()
