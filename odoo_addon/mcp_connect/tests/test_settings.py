from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from .. import config


@tagged("post_install", "-at_install")
class TestSettings(TransactionCase):
    def _save(self, **values):
        settings = self.env["res.config.settings"].create(values)
        settings.execute()
        return settings

    def _param(self, name):
        return self.env["ir.config_parameter"].sudo().get_param(config.PREFIX + name)

    def test_defaults_are_read_when_nothing_is_stored(self):
        self.env["ir.config_parameter"].sudo().search([("key", "=like", "mcp_connect.%")]).unlink()
        values = self.env["res.config.settings"].create({})
        self.assertEqual(values.mcp_access_token_minutes, 60)
        self.assertEqual(values.mcp_refresh_token_days, 90)
        self.assertEqual(values.mcp_refresh_grace_seconds, 60)
        self.assertTrue(values.mcp_registration_enabled)
        self.assertEqual(values.mcp_pkce_exempt_hosts, "chatgpt.com")
        self.assertEqual(config.pkce_exempt_hosts(self.env), ["chatgpt.com"])
        self.assertEqual(values.mcp_registrations_per_hour, 300)
        self.assertEqual(values.mcp_client_auth_failures, 10)
        self.assertEqual(values.mcp_metadata_fetches_per_ip, 20)

    def test_throttle_budgets_are_stored_and_validated(self):
        self._save(mcp_registrations_per_hour=0, mcp_client_auth_failures=25, mcp_metadata_fetches_per_ip=5)
        self.assertEqual(self._param("registrations_per_hour"), "0")
        self.assertEqual(config.get(self.env, "metadata_fetches_per_ip"), 5)
        self.assertEqual(config.get(self.env, "registrations_per_hour"), 0)
        self.assertEqual(config.get(self.env, "client_auth_failures"), 25)
        for field in ("mcp_registrations_per_hour", "mcp_client_auth_failures", "mcp_metadata_fetches_per_ip"):
            with self.assertRaisesRegex(ValidationError, "must be between 0 and"):
                self.env["res.config.settings"].create({field: -1})
        self.assertEqual(config.get(self.env, "client_auth_failures"), 25)

    def test_values_are_stored_as_config_parameters(self):
        self._save(
            mcp_access_token_minutes=15,
            mcp_refresh_token_days=7,
            mcp_refresh_grace_seconds=0,
            mcp_registration_enabled=False,
            mcp_pkce_exempt_hosts=" ChatGPT.com,\nexample.org ",
        )
        self.assertEqual(self._param("access_token_minutes"), "15")
        self.assertEqual(self._param("refresh_token_days"), "7")
        # Zero and False are stored, not deleted (a deleted value would read back as the default).
        self.assertEqual(self._param("refresh_grace_seconds"), "0")
        self.assertEqual(self._param("registration_enabled"), "false")
        self.assertEqual(self._param("pkce_exempt_hosts"), '"chatgpt.com, example.org"')
        self.assertEqual(config.get(self.env, "refresh_grace_seconds"), 0)
        self.assertIs(config.get(self.env, "registration_enabled"), False)
        self.assertEqual(config.pkce_exempt_hosts(self.env), ["chatgpt.com", "example.org"])
        reread = self.env["res.config.settings"].create({})
        self.assertEqual(reread.mcp_access_token_minutes, 15)
        self.assertFalse(reread.mcp_registration_enabled)

    def test_zero_and_negative_lifetimes_are_refused_with_a_clear_message(self):
        for field in ("mcp_access_token_minutes", "mcp_refresh_token_days", "mcp_family_max_days"):
            for bad in (0, -5):
                with self.assertRaisesRegex(ValidationError, "must be greater than zero"):
                    self.env["res.config.settings"].create({field: bad})
        with self.assertRaisesRegex(ValidationError, "between 0 and 3600"):
            self.env["res.config.settings"].create({"mcp_refresh_grace_seconds": -1})
        with self.assertRaisesRegex(ValidationError, "between 30 and 600"):
            self.env["res.config.settings"].create({"mcp_code_seconds": 3600})
        self.assertFalse(self._param("access_token_minutes") in ("0", "-5"))

    def test_pkce_hosts_must_be_host_names(self):
        for bad in ("https://chatgpt.com/", "chat gpt.com", "*.chatgpt.com", "chatgpt.com/connector"):
            with self.assertRaisesRegex(ValidationError, "host names"):
                self.env["res.config.settings"].create({"mcp_pkce_exempt_hosts": bad})
        self._save(mcp_pkce_exempt_hosts="")
        self.assertEqual(config.pkce_exempt_hosts(self.env), [])

    def test_damaged_parameters_fall_back_to_defaults(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("mcp_connect.access_token_minutes", "soon")
        params.set_param("mcp_connect.refresh_token_days", "-3")
        params.set_param("mcp_connect.registration_enabled", "1")
        params.set_param("mcp_connect.pkce_exempt_hosts", "[1]")
        self.assertEqual(config.get(self.env, "access_token_minutes"), 60)
        self.assertEqual(config.get(self.env, "refresh_token_days"), 90)
        self.assertIs(config.get(self.env, "registration_enabled"), True)
        self.assertEqual(config.get(self.env, "pkce_exempt_hosts"), "chatgpt.com")

    def test_settings_page_renders_the_section(self):
        view = self.env.ref("mcp_connect.res_config_settings_view_form")
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="mcp_connect"', arch)
        self.assertIn("mcp_access_token_minutes", arch)
        self.assertTrue(view.active)

    def test_trusted_proxies_and_origins_are_validated(self):
        with self.assertRaisesRegex(ValidationError, "Trusted proxies"):
            self.env["res.config.settings"].create({"mcp_trusted_proxies": "10.0.0.0/8, proxy.local"})
        with self.assertRaisesRegex(ValidationError, "origins"):
            self.env["res.config.settings"].create({"mcp_allowed_origins": "https://ok.example, not an origin"})
        self._save(mcp_trusted_proxies="10.0.0.1  192.168.0.0/16", mcp_allowed_origins="https://App.example/")
        self.assertEqual(config.get(self.env, "trusted_proxies"), "10.0.0.1, 192.168.0.0/16")
        self.assertEqual(config.allowed_origins(self.env), ["https://app.example"])
        self.assertTrue(config.is_trusted_proxy(self.env, "192.168.4.4"))
        self.assertFalse(config.is_trusted_proxy(self.env, "127.0.0.1"))
