"""Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document, MCP 2025-11-25).

A ``client_id`` that is an https URL names a JSON document describing the client.
Fetching it is an outbound request chosen by whoever starts an authorization, so it
is guarded against SSRF: https only; every resolved address checked by the Rust core
(no loopback, private, link-local, mapped or otherwise reserved range) and the
connection made to the checked address; no redirects; 5 KB and 5 seconds at most.
Successful documents are cached as their ``Cache-Control`` says; failures are not.
"""

import http.client
import json
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import mcp_connect_core as core

from .storage import METADATA_DOCUMENT

MAX_BYTES = 5 * 1024
TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_AGE = 300
MAX_MAX_AGE = 24 * 3600
USER_AGENT = "MCP-Connect-for-Odoo (client metadata fetcher)"


class MetadataDocumentError(Exception):
    """The document could not be used; the message is safe to show."""


@dataclass(frozen=True)
class ClientDocument:
    client_id: str
    client_name: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    client_uri: str | None
    logo_uri: str | None
    max_age: int


def is_document_url(client_id):
    """A client_id in URL form: https with a path (the draft's rule)."""
    if not client_id.startswith("https://"):
        return False
    parts = urlsplit(client_id)
    return bool(parts.hostname) and parts.path not in ("", "/")


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address checked beforehand, with SNI and Host for the real name.

    Connecting to the vetted address (not re-resolving the name) closes the DNS
    rebinding window between the check and the connection.
    """

    def __init__(self, host, port, *, address, context, timeout):
        super().__init__(host, port, context=context, timeout=timeout)
        self._pinned_address = address

    def connect(self):
        sock = socket.create_connection((self._pinned_address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _checked_addresses(host, port, allow_private):
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise MetadataDocumentError("The client's web address could not be resolved.") from error
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise MetadataDocumentError("The client's web address could not be resolved.")
    if not allow_private:
        for address in addresses:
            try:
                core.check_public_address(address)
            except core.McpCoreError as error:
                raise MetadataDocumentError(
                    "The client's web address points at a private or reserved network address."
                ) from error
    return addresses


def _max_age(cache_control):
    directives = [d.strip().lower() for d in (cache_control or "").split(",")]
    if any(d in ("no-store", "no-cache") for d in directives):
        return 0
    for directive in directives:
        match = re.fullmatch(r"max-age=(\d+)", directive)
        if match:
            return min(int(match.group(1)), MAX_MAX_AGE)
    return DEFAULT_MAX_AGE


def fetch(url, *, insecure_test_origins=()):
    """Fetch and validate the document at ``url``; raise ``MetadataDocumentError``."""
    if not is_document_url(url):
        raise MetadataDocumentError("A client_id web address must be https with a path.")
    parts = urlsplit(url)
    if parts.username or parts.password or parts.fragment:
        raise MetadataDocumentError("A client_id web address has no credentials or fragment.")
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    # Test-only escape hatch (an ir.config_parameter, never set in production):
    # lets the end-to-end tests serve a document from 127.0.0.1 with a self-signed certificate.
    testing = origin in insecure_test_origins
    port = parts.port or 443
    addresses = _checked_addresses(parts.hostname, port, allow_private=testing)
    context = ssl.create_default_context()
    if testing:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + TIMEOUT_SECONDS
    connection = _PinnedHTTPSConnection(
        parts.hostname, port, address=addresses[0], context=context, timeout=TIMEOUT_SECONDS
    )
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", path, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
        response = connection.getresponse()
        if 300 <= response.status < 400:
            raise MetadataDocumentError("The client metadata document redirects; redirects are not followed.")
        if response.status != 200:
            raise MetadataDocumentError(f"The client metadata document answered HTTP {response.status}.")
        body = b""
        while len(body) <= MAX_BYTES:
            if time.monotonic() > deadline:
                raise MetadataDocumentError("The client metadata document took too long to download.")
            chunk = response.read(1024)
            if not chunk:
                break
            body += chunk
        if len(body) > MAX_BYTES:
            raise MetadataDocumentError("The client metadata document is larger than 5 KB.")
        max_age = _max_age(response.getheader("Cache-Control"))
    except (OSError, http.client.HTTPException) as error:
        raise MetadataDocumentError("The client metadata document could not be downloaded.") from error
    finally:
        connection.close()
    try:
        document = json.loads(body)
    except ValueError as error:
        raise MetadataDocumentError("The client metadata document is not valid JSON.") from error
    return validate(url, document, max_age)


def validate(url, document, max_age=DEFAULT_MAX_AGE):
    if not isinstance(document, dict):
        raise MetadataDocumentError("The client metadata document must be a JSON object.")
    if document.get("client_id") != url:
        raise MetadataDocumentError("The document's client_id does not equal its web address.")
    name = document.get("client_name")
    if not isinstance(name, str) or not name.strip():
        raise MetadataDocumentError("The client metadata document has no client_name.")
    redirect_uris = document.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris or len(redirect_uris) > 20:
        raise MetadataDocumentError("The client metadata document must list between 1 and 20 redirect_uris.")
    for uri in redirect_uris:
        if not isinstance(uri, str):
            raise MetadataDocumentError("redirect_uris must be strings.")
        try:
            core.validate_redirect_uri(uri, client_kind=METADATA_DOCUMENT)
        except core.InvalidRedirectUriError as error:
            raise MetadataDocumentError(f"Redirect URI refused: {error}") from error
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise MetadataDocumentError("Only public clients (token_endpoint_auth_method none) are supported.")
    grant_types = document.get("grant_types", ["authorization_code"])
    if not isinstance(grant_types, list) or not set(grant_types) <= {"authorization_code", "refresh_token"}:
        raise MetadataDocumentError("grant_types may only contain authorization_code and refresh_token.")
    optional = {}
    for key in ("client_uri", "logo_uri"):
        value = document.get(key)
        optional[key] = value if isinstance(value, str) and value.startswith("https://") and len(value) < 500 else None
    return ClientDocument(
        client_id=url,
        client_name=name.strip()[:200],
        redirect_uris=tuple(redirect_uris),
        grant_types=tuple(dict.fromkeys(["authorization_code", *grant_types])),
        client_uri=optional["client_uri"],
        logo_uri=optional["logo_uri"],
        max_age=max_age,
    )
