"""What a self-registering client asked for is what it gets; hostile input changes nothing."""

from datetime import datetime, timedelta
from unittest.mock import patch

import mcp_connect_core as core
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from ..oauth import client_auth
from ..oauth.errors import OAuthError
from ..storage import OdooStorage
from .common import McpCase, McpHttpCase, clock_frozen
from .test_register import CLAUDE

# argon2id of WEAK_SECRET with m=8192, t=1 (argon2-cffi): below the core's current parameters.
WEAK_SECRET = "secret hashed with older parameters"
WEAK_HASH = "$argon2id$v=19$m=8192,t=1,p=1$Jgu3sJd4j9AvHThgmXQXcw$76SMpuBagTca4W3qrPcJcqxKTgJ9IylH2nG8mjVNWec"


@tagged("post_install", "-at_install")
class TestRegistrationIsHonoured(McpHttpCase):
    def register(self, payload):
        return self.post_json("/oauth/register", payload)

    def connection(self, body):
        return self.env["mcp.connection"].sudo().search([("client_id", "=", body["client_id"])])

    def assert_no_browser_connection(self):
        self.assertFalse(self.env["mcp.connection"].search([("connection_type", "=", "browser")]))

    def test_wildcard_redirect_uris_are_refused_as_json(self):
        for uri in ("https://evil.example/cb/*", "https://evil.example/*", "https://evil.example/a*b/cb"):
            response = self.register(dict(CLAUDE, redirect_uris=[uri]))
            self.assertEqual(response.status_code, 400, response.text[:300])
            self.assertTrue(response.headers["Content-Type"].startswith("application/json"), response.headers)
            self.assertEqual(response.json()["error"], "invalid_redirect_uri", uri)
        self.assert_no_browser_connection()

    def test_a_connection_the_model_refuses_is_a_json_error_and_nothing_is_written(self):
        # Whatever rule of the connection model a registration breaks, the tool reads RFC 7591 JSON,
        # and the refused row does not survive in the request's transaction.
        create = OdooStorage._create_registered

        def refused_after_the_insert(storage, *args):
            create(storage, *args)
            raise ValidationError("A rule of the connection model refused this client.")

        with patch.object(OdooStorage, "_create_registered", refused_after_the_insert):
            response = self.register(CLAUDE)
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertEqual(response.json()["error"], "invalid_client_metadata")
        self.assertIn("refused this client", response.json()["error_description"])
        self.assert_no_browser_connection()

    def test_a_prefix_line_on_a_self_registered_connection_matches_nothing(self):
        body = self.register(CLAUDE).json()
        connection = self.connection(body)
        # Whatever way such a line got there, only an administrator's connection has prefix rules.
        self.env.cr.execute(
            "UPDATE mcp_connection SET redirect_uris = %s WHERE id = %s",
            ["https://evil.example/cb/*", connection.id],
        )
        connection.invalidate_recordset(["redirect_uris"])
        self.assertEqual(connection._redirect_rules(), (["https://evil.example/cb/*"], []))
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(connection, redirect_uri="https://evil.example/cb/steal")
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertNotIn("Location", response.headers)

    def test_registered_scope_is_the_ceiling(self):
        body = self.register(dict(CLAUDE, scope="mcp:read")).json()
        self.assertEqual(body["scope"], "mcp:read")
        connection = self.connection(body)
        self.assertEqual(connection.allowed_scope, "read")
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(connection, scope="mcp:write")
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 302, response.text[:300])
        self.assertEqual(self.query(response)["error"], "invalid_scope")
        tokens = self.tokens_for(connection)
        self.assertEqual(tokens["scope"], "mcp:read")

    def test_a_registration_asking_for_less_is_not_handed_a_broader_client(self):
        broad = self.register(CLAUDE).json()
        narrow = self.register(dict(CLAUDE, scope="mcp:read")).json()
        self.assertNotEqual(broad["client_id"], narrow["client_id"])
        self.assertEqual(self.connection(broad).allowed_scope, "write")

    def test_client_and_logo_uris_must_be_https_urls(self):
        for key in ("client_uri", "logo_uri"):
            for value in (
                "javascript:alert(document.cookie)",
                "http://claude.ai",
                "claude.ai",
                "https://",
                "https://user:pw@claude.ai/",
                "https://claude.ai/a b",
                "https://claude.ai/" + "x" * 600,
                42,
            ):
                response = self.register(dict(CLAUDE, **{key: value}))
                self.assertEqual(response.status_code, 400, (key, value))
                self.assertEqual(response.json()["error"], "invalid_client_metadata", (key, value))
        self.assert_no_browser_connection()
        body = self.register(dict(CLAUDE, client_uri="https://claude.ai", logo_uri="https://claude.ai/logo.png"))
        self.assertEqual(body.status_code, 201, body.text)
        self.assertEqual(self.connection(body.json()).client_uri, "https://claude.ai")

    def confidential_flow(self, method):
        body = self.register(dict(CLAUDE, token_endpoint_auth_method=method)).json()
        self.assertEqual(body["token_endpoint_auth_method"], method)
        connection = self.connection(body)
        self.assertEqual(connection.token_endpoint_auth_method, method)
        verifier, params, code = self.obtain_code(connection)
        data = self.code_request(code, verifier, params)
        return body, data

    def test_a_basic_client_may_not_use_post(self):
        body, data = self.confidential_flow("client_secret_basic")
        response = self.post_form(
            "/oauth/token", dict(data, client_id=body["client_id"], client_secret=body["client_secret"])
        )
        self.assertEqual(response.status_code, 401, response.text)
        self.assertEqual(response.json()["error"], "invalid_client")
        self.assertIn("client_secret_basic", response.json()["error_description"])
        response = self.post_form("/oauth/token", data, self.basic(body["client_id"], body["client_secret"]))
        self.assertEqual(response.status_code, 200, response.text)

    def test_a_post_client_may_not_use_basic(self):
        body, data = self.confidential_flow("client_secret_post")
        response = self.post_form("/oauth/token", data, self.basic(body["client_id"], body["client_secret"]))
        self.assertEqual(response.status_code, 401, response.text)
        self.assertEqual(response.json()["error"], "invalid_client")
        response = self.post_form(
            "/oauth/token", dict(data, client_id=body["client_id"], client_secret=body["client_secret"])
        )
        self.assertEqual(response.status_code, 200, response.text)

    def test_an_administrator_connection_accepts_either_method(self):
        self.assertFalse(self.confidential.token_endpoint_auth_method)
        for use_basic in (True, False):
            verifier, params, code = self.obtain_code(self.confidential)
            data = self.code_request(code, verifier, params)
            if use_basic:
                response = self.post_form("/oauth/token", data, self.basic(self.confidential.client_id, self.secret))
            else:
                data.update(client_id=self.confidential.client_id, client_secret=self.secret)
                response = self.post_form("/oauth/token", data)
            self.assertEqual(response.status_code, 200, response.text)


