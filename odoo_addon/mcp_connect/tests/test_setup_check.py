import socket
import time
from unittest.mock import patch

import mcp_connect_core as core
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import SQL

from .. import compat
from ..wizards.mcp_setup_check import CORE_SERIES

PUBLIC = "https://erp.example.com"


def verdicts(lines):
    return [line.verdict for line in lines]


@tagged("post_install", "-at_install")
class TestSetupCheckVerdicts(TransactionCase):
    """Each check judged on a passing and a failing configuration handed to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.check = cls.env["mcp.setup.check"]

    def assertVerdicts(self, lines, expected, *fragments):
        self.assertEqual(verdicts(lines), expected)
        text = " ".join(f"{line.message} {line.fix}" for line in lines)
        for fragment in fragments:
            self.assertIn(fragment, text)

    def test_base_url_public_https_frozen_passes(self):
        self.assertVerdicts(self.check._check_base_url(PUBLIC, frozen=True), ["ok"], PUBLIC)

    def test_base_url_plain_http_on_a_public_host_is_a_problem(self):
        self.assertVerdicts(self.check._check_base_url("http://erp.example.com", frozen=True), ["problem"], "https")

    def test_base_url_not_frozen_is_a_problem(self):
        self.assertVerdicts(self.check._check_base_url(PUBLIC, frozen=False), ["problem"], "web.base.url.freeze")

    def test_base_url_on_this_computer_or_a_local_network_warns_that_hosted_tools_need_https(self):
        for url in ("http://localhost:8069", "http://127.0.0.1:8069", "http://[::1]:8069"):
            self.assertVerdicts(self.check._check_base_url(url, frozen=True), ["warning"], "claude.ai", "https")
        for url in (
            "http://10.0.0.5:8069",
            "https://192.168.1.20",
            "https://100.64.1.1",
            "http://odoo:8069",
            "https://erp.corp",
        ):
            self.assertVerdicts(self.check._check_base_url(url, frozen=True), ["warning"], "your own network")

    def test_base_url_that_is_no_address_is_a_problem_and_shows_no_credentials(self):
        for url in ("", "erp.example.com", "ftp://erp.example.com", "https://admin:s3cret@erp.example.com"):
            lines = self.check._check_base_url(url, frozen=True)
            self.assertVerdicts(lines, ["problem"], "web.base.url")
            self.assertNotIn("s3cret", lines[0].message + lines[0].fix)

    def test_proxy_consistent_passes(self):
        trusted = {"proxy_mode": True, "base_url": PUBLIC, "peer": "127.0.0.1", "peer_trusted": True}
        forwarded = {"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}
        self.assertVerdicts(self.check._check_proxy(forwarded=forwarded, **trusted), ["ok"])
        direct = {"proxy_mode": False, "base_url": PUBLIC, "peer": "203.0.113.9", "peer_trusted": False}
        self.assertVerdicts(self.check._check_proxy(forwarded=set(), **direct), ["ok"])
        local = {"proxy_mode": True, "base_url": "http://localhost:8069", "peer": "127.0.0.1", "peer_trusted": True}
        self.assertVerdicts(self.check._check_proxy(forwarded=set(), **local), ["ok"])

    def test_proxy_headers_without_proxy_mode_are_a_problem(self):
        facts = {"proxy_mode": False, "base_url": PUBLIC, "peer": "127.0.0.1", "peer_trusted": True}
        lines = self.check._check_proxy(forwarded={"X-Forwarded-For", "X-Forwarded-Host"}, **facts)
        self.assertVerdicts(lines, ["problem"], "--proxy-mode", "X-Forwarded-For")

    def test_proxy_mode_with_incomplete_or_untrusted_forwarding_warns(self):
        facts = {"proxy_mode": True, "base_url": PUBLIC, "peer": "10.1.2.3", "peer_trusted": True}
        lines = self.check._check_proxy(forwarded={"X-Forwarded-For", "X-Forwarded-Proto"}, **facts)
        self.assertVerdicts(lines, ["warning"], "X-Forwarded-Host")
        facts["peer_trusted"] = False
        lines = self.check._check_proxy(forwarded={"X-Forwarded-For", "X-Forwarded-Host"}, **facts)
        self.assertVerdicts(lines, ["warning"], "10.1.2.3", "Trusted proxies")

    def test_proxy_mode_on_a_public_address_reached_directly_warns(self):
        facts = {"proxy_mode": True, "base_url": PUBLIC, "peer": "203.0.113.9", "peer_trusted": False}
        self.assertVerdicts(self.check._check_proxy(forwarded=set(), **facts), ["warning"], "X-Forwarded-Host")

    def test_proxy_outside_a_request_cannot_be_checked(self):
        facts = self.check._facts_proxy()
        self.assertIsNone(facts["forwarded"])
        self.assertVerdicts(self.check._check_proxy(**facts), ["unknown"])

    def test_workers_pass(self):
        self.assertVerdicts(self.check._check_workers(4, PUBLIC), ["ok"], "4")
        self.assertVerdicts(self.check._check_workers(0, "http://localhost:8069"), ["ok"], "development")

    def test_one_worker_is_a_problem_and_threads_in_production_warn(self):
        self.assertVerdicts(self.check._check_workers(1, PUBLIC), ["problem"], "--workers 2")
        self.assertVerdicts(self.check._check_workers(0, PUBLIC), ["warning"], "--workers 2", "gevent")

    def test_databases_pass_when_the_host_reaches_this_one_only(self):
        facts = self.check._facts_databases()
        self.assertIn(self.env.cr.dbname, facts["reachable"])
        lines = self.check._check_databases("erp", "erp.example.com", ["erp"])
        self.assertVerdicts(lines, ["ok"], "erp.example.com")

    def test_several_databases_without_a_filter_are_a_problem(self):
        lines = self.check._check_databases("erp", "erp.example.com", ["erp", "erp_test", "demo"])
        self.assertVerdicts(lines, ["problem"], "3 databases", "dbfilter", "^%d$")
        # The other databases' names are not shown.
        self.assertNotIn("erp_test", lines[0].message)

    def test_a_filter_that_leaves_this_database_out_is_a_problem(self):
        for reachable in ([], ["demo"]):
            lines = self.check._check_databases("erp", "erp.example.com", reachable)
            self.assertVerdicts(lines, ["problem"], "cannot reach this database", "dbfilter")

    def test_native_core_running_passes(self):
        self.assertVerdicts(self.check._check_core(**self.check._facts_core()), ["ok"], core.__version__)

    def test_native_core_of_another_series_is_a_problem(self):
        major, minor = CORE_SERIES.split(".")
        other = f"{major}.{int(minor) + 1}.0"
        lines = self.check._check_core(loaded=other, installed=other, series=CORE_SERIES)
        self.assertVerdicts(lines, ["problem"], other, f"{CORE_SERIES}.x")

    def test_native_core_upgraded_without_a_restart_is_a_problem(self):
        lines = self.check._check_core(loaded=f"{CORE_SERIES}.0", installed=f"{CORE_SERIES}.1", series=CORE_SERIES)
        self.assertVerdicts(lines, ["problem"], "Restart Odoo")

    def test_clocks_in_step_pass(self):
        self.assertVerdicts(self.check._check_clock(**self.check._facts_clock()), ["ok"])
        now = time.time()
        self.assertVerdicts(self.check._check_clock(now, now + 4), ["ok"])

    def test_clock_skew_warns_then_is_a_problem(self):
        now = time.time()
        self.assertVerdicts(self.check._check_clock(now, now - 12), ["warning"], "12 seconds", "NTP")
        self.assertVerdicts(self.check._check_clock(now, now + 95), ["problem"], "95 seconds")

    def test_a_check_that_raises_says_it_could_not_check_and_the_others_still_run(self):
        def failing(**_facts):
            # A failed query as well: the checks after it still use the database.
            self.env.cr.execute(SQL("SELECT 1 / 0"))

        checks = [
            ("Native core", self.check._facts_core, failing),
            ("Clocks", self.check._facts_clock, self.check._check_clock),
        ]
        with (
            patch.object(type(self.check), "_setup_checks", return_value=checks),
            self.assertLogs("odoo.sql_db", "ERROR"),
            self.assertLogs("odoo.addons.mcp_connect.wizards.mcp_setup_check", "ERROR"),
        ):
            lines = self.check._run_checks()
        self.assertEqual(
            [(line["name"], line["verdict"]) for line in lines], [("Native core", "unknown"), ("Clocks", "ok")]
        )
        self.assertNotIn("division", lines[0]["message"] + lines[0]["fix"])


@tagged("post_install", "-at_install")
class TestSetupCheckHttp(HttpCase):
    """The discovery documents fetched over real HTTP, and who may run the check."""

    def discovery(self, base_url):
        with compat.http_requests_allowed(self):
            return self.env["mcp.setup.check"]._check_discovery(base_url)

    def closed_port_url(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def test_discovery_reachable_at_the_base_url_passes(self):
        lines = self.discovery(self.base_url())
        self.assertVerdicts(lines, "ok", "/.well-known/oauth-protected-resource/api/mcp")

    def test_discovery_unreachable_is_a_problem(self):
        lines = self.discovery(self.closed_port_url())
        self.assertVerdicts(lines, "problem", "could not connect", "--workers 2")

    def test_discovery_answering_for_another_address_is_a_problem(self):
        port = self.base_url().rsplit(":", 1)[1]
        # The same server, under a name other than its web.base.url: its documents name 127.0.0.1.
        lines = self.discovery(f"http://localhost:{port}")
        self.assertVerdicts(lines, "problem", "names another server")
        lines = self.discovery(self.base_url() + "/nothing-here")
        self.assertVerdicts(lines, "problem", "HTTP 404")

    def assertVerdicts(self, lines, expected, *fragments):
        self.assertEqual(verdicts(lines), [expected])
        for fragment in fragments:
            self.assertIn(fragment, lines[0].message + " " + lines[0].fix)

    def test_only_managers_run_the_check_and_see_their_own(self):
        manager = new_test_user(self.env, login="setup_manager", groups="base.group_user,mcp_connect.group_mcp_manager")
        other = new_test_user(self.env, login="setup_manager2", groups="base.group_user,mcp_connect.group_mcp_manager")
        user = new_test_user(self.env, login="setup_user", groups="base.group_user,mcp_connect.group_mcp_user")
        server_action = self.env.ref("mcp_connect.mcp_setup_check_action")
        with compat.http_requests_allowed(self):
            action = server_action.with_user(manager).run()
        self.assertEqual(action["res_model"], "mcp.setup.check")
        result = self.env["mcp.setup.check"].with_user(manager).browse(action["res_id"])
        self.assertEqual(
            list(dict.fromkeys(result.line_ids.mapped("name"))),
            ["Base URL", "Discovery documents", "Reverse proxy", "Workers", "Databases", "Native core", "Clocks"],
        )
        self.assertEqual(result.line_ids.filtered(lambda line: line.name == "Discovery documents").verdict, "ok")
        self.assertFalse(self.env["mcp.setup.check"].with_user(other).search([("id", "=", result.id)]))
        with self.assertRaises(AccessError):
            server_action.with_user(user).run()
        # Refused before any check runs (the checks fetch URLs and read the server's configuration).
        not_run = patch.object(type(self.env["mcp.setup.check"]), "_run_checks", side_effect=AssertionError("ran"))
        with not_run, self.assertRaises(AccessError):
            self.env["mcp.setup.check"].with_user(user).action_check()

    def test_the_wizard_offers_the_check_to_managers_only(self):
        manager = new_test_user(self.env, login="setup_manager", groups="base.group_user,mcp_connect.group_mcp_manager")
        user = new_test_user(self.env, login="setup_user", groups="base.group_user,mcp_connect.group_mcp_user")
        wizard = self.env["mcp.connect.wizard"]
        self.assertIn(
            "o_mcp_setup_check_button", wizard.with_user(manager).get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertNotIn(
            "o_mcp_setup_check_button", wizard.with_user(user).get_views([(False, "form")])["views"]["form"]["arch"]
        )
