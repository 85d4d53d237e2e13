"""Record rules of the company-bound models: a manager sees the rows of the companies they work
in, a user always sees their own, and administrators' edits of the rules survive an update."""

import secrets
from datetime import timedelta

import mcp_connect_core as core
from odoo import fields
from odoo.tests import TransactionCase, new_test_user, tagged

COMPANY_MODELS = ("mcp.connection", "mcp.token", "mcp.consent", "mcp.approval.request", "mcp.authorization.code")


@tagged("post_install", "-at_install")
class TestCompanyRules(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.ref("base.main_company")
        cls.company_b = cls.env["res.company"].create({"name": "Company B Rules"})
        both = [cls.company_a.id, cls.company_b.id]
        manager_groups = "base.group_user,mcp_connect.group_mcp_manager"
        cls.manager_a = new_test_user(cls.env, login="mcp_rules_manager_a", groups=manager_groups)
        cls.manager_both = new_test_user(
            cls.env, login="mcp_rules_manager_both", groups=manager_groups, company_ids=[(6, 0, both)]
        )
        cls.user_b = new_test_user(
            cls.env,
            login="mcp_rules_user_b",
            groups="base.group_user,mcp_connect.group_mcp_user",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, [cls.company_b.id])],
        )
        now = fields.Datetime.now()
        cls.rows = {}
        for company in (cls.company_a, cls.company_b):
            client_id, _ = core.mint_token(kind="client_id")
            connection = cls.env["mcp.connection"].create(
                {
                    "name": f"Rules {company.name}",
                    "connection_type": "custom",
                    "client_id": client_id,
                    "client_type": "public",
                    "redirect_uris": "https://tool.example/callback",
                    "owner_user_id": cls.env.ref("base.user_admin").id,
                    "company_id": company.id,
                }
            )
            _token, digest = core.mint_token(kind="access")
            common = {"connection_id": connection.id, "company_id": company.id, "scopes": "mcp:read"}
            cls.rows[company, "mcp.connection"] = connection
            cls.rows[company, "mcp.token"] = cls.env["mcp.token"].create(
                {
                    **common,
                    "user_id": cls.env.ref("base.user_admin").id,
                    "digest": digest,
                    "kind": "access",
                    "resource": "https://odoo.example/api/mcp",
                    "expires_at": now + timedelta(hours=1),
                    "family": secrets.token_hex(16),
                    "family_expires_at": now + timedelta(days=1),
                }
            )
            cls.rows[company, "mcp.consent"] = cls.env["mcp.consent"].create(
                {**common, "user_id": cls.env.ref("base.user_admin").id}
            )
            cls.rows[company, "mcp.approval.request"] = cls.env["mcp.approval.request"].create(
                {
                    **common,
                    "user_id": cls.env.ref("base.user_admin").id,
                    "tool": "update_records",
                    "expires_at": now + timedelta(hours=1),
                }
            )
            cls.rows[company, "mcp.authorization.code"] = cls.env["mcp.authorization.code"].create(
                {
                    **common,
                    "user_id": cls.env.ref("base.user_admin").id,
                    "digest": secrets.token_hex(16),
                    "resource": "https://odoo.example/api/mcp",
                    "expires_at": now + timedelta(minutes=5),
                }
            )

    def visible(self, user, model, companies=None):
        """The rows of this test that ``user`` finds in ``model`` (in ``companies`` when given)."""
        env = self.env(user=user)
        if companies is not None:
            env = env(context={**env.context, "allowed_company_ids": companies.ids})
        ids = [row.id for (_company, name), row in self.rows.items() if name == model]
        return env[model].search([("id", "in", ids)])

    def test_a_manager_of_company_a_does_not_see_company_b_rows(self):
        for model in COMPANY_MODELS:
            with self.subTest(model=model):
                self.assertEqual(self.visible(self.manager_a, model), self.rows[self.company_a, model])

    def test_a_manager_of_both_sees_the_rows_of_the_companies_selected(self):
        for model in COMPANY_MODELS:
            with self.subTest(model=model):
                both = self.rows[self.company_a, model] | self.rows[self.company_b, model]
                self.assertEqual(self.visible(self.manager_both, model), both)
                self.assertEqual(
                    self.visible(self.manager_both, model, self.company_a), self.rows[self.company_a, model]
                )

    def test_a_user_sees_their_own_rows_of_a_company_not_selected(self):
        """A user's consents and the connections they allowed stay theirs whatever company the
        switcher shows: they revoke them from My AI Connections."""
        self.user_b.company_ids = [(4, self.company_a.id)]
        connection = self.rows[self.company_b, "mcp.connection"]
        self.env["mcp.consent"]._remember(self.user_b, connection, ["mcp:read"], [self.company_b.id])
        consent = self.env["mcp.consent"].search([("user_id", "=", self.user_b.id)])
        self.assertEqual(consent.company_id, self.company_b)
        self.assertEqual(self.visible(self.user_b, "mcp.connection", self.company_a), connection)
        own = self.env(user=self.user_b, context={"allowed_company_ids": self.company_a.ids})["mcp.consent"]
        self.assertEqual(own.search([("user_id", "=", self.user_b.id)]), consent)

    def test_the_rules_are_noupdate(self):
        """Administrators may edit a record rule: a module update must not put it back."""
        rules = self.env["ir.rule"].search([("model_id.model", "like", "mcp.")])
        data = self.env["ir.model.data"].search([("model", "=", "ir.rule"), ("res_id", "in", rules.ids)])
        self.assertEqual(len(data), len(rules))
        self.assertTrue(all(data.mapped("noupdate")))
        company_rules = rules.filtered(lambda rule: not rule.groups and rule.model_id.model in COMPANY_MODELS)
        self.assertEqual(set(company_rules.mapped("model_id.model")), set(COMPANY_MODELS))
