"""Helpers of the end-to-end tests: a headless "browser" for Odoo's login and consent pages,
an in-memory token store for the MCP SDK, and admin calls through Odoo's own JSON-RPC."""

import html
import re
from urllib.parse import parse_qs, urljoin, urlsplit

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

    def __init__(self, login="admin", password="admin", decision="allow"):
        self.session = requests.Session()
        self.login = login
        self.password = password
        self.decision = decision
        self.pages = []

    def authorize(self, authorization_url, redirect_prefix):
        """Return the query of the final redirect to the client (code, state, iss or error)."""
        response = self.session.get(authorization_url, allow_redirects=False, timeout=30)
        for _step in range(10):
            self.pages.append((response.status_code, response.url))
            if response.status_code in (301, 302, 303):
                location = urljoin(response.url, response.headers["Location"])
                if location.startswith(redirect_prefix):
                    assert response.status_code == 302, "redirects to the client must be 302"
                    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
                response = self.session.get(location, allow_redirects=False, timeout=30)
            elif response.status_code == 200 and 'name="login"' in response.text:
                action = urljoin(response.url, "/web/login")
                data = {
                    "csrf_token": _hidden(response.text, "csrf_token"),
                    "login": self.login,
                    "password": self.password,
                    "redirect": _hidden(response.text, "redirect"),
                }
                response = self.session.post(action, data=data, allow_redirects=False, timeout=30)
            elif response.status_code == 200 and "o_mcp_consent" in response.text:
                data = {
                    "csrf_token": _hidden(response.text, "csrf_token"),
                    "request_handle": _hidden(response.text, "request_handle"),
                    "decision": self.decision,
                }
                response = self.session.post(
                    urljoin(response.url, "/oauth/authorize"), data=data, allow_redirects=False, timeout=30
                )
            else:
                raise AssertionError(f"unexpected page {response.status_code} {response.url}: {response.text[:300]}")
        raise AssertionError("the authorization flow did not end")

    def code_result(self, authorization_url, redirect_prefix):
        answer = self.authorize(authorization_url, redirect_prefix)
        assert "code" in answer, answer
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))


class OdooAdmin:
    """An administrator using Odoo's own web JSON-RPC, as the web client does."""

    def __init__(self, server):
        self.server = server
        self.session = requests.Session()
        response = self.session.post(
            f"{server.url}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": server.database, "login": ADMIN[0], "password": ADMIN[1]}},
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
