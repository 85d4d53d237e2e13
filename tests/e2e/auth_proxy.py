"""A reverse proxy on 127.0.0.1 that adds `Authorization: Bearer …` to every request.

For MCP clients that cannot send a header of their own (the conformance suite's server mode):
they talk to the proxy as if it were the server, the proxy forwards method, path, query,
headers and body to Odoo with the bearer token, and streams the answer back unchanged.

Seen from Odoo, the proxy is invisible: a Host or Origin that names the proxy is rewritten to
name Odoo (as a reverse proxy that keeps the public host would), any other value is kept, so
Odoo's checks of foreign origins still apply.
"""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy sets itself.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
CHUNK = 64 * 1024


class AuthProxy:
    """``with AuthProxy(upstream, token) as proxy:`` then use ``proxy.url`` instead of ``upstream``."""

    def __init__(self, upstream, token, timeout=120):
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_netloc = parts.netloc
        self.token = token
        self.timeout = timeout
        self.requests = []  # (method, path, status) of every forwarded request, for failure reports
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="auth-proxy", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _rewrite(self, name, value):
        """Host and Origin naming the proxy name Odoo instead; foreign values pass as they are."""
        own = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        if name == "host" and value.lower() in own:
            return self.upstream_netloc
        if name == "origin":
            parts = urlsplit(value)
            if parts.netloc.lower() in own:
                return f"{parts.scheme}://{self.upstream_netloc}"
        return value

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):  # keep pytest's output clean
                pass

            def _read_body(self):
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    parts = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else None

            def _forward(self):
                body = self._read_body()
                headers = {}
                for name, value in self.headers.items():
                    lower = name.lower()
                    if lower in HOP_BY_HOP or lower == "authorization":
                        continue
                    headers[name] = proxy._rewrite(lower, value)
                headers["Authorization"] = f"Bearer {proxy.token}"
                if body is not None:
                    headers["Content-Length"] = str(len(body))
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=proxy.timeout)
                try:
                    try:
                        upstream.request(self.command, self.path, body=body, headers=headers)
                        response = upstream.getresponse()
                    except OSError as error:
                        proxy.requests.append((self.command, self.path, f"502 {error}"))
                        self.send_error(502, f"upstream unreachable: {error}")
                        return
                    proxy.requests.append((self.command, self.path, response.status))
                    self._relay(response)
                finally:
                    upstream.close()

            def _relay(self, response):
                self.send_response_only(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                length = response.getheader("Content-Length")
                if self.command == "HEAD" or response.status in (204, 304):
                    if length is not None:
                        self.send_header("Content-Length", length)
                    self.end_headers()
                    return
                if length is not None:
                    self.send_header("Content-Length", length)
                    self.end_headers()
                    while chunk := response.read(CHUNK):
                        self.wfile.write(chunk)
                    return
                # No length (a stream such as SSE): relay it chunk by chunk as it arrives.
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while chunk := response.read1(CHUNK):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_HEAD = _forward

        return Handler
