"""print_report renders a real customer invoice (Odoo's own ``account.account_invoices``, external
layout and all) as a PDF for the official MCP Python SDK, on a live Odoo with Accounting installed,
the same PDF as Odoo's Print button; and the connection's policy still decides which invoices it
prints.

The Accounting database is its own (installing ``account`` costs ~20 s of CPU, once per Odoo
version), with no demo data: the invoice is created and posted here, through Odoo's JSON-RPC.
The server is a live one because wkhtmltopdf fetches the report's style sheets from it while the
report request is still being answered.
"""

import base64
import io

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import BlobResourceContents, EmbeddedResource
from pypdf import PdfReader

from .conftest import serve
from .helpers import Browser, MemoryTokenStorage, OdooAdmin, call_tool
from .test_sdk_oauth import make_provider

REPORT = "account.account_invoices"
PRINTED = "account.report_invoice_with_payments"
CUSTOMER = "Invoiced Customer E2E"


@pytest.fixture(scope="module")
def accounting(install, pg, template):
    """A running Odoo with mcp_connect and Accounting (its generic chart of accounts) installed."""
    yield from serve(install, pg, template, f"mcp_account_{install.major}", "the invoice report", modules=["account"])


def post_invoice(admin, customer, price_unit):
    partner = admin.call("res.partner", "create", [{"name": customer, "ref": "CUST-INV"}])
    move = admin.call(
        "account.move",
        "create",
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner,
                "invoice_line_ids": [[0, 0, {"name": "Consulting hours", "quantity": 3, "price_unit": price_unit}]],
            }
        ],
    )
    admin.call("account.move", "action_post", [[move]])
    return admin.call("account.move", "read", [[move], ["name", "state"]])[0]


async def print_with_sdk(server, storage, arguments):
    provider = make_provider(server, Browser(), storage, "invoice report e2e")
    async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(120.0)) as http:
        transport = streamable_http_client(f"{server.url}/api/mcp", http_client=http)
        async with Client(transport, mode="auto") as client:
            return await client.call_tool("print_report", arguments)


def test_an_invoice_prints_as_a_real_pdf_within_the_connection_s_policy(accounting):
    admin = OdooAdmin(accounting)
    invoice = post_invoice(admin, CUSTOMER, 150)
    assert invoice["state"] == "posted"
    storage = MemoryTokenStorage()

    result = anyio.run(
        lambda: print_with_sdk(accounting, storage, {"model": "account.move", "report": REPORT, "ids": [invoice["id"]]})
    )
    assert not result.is_error, result.content
    assert result.structured_content["delivery"] == "inline"
    assert result.structured_content["report"] == REPORT
    embedded = [item for item in result.content if isinstance(item, EmbeddedResource)]
    assert len(embedded) == 1
    assert isinstance(embedded[0].resource, BlobResourceContents)
    assert embedded[0].resource.mime_type == "application/pdf"
    raw = base64.b64decode(embedded[0].resource.blob)
    assert raw.startswith(b"%PDF"), raw[:20]
    assert result.structured_content["size"] == len(raw)
    pages = PdfReader(io.BytesIO(raw)).pages
    assert len(pages) == 1
    assert invoice["name"].replace("/", "-") in result.structured_content["name"]
    # Debian's wkhtmltopdf (Qt without wkhtmltopdf's patches) draws the layout's web fonts as
    # outlines, so the PDF has no text to read: it must be, page for page, what Odoo's own Print
    # button gives for this invoice (only the creation date differs).
    printed = admin.session.get(f"{accounting.url}/report/pdf/{PRINTED}/{invoice['id']}", timeout=120)
    assert printed.headers["Content-Type"] == "application/pdf"
    expected = PdfReader(io.BytesIO(printed.content)).pages
    assert [page.get_contents().get_data() for page in pages] == [page.get_contents().get_data() for page in expected]

    # The connection's policy decides which invoices it may print: a record filter that leaves the
    # invoice out, then an allow-list without account.move.
    token = storage.tokens.access_token
    connection = admin.call("mcp.connection", "search", [[["client_id", "=", storage.client_info.client_id]]])
    move_model = admin.call("ir.model", "search", [[["model", "=", "account.move"]]])
    rule = {"model_id": move_model[0], "domain": "[('amount_total', '<', 100)]"}
    admin.call("mcp.connection", "write", [connection, {"model_rule_ids": [[0, 0, rule]]}])
    filtered = call_tool(
        accounting, token, "print_report", {"model": "account.move", "report": REPORT, "ids": [invoice["id"]]}
    )
    assert filtered["isError"]
    assert f"No account.move record with id {invoice['id']}" in filtered["content"][0]["text"]

    partner_model = admin.call("ir.model", "search", [[["model", "=", "res.partner"]]])
    admin.call(
        "mcp.connection", "write", [connection, {"model_rule_ids": [[5, 0, 0], [0, 0, {"model_id": partner_model[0]}]]}]
    )
    refused = call_tool(
        accounting, token, "print_report", {"model": "account.move", "report": REPORT, "ids": [invoice["id"]]}
    )
    assert refused["isError"]
    assert "model account.move is not allowed" in refused["content"][0]["text"]
    outcomes = admin.call(
        "mcp.audit.log",
        "search_read",
        [[["tool", "=", "print_report"], ["connection_id", "in", connection]], ["outcome"]],
        {"order": "id"},
    )
    assert [row["outcome"] for row in outcomes] == ["ok", "error", "denied"]
