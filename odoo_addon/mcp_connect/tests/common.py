"""Shared set-up for the HTTP tests: clients, users, and a browser-like authorization flow."""

import base64
import functools
import json
import re
import secrets
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import mcp_connect_core as core
from odoo.tests import HttpCase, new_test_user
from odoo.tests.common import freeze_time

CALLBACK = "https://client.example.com/callback"
PUBLIC_CALLBACK = "http://127.0.0.1/callback"


def clock_frozen(test):
    """Run ``test`` with the clock stopped at the second it starts (``freeze_time``, which the HTTP
    server thread shares), as ``self.frozen_at``.

    Rate limits count in fixed windows of one minute, five minutes and one hour: a stopped clock
    never crosses a window's end between two calls. Stopping it at the real time keeps what the
    set-up made just before (codes, tokens) as old as it really is, and the database's own clock
    (create_date), which is not frozen, in step.
    """

    @functools.wraps(test)
    def wrapper(self, *args, **kwargs):
        self.frozen_at = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        with freeze_time(self.frozen_at):
            return test(self, *args, **kwargs)

    return wrapper


# Every kind minted by the core except client_id, which is public.
SECRET_KINDS = ("access", "refresh", "code", "client_secret", "personal")


def secret_pattern():
    """A PostgreSQL regular expression matching a whole token of a secret kind, never only its prefix
    (the module description, the README, quotes "mcppt_...")."""
    samples = [core.mint_token(kind=kind)[0] for kind in SECRET_KINDS]
    prefixes = sorted({sample.split("_", 1)[0] for sample in samples})
    (length,) = {len(sample.split("_", 1)[1]) for sample in samples}
    return f"({'|'.join(prefixes)})_[0-9A-Za-z]{{{length}}}"


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    return verifier, core.s256_challenge(verifier)


class McpHttpCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.password = "mcp-user-password"
        cls.user = new_test_user(
            cls.env,
            login="mcp_oauth_user",
            groups="base.group_user,base.group_partner_manager,mcp_connect.group_mcp_user",
            password=cls.password,
            name="Ada Lovelace",
        )
        cls.other_user = new_test_user(
            cls.env,
            login="mcp_oauth_other",
            groups="base.group_user,mcp_connect.group_mcp_user",
            password=cls.password,
        )
        cls.employee = new_test_user(
            cls.env, login="mcp_oauth_employee", groups="base.group_user", password=cls.password
        )
        cls.secret, _ = core.mint_token(kind="client_secret")
        cls.confidential = cls._make_client("Test confidential", CALLBACK, confidential=True)
        cls.public = cls._make_client("Test public", PUBLIC_CALLBACK, confidential=False)

    @classmethod
    def _make_client(cls, name, redirect_uris, confidential=True, **values):
        client_id, _ = core.mint_token(kind="client_id")
        vals = {
            "name": name,
            "connection_type": "custom",
            "client_id": client_id,
            "client_type": "confidential" if confidential else "public",
            "redirect_uris": redirect_uris,
            "grant_types": "authorization_code refresh_token",
            "owner_user_id": cls.env.ref("base.user_admin").id,
        }
        vals.update(values)
        if confidential and vals["connection_type"] == "custom":
            vals["grant_types"] += " client_credentials"
        connection = cls.env["mcp.connection"].create(vals)
        if confidential:
            connection.sudo().secret_hash = core.hash_secret(cls.secret)
        return connection

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.issuer = self.base_url()
        self.resource = self.base_url() + "/api/mcp"

    # -- HTTP helpers ---------------------------------------------------------------

    def get(self, path, params=None, **kwargs):
        url = path + ("?" + urlencode(params, doseq=True) if params else "")
        return self.url_open(url, allow_redirects=False, **kwargs)

    def post_form(self, path, data, headers=None):
        headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.url_open(path, data=urlencode(data, doseq=True), headers=headers, allow_redirects=False)

    def post_json(self, path, payload, headers=None):
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self.url_open(path, data=json.dumps(payload), headers=headers, allow_redirects=False)

    @staticmethod
    def basic(client_id, secret):
        return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}

    @staticmethod
    def query(response):
        return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}

    # -- the authorization flow -------------------------------------------------------

    def authorize_params(self, client, redirect_uri=None, **overrides):
        verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri or client._redirect_rules()[0][0],
            "state": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return verifier, {k: v for k, v in params.items() if v is not None}

    def consent_page(self, params):
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 200, response.text[:500])
        handle = re.search(r'name="request_handle" value="([^"]+)"', response.text).group(1)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
        return response, handle, csrf

    def decide(self, handle, csrf, decision="allow"):
        return self.post_form("/oauth/authorize", {"request_handle": handle, "csrf_token": csrf, "decision": decision})

    def obtain_code(self, client, login=None, **overrides):
        """Sign in, consent if asked, and return (verifier, params, code)."""
        self.authenticate(login or self.user.login, self.password)
        verifier, params = self.authorize_params(client, **overrides)
        response = self.get("/oauth/authorize", params)
        if response.status_code == 200:
            _page, handle, csrf = self.consent_page(params)
            response = self.decide(handle, csrf)
        self.assertEqual(response.status_code, 302, response.text[:500])
        answer = self.query(response)
        self.assertEqual(answer.get("state"), params["state"])
        return verifier, params, answer["code"]

    @staticmethod
    def code_request(code, verifier, params, **extra):
        """The body of an authorization-code exchange for a code from ``obtain_code``."""
        return {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "code_verifier": verifier,
            **extra,
        }

    def exchange(self, client, code, verifier, params, secret=None, **extra):
        data = self.code_request(code, verifier, params, **extra)
        headers = None
        if client.client_type == "confidential":
            headers = self.basic(client.client_id, secret or self.secret)
        else:
            data["client_id"] = client.client_id
        return self.post_form("/oauth/token", data, headers)

    def tokens_for(self, client, **overrides):
        verifier, params, code = self.obtain_code(client, **overrides)
        response = self.exchange(client, code, verifier, params)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def token_record(self, token):
        return self.env["mcp.token"].sudo().search([("digest", "=", core.parse_token(token)[1])])


