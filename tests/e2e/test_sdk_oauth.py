"""The official `mcp` Python SDK, unchanged, against a live Odoo: discovery, dynamic registration,
login and consent, code exchange, tools in both connect modes, refresh, and revocation."""

import time

import anyio
import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata

from .helpers import Browser, MemoryTokenStorage, OdooAdmin

REDIRECT_URI = "http://127.0.0.1:33418/callback"


def make_provider(server, browser, storage, name):
    box = {}

    async def redirect_handler(authorization_url):
        box["result"] = await anyio.to_thread.run_sync(browser.code_result, authorization_url, REDIRECT_URI)

    async def callback_handler():
        return box.pop("result")

    metadata = OAuthClientMetadata(
        client_name=name,
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    return OAuthClientProvider(
        server_url=f"{server.url}/api/mcp",
        client_metadata=metadata,
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )


async def run_session(server, mode, storage, browser, *, expire_before_second_call=False, name="mcp-python-sdk e2e"):
    # A registration with the same metadata from the same address gets the same client back:
    # tests that count a client's tokens or consents register under a name of their own.
    provider = make_provider(server, browser, storage, name)
    async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(60.0)) as http:
        transport = streamable_http_client(f"{server.url}/api/mcp", http_client=http)
        async with Client(transport, mode=mode) as client:
            tools = await client.list_tools()
            first = await client.call_tool("search_records", {"model": "res.partner", "fields": ["name"], "limit": 5})
            if expire_before_second_call:
                # Simulate the access token's lifetime passing, so the SDK refreshes it on its own.
                provider.context.token_expiry_time = time.time() - 1
            second = await client.call_tool("whoami", {})
            return {
                "protocol": client.protocol_version,
                "tools": [tool.name for tool in tools.tools],
                "first": first,
                "second": second,
            }


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_sdk_registers_signs_in_calls_tools_and_refreshes(odoo, mode):
    storage = MemoryTokenStorage()
    browser = Browser()
    result = anyio.run(
        lambda: run_session(odoo, mode, storage, browser, expire_before_second_call=True, name=f"sdk e2e {mode}")
    )
    expected = "2025-11-25" if mode == "legacy" else "2026-07-28"
    assert result["protocol"] == expected
    assert {"search_records", "whoami", "create_records"} <= set(result["tools"])
    assert not result["first"].is_error
    assert result["first"].structured_content["model"] == "res.partner"
    assert result["second"].structured_content["user"]["login"] == "admin"
    # The SDK registered itself (dynamic registration) and went through login and consent.
    assert storage.client_info.client_id.startswith("mcpci_")
    assert any("/web/login" in url for _status, url in browser.pages)
    # It refreshed: the stored refresh token is a newer one than the first.
    refresh_tokens = OdooAdmin(odoo).call(
        "mcp.token",
        "search_count",
        [[["connection_id.client_id", "=", storage.client_info.client_id], ["kind", "=", "refresh"]]],
    )
    assert refresh_tokens == 2
    assert storage.tokens.refresh_token.startswith("mcprt_")


def test_revocation_in_odoo_stops_the_next_call(odoo):
    storage = MemoryTokenStorage()
    anyio.run(lambda: run_session(odoo, "auto", storage, Browser(), name="sdk e2e revocation"))
    admin = OdooAdmin(odoo)
    connection_ids = admin.call("mcp.connection", "search", [[["client_id", "=", storage.client_info.client_id]]])
    admin.call("mcp.connection", "action_revoke", [connection_ids])
    response = requests.post(
        f"{odoo.url}/api/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {storage.tokens.access_token}", "MCP-Protocol-Version": "2025-11-25"},
        timeout=30,
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_consent_is_remembered_on_reconnect(odoo):
    first_browser = Browser()
    storage = MemoryTokenStorage()
    anyio.run(lambda: run_session(odoo, "legacy", storage, first_browser, name="sdk e2e consent"))
    assert any(status == 200 for status, _url in first_browser.pages)
    storage.tokens = None
    second_browser = Browser()
    anyio.run(lambda: run_session(odoo, "legacy", storage, second_browser, name="sdk e2e consent"))
    consent_pages = [url for status, url in second_browser.pages if status == 200 and "/oauth/authorize" in url]
    assert not consent_pages, "a reconnect with the same scopes must not ask for consent again"
