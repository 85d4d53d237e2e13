import json

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import McpCase

ALLOWED = ["name", "email", "phone", "ref"]


@tagged("post_install", "-at_install")
class TestDataScopes(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.inside = Partner.create(
            {"name": "Inside Qwv", "ref": "CUST-1", "email": "in@example.com", "comment": "private note"}
        )
        cls.inside2 = Partner.create({"name": "Inside2 Qwv", "ref": "CUST-2"})
        cls.outside = Partner.create({"name": "Outside Qwv", "ref": "SUPP-1"})
        partner_model = cls.env["ir.model"]._get("res.partner")
        fields = cls.env["ir.model.fields"].search([("model", "=", "res.partner"), ("name", "in", ALLOWED)])
        cls.rule = cls.env["mcp.connection.model"].create(
            {
                "connection_id": cls.connection.id,
                "model_id": partner_model.id,
                "domain": "[('ref', '=like', 'CUST%')]",
                "field_ids": [(6, 0, fields.ids)],
            }
        )

    def test_search_count_and_aggregate_are_intersected_with_the_filter(self):
        data = self.tool_ok("search_records", {"model": "res.partner", "domain": [["name", "like", "Qwv"]]})
        self.assertEqual({r["id"] for r in data["records"]}, {self.inside.id, self.inside2.id})
        self.assertEqual(data["total"], 2)
        self.assertTrue(set(data["records"][0]) <= {"id", *ALLOWED})
        count = self.tool_ok("count_records", {"model": "res.partner", "domain": [["name", "like", "Qwv"]]})
        self.assertEqual(count["count"], 2)
        groups = self.tool_ok(
            "aggregate_records",
            {"model": "res.partner", "domain": [["name", "like", "Qwv"]], "aggregates": ["__count"]},
        )
        self.assertEqual(groups["groups"][0]["__count"], 2)

    def test_the_company_id_argument_of_a_create_counts_as_a_field_written(self):
        arguments = {
            "model": "res.partner",
            "values": {"name": "Placed Qwv", "ref": "CUST-9"},
            "company_id": self.user.company_id.id,
        }
        self.tool_error("create_records", arguments, contains="company_id")
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Placed Qwv")]))

    def test_fields_outside_the_list_are_refused_by_name(self):
        text = self.tool_error("search_records", {"model": "res.partner", "fields": ["name", "comment"]})
        self.assertIn("may not use these fields of res.partner: comment", text)
        self.tool_error(
            "read_records", {"model": "res.partner", "ids": [self.inside.id], "fields": ["comment"]}, contains="comment"
        )
        self.tool_error(
            "search_records",
            {"model": "res.partner", "domain": [["comment", "ilike", "private"]]},
            contains="not allowed field",
        )
        self.tool_error("search_records", {"model": "res.partner", "order": "comment"}, contains="Cannot sort")
        self.tool_error(
            "aggregate_records",
            {"model": "res.partner", "groupby": ["comment"], "aggregates": ["__count"]},
            contains="Cannot group",
        )
        described = self.tool_ok("describe_model", {"model": "res.partner"})
        self.assertEqual(set(described["fields"]) - {"id"}, set(ALLOWED))

    def test_records_outside_the_filter_look_missing(self):
        text = self.tool_error("read_records", {"model": "res.partner", "ids": [self.outside.id]})
        self.assertIn(str(self.outside.id), text)
        self.assertIn("does not exist", text)
        self.assertEqual(
            text,
            self.tool_error("read_records", {"model": "res.partner", "ids": [999999999]}).replace(
                "999999999", str(self.outside.id)
            ),
        )
        error = self.modern("resources/read", {"uri": f"odoo://res.partner/{self.outside.id}"}).json()["error"]
        self.assertEqual(error["code"], -32602)
        inside = self.modern("resources/read", {"uri": f"odoo://res.partner/{self.inside.id}"}).json()["result"]
        self.assertTrue(set(json.loads(inside["contents"][0]["text"])) <= {"id", *ALLOWED})

    def test_writes_stay_inside_the_filter_and_the_fields(self):
        created = self.tool_ok("create_records", {"model": "res.partner", "values": {"name": "New", "ref": "CUST-9"}})
        self.assertEqual(self.env["res.partner"].browse(created["ids"]).ref, "CUST-9")
        self.tool_error(
            "create_records",
            {"model": "res.partner", "values": {"name": "Out", "ref": "SUPP-9"}},
            contains="outside its record filter",
        )
        self.assertFalse(self.env["res.partner"].search([("ref", "=", "SUPP-9")]))
        self.tool_error(
            "create_records",
            {"model": "res.partner", "values": {"name": "X", "ref": "CUST-8", "comment": "x"}},
            contains="comment",
        )
        self.tool_error(
            "update_records",
            {"model": "res.partner", "ids": [self.inside.id], "values": {"ref": "SUPP-7"}},
            contains="outside its record filter",
        )
        self.assertEqual(self.inside.ref, "CUST-1")
        self.tool_error(
            "update_records", {"model": "res.partner", "ids": [self.outside.id], "values": {"name": "Hacked"}}
        )
        self.assertEqual(self.outside.name, "Outside Qwv")
        admin_token = self.make_token(user=self.env.ref("base.user_admin"))
        self.tool_error("delete_records", {"model": "res.partner", "ids": [self.outside.id]}, token=admin_token)
        self.assertTrue(self.outside.exists())
        self.tool_error("call_method", {"model": "res.partner", "method": "address_get", "ids": [self.outside.id]})
        self.tool_error("post_message", {"model": "res.partner", "record_id": self.outside.id, "body": "x"})

    def test_rules_narrow_but_never_widen_odoo_access(self):
        company_b = self.env["res.company"].create({"name": "Company B Qwv"})
        foreign = self.env["res.partner"].create({"name": "Foreign Qwv", "ref": "CUST-3", "company_id": company_b.id})
        self.rule.domain = "[('ref', '=like', 'CUST%'), ('company_id', 'in', company_ids + [False])]"
        data = self.tool_ok("search_records", {"model": "res.partner", "domain": [["name", "like", "Qwv"]]})
        ids = {r["id"] for r in data["records"]}
        self.assertNotIn(foreign.id, ids, "another company's record stays invisible")
        self.assertIn(self.inside.id, ids)

    def test_invalid_rules_are_refused_when_saved(self):
        for domain, fragment in (
            ("[('ref', '=like'", "not a valid domain"),
            ("[('no_such_field', '=', 1)]", "not a valid domain"),
            ("__import__('os')", "not a valid domain"),
            ("'just a string'", "not a valid domain"),
        ):
            with self.assertRaisesRegex(ValidationError, fragment):
                self.rule.domain = domain
        country_field = self.env["ir.model.fields"]._get("res.country", "code")
        with self.assertRaisesRegex(ValidationError, "do not belong"):
            self.rule.field_ids = [(4, country_field.id)]

    def test_rule_change_applies_to_the_next_request(self):
        self.rule.domain = "[('ref', '=', 'CUST-2')]"
        data = self.tool_ok("search_records", {"model": "res.partner", "domain": [["name", "like", "Qwv"]]})
        self.assertEqual([r["id"] for r in data["records"]], [self.inside2.id])


@tagged("post_install", "-at_install")
class TestUserInfo(McpCase):
    def userinfo(self, token):
        return self.url_open("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}, allow_redirects=False)

    def test_claims_with_and_without_email(self):
        self.user.email = "ada@example.com"
        plain = self.userinfo(self.token)
        self.assertEqual(plain.status_code, 200, plain.text)
        claims = plain.json()
        self.assertEqual(claims["preferred_username"], self.user.login)
        self.assertEqual(claims["name"], "Ada Lovelace")
        self.assertEqual(claims["company"]["id"], self.user.company_id.id)
        self.assertNotIn("email", claims)
        self.assertEqual(plain.headers["Cache-Control"], "no-store")
        with_email = self.userinfo(self.make_token(scopes="mcp:read email")).json()
        self.assertEqual(with_email["email"], "ada@example.com")
        self.assertEqual(with_email["sub"], claims["sub"])
        other = self.userinfo(self.make_token(user=self.other_user)).json()
        self.assertNotEqual(other["sub"], claims["sub"])

    def test_refused_tokens(self):
        self.assertEqual(self.userinfo(self.make_token(revoked=True)).status_code, 401)
        self.assertEqual(self.userinfo("garbage").status_code, 401)
        response = self.url_open("/oauth/userinfo", allow_redirects=False)
        self.assertEqual(response.status_code, 401)
        self.assertIn("resource_metadata", response.headers["WWW-Authenticate"])

    def test_email_scope_can_be_requested_at_authorization(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential, scope="mcp:read email")
        response, _handle, _csrf = self.consent_page(params)
        self.assertIn("See your email address", response.text)
        self.assertIn("Read only (mcp:read): see your Odoo data", response.text)