@tagged("post_install", "-at_install")
class TestClientAuthenticationCost(McpHttpCase):
    ADDRESS = "203.0.113.7"

    def attempt(self, storage, client_id, secret, address=ADDRESS):
        """The status a client authentication ends with; 200 when it succeeds.

        Not assertRaises: it rolls back to a savepoint, and the failures must stay counted.
        """
        form = {"client_id": client_id} if secret is None else {}
        header = None if secret is None else self.basic(client_id, secret)["Authorization"]
        try:
            client_auth.authenticate(storage, form, header, address)
        except OAuthError as error:
            return error.status
        return 200

    @clock_frozen
    def test_one_address_has_a_bounded_number_of_secret_verifications(self):
        self.env["ir.config_parameter"].sudo().set_param("mcp_connect.client_auth_failures", "2")
        storage = OdooStorage(self.env)
        clients = [self._make_client(f"Spray {number}", "https://client.example.com/callback") for number in range(6)]
        statuses = [self.attempt(storage, client.client_id, "wrong") for client in clients for _ in range(2)]
        # 2 per client, 10 (5 x 2) per address: the 11th verification is refused before hashing.
        self.assertEqual(statuses, [401] * 10 + [429] * 2)
        self.assertEqual(self.attempt(storage, self.confidential.client_id, self.secret), 429)
        # Other addresses and public clients (no hashing) are not affected.
        self.assertEqual(self.attempt(storage, self.confidential.client_id, self.secret, "198.51.100.4"), 200)
        self.assertEqual(self.attempt(storage, self.public.client_id, None), 200)

    @clock_frozen
    def test_failures_elsewhere_never_stop_a_public_clients_code_exchange(self):
        storage = OdooStorage(self.env)
        refused = [self.attempt(storage, self.public.client_id, "guess") for _ in range(12)]
        self.assertEqual(refused, [401] * 10 + [429] * 2)
        verifier, params, code = self.obtain_code(self.public)
        response = self.exchange(self.public, code, verifier, params)
        self.assertEqual(response.status_code, 200, response.text)

    def test_a_secret_hashed_with_older_parameters_is_rehashed_on_use(self):
        connection = self.confidential.sudo()
        connection.secret_hash = WEAK_HASH
        self.assertTrue(core.secret_needs_rehash(WEAK_HASH))
        storage = OdooStorage(self.env)
        self.assertEqual(self.attempt(storage, connection.client_id, "not it"), 401)
        self.assertEqual(connection.secret_hash, WEAK_HASH)
        self.assertEqual(self.attempt(storage, connection.client_id, WEAK_SECRET), 200)
        connection.invalidate_recordset(["secret_hash"])
        upgraded = connection.secret_hash
        self.assertNotEqual(upgraded, WEAK_HASH)
        self.assertFalse(core.secret_needs_rehash(upgraded))
        core.verify_secret(secret=WEAK_SECRET, phc=upgraded)
        self.assertEqual(self.attempt(storage, connection.client_id, WEAK_SECRET), 200)
        connection.invalidate_recordset(["secret_hash"])
        self.assertEqual(connection.secret_hash, upgraded)


