import contextlib
import time

import mcp_connect_core as core
from lxml import etree
from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import _request_stack
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import DotDict
from odoo.tools.safe_eval import safe_eval

from ..oauth import metadata
from ..storage import server_urls


class IdentityChecked(TransactionCase):
    """@check_identity needs a request whose session confirmed the password recently."""

    def setUp(self):
        super().setUp()
        fake_request = DotDict(
            {
                "httprequest": DotDict({"environ": {"REMOTE_ADDR": "127.0.0.1"}, "cookies": {}, "args": {}}),
                "cookies": {},
                "session": {"identity-check-last": time.time()},
                "geoip": {},
            }
        )
        _request_stack.push(fake_request)
        self.addCleanup(_request_stack.pop)
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.com")


@tagged("post_install", "-at_install")
class TestConnectWizard(IdentityChecked):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="mcp_wizard_manager", groups="mcp_connect.group_mcp_manager")
        cls.user = new_test_user(cls.env, login="mcp_wizard_user", groups="mcp_connect.group_mcp_user")
        cls.employee = new_test_user(cls.env, login="mcp_wizard_employee", groups="base.group_user")

    def wizard(self, user=None):
        return self.env["mcp.connect.wizard"].with_user(user or self.manager).create({})

    def test_browser_login_path_only_shows_the_url(self):
        wizard = self.wizard()
        before = self.env["mcp.connection"].search_count([])
        wizard.action_choose_browser()
        self.assertEqual(wizard.step, "done")
        self.assertEqual(wizard.endpoint_url, "https://odoo.example.com/api/mcp")
        self.assertTrue(wizard.registration_enabled)
        self.assertEqual(wizard.action_finish()["type"], "ir.actions.act_window_close")
        self.assertEqual(self.env["mcp.connection"].search_count([]), before)
        self.env["ir.config_parameter"].sudo().set_param("mcp_connect.registration_enabled", "false")
        self.assertFalse(self.wizard().registration_enabled)

    def shown(self, action):
        """What the show-once form displays: only in the action's context, never in a row."""
        self.assertEqual(action["res_model"], "mcp.credential.show")
        self.assertFalse(action.get("res_id"))
        return {key[len("default_") :]: value for key, value in action["context"].items() if key.startswith("default_")}

    def test_custom_oauth_path(self):
        wizard = self.wizard()
        wizard.action_choose_custom()
        self.assertEqual(wizard.step, "custom")
        wizard.write(
            {
                "client_name": "Cursor",
                "redirect_uris": "cursor://anysphere.cursor-mcp/oauth/callback\nhttps://chatgpt.com/connector/oauth/*",
            }
        )
        action = wizard.action_custom_next()
        self.assertEqual(action["target"], "new")
        shown = self.shown(action)
        self.assertEqual(shown["purpose"], "custom")
        self.assertEqual(shown["endpoint_url"], "https://odoo.example.com/api/mcp")
        self.assertTrue(shown["client_id"].startswith("mcpci_"))
        secret = shown["client_secret"]
        self.assertTrue(secret.startswith("mcpcs_"))
        connection = self.env["mcp.connection"].search([("client_id", "=", shown["client_id"])])
        self.assertEqual(connection.name, "Cursor")
        self.assertEqual(shown["connection_name"], "Cursor")
        self.assertEqual(connection.connection_type, "custom")
        self.assertEqual(
            connection.redirect_uris,
            "cursor://anysphere.cursor-mcp/oauth/callback\nhttps://chatgpt.com/connector/oauth/*",
        )
        core.verify_secret(secret=secret, phc=connection.sudo().secret_hash)
        self.assertFalse(wizard.exists(), "the spent wizard is gone, so nothing can create the connection twice")

    def test_public_custom_client_has_no_secret(self):
        wizard = self.wizard()
        wizard.action_choose_custom()
        wizard.write({"client_name": "Local", "client_type": "public", "redirect_uris": "http://127.0.0.1/cb"})
        shown = self.shown(wizard.action_custom_next())
        self.assertNotIn("client_secret", shown)
        connection = self.env["mcp.connection"].search([("client_id", "=", shown["client_id"])])
        self.assertEqual(connection.client_type, "public")
        self.assertFalse(connection.sudo().secret_hash)

    def reopened(self, action, wizard):
        """Next stayed in the wizard: the same row, as wide as before."""
        self.assertEqual((action["res_model"], action["res_id"], action["target"]), (wizard._name, wizard.id, "new"))
        self.assertEqual(action["context"]["dialog_size"], "large")

    def test_custom_oauth_validation_names_each_bad_line(self):
        wizard = self.wizard()
        wizard.action_choose_custom()
        self.reopened(wizard.action_custom_next(), wizard)
        self.assertIn("name", wizard.problem)
        wizard.write({"client_name": "Bad", "redirect_uris": "https://ok.example/cb\nhttp://evil.example/cb\nmyapp:/x"})
        self.reopened(wizard.action_custom_next(), wizard)
        message = wizard.problem
        self.assertIn("Line 2 (http://evil.example/cb)", message)
        self.assertIn("Line 3 (myapp:/x)", message)
        self.assertNotIn("Line 1", message)
        self.assertNotIn("name", message.split(":")[0], "the name is given now")
        self.assertEqual(wizard.step, "custom")
        self.assertEqual(wizard.client_name, "Bad", "the wizard keeps what was typed")
        self.assertFalse(self.env["mcp.connection"].search([("name", "=", "Bad")]))
        # The step that creates checks again, whoever calls it.
        with self.assertRaisesRegex(UserError, "Line 2"):
            wizard._create_custom_connection()
        self.assertFalse(self.env["mcp.connection"].search([("name", "=", "Bad")]))

    def test_a_mistake_is_shown_before_the_password_is_asked_once(self):
        _request_stack.top["session"]["identity-check-last"] = 0
        wizard = self.wizard()
        wizard.action_choose_custom()
        wizard.write({"client_name": "Cursor", "redirect_uris": "http://evil.example/cb"})
        self.reopened(wizard.action_custom_next(), wizard)
        self.assertIn("Line 1 (http://evil.example/cb)", wizard.problem)
        wizard.write({"redirect_uris": "cursor://anysphere.cursor-mcp/oauth/callback"})
        action = wizard.action_custom_next()
        self.assertEqual(action["res_model"], "res.users.identitycheck", "the password, once everything is right")
        self.assertFalse(wizard.problem)
        self.assertFalse(self.env["mcp.connection"].search([("name", "=", "Cursor")]), "nothing before the password")
        # Confirmed: Odoo's identity check runs the creation, which checks the input again.
        _request_stack.top["session"]["identity-check-last"] = time.time()
        shown = self.shown(wizard._create_custom_connection())
        self.assertEqual(self.env["mcp.connection"].search([("client_id", "=", shown["client_id"])]).name, "Cursor")

    def test_the_done_step_of_a_custom_client_has_every_oauth_setting(self):
        """What n8n, Power Automate or Postman ask for, as the discovery documents advertise it."""
        wizard = self.wizard()
        wizard.action_choose_custom()
        wizard.write({"client_name": "n8n", "redirect_uris": "https://oauth.n8n.cloud/oauth2/callback"})
        action = wizard.action_custom_next()
        self.assertEqual(action["context"]["dialog_size"], "large", "as wide as the wizard after the password check")
        shown = self.shown(action)
        document = metadata.authorization_server(
            server_urls(self.env), registration_enabled=True, metadata_documents_enabled=True
        )
        self.assertEqual(shown["authorize_url"], document["authorization_endpoint"])
        self.assertEqual(shown["authorize_url"], "https://odoo.example.com/oauth/authorize")
        self.assertEqual(shown["token_url"], document["token_endpoint"])
        self.assertEqual(shown["scopes"], "mcp:read mcp:write")
        self.assertEqual(document["code_challenge_methods_supported"], ["S256"])
        arch = etree.fromstring(self.env["mcp.credential.show"].get_views([(False, "form")])["views"]["form"]["arch"])
        done = arch.xpath("//div[hasclass('o_mcp_done_custom')]")[0]
        # One group: every copy box starts at the same place.
        (group,) = done.xpath("./group")
        names = [field.get("name") for field in group.iter("field")]
        self.assertEqual(names[-3:], ["authorize_url", "token_url", "scopes"])
        self.assertEqual({field.get("widget") for field in group.iter("field")}, {"CopyClipboardChar"})
        self.assertIn("S256", "".join(done.xpath("./div[hasclass('o_mcp_manual_oauth')]")[0].itertext()))
        # A read-only connection's tools ask for what they may have.
        connection = self.env["mcp.connection"].search([("client_id", "=", shown["client_id"])])
        connection.allowed_scope = "read"
        self.assertEqual(connection._allowed_scopes(), ("mcp:read",))

    def test_back_and_cancel_create_nothing(self):
        before = self.env["mcp.connection"].search_count([])
        wizard = self.wizard()
        wizard.action_choose_custom()
        wizard.write({"client_name": "Later", "redirect_uris": "https://a.example/cb"})
        wizard.action_back()
        self.assertEqual(wizard.step, "type")
        self.assertEqual(wizard.client_name, "Later", "going back keeps what was typed")
        wizard.action_choose_custom()
        self.assertEqual(self.env["mcp.connection"].search_count([]), before)

    def test_next_only_from_its_own_step(self):
        wizard = self.wizard()
        wizard.write({"client_name": "Skipped", "redirect_uris": "https://a.example/cb", "token_name": "Skipped"})
        with self.assertRaisesRegex(UserError, "start again"):
            wizard.action_custom_next()
        with self.assertRaisesRegex(UserError, "start again"):
            wizard.action_personal_next()
        self.assertFalse(self.env["mcp.connection"].search([("name", "=", "Skipped")]))

    def test_personal_access_token_path(self):
        wizard = self.wizard(self.user)
        wizard.action_choose_personal()
        wizard.write({"token_name": "Claude Code", "token_scope": "write", "token_days": "30"})
        shown = self.shown(wizard.action_personal_next())
        self.assertEqual(shown["purpose"], "personal")
        token = shown["personal_token"]
        self.assertTrue(token.startswith("mcppt_"))
        self.assertIn(f"Bearer {token}", shown["config_snippet"])
        self.assertIn("https://odoo.example.com/api/mcp", shown["config_snippet"])
        record = self.env["mcp.token"].sudo().search([("digest", "=", core.digest_token(token, kind="personal"))])
        self.assertEqual(record.user_id, self.user)
        self.assertEqual(record.scopes, "mcp:read mcp:write")
        self.assertEqual(record.hint, token[-4:])
        self.assertEqual(record.connection_id.connection_type, "personal")
        self.assertEqual(record.connection_id.allowed_scope, "write")
        self.assertFalse(wizard.exists())
        self.assertIn(record.connection_id, self.env["mcp.consent"].with_user(self.user).search([]).connection_id)

    def test_a_personal_token_works_in_the_companies_chosen_among_the_users(self):
        company_a = self.user.company_id
        company_b, company_c = self.env["res.company"].create([{"name": "Wizard B Zq"}, {"name": "Wizard C Zq"}])
        self.user.company_ids |= company_b
        # Both companies active in the company switcher, as the web client sends them.
        wizard = self.wizard(self.user).with_context(allowed_company_ids=(company_a | company_b).ids)
        wizard.action_choose_personal()
        self.assertEqual(wizard.token_company_ids, company_a, "the user's current company at first")
        # Refused by an AccessError (a UserError) where the user cannot even read company C (the write on
        # 19.0, Next on 18.0), else in the wizard.
        with contextlib.suppress(UserError), self.env.cr.savepoint():
            wizard.write({"token_name": "Forged", "token_company_ids": [Command.set((company_a | company_c).ids)]})
            self.reopened(wizard.action_personal_next(), wizard)
            self.assertIn("no access to some of the companies", wizard.problem)
        self.env.invalidate_all()
        self.assertFalse(self.env["mcp.token"].sudo().search([("name", "=", "Forged")]))
        wizard.write({"token_name": "Both", "token_company_ids": [Command.set((company_b | company_a).ids)]})
        token = self.shown(wizard.action_personal_next())["personal_token"]
        record = self.env["mcp.token"].sudo().search([("digest", "=", core.digest_token(token, kind="personal"))])
        self.assertEqual((record.company_id, record.company_ids), (company_a, company_a | company_b))
        # A manager who has company C cannot give it to a user who does not.
        self.manager.company_ids |= company_c
        managed = self.wizard().with_context(allowed_company_ids=(company_a | company_c).ids)
        managed.action_choose_personal()
        managed.write({"token_name": "Forged", "token_user_id": self.user.id, "token_company_ids": company_c.ids})
        self.reopened(managed.action_personal_next(), managed)
        self.assertIn("no access to some of the companies", managed.problem)
        with self.assertRaisesRegex(UserError, "no access to some of the companies"):
            managed._create_personal_token()
        self.assertFalse(self.env["mcp.token"].sudo().search([("name", "=", "Forged")]))

    def test_plain_users_only_make_tokens_for_themselves(self):
        wizard = self.wizard(self.user)
        with self.assertRaises(AccessError):
            wizard.action_choose_custom()
        with self.assertRaises(AccessError):
            wizard.action_choose_browser()
        wizard.action_choose_personal()
        wizard.write({"token_user_id": self.manager.id, "token_name": "x"})
        with self.assertRaises(AccessError):
            wizard.action_personal_next()
        manager_wizard = self.wizard()
        manager_wizard.action_choose_personal()
        manager_wizard.write({"token_user_id": self.employee.id, "token_name": "x"})
        self.reopened(manager_wizard.action_personal_next(), manager_wizard)
        self.assertIn("not allowed to use AI tools", manager_wizard.problem)
        self.assertFalse(self.env["mcp.token"].sudo().search([("user_id", "=", self.employee.id)]))

    def test_the_user_picker_offers_only_users_of_ai_tools(self):
        domain = self.env["mcp.connect.wizard"].fields_get(["token_user_id"])["token_user_id"]["domain"]
        offered = self.env["res.users"].search(safe_eval(domain) if isinstance(domain, str) else domain)
        self.assertIn(self.user, offered)
        self.assertIn(self.manager, offered, "a manager is a user of AI tools too")
        self.assertNotIn(self.employee, offered)

    def test_a_token_is_named_after_its_tool(self):
        """No default name: the list would show "Personal access token" beside the type of the same name."""
        wizard = self.wizard(self.user)
        wizard.action_choose_personal()
        self.assertFalse(wizard.token_name)
        self.reopened(wizard.action_personal_next(), wizard)
        self.assertIn("Give the token a name", wizard.problem)
        arch = etree.fromstring(self.env["mcp.connect.wizard"].get_views([(False, "form")])["views"]["form"]["arch"])
        self.assertTrue(arch.xpath("//field[@name='token_name']")[0].get("placeholder"))

    def test_the_wizard_form(self):
        arch = etree.fromstring(self.env["mcp.connect.wizard"].get_views([(False, "form")])["views"]["form"]["arch"])
        # The redirect URIs' help follows them, nothing in between.
        custom = arch.xpath("//div[hasclass('o_mcp_step_custom')]")[0]
        self.assertFalse(custom.xpath(".//field[@name='endpoint_url']"))
        # One button closes the last step.
        footer = arch.xpath("//footer")[0]
        done = footer.xpath("./button[@name='action_finish']")[0]
        self.assertEqual((done.get("string"), done.get("invisible")), ("Done", "step != 'done'"))
        self.assertIn("step == 'done'", footer.xpath("./button[hasclass('o_mcp_cancel')]")[0].get("invisible"))
        # Self-registration off: no instructions that cannot work, but how to turn it on.
        instructions = arch.xpath("//div[hasclass('o_mcp_done_browser')]")[0]
        self.assertIn("not registration_enabled", instructions.get("invisible"))
        off = arch.xpath("//div[hasclass('o_mcp_step_done')]/div[hasclass('o_mcp_registration_off')]")[0]
        self.assertIn("registration_enabled", off.get("invisible"))
        self.assertIn("Let AI tools register themselves", "".join(off.itertext()))

    def test_the_personal_token_window(self):
        arch = etree.fromstring(self.env["mcp.credential.show"].get_views([(False, "form")])["views"]["form"]["arch"])
        # 19.0 labels the button with the field's name ("Configuration") unless the view names it.
        button = arch.xpath("//field[@name='config_snippet'][@widget='CopyClipboardButton']")[0]
        self.assertEqual(button.get("string"), "Copy")
        self.assertIn("HTTP Streamable", "".join(arch.xpath("//p[hasclass('o_mcp_n8n_hint')]")[0].itertext()))

    def test_employees_without_the_group_cannot_run_the_wizard(self):
        with self.assertRaises(AccessError):
            self.env["mcp.connect.wizard"].with_user(self.employee).create({})

    def test_wizard_rows_are_private_to_their_creator(self):
        wizard = self.wizard(self.user)
        other = new_test_user(self.env, login="mcp_wizard_other", groups="mcp_connect.group_mcp_user")
        with self.assertRaises(AccessError):
            wizard.with_user(other).read(["token_name"])


