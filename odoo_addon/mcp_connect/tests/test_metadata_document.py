"""Client ID metadata documents fetched from a real HTTPS server on 127.0.0.1.

The server runs in a thread of the test with a certificate made for the test. The fetcher
refuses loopback addresses and trusts only public certificate authorities, so each test
that needs the download to happen lets 127.0.0.1 and that certificate through by patching
the fetcher's address check and TLS context, in this process only.
"""

import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path
from unittest.mock import patch

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from odoo.tests import tagged

from .. import config
from ..oauth import client_metadata_document as cimd
from .common import CALLBACK, McpHttpCase, pkce_pair

DRIP_SECONDS = 0.5
# The fetcher's deadline for the whole download (connection, headers and body), and the shorter
# one the tests of that deadline give it, so that the suite does not wait 5 seconds three times.
DEADLINE_SECONDS = 5
TEST_DEADLINE_SECONDS = 1.5


def _certificate():
    """A throw-away certificate for 127.0.0.1: (certificate PEM, key PEM)."""
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
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


class DocumentServer:
    """HTTPS on 127.0.0.1; ``answer(connection, url)`` writes each response, as slowly as it likes."""

    def __init__(self, answer, path="/client.json"):
        self.answer = answer
        self.connections = 0
        self.certificate, key = _certificate()
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as directory:
            cert_path, key_path = Path(directory) / "cert.pem", Path(directory) / "key.pem"
            cert_path.write_bytes(self.certificate)
            key_path.write_bytes(key)
            self._context.load_cert_chain(cert_path, key_path)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.origin = f"https://127.0.0.1:{self._listener.getsockname()[1]}"
        self.url = self.origin + path
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._serve, daemon=True)]
        self._threads[0].start()

    def _serve(self):
        while not self._stopped.is_set():
            try:
                connection, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._handle, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, connection):
        with contextlib.suppress(OSError), connection:
            connection.settimeout(10)
            with self._context.wrap_socket(connection, server_side=True) as tls:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                target = request.split(b" ", 2)[1].decode()
                self.answer(tls, self.origin + target, self._stopped)

    def stop(self):
        self._stopped.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def tls_context(self):
        """The fetcher's TLS context, trusting this server's certificate (verification stays on)."""
        return ssl.create_default_context(cadata=self.certificate.decode())


def document_for(url):
    return {
        "client_id": url,
        "client_name": "Metadata document tool",
        "redirect_uris": [CALLBACK],
        "token_endpoint_auth_method": "none",
    }


def answer_document(tls, url, _stopped):
    body = json.dumps(document_for(url)).encode()
    tls.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=300\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


def answer_not_found(tls, _url, _stopped):
    tls.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def answer_deeply_nested(tls, _url, _stopped):
    body = b"[" * 2500 + b"]" * 2500
    tls.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


def drip(tls, data, stopped):
    """Send ``data`` a byte at a time until it is sent, the client hangs up or the test ends."""
    for byte in data:
        if stopped.wait(DRIP_SECONDS):
            return
        tls.sendall(bytes([byte]))


def answer_dripping_body(tls, url, stopped):
    body = json.dumps(document_for(url)).encode()
    tls.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    drip(tls, body, stopped)


def answer_dripping_headers(tls, url, stopped):
    tls.sendall(b"HTTP/1.1 200 OK\r\n")
    drip(tls, b"X-Slow: " + b"a" * 60 + b"\r\n\r\n", stopped)


