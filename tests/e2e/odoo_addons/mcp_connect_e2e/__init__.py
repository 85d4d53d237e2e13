"""Test only, never installed outside the end-to-end tests (tests/e2e/conftest.py installs it).

The client metadata fetcher of mcp_connect refuses loopback addresses and certificates that no
public authority issued. The end-to-end tests serve their documents from 127.0.0.1 with a
certificate of their own; the harness names that origin and certificate in the environment of
the Odoo it starts, and this module lets exactly that origin through, with TLS still verified
against that certificate. Without those variables it changes nothing.
"""

import os
import socket

from odoo.addons.mcp_connect.oauth import client_metadata_document as cimd

ORIGIN = os.environ.get("MCP_CONNECT_E2E_METADATA_ORIGIN")
CA_FILE = os.environ.get("MCP_CONNECT_E2E_METADATA_CA")

_public_addresses = cimd._public_addresses
_tls_context = cimd._tls_context


def _test_origin_addresses(host, port):
    if ORIGIN and f"https://{host}:{port}" == ORIGIN:
        return list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))
    return _public_addresses(host, port)


def _test_tls_context():
    context = _tls_context()
    if CA_FILE:
        context.load_verify_locations(CA_FILE)
    return context


if ORIGIN and CA_FILE:
    cimd._public_addresses = _test_origin_addresses
    cimd._tls_context = _test_tls_context
