"""A client ID metadata document served over HTTPS on 127.0.0.1, with a throw-away certificate."""

import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = Path(directory) / "cert.pem", Path(directory) / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass(frozen=True)
class MetadataEndpoint:
    """The origin the tests serve documents from, fixed before Odoo starts, and its certificate."""

    port: int
    cert_path: Path
    key_path: Path

    @property
    def origin(self):
        return f"https://127.0.0.1:{self.port}"

    def environment(self):
        """What the test-only addon mcp_connect_e2e reads in the Odoo it runs in."""
        return {"MCP_CONNECT_E2E_METADATA_ORIGIN": self.origin, "MCP_CONNECT_E2E_METADATA_CA": str(self.cert_path)}


def make_metadata_endpoint(directory):
    cert_path, key_path = _self_signed(directory)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return MetadataEndpoint(port, cert_path, key_path)


@contextlib.contextmanager
def metadata_document_server(document_for, endpoint):
    """Serve ``document_for(url)`` at ``<endpoint origin>/client.json``; yields (url, hits)."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = json.dumps(document_for(url)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "max-age=60")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", endpoint.port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(endpoint.cert_path, endpoint.key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    url = f"{endpoint.origin}/client.json"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url, hits
    finally:
        server.shutdown()
        server.server_close()
