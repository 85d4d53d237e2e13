"""The server's own URLs: issuer, MCP resource, endpoints.

They are derived from the configured base URL (``web.base.url``), never from request
headers, and must be byte-for-byte stable because clients compare them exactly
(RFC 8414 §3.3, RFC 9728 §3.3).
"""

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

MCP_PATH = "/api/mcp"
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ServerUrls:
    issuer: str

    @classmethod
    def from_base_url(cls, base_url):
        """``https://Odoo.Example.com:443/`` gives the issuer ``https://odoo.example.com``."""
        return cls(issuer=canonical_url(base_url))

    def endpoint(self, path):
        return self.issuer + path

    @property
    def resource(self):
        return self.issuer + MCP_PATH

    @property
    def authorization_endpoint(self):
        return self.endpoint("/oauth/authorize")

    @property
    def token_endpoint(self):
        return self.endpoint("/oauth/token")

    @property
    def registration_endpoint(self):
        return self.endpoint("/oauth/register")

    @property
    def revocation_endpoint(self):
        return self.endpoint("/oauth/revoke")

    @property
    def introspection_endpoint(self):
        return self.endpoint("/oauth/introspect")

    @property
    def userinfo_endpoint(self):
        return self.endpoint("/oauth/userinfo")

    @property
    def protected_resource_metadata(self):
        return self.endpoint("/.well-known/oauth-protected-resource" + MCP_PATH)

    def accepts_resource(self, value):
        """RFC 8707 resource indicator check, tolerant of the variants clients send.

        Scheme and host are compared case-insensitively, a default port is the same as
        none, and a trailing slash is ignored (claude.ai and Claude Code add one to an
        origin-only URL, others strip it). Both the MCP URL and the server's origin name
        this resource; anything else is another audience.
        """
        try:
            presented = canonical_url(value)
        except ValueError:
            return False
        return presented in (self.resource, self.issuer)


def canonical_url(value):
    """Lower-case scheme and host, drop a default port and a trailing slash.

    Raises ValueError for anything that is not an absolute http(s) URL without
    query, fragment or credentials.
    """
    if not isinstance(value, str) or not value or len(value) > 2000:
        raise ValueError("not a URL")
    parts = urlsplit(value.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("not an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username is not None or parts.password is not None:
        raise ValueError("a resource URL has no query, fragment or credentials")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as error:
        raise ValueError("invalid port") from error
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, "", ""))
