"""The address of the client of the HTTP request being served, for throttles, allowlists and audit."""

import mcp_connect_core as core
from odoo.http import request

from . import config


def client_ip():
    """The client's address, IPv4-mapped IPv6 unwrapped; None outside a request (cron, shell).

    Without proxy mode it is the TCP peer. In proxy mode Odoo takes X-Forwarded-For from
    whoever connects; it is believed here only when the peer is one of the trusted
    proxies of Settings, otherwise the peer itself is the client.
    """
    if not request:
        return None
    address = request.httprequest.remote_addr or ""
    forwarded_by = request.httprequest.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    if forwarded_by is not None and not config.is_trusted_proxy(request.env, forwarded_by):
        address = forwarded_by
    try:
        return core.normalize_ip(address)
    except core.McpCoreError:
        return address
