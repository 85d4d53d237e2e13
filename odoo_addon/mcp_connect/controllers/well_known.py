"""Discovery documents (RFC 8414, RFC 9728), readable from any origin."""

from odoo import http
from odoo.http import request

from ..oauth import metadata
from ..storage import OdooStorage, server_urls

CACHE = {"Cache-Control": "public, max-age=300"}


class WellKnownController(http.Controller):
    @http.route(
        ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"],
        type="http",
        auth="none",
        methods=["GET"],
        cors="*",
        save_session=False,
        sitemap=False,
    )
    def authorization_server(self, **_kwargs):
        settings = OdooStorage(request.env).settings()
        document = metadata.authorization_server(
            server_urls(request.env),
            registration_enabled=settings.registration_enabled,
            metadata_documents_enabled=settings.metadata_documents_enabled,
        )
        return request.make_json_response(document, headers=CACHE)

    @http.route(
        ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/api/mcp"],
        type="http",
        auth="none",
        methods=["GET"],
        cors="*",
        save_session=False,
        sitemap=False,
    )
    def protected_resource(self, **_kwargs):
        return request.make_json_response(metadata.protected_resource(server_urls(request.env)), headers=CACHE)
