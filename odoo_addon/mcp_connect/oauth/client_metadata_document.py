"""Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document, MCP 2025-11-25).

A ``client_id`` that is an https URL names a JSON document describing the client.
Fetching it is an outbound request chosen by whoever starts an authorization, so it
is guarded against SSRF: https only, no dot segments; every resolved address checked by
the Rust core (no loopback, private, link-local, mapped or otherwise reserved range) and
the connection made to the checked address; no redirects; 5 KB at most; one 5-second
deadline for name resolution, connecting, the TLS handshake, the headers and the body, so a
server that answers a byte at a time cannot hold a worker. ``DocumentCache`` keeps each worker
from fetching one URL again and again: a document for its ``max-age`` (at most 10 minutes),
a failure for a minute.
"""

import concurrent.futures
import http.client
import io
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import mcp_connect_core as core

from . import redirect_uris as redirect_uri_rules
from .storage import METADATA_DOCUMENT

MAX_BYTES = 5 * 1024
MAX_HEADER_BYTES = 16 * 1024
TIMEOUT_SECONDS = 5.0
FAILURE_CACHE_SECONDS = 60
SUCCESS_CACHE_SECONDS = 600
DEFAULT_MAX_AGE = 300
MAX_MAX_AGE = 24 * 3600
USER_AGENT = "MCP-Connect-for-Odoo (client metadata fetcher)"
TOO_SLOW = "The client metadata document took more than 5 seconds to download."
URL_TEXT = re.compile(r"[!-~]+")


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


def check_url(url):
    """Refuse, before any network use, a client_id URL the draft forbids (section 3).

    https with a path; no single-dot or double-dot path segment (also percent-encoded); no
    fragment, user name or password. A port and a query are allowed (the draft says MAY and
    SHOULD NOT).
    """
    if not is_document_url(url):
        raise MetadataDocumentError("A client_id web address must be https with a path.")
    if not URL_TEXT.fullmatch(url):
        raise MetadataDocumentError("A client_id web address may only contain printable ASCII characters.")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None or "#" in url:
        raise MetadataDocumentError("A client_id web address may not contain credentials or a fragment.")
    segments = parts.path.split("/")
    if any(re.sub("%2e", ".", segment, flags=re.IGNORECASE) in (".", "..") for segment in segments):
        raise MetadataDocumentError("A client_id web address may not contain dot segments (. or ..) in its path.")
    try:
        port = parts.port or 443
    except ValueError as error:
        raise MetadataDocumentError("The client_id web address has an invalid port.") from error
    return parts, port


def _public_addresses(host, port):
    """The addresses of ``host``, all of them public (checked by the Rust core)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise MetadataDocumentError("The client's web address could not be resolved.") from error
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise MetadataDocumentError("The client's web address could not be resolved.")
    for address in addresses:
        try:
            core.check_public_address(address)
        except core.McpCoreError as error:
            raise MetadataDocumentError(
                "The client's web address points at a private or reserved network address."
            ) from error
    return addresses


# Name resolution cannot be given a timeout; it runs here and the fetch waits for it only until
# its deadline. Few threads: lookups that hang queue up behind each other, not in workers.
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="mcp-metadata-resolve")


def _resolve_within(deadline, host, port):
    """``_public_addresses(host, port)``, given up at ``deadline``."""
    future = _RESOLVER.submit(_public_addresses, host, port)
    try:
        return future.result(timeout=deadline.remaining())
    except concurrent.futures.TimeoutError as error:
        future.cancel()
        raise MetadataDocumentError(TOO_SLOW) from error


def _tls_context():
    """The system's trust store, host names checked."""
    return ssl.create_default_context()


def _max_age(cache_control):
    directives = [d.strip().lower() for d in (cache_control or "").split(",")]
    if any(d in ("no-store", "no-cache") for d in directives):
        return 0
    for directive in directives:
        match = re.fullmatch(r"max-age=(\d+)", directive)
        if match:
            return min(int(match.group(1)), MAX_MAX_AGE)
    return DEFAULT_MAX_AGE


class _Deadline:
    """One time budget for a whole download: every blocking step gets what is left of it."""

    def __init__(self, seconds):
        self.ends = time.monotonic() + seconds

    def remaining(self):
        left = self.ends - time.monotonic()
        if left <= 0:
            raise MetadataDocumentError(TOO_SLOW)
        return left

    def arm(self, sock):
        sock.settimeout(self.remaining())
        return sock


class _Buffered:
    """The bytes already received, as the socket ``http.client.HTTPResponse`` parses."""

    def __init__(self, data):
        self._data = data

    def makefile(self, *_args, **_kwargs):
        return io.BytesIO(self._data)


