"""Helpers of the end-to-end tests: a headless "browser" for Odoo's login and consent pages,
an in-memory token store for the MCP SDK, and admin calls through Odoo's own JSON-RPC."""

import html
import re
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from mcp.client.auth import AuthorizationCodeResult, TokenStorage

ADMIN = ("admin", "admin")


class MemoryTokenStorage(TokenStorage):
    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


def _hidden(page, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', page) or re.search(rf'value="([^"]*)" name="{name}"', page)
    assert match, f"no hidden field {name} in the page"
    return html.unescape(match.group(1))


class Browser:
    """Follows the authorization flow as a person would: Odoo's login page, then the consent page."""

    def __init__(self, login="admin", password="admin", decision="allow", host=None, verify=True):
        self.session = requests.Session()
        self.verify = verify
        self.login = login
        self.password = password
        self.decision = decision
        self.pages = []
        # Multi-database set-ups: connect to 127.0.0.1 but name the database's host.
        self.host = host
        if host:
            self.session.headers["Host"] = host

    def _local(self, url):
        if self.host and url.startswith(f"http://{self.host}"):
            return url.replace(f"http://{self.host}", "http://127.0.0.1:" + self.host.rsplit(":", 1)[1], 1)
        return url

    def authorize(self, authorization_url, redirect_prefix):
        """Return the query of the final redirect to the client (code, state, iss or error)."""
        response = self.session.get(
            self._local(authorization_url), allow_redirects=False, timeout=30, verify=self.verify
        )
        for _step in range(10):
            self.pages.append((response.status_code, response.url))
            if response.status_code in (301, 302, 303):
                location = urljoin(response.url, response.headers["Location"])
                if location.startswith(redirect_prefix):
                    assert response.status_code == 302, "redirects to the client must be 302"
                    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
                response = self.session.get(
                    self._local(location), allow_redirects=False, timeout=30, verify=self.verify
                )
            elif response.status_code == 200 and 'name="login"' in response.text:
                action = urljoin(response.url, "/web/login")
                data = {
                    "csrf_token": _hidden(response.text, "csrf_token"),
                    "login": self.login,
                    "password": self.password,
                    "redirect": _hidden(response.text, "redirect"),
                }
                response = self.session.post(action, data=data, allow_redirects=False, timeout=30, verify=self.verify)
            elif response.status_code == 200 and "o_mcp_consent" in response.text:
                data = {
                    "csrf_token": _hidden(response.text, "csrf_token"),
                    "request_handle": _hidden(response.text, "request_handle"),
                    "decision": self.decision,
                }
                response = self.session.post(
                    urljoin(response.url, "/oauth/authorize"),
                    data=data,
                    allow_redirects=False,
                    timeout=30,
                    verify=self.verify,
                )
            else:
                raise AssertionError(f"unexpected page {response.status_code} {response.url}: {response.text[:300]}")
        raise AssertionError("the authorization flow did not end")

    def code_result(self, authorization_url, redirect_prefix):
        answer = self.authorize(authorization_url, redirect_prefix)
        assert "code" in answer, answer
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))


def connection_of(admin, client):
    """The ids of the connection ``client`` signed in through (a list of one id, as ``search`` answers)."""
    return admin.call("mcp.connection", "search", [[["client_id", "=", client.client_id]]])


class OdooAdmin:
    """An administrator using Odoo's own web JSON-RPC, as the web client does."""

    def __init__(self, server, host=None, database=None):
        self.server = server
        self.session = requests.Session()
        if host:
            self.session.headers["Host"] = host
        database = database or server.database
        response = self.session.post(
            f"{server.url}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": database, "login": ADMIN[0], "password": ADMIN[1]}},
            timeout=30,
        )
        assert response.json().get("result"), response.text

    def call(self, model, method, args=(), kwargs=None):
        response = self.session.post(
            f"{self.server.url}/web/dataset/call_kw/{model}/{method}",
            json={
                "jsonrpc": "2.0",
                "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs or {}},
            },
            timeout=60,
        )
        body = response.json()
        assert "error" not in body, body["error"]
        return body["result"]

    def set_param(self, key, value):
        self.call("ir.config_parameter", "set_param", [key, value])


def pkce_pair():
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class OAuthClient:
    """A public client registered dynamically, signing in through the real login and consent pages."""

    def __init__(self, server, redirect_uri="http://127.0.0.1:45999/callback", name="e2e client", host=None):
        self.server = server
        self.redirect_uri = redirect_uri
        self.host = host
        self.headers = {"Host": host} if host else {}
        # The resource is what the server's protected resource metadata names (its public MCP URL),
        # whatever address we connect to, as real clients discover it.
        self.resource = requests.get(
            f"{server.url}/.well-known/oauth-protected-resource/api/mcp", headers=self.headers, timeout=30
        ).json()["resource"]
        response = requests.post(
            f"{server.url}/oauth/register",
            headers=self.headers,
            json={
                "client_name": name,
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            },
            timeout=30,
        )
        assert response.status_code == 201, response.text
        self.client_id = response.json()["client_id"]

    def authorize_url(self, scope=None):
        """An authorization request with PKCE, as a client builds it; returns ``(url, verifier)``."""
        verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": "e2e",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": self.resource,
        }
        if scope:
            params["scope"] = scope
        base = f"http://{self.host}" if self.host else self.server.url
        return f"{base}/oauth/authorize?{urlencode(params)}", verifier

    def authorize_code(self, browser=None, scope=None):
        """A fresh authorization code for the browser's user (login + consent); returns ``(code, verifier)``."""
        browser = browser or Browser(host=self.host)
        url, verifier = self.authorize_url(scope)
        return browser.authorize(url, self.redirect_uri)["code"], verifier

    def sign_in(self, browser=None, scope=None):
        """Tokens for the browser's user: authorize (login + consent) then exchange the code."""
        code, verifier = self.authorize_code(browser, scope)
        response = self.exchange(code, verifier)
        assert response.status_code == 200, response.text
        return response.json()

    def exchange(self, code, verifier, session=requests):
        """The token endpoint's answer to an authorization-code grant (``session`` keeps the connection)."""
        return session.post(
            f"{self.server.url}/oauth/token",
            headers=self.headers,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
                "client_id": self.client_id,
            },
            timeout=60,
        )

    def refresh(self, refresh_token, session=requests):
        return session.post(
            f"{self.server.url}/oauth/token",
            headers=self.headers,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id},
            timeout=60,
        )


def mcp_call(server, token, method, params=None, request_id=1, host=None, session=None):
    """One stateless (2026-07-28) MCP request with the headers the revision requires (on
    ``session``'s kept-alive connection when given)."""
    params = dict(params or {})
    params["_meta"] = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    headers = {
        "Authorization": f"Bearer {token}",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": method,
        "Accept": "application/json, text/event-stream",
    }
    if method == "tools/call":
        headers["Mcp-Name"] = params["name"]
    if host:
        headers["Host"] = host
    return (session or requests).post(
        f"{server.url}/api/mcp",
        json={"jsonrpc": "2.0", "id": request_id, "method": method, "params": params},
        headers=headers,
        timeout=60,
    )


def call_tool(server, token, name, arguments, host=None):
    response = mcp_call(server, token, "tools/call", {"name": name, "arguments": arguments}, host=host)
    assert response.status_code == 200, response.text
    return response.json()["result"]