@tagged("post_install", "-at_install")
class TestMetadataDocumentFetch(McpHttpCase):
    def setUp(self):
        super().setUp()
        cimd.CACHE.clear()
        self.addCleanup(cimd.CACHE.clear)

    def serve(self, answer, path="/client.json"):
        server = DocumentServer(answer, path)
        self.addCleanup(server.stop)
        return server

    def let_through(self, server):
        """Let the fetcher reach ``server`` (loopback, test certificate) for the rest of the test."""
        for patcher in (
            patch.object(cimd, "_public_addresses", lambda host, port: ["127.0.0.1"]),
            patch.object(cimd, "_tls_context", server.tls_context),
        ):
            patcher.start()
            self.addCleanup(patcher.stop)

    def authorize(self, client_id):
        _verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return params, self.get("/oauth/authorize", params, timeout=30)

    def assert_refused(self, response, message):
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertIn("Application not available", response.text)
        self.assertIn(message, response.text)

    def shorten_deadline(self):
        """Give the fetcher the tests' shorter deadline for the rest of the test (its message, which
        names the product's 5 seconds, stays as it is)."""
        self.assertEqual(cimd.TIMEOUT_SECONDS, DEADLINE_SECONDS)
        self.assertIn(f"more than {DEADLINE_SECONDS} seconds", cimd.TOO_SLOW)
        patcher = patch.object(cimd, "TIMEOUT_SECONDS", TEST_DEADLINE_SECONDS)
        patcher.start()
        self.addCleanup(patcher.stop)

    def timed_authorize(self, client_id):
        """The response, and how much longer it took than a sign-in refused without a download.

        The difference is the download's own time: the request's handling and its error page
        cost the same in both, and as much more as the machine is loaded.
        """
        started = time.monotonic()
        _params, response = self.authorize("http://127.0.0.1/not-https.json")
        self.assertEqual(response.status_code, 400)
        without_download = time.monotonic() - started
        started = time.monotonic()
        _params, response = self.authorize(client_id)
        return response, time.monotonic() - started - without_download

    # -- one deadline for the whole download ----------------------------------------------

    def test_a_body_sent_a_byte_at_a_time_is_abandoned_at_the_deadline(self):
        self.shorten_deadline()
        server = self.serve(answer_dripping_body)
        self.let_through(server)
        response, elapsed = self.timed_authorize(server.url)
        self.assertLess(elapsed, TEST_DEADLINE_SECONDS + 1.5)
        self.assertEqual(server.connections, 1)
        self.assert_refused(response, "took more than 5 seconds")

    def test_headers_sent_a_byte_at_a_time_are_abandoned_at_the_deadline(self):
        self.shorten_deadline()
        server = self.serve(answer_dripping_headers)
        self.let_through(server)
        response, elapsed = self.timed_authorize(server.url)
        self.assertLess(elapsed, TEST_DEADLINE_SECONDS + 1.5)
        self.assertEqual(server.connections, 1)
        self.assert_refused(response, "took more than 5 seconds")

    def test_a_name_that_takes_long_to_resolve_is_abandoned_at_the_deadline(self):
        self.shorten_deadline()
        server = self.serve(answer_document)
        self.let_through(server)
        resolved = threading.Event()

        def slow_resolution(host, port):
            resolved.wait(10)
            return ["127.0.0.1"]

        self.addCleanup(resolved.set)
        with patch.object(cimd, "_public_addresses", slow_resolution):
            response, elapsed = self.timed_authorize(server.url)
        self.assertLess(elapsed, TEST_DEADLINE_SECONDS + 1.5)
        self.assertEqual(server.connections, 0)
        self.assert_refused(response, "took more than 5 seconds")

    def test_a_deeply_nested_document_is_refused_as_invalid_json(self):
        server = self.serve(answer_deeply_nested)
        self.let_through(server)
        self.assert_refused(self.authorize(server.url)[1], "not valid JSON")

    # -- caches ---------------------------------------------------------------------------

    def test_a_failed_url_is_not_fetched_again_for_a_while(self):
        server = self.serve(answer_not_found)
        self.let_through(server)
        self.assert_refused(self.authorize(server.url)[1], "answered HTTP 404")
        self.assert_refused(self.authorize(server.url)[1], "answered HTTP 404")
        self.assertEqual(server.connections, 1)

    def test_one_sign_in_downloads_the_document_once(self):
        server = self.serve(answer_document)
        self.let_through(server)
        params, response = self.authorize(server.url)
        self.assertEqual(response.status_code, 302)
        self.assertIn("/web/login", response.headers["Location"])
        self.authenticate(self.user.login, self.password)
        _page, handle, csrf = self.consent_page(params)
        response = self.decide(handle, csrf)
        self.assertEqual(response.status_code, 302, response.text[:300])
        self.assertTrue(response.headers["Location"].startswith(CALLBACK + "?code="))
        connection = self.env["mcp.connection"].sudo().search([("client_id", "=", server.url)])
        self.assertEqual(connection.connection_type, "metadata")
        self.assertEqual(connection.name, "Metadata document tool")
        self.assertEqual(server.connections, 1)

    # -- the switches of Settings ------------------------------------------------------------

    def sign_in(self, client_id):
        """Authorize ``client_id`` as the test user, consenting if asked; the final answer."""
        self.authenticate(self.user.login, self.password)
        params, response = self.authorize(client_id)
        if response.status_code == 200:
            _page, handle, csrf = self.consent_page(params)
            response = self.decide(handle, csrf)
        return response

    def metadata_connections(self):
        return (
            self.env["mcp.connection"]
            .sudo()
            .with_context(active_test=False)
            .search([("connection_type", "=", "metadata")])
        )

    def assert_unknown(self, response):
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertIn("Unknown application", response.text)

    def test_with_self_registration_off_a_new_document_client_gets_no_connection(self):
        server = self.serve(answer_document)
        self.let_through(server)
        config.set_value(self.env, "registration_enabled", False)
        self.authenticate(self.user.login, self.password)
        self.assert_unknown(self.authorize(server.url)[1])
        token = self.post_form(
            "/oauth/token", {"grant_type": "authorization_code", "code": "x", "client_id": server.url}
        )
        self.assertEqual(token.status_code, 401, token.text)
        self.assertEqual(token.json()["error"], "invalid_client")
        # Nothing was downloaded: the document could not make a connection anyway.
        self.assertEqual(server.connections, 0)
        self.assertFalse(self.metadata_connections())

    def test_self_registration_turned_off_during_consent_creates_no_connection(self):
        server = self.serve(answer_document)
        self.let_through(server)
        self.authenticate(self.user.login, self.password)
        params, _response = self.authorize(server.url)
        _page, handle, csrf = self.consent_page(params)
        config.set_value(self.env, "registration_enabled", False)
        response = self.decide(handle, csrf)
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertIn("Application not available", response.text)
        self.assertFalse(self.metadata_connections())

    def test_with_self_registration_off_a_connected_document_client_keeps_working(self):
        server = self.serve(answer_document)
        self.let_through(server)
        self.assertEqual(self.sign_in(server.url).status_code, 302)
        connection = self.metadata_connections()
        self.assertEqual(len(connection), 1)
        config.set_value(self.env, "registration_enabled", False)
        connection.metadata_expires_at = False  # the document is read again: still accepted
        response = self.sign_in(server.url)
        self.assertEqual(response.status_code, 302, response.text[:300])
        self.assertTrue(response.headers["Location"].startswith(CALLBACK + "?code="))
        self.assertEqual(self.metadata_connections(), connection)

    def test_with_documents_refused_a_connected_document_client_is_refused(self):
        server = self.serve(answer_document)
        self.let_through(server)
        self.assertEqual(self.sign_in(server.url).status_code, 302)
        config.set_value(self.env, "metadata_documents_enabled", False)
        self.assert_unknown(self.sign_in(server.url))
        self.assertEqual(server.connections, 1)

    # -- the budget of one address --------------------------------------------------------

    def test_an_address_may_make_the_server_download_only_so_many_documents(self):
        config.set_value(self.env, "metadata_fetches_per_ip", 2)
        server = self.serve(answer_not_found)
        self.let_through(server)
        for number in range(2):
            self.assert_refused(self.authorize(f"{server.origin}/client-{number}.json")[1], "answered HTTP 404")
        response = self.authorize(f"{server.origin}/client-2.json")[1]
        self.assert_refused(response, "Too many client metadata documents")
        self.assertEqual(server.connections, 2)
        # The machine endpoints share the budget: a client_id URL there is not fetched either.
        token = self.post_form(
            "/oauth/token",
            {"grant_type": "authorization_code", "code": "x", "client_id": f"{server.origin}/client-3.json"},
        )
        self.assertEqual(token.status_code, 400)
        self.assertIn("Too many client metadata documents", token.json()["error_description"])
        self.assertEqual(server.connections, 2)

    # -- web addresses the draft forbids ----------------------------------------------------

    def test_dot_segments_are_refused_without_a_download(self):
        server = self.serve(answer_document)
        self.let_through(server)
        for path in ("/tools/../client.json", "/./client.json", "/tools/%2E%2e/client.json", "/tools/."):
            with self.subTest(path=path):
                response = self.authorize(server.origin + path)[1]
                self.assert_refused(response, "may not contain dot segments")
        self.assertEqual(server.connections, 0)

    def test_the_removed_test_parameter_no_longer_opens_loopback(self):
        server = self.serve(answer_document)
        self.env["ir.config_parameter"].sudo().set_param(
            "mcp_connect.test_insecure_metadata_origins", json.dumps([server.origin])
        )
        response = self.authorize(server.url)[1]
        self.assert_refused(response, "private or reserved network address")
        self.assertEqual(server.connections, 0)