@tagged("post_install", "-at_install")
class TestConnectionActions(IdentityChecked):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="mcp_rotate_manager", groups="mcp_connect.group_mcp_manager")
        cls.secret = core.mint_token(kind="client_secret")[0]
        cls.connection = cls.env["mcp.connection"].create(
            {
                "name": "Rotating",
                "connection_type": "custom",
                "client_id": core.mint_token(kind="client_id")[0],
                "redirect_uris": "https://a.example/cb",
            }
        )
        cls.connection.sudo().secret_hash = core.hash_secret(cls.secret)

    def test_rotate_secret(self):
        action = self.connection.with_user(self.manager).action_rotate_secret()
        self.assertEqual(action["res_model"], "mcp.credential.show")
        self.assertFalse(action.get("res_id"))
        new_secret = action["context"]["default_client_secret"]
        self.assertEqual(action["context"]["default_purpose"], "rotation")
        self.assertEqual(action["context"]["default_client_id"], self.connection.client_id)
        self.assertTrue(new_secret.startswith("mcpcs_"))
        phc = self.connection.sudo().secret_hash
        core.verify_secret(secret=new_secret, phc=phc)
        with self.assertRaises(core.SecretMismatchError):
            core.verify_secret(secret=self.secret, phc=phc)
        self.assertIn("rotated", self.connection.message_ids[0].body)

    def test_the_show_once_form_fills_from_the_context(self):
        """The form's values come from the action's context through default_get, as the web client asks."""
        context = self.connection.with_user(self.manager).action_rotate_secret()["context"]
        show = self.env["mcp.credential.show"].with_user(self.manager).with_context(**context)
        values = show.default_get(["purpose", "client_id", "client_secret", "connection_name"])
        self.assertEqual(values["client_secret"], context["default_client_secret"])
        self.assertEqual(values["connection_name"], "Rotating")
        self.assertTrue(show._abstract, "the form's model has no table to keep the secret in")

    def test_rotate_needs_a_secret(self):
        public = self.env["mcp.connection"].create(
            {
                "name": "Public",
                "connection_type": "custom",
                "client_id": "mcpci_public_rot",
                "client_type": "public",
                "redirect_uris": "https://a.example/cb",
            }
        )
        with self.assertRaises(UserError):
            public.action_rotate_secret()

    def test_rotate_only_where_a_secret_can_be_pasted(self):
        """A tool that registered itself keeps the secret it was given: nobody can paste a new one into it."""
        for connection_type, refusal in (
            ("browser", "only the secret of a Custom OAuth"),
            ("metadata", "no client secret"),
        ):
            registered = self.env["mcp.connection"].create(
                {
                    "name": f"Registered {connection_type}",
                    "connection_type": connection_type,
                    "client_id": core.mint_token(kind="client_id")[0],
                    "client_type": "confidential",
                    "redirect_uris": "https://a.example/cb",
                }
            )
            phc = core.hash_secret(self.secret)
            registered.sudo().secret_hash = phc
            with self.subTest(connection_type=connection_type), self.assertRaisesRegex(UserError, f"(?i){refusal}"):
                registered.with_user(self.manager).action_rotate_secret()
            self.assertEqual(registered.sudo().secret_hash, phc)
        arch = self.env["mcp.connection"].get_views([(False, "form")])["views"]["form"]["arch"]
        button = etree.fromstring(arch).xpath("//button[@name='action_rotate_secret']")[0]
        self.assertIn("connection_type != 'custom'", button.get("invisible"))

    def test_machine_to_machine_switch(self):
        self.connection.allow_client_credentials = True
        self.assertIn("client_credentials", self.connection.grant_types.split())
        self.connection.allow_client_credentials = False
        self.assertNotIn("client_credentials", self.connection.grant_types.split())
        with self.assertRaises(ValidationError):
            self.env["mcp.connection"].create(
                {
                    "name": "Public",
                    "client_id": "mcpci_m2m",
                    "client_type": "public",
                    "redirect_uris": "https://a.example/cb",
                    "allow_client_credentials": True,
                }
            )

    def test_usage_figures(self):
        user = new_test_user(self.env, login="mcp_usage_user", groups="mcp_connect.group_mcp_user")
        self.env["mcp.token"].sudo()._create_personal(
            self.connection, user, core.mint_token(kind="personal")[0], "read", 30
        )
        self.env["mcp.audit.log"].create({"connection_id": self.connection.id, "user_id": user.id, "outcome": "ok"})
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.calls_24h, 1)
        self.assertEqual(self.connection.audit_count, 1)
        self.assertEqual(self.connection.user_ids, user)
        self.assertEqual(
            self.connection.action_view_audit_log()["domain"], [("connection_id", "in", [self.connection.id])]
        )

    def test_settings_show_the_endpoint(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.mcp_endpoint_url, "https://odoo.example.com/api/mcp")