@tagged("post_install", "-at_install")
class TestMalformedBodies(McpCase):
    def test_deeply_nested_json_is_a_parse_error(self):
        audit = self.env["mcp.audit.log"].sudo()
        before = audit.search([]).ids
        sessions = self.env["mcp.session"].sudo().search_count([])
        for depth in (100_000, 65):
            raw = "[" * depth + "]" * depth
            for body in (raw, '{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": ' + raw + "}}"):
                response = self.post_mcp(None, token=self.token, raw=body)
                self.assertEqual(response.status_code, 400, response.text[:300])
                self.assertEqual(response.json()["error"]["code"], -32700)
                self.assertIsNone(response.json()["id"])
        # Each refused message is in the audit trail as what it was, and nothing else is written.
        rows = audit.search([("id", "not in", before)])
        self.assertEqual(len(rows), 4)
        self.assertEqual(set(rows.mapped("http_status")), {400})
        self.assertEqual(set(rows.mapped("tool")), {False})
        self.assertEqual(self.env["mcp.session"].sudo().search_count([]), sessions)
        nested = {"x": 1}
        for _level in range(60):
            nested = {"x": nested}
        response = self.modern("tools/list", params={"n": nested})
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertIn("result", response.json())

    def test_deeply_nested_registration_is_an_invalid_request(self):
        depth = 30_000
        response = self.url_open(
            "/oauth/register",
            data="[" * depth + "]" * depth,
            headers={"Content-Type": "application/json"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertEqual(response.json()["error"], "invalid_request")
        self.assertFalse(self.env["mcp.connection"].search([("connection_type", "=", "browser")]))


@tagged("post_install", "-at_install")
class TestRateCounterClock(TransactionCase):
    """The counter windows follow the caller's clock, never the wall clock it would read itself."""

    def test_windows_follow_the_callers_clock(self):
        counter = self.env["mcp.rate.counter"]
        start = datetime(2030, 1, 1, 12, 0, 0)
        self.assertIsNone(counter._hit("clock-test", 2, 60, start))
        self.assertIsNone(counter._hit("clock-test", 2, 60, start + timedelta(seconds=20)))
        self.assertEqual(counter._hit("clock-test", 2, 60, start + timedelta(seconds=45)), 15)
        self.assertEqual(counter._hit("clock-test", 2, 60, start + timedelta(seconds=59), count=False), 1)
        # The next window of the caller's clock, whatever the time is now.
        self.assertIsNone(counter._hit("clock-test", 2, 60, start + timedelta(seconds=60)))
        self.assertEqual(counter._take("clock-test", 2, 60, 3, start + timedelta(seconds=61)), (1, 59))
