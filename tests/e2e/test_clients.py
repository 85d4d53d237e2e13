"""The flows of the clients README.rst lists (*Tested with*, *Clients*), against live Odoo.

Each client with its exact redirect URIs and habits.
"""

import secrets
from urllib.parse import urlencode

import anyio
import httpx2
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata

from .helpers import Browser, MemoryTokenStorage, OdooAdmin, call_tool, pkce_pair
from .metadata_server import metadata_document_server


def register(odoo, body):
    response = requests.post(f"{odoo.url}/oauth/register", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def authorize_url(odoo, client_id, redirect_uri, *, challenge=None, resource=None, scope=None):
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": secrets.token_urlsafe(8),
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    if resource:
        params["resource"] = resource
    if scope:
        params["scope"] = scope
    return f"{odoo.url}/oauth/authorize?{urlencode(params)}", params["state"]


def exchange(odoo, client, code, redirect_uri, verifier=None, resource=None):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier:
        data["code_verifier"] = verifier
    if resource:
        data["resource"] = resource
    # As a real client does: the secret goes the way the registration response says.
    auth = None
    if client.get("token_endpoint_auth_method") == "client_secret_post":
        data.update(client_id=client["client_id"], client_secret=client["client_secret"])
    elif client.get("client_secret"):
        auth = (client["client_id"], client["client_secret"])
    else:
        data["client_id"] = client["client_id"]
    response = requests.post(f"{odoo.url}/oauth/token", data=data, auth=auth, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


def test_claude_ai_both_callback_hosts_and_trailing_slash_resource(odoo):
    callbacks = ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"]
    # claude.ai's registration body: no token_endpoint_auth_method (the RFC default, a secret).
    client = register(
        odoo,
        {
            "client_name": "Claude",
            "redirect_uris": callbacks,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": "claudeai",
        },
    )
    assert client["client_secret"].startswith("mcpcs_")
    browser = Browser()
    for callback, resource in zip(callbacks, (odoo.url + "/", odoo.url + "/api/mcp/"), strict=True):
        verifier, challenge = pkce_pair()
        url, state = authorize_url(odoo, client["client_id"], callback, challenge=challenge, resource=resource)
        answer = browser.authorize(url, callback)
        assert answer["state"] == state
        assert answer["iss"] == odoo.url
        tokens = exchange(odoo, client, answer["code"], callback, verifier, resource=resource)
        assert tokens["scope"] == "mcp:read mcp:write"
        assert not call_tool(odoo, tokens["access_token"], "whoami", {})["isError"]


def test_chatgpt_per_connector_callback_without_pkce_only_from_chatgpt(odoo):
    callback = f"https://chatgpt.com/connector/oauth/{secrets.token_hex(6)}"
    client = register(
        odoo,
        {"client_name": "ChatGPT", "redirect_uris": [callback], "token_endpoint_auth_method": "client_secret_post"},
    )
    url, _state = authorize_url(odoo, client["client_id"], callback)
    answer = Browser().authorize(url, callback)
    tokens = exchange(odoo, client, answer["code"], callback)
    assert not call_tool(odoo, tokens["access_token"], "search_records", {"model": "res.partner", "limit": 1})[
        "isError"
    ]
    legacy = "https://chatgpt.com/connector_platform_oauth_redirect"
    legacy_client = register(odoo, {"client_name": "ChatGPT (legacy)", "redirect_uris": [legacy]})
    url, _state = authorize_url(odoo, legacy_client["client_id"], legacy)
    assert "code" in Browser().authorize(url, legacy)
    other = "https://chat.example.com/connector/oauth/abc"
    impostor = register(odoo, {"client_name": "Not ChatGPT", "redirect_uris": [other]})
    url, _state = authorize_url(odoo, impostor["client_id"], other)
    answer = Browser().authorize(url, other)
    assert answer["error"] == "invalid_request"
    assert "PKCE" in answer["error_description"]


def test_claude_code_loopback_any_port_and_registration_on_every_login(odoo):
    client_ids = []
    for _login in range(2):
        registered_port, used_port = 40000 + secrets.randbelow(9999), 50000 + secrets.randbelow(9999)
        client = register(
            odoo,
            {
                "client_name": "Claude Code",
                "token_endpoint_auth_method": "none",
                "redirect_uris": [f"http://localhost:{registered_port}/callback"],
                "grant_types": ["authorization_code", "refresh_token"],
            },
        )
        client_ids.append(client["client_id"])
        callback = f"http://localhost:{used_port}/callback"
        verifier, challenge = pkce_pair()
        url, _state = authorize_url(
            odoo, client["client_id"], callback, challenge=challenge, resource=odoo.url + "/api/mcp"
        )
        answer = Browser().authorize(url, callback)
        tokens = exchange(odoo, client, answer["code"], callback, verifier)
        assert not call_tool(odoo, tokens["access_token"], "whoami", {})["isError"]
    # Registering again from the same address with the same details (the port aside) gets the
    # same client back: one connection, not one per login.
    assert len(set(client_ids)) == 1
    admin = OdooAdmin(odoo)
    statuses = admin.call("mcp.connection", "search_read", [[["client_id", "in", client_ids]], ["status"]])
    assert [row["status"] for row in statuses] == ["connected"]


def test_cursor_custom_scheme_through_custom_oauth(odoo):
    admin = OdooAdmin(odoo)
    callback = "cursor://anysphere.cursor-mcp/oauth/callback"
    client_id = f"mcpci_cursor_{secrets.token_hex(8)}"
    admin.call(
        "mcp.connection",
        "create",
        [
            {
                "name": "Cursor",
                "connection_type": "custom",
                "client_id": client_id,
                "client_type": "public",
                "redirect_uris": callback,
            }
        ],
    )
    verifier, challenge = pkce_pair()
    url, _state = authorize_url(odoo, client_id, callback, challenge=challenge)
    browser = Browser()
    answer = browser.authorize(url, callback)
    tokens = exchange(odoo, {"client_id": client_id}, answer["code"], callback, verifier)
    assert not call_tool(odoo, tokens["access_token"], "whoami", {})["isError"]
    # The same scheme is refused to a tool that registers itself.
    response = requests.post(f"{odoo.url}/oauth/register", json={"redirect_uris": [callback]}, timeout=30)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"


def test_sdk_with_a_client_id_metadata_document(odoo, metadata_endpoint):
    redirect_uri = "http://127.0.0.1:34567/callback"

    def document(url):
        return {
            "client_id": url,
            "client_name": "Metadata document client",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        }

    admin = OdooAdmin(odoo)
    with metadata_document_server(document, metadata_endpoint) as (document_url, hits):
        # The test-only addon lets exactly the origin the harness named through; the same server
        # under another name (localhost) is refused by the SSRF guard.
        _verifier, challenge = pkce_pair()
        other_name = document_url.replace("127.0.0.1", "localhost")
        url, _state = authorize_url(odoo, other_name, redirect_uri, challenge=challenge)
        page = requests.get(url, timeout=30)
        assert page.status_code == 400
        assert "private or reserved network address" in page.text
        assert not hits
        storage = MemoryTokenStorage()
        box = {}
        browser = Browser()

        async def redirect_handler(authorization_url):
            box["result"] = await anyio.to_thread.run_sync(browser.code_result, authorization_url, redirect_uri)

        async def callback_handler():
            return box.pop("result")

        provider = OAuthClientProvider(
            server_url=f"{odoo.url}/api/mcp",
            client_metadata=OAuthClientMetadata(redirect_uris=[redirect_uri], token_endpoint_auth_method="none"),
            storage=storage,
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
            client_metadata_url=document_url,
        )

        async def session():
            async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(60.0)) as http:
                async with Client(streamable_http_client(f"{odoo.url}/api/mcp", http_client=http)) as client:
                    return await client.call_tool("whoami", {})

        result = anyio.run(session)
        assert result.structured_content["user"]["login"] == "admin"
        assert storage.client_info.client_id == document_url
        # One download for the whole sign-in (authorization page, consent, connection).
        assert hits == ["/client.json"]
    connections = admin.call(
        "mcp.connection", "search_read", [[["client_id", "=", document_url]], ["connection_type", "name"]]
    )
    assert connections == [
        {"id": connections[0]["id"], "connection_type": "metadata", "name": "Metadata document client"}
    ]