def _download(host, netloc, port, address, target, context, deadline):
    """GET ``target`` from the checked ``address``, SNI for ``host``, Host ``netloc``; the raw answer.

    Connect, TLS handshake, the request and every read each wait at most for what is left of
    ``deadline``, so a peer sending a byte at a time cannot hold the worker past it.
    """
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {netloc}\r\n"
        f"Accept: application/json\r\nUser-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    raw = socket.create_connection((address, port), timeout=deadline.remaining())
    try:
        sock = context.wrap_socket(raw, server_hostname=host, do_handshake_on_connect=False)
    except BaseException:
        raw.close()
        raise
    with sock:
        deadline.arm(sock).do_handshake()
        deadline.arm(sock).sendall(request)
        received = bytearray()
        header_end = length = None
        while True:
            chunk = deadline.arm(sock).recv(4096)
            if not chunk:
                break
            received += chunk
            if header_end is None:
                header_end = received.find(b"\r\n\r\n")
                if header_end < 0:
                    header_end = None
                    if len(received) > MAX_HEADER_BYTES:
                        raise MetadataDocumentError("The client metadata document's headers are too large.")
                    continue
                header_end += 4
                found = re.search(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r$", bytes(received[:header_end]))
                length = int(found.group(1)) if found else None
            if len(received) - header_end > MAX_BYTES + 1024:
                break
            if length is not None and len(received) - header_end >= length:
                break
    return bytes(received)


def fetch(url):
    """Fetch and validate the document at ``url``; raise ``MetadataDocumentError``.

    One deadline of ``TIMEOUT_SECONDS`` covers name resolution, the connection, the TLS
    handshake, the headers and the body.
    """
    parts, port = check_url(url)
    deadline = _Deadline(TIMEOUT_SECONDS)
    addresses = _resolve_within(deadline, parts.hostname, port)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        raw = _download(parts.hostname, parts.netloc, port, addresses[0], target, _tls_context(), deadline)
        response = http.client.HTTPResponse(_Buffered(raw), method="GET")
        response.begin()
        if 300 <= response.status < 400:
            raise MetadataDocumentError("The client metadata document redirects; redirects are not followed.")
        if response.status != 200:
            raise MetadataDocumentError(f"The client metadata document answered HTTP {response.status}.")
        body = response.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise MetadataDocumentError("The client metadata document is larger than 5 KB.")
        max_age = _max_age(response.getheader("Cache-Control"))
    except TimeoutError as error:
        raise MetadataDocumentError(TOO_SLOW) from error
    except (OSError, http.client.HTTPException) as error:
        raise MetadataDocumentError("The client metadata document could not be downloaded.") from error
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise MetadataDocumentError("The client metadata document is not valid JSON.") from error
    return validate(url, document, max_age)


class DocumentCache:
    """Per worker and in memory: recent documents and failures by URL.

    One sign-in reads the document up to three times (the authorization page, then the
    consent's client lookup and connection); they share one download. A failed URL answers
    its error again for ``FAILURE_CACHE_SECONDS`` without a new download, so a slow or
    broken server is not asked again on every request.
    """

    def __init__(self, size=256):
        self._size = size
        self._entries = {}
        self._lock = threading.Lock()

    def get(self, url):
        """The cached document, or None; raises the cached ``MetadataDocumentError``."""
        with self._lock:
            entry = self._entries.get(url)
            if entry is None:
                return None
            expires, outcome = entry
            if expires <= time.monotonic():
                del self._entries[url]
                return None
        if isinstance(outcome, MetadataDocumentError):
            raise MetadataDocumentError(str(outcome))
        return outcome

    def put(self, url, outcome):
        """Remember a ``ClientDocument`` (for its max-age, capped) or a ``MetadataDocumentError``."""
        if isinstance(outcome, MetadataDocumentError):
            seconds = FAILURE_CACHE_SECONDS
        else:
            seconds = min(outcome.max_age, SUCCESS_CACHE_SECONDS)
        if seconds <= 0:
            return
        with self._lock:
            now = time.monotonic()
            if len(self._entries) >= self._size:
                for key in [key for key, (expires, _) in self._entries.items() if expires <= now]:
                    del self._entries[key]
                while len(self._entries) >= self._size:
                    del self._entries[next(iter(self._entries))]
            self._entries[url] = (now + seconds, outcome)

    def clear(self):
        with self._lock:
            self._entries.clear()


CACHE = DocumentCache()


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
    if not all(isinstance(uri, str) for uri in redirect_uris):
        raise MetadataDocumentError("redirect_uris must be strings.")
    refused = redirect_uri_rules.problems(redirect_uris, client_kind=METADATA_DOCUMENT)
    if refused:
        raise MetadataDocumentError(f"Redirect URI refused: {refused[0].error}") from refused[0].error
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