MODERN = "2026-07-28"
LEGACY = "2025-11-25"


class McpCase(McpHttpCase):
    """Calls to /api/mcp with tokens made directly (the OAuth flow has its own tests)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection = cls.confidential
        cls.env["mcp.consent"]._remember(cls.user, cls.connection, ["mcp:write"])

    def setUp(self):
        super().setUp()
        self.token = self.make_token()
        self.read_token = self.make_token(scopes="mcp:read")

    def make_token(self, user=None, connection=None, scopes="mcp:read mcp:write", kind="access", **values):
        from datetime import timedelta

        from odoo import fields

        user = user or self.user
        token, digest = core.mint_token(kind=kind)
        now = fields.Datetime.now()
        self.env["mcp.token"].sudo().create(
            {
                "digest": digest,
                "kind": kind,
                "connection_id": (connection or self.connection).id,
                "user_id": user.id,
                "company_id": user.company_id.id,
                "scopes": scopes,
                "resource": values.pop("resource", self.resource),
                "expires_at": now + timedelta(hours=1),
                "family": secrets.token_hex(16),
                "family_expires_at": now + timedelta(days=1),
                **values,
            }
        )
        return token

    def post_mcp(self, payload, token=None, headers=None, raw=None):
        all_headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        data = raw if raw is not None else json.dumps(payload)
        return self.url_open("/api/mcp", data=data, headers=all_headers, allow_redirects=False)

    def modern(self, method, params=None, token=None, headers=None, request_id=1, meta=None):
        params = dict(params or {})
        params["_meta"] = (
            meta
            if meta is not None
            else {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "odoo-test", "version": "1"},
            }
        )
        all_headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}
        if method in ("tools/call", "prompts/get"):
            all_headers["Mcp-Name"] = str(params.get("name"))
        if method == "resources/read":
            all_headers["Mcp-Name"] = str(params.get("uri"))
        all_headers.update(headers or {})
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        return self.post_mcp(body, token or self.token, all_headers)

    def initialize(self, token=None, version=LEGACY):
        response = self.post_mcp(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
            },
            token or self.token,
        )
        self.assertEqual(response.status_code, 200, response.text)
        return response.headers["Mcp-Session-Id"], response.json()

    def legacy(self, method, params=None, token=None, session=None, version=LEGACY, request_id=1):
        token = token or self.token
        session = session or self.initialize(token, version)[0]
        headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": version}
        body = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            body["params"] = params
        return self.post_mcp(body, token, headers)

    def call_tool(self, name, arguments=None, token=None):
        response = self.modern("tools/call", {"name": name, "arguments": arguments or {}}, token=token)
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertNotIn("error", body, body)
        return body["result"]

    def tool_ok(self, name, arguments=None, token=None):
        result = self.call_tool(name, arguments, token)
        self.assertFalse(result.get("isError"), result)
        self.assertEqual(json.loads(result["content"][0]["text"]), result["structuredContent"])
        return result["structuredContent"]

    def tool_error(self, name, arguments=None, token=None, contains=None):
        result = self.call_tool(name, arguments, token)
        self.assertTrue(result.get("isError"), result)
        text = result["content"][0]["text"]
        if contains:
            self.assertIn(contains, text)
        return text
