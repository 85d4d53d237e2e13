"""OAuth 2.1 endpoints: thin adapters over ``mcp_connect.oauth``.

Each route parses the HTTP request, calls one protocol function and serializes the
answer. Errors are mapped in one place per kind of answer: JSON for
the machine endpoints, a page for people on the authorization endpoint.
"""

import json
import logging
from urllib.parse import quote

from babel.core import LOCALE_ALIASES
from odoo import http
from odoo.addons.web.controllers.home import Home
from odoo.http import request

from ..client_address import client_ip
from ..mcp_backend import WAITING_FOR_APPROVAL
from ..oauth import authorize, introspection, registration, revocation, token
from ..oauth.errors import InvalidRequest, OAuthAccessDenied, OAuthError, PageError
from ..oauth.storage import ClientLookupError
from ..oauth.texts import _lt
from ..storage import OdooStorage, server_urls

_logger = logging.getLogger(__name__)

FORM_LIMIT = 64 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Every page of the authorization flow: never framed, never cached, no referrer leak.
PAGE_HEADERS = {
    **NO_STORE,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def form_parameters():
    """Form-encoded body parameters and the names that appear more than once."""
    mimetype = request.httprequest.mimetype
    if mimetype != "application/x-www-form-urlencoded":
        raise InvalidRequest("Send the parameters form-encoded (application/x-www-form-urlencoded).")
    return authorize.single_values(request.httprequest.form.items(multi=True))


def json_answer(body, status=200, headers=None):
    return request.make_json_response(body, status=status, headers={**NO_STORE, **(headers or {})})


def oauth_error(error):
    """The one mapping of protocol errors to JSON answers (RFC 6749 §5.2)."""
    _logger.info("OAuth %s on %s: %s", error.error, request.httprequest.path, error.log_detail or error.description)
    return json_answer(error.to_dict(), status=error.status, headers=error.headers)


def machine_route(path, *, cors=True):
    """The route of a machine endpoint: a program's POST, no session, no CSRF token, a bounded body.

    Browser-based clients may call it cross-origin, except where ``cors`` is False.
    """
    routing = {"cors": "*"} if cors else {}
    return http.route(
        path,
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
        max_content_length=FORM_LIMIT,
        **routing,
    )


def machine_answer(handler, status=200):
    """Answer ``handler(storage, urls)``'s body as JSON; every protocol error is mapped here."""
    try:
        body = handler(OdooStorage(request.env), server_urls(request.env))
    except OAuthError as error:
        return oauth_error(error)
    except ClientLookupError as error:
        return oauth_error(InvalidRequest(str(error)))
    return json_answer(body, status=status)


def form_handler(handle):
    """``handle(storage, urls, form, repeated, authorization_header, client_ip)`` over the request's form."""

    def handler(storage, urls):
        form, repeated = form_parameters()
        header = request.httprequest.headers.get("Authorization")
        return handle(storage, urls, form, repeated, header, client_ip())

    return handler


def secure_page(response):
    response.headers.update(PAGE_HEADERS)
    return response


def page_language(env, accept_languages):
    """The language of the authorization pages: the signed-in user's; before sign-in, the first
    of the browser's languages (``Accept-Language``, best first) that the database has installed,
    an exact one (``fr_CH``) or one of the same language (``fr`` or ``fr-CH``: ``fr_FR``, else
    another ``fr_*``); else Odoo's choice (the company's, English)."""
    installed = [code for code, _name in env["res.lang"].get_installed()]
    if not env.user._is_public():
        return env.user.lang if env.user.lang in installed else env.lang
    for tag, _quality in accept_languages:
        code = tag.replace("-", "_")
        primary = code.split("_")[0].lower()
        alias = LOCALE_ALIASES.get(primary)
        same_language = [lang for lang in installed if lang.split("_")[0].lower() == primary]
        for candidate in (code, alias, *same_language):
            if candidate in installed:
                return candidate
    return env.lang


def use_page_language():
    """Render (and translate with ``request.env._``) in the reader's language from here on."""
    request.update_context(lang=page_language(request.env, request.httprequest.accept_languages))


class OAuthController(http.Controller):
    # -- authorization endpoint (people) ----------------------------------------------

    @http.route("/oauth/authorize", type="http", auth="public", methods=["GET"], readonly=False, sitemap=False)
    def authorize_get(self, **_kwargs):
        pairs = request.httprequest.args.items(multi=True)
        try:
            outcome = authorize.begin(OdooStorage(request.env), server_urls(request.env), pairs, self._user())
        except PageError as error:
            return self._error_page(error)
        return self._answer(outcome)

    @http.route("/oauth/authorize", type="http", auth="user", methods=["POST"], readonly=False, sitemap=False)
    def authorize_post(self, request_handle=None, decision=None, **_kwargs):
        if decision not in ("allow", "deny"):
            return self._error_page(PageError(_lt("Invalid request"), _lt("Choose Allow or Deny.")))
        companies = request.httprequest.form.getlist("company_ids")
        try:
            outcome = authorize.decide(
                OdooStorage(request.env),
                server_urls(request.env),
                request_handle,
                self._user(),
                decision == "allow",
                companies,
            )
        except PageError as error:
            return self._error_page(error)
        return self._answer(outcome)

    @staticmethod
    def _user():
        user = request.env.user
        return authorize.User(
            user_id=user.id,
            company_id=user.company_id.id,
            signed_in=not user._is_public(),
            may_connect=user.has_group("mcp_connect.group_mcp_user"),
            company_ids=tuple(user.company_ids.ids),
        )

    def _answer(self, outcome):
        if isinstance(outcome, authorize.Redirect):
            # 302, never 307: claude.ai fails on 307 (and a POST must not be replayed).
            return secure_page(request.redirect(outcome.url, code=302, local=False))
        if isinstance(outcome, authorize.Login):
            target = request.httprequest.full_path
            return secure_page(request.redirect("/web/login?redirect=" + quote(target, safe=""), code=302))
        use_page_language()
        if isinstance(outcome, authorize.NotAllowed):
            values = {"client_name": outcome.client_name, "return_url": outcome.return_url}
            return secure_page(request.render("mcp_connect.oauth_not_allowed_page", values, status=403))
        # sudo: the consent page names the companies the user may choose, which their own rights may not let them read
        companies = request.env["res.company"].sudo().browse(outcome.companies)
        values = {
            "consent": outcome,
            "scope_descriptions": [request.env._(description) for description in outcome.scope_descriptions],
            "user": request.env.user,
            "company": request.env.user.company_id,
            # Offered only when there is a choice; the decision is checked again on the server.
            "companies": companies if len(companies) > 1 else companies.browse(),
            "chosen_companies": outcome.chosen_companies,
        }
        return secure_page(request.render("mcp_connect.oauth_consent_page", values))

    def _error_page(self, error):
        _logger.info("authorization page error: %s (%s)", error.title, error.log_detail or error.message)
        use_page_language()
        values = {
            # Marked in the protocol layer (oauth/texts.py), translated here; a text that is not
            # marked (a client's metadata document refused) is shown as it is.
            "title": request.env._(error.title),
            "message": request.env._(error.message),
            "client_name": error.client_name,
            # An address from the request, shown as text; a long one is cut.
            "redirect_uri": error.redirect_uri[:300] if error.redirect_uri else None,
        }
        return secure_page(request.render("mcp_connect.oauth_error_page", values, status=error.status))

    # -- machine endpoints ------------------------------------------------------------

    @machine_route("/oauth/token")
    def token(self, **_kwargs):
        return machine_answer(form_handler(token.handle))

    @machine_route("/oauth/revoke")
    def revoke(self, **_kwargs):
        def handle(storage, urls, form, repeated, header, address):
            revocation.revoke(storage, form, repeated, header, address)
            return {}

        return machine_answer(form_handler(handle))

    # Confidential clients only, never from a browser: no CORS.
    @machine_route("/oauth/introspect", cors=False)
    def introspect(self, **_kwargs):
        return machine_answer(form_handler(introspection.introspect))

    @machine_route("/oauth/register")
    def register(self, **_kwargs):
        def handler(storage, urls):
            if request.httprequest.mimetype != "application/json":
                raise InvalidRequest("Send the client metadata as JSON (application/json).")
            try:
                metadata = json.loads(request.httprequest.get_data(as_text=True) or "null")
            except (ValueError, RecursionError) as error:
                raise InvalidRequest("The body is not valid JSON.") from error
            return registration.register(storage, metadata, client_ip())

        return machine_answer(handler, status=201)


class UserInfoController(http.Controller):
    @http.route(
        "/oauth/userinfo",
        type="http",
        auth="mcp",
        methods=["GET", "POST"],
        csrf=False,
        cors="*",
        save_session=False,
        sitemap=False,
    )
    def userinfo(self, **_kwargs):
        """Who signed in, for in-house applications using a connection (bearer token, ``auth='mcp'``).
        A connection waiting for a manager's approval learns nothing, as at the MCP endpoint."""
        # sudo: the bearer token was checked by auth='mcp'; tokens are not readable by the user they act for
        token = request.env["mcp.token"].sudo().browse(request.env.context["mcp_token_id"])
        if token.connection_id.state == "pending":
            return oauth_error(OAuthAccessDenied(WAITING_FOR_APPROVAL))
        return json_answer(request.env["mcp.token"]._userinfo())


class OAuthLogin(Home):
    @http.route()
    def web_login(self, redirect=None, **kw):
        """Odoo's login page, hardened like the rest of the flow when it leads to a consent page."""
        response = super().web_login(redirect=redirect, **kw)
        if redirect and redirect.startswith("/oauth/authorize"):
            secure_page(response)
        return response
