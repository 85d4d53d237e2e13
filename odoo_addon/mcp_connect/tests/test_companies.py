"""The companies a connection works in: chosen on the consent page, carried by the tokens,
checked again on every request, and named by ``create_records``."""

import re

from odoo import Command
from odoo.tests import new_test_user, tagged

from ..tools.context import ToolError
from ..tools.write import check_company_value
from .common import McpCase


@tagged("post_install", "-at_install")
class TestCompanies(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        cls.company_a = cls.user.company_id
        cls.company_b = Company.create({"name": "Company B Kwz"})
        cls.company_c = Company.create({"name": "Company C Kwz"})
        cls.user.company_ids = [Command.link(cls.company_b.id)]
        Partner = cls.env["res.partner"]
        cls.partner_a = Partner.create({"name": "Partner A Qzv", "company_id": cls.company_a.id})
        cls.partner_b = Partner.create({"name": "Partner B Qzv", "company_id": cls.company_b.id})
        cls.partner_c = Partner.create({"name": "Partner C Qzv", "company_id": cls.company_c.id})

    # -- helpers ----------------------------------------------------------------------

    def consent(self, client, companies=None, expect=302):
        """Sign in, open the consent page, allow with ``companies`` ticked; the page and the answer."""
        self.authenticate(self.user.login, self.password)
        verifier, params = self.authorize_params(client)
        page, handle, csrf = self.consent_page(params)
        data = {"request_handle": handle, "csrf_token": csrf, "decision": "allow"}
        if companies is not None:
            data["company_ids"] = [str(company.id) for company in companies]
        response = self.post_form("/oauth/authorize", data)
        self.assertEqual(response.status_code, expect, response.text[:500])
        return page, response, verifier, params

    def consented_tokens(self, client, companies):
        _page, response, verifier, params = self.consent(client, companies)
        exchanged = self.exchange(client, self.query(response)["code"], verifier, params)
        self.assertEqual(exchanged.status_code, 200, exchanged.text)
        return exchanged.json()

    def names(self, token):
        found = self.tool_ok(
            "search_records",
            {"model": "res.partner", "domain": [["name", "like", "Qzv"]], "fields": ["name"]},
            token=token,
        )
        return {record["name"] for record in found["records"]}

    @staticmethod
    def ticked(page):
        return {int(value) for value in re.findall(r'name="company_ids"[^>]*value="(\d+)"[^>]*checked', page.text)}

    @staticmethod
    def offered(page):
        return {int(value) for value in re.findall(r'name="company_ids"[^>]*value="(\d+)"', page.text)}

    # -- the consent page -------------------------------------------------------------

    def test_a_multi_company_user_chooses_among_their_companies_the_current_one_ticked(self):
        page, _response, _verifier, _params = self.consent(self.public, [self.company_a])
        self.assertEqual(self.offered(page), {self.company_a.id, self.company_b.id})
        self.assertEqual(self.ticked(page), {self.company_a.id})

    def test_a_single_company_user_sees_no_choice(self):
        self.user.company_ids = [Command.unlink(self.company_b.id)]
        page, response, _verifier, _params = self.consent(self.public)
        self.assertNotIn("o_mcp_companies", page.text)
        code = self.env["mcp.authorization.code"].sudo().search([("user_id", "=", self.user.id)], limit=1)
        self.assertEqual(code.company_ids, self.company_a)
        self.assertIn("code=", response.headers["Location"])

    def test_a_forged_company_is_refused_and_nothing_is_issued(self):
        for forged in ([self.company_c], [self.company_a, self.company_c]):
            _page, response, _verifier, _params = self.consent(self.public, forged, expect=403)
            self.assertIn("Company not available", response.text)
        self.assertFalse(self.env["mcp.authorization.code"].sudo().search([("user_id", "=", self.user.id)]))

    def test_none_ticked_is_refused(self):
        _page, response, _verifier, _params = self.consent(self.public, [], expect=400)
        self.assertIn("Choose a company", response.text)

    def test_the_connection_cap_narrows_the_choice_and_refuses_the_rest(self):
        self.public.company_ids = self.company_b | self.company_c
        page, _response, _verifier, _params = self.consent(self.public, [self.company_a], expect=403)
        self.assertNotIn("o_mcp_companies", page.text, "one company left: nothing to choose")
        tokens = self.consented_tokens(self.public, None)
        self.assertEqual(self.token_record(tokens["access_token"]).company_ids, self.company_b)
        self.assertEqual(self.names(tokens["access_token"]), {"Partner B Qzv"})

    def test_a_cap_set_later_applies_to_the_next_request(self):
        token = self.make_token(
            company_id=self.company_a.id, company_ids=[Command.set((self.company_a | self.company_b).ids)]
        )
        self.assertEqual(self.names(token), {"Partner A Qzv", "Partner B Qzv"})
        self.connection.company_ids = self.company_b
        self.assertEqual(self.names(token), {"Partner B Qzv"})

    def test_remembered_consent_keeps_the_choice(self):
        self.consented_tokens(self.public, [self.company_b])
        verifier, params = self.authorize_params(self.public)
        response = self.get("/oauth/authorize", params)
        self.assertEqual(response.status_code, 302, "consent is remembered")
        exchanged = self.exchange(self.public, self.query(response)["code"], verifier, params).json()
        self.assertEqual(self.token_record(exchanged["access_token"]).company_ids, self.company_b)

    # -- tokens and requests ----------------------------------------------------------

    def test_consent_to_company_a_reads_and_creates_in_a_only(self):
        tokens = self.consented_tokens(self.public, [self.company_a])
        access = tokens["access_token"]
        self.assertEqual(self.names(access), {"Partner A Qzv"})
        self.tool_error("read_records", {"model": "res.partner", "ids": [self.partner_b.id]}, token=access)
        created = self.tool_ok(
            "create_records",
            {"model": "res.partner", "values": {"name": "New A Kwz"}, "company_id": self.company_a.id},
            token=access,
        )
        self.assertEqual(self.env["res.partner"].browse(created["ids"]).company_id, self.company_a)
        whoami = self.tool_ok("whoami", token=access)
        self.assertEqual([company["id"] for company in whoami["companies"]], [self.company_a.id])

    def test_a_company_the_user_has_but_did_not_choose_is_refused_for_creates(self):
        tokens = self.consented_tokens(self.public, [self.company_a])
        text = self.tool_error(
            "create_records",
            {"model": "res.partner", "values": {"name": "Not In B Kwz"}, "company_id": self.company_b.id},
            token=tokens["access_token"],
        )
        self.assertIn(self.company_a.name, text)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Not In B Kwz")]))

    def test_consent_to_both_reads_both_and_creates_where_the_call_says(self):
        tokens = self.consented_tokens(self.public, [self.company_a, self.company_b])
        access = tokens["access_token"]
        record = self.token_record(access)
        self.assertEqual((record.company_id, record.company_ids), (self.company_a, self.company_a | self.company_b))
        self.assertEqual(self.names(access), {"Partner A Qzv", "Partner B Qzv"})
        created = self.tool_ok(
            "create_records",
            {"model": "res.partner", "values_list": [{"name": "New B Kwz"}], "company_id": self.company_b.id},
            token=access,
        )
        self.assertEqual(self.env["res.partner"].browse(created["ids"]).company_id, self.company_b)
        self.tool_error(
            "create_records",
            {"model": "res.partner", "values": {"name": "New C Kwz"}, "company_id": self.company_c.id},
            token=access,
            contains="not one of the companies",
        )
        self.tool_error(
            "create_records",
            {
                "model": "res.partner",
                "values": {"name": "Clash Kwz", "company_id": self.company_a.id},
                "company_id": self.company_b.id,
            },
            token=access,
        )
        self.tool_error(
            "create_records",
            {"model": "res.partner", "values": {"name": "In C Kwz", "company_id": self.company_c.id}},
            token=access,
        )
        self.tool_error(
            "create_records",
            {"model": "res.country.group", "values": {"name": "No Company Kwz"}, "company_id": self.company_a.id},
            token=access,
        )
        self.assertFalse(self.env["res.partner"].search([("name", "in", ["New C Kwz", "Clash Kwz", "In C Kwz"])]))
        whoami = self.tool_ok("whoami", token=access)
        self.assertEqual([company["id"] for company in whoami["companies"]], [self.company_a.id, self.company_b.id])

    def test_without_company_id_a_create_takes_the_main_company_as_default(self):
        # Currency rates default to the current company (and only administrators create them).
        administrator = new_test_user(
            self.env,
            login="mcp_companies_admin",
            groups="base.group_user,base.group_system,mcp_connect.group_mcp_user",
            company_id=self.company_a.id,
            company_ids=[Command.set((self.company_a | self.company_b).ids)],
        )
        token = self.make_token(
            user=administrator,
            company_id=self.company_b.id,
            company_ids=[Command.set((self.company_a | self.company_b).ids)],
        )
        values = {"currency_id": self.env.ref("base.EUR").id, "name": "2031-01-01", "rate": 1.5}
        created = self.tool_ok("create_records", {"model": "res.currency.rate", "values": values}, token=token)
        self.assertEqual(self.env["res.currency.rate"].browse(created["ids"]).company_id, self.company_b)

    def test_update_cannot_move_a_record_out_of_the_companies(self):
        token = self.make_token(
            company_id=self.company_a.id, company_ids=[Command.set((self.company_a | self.company_b).ids)]
        )
        self.tool_error(
            "update_records",
            {"model": "res.partner", "ids": [self.partner_a.id], "values": {"company_id": self.company_c.id}},
            token=token,
            contains="not one of the companies",
        )
        self.assertEqual(self.partner_a.company_id, self.company_a)
        nested = {"child_ids": [[0, 0, {"name": "Child C Qzv", "company_id": self.company_c.id}]]}
        self.tool_error(
            "update_records",
            {"model": "res.partner", "ids": [self.partner_a.id], "values": nested},
            token=token,
            contains="not one of the companies",
        )
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Child C Qzv")]))
        self.tool_ok(
            "update_records",
            {"model": "res.partner", "ids": [self.partner_a.id], "values": {"company_id": self.company_b.id}},
            token=token,
        )
        self.assertEqual(self.partner_a.company_id, self.company_b)

    def test_update_cannot_take_a_record_out_of_its_company(self):
        token = self.make_token(
            company_id=self.company_a.id, company_ids=[Command.set((self.company_a | self.company_b).ids)]
        )
        for empty in (False, 0, None):
            self.tool_error(
                "update_records",
                {"model": "res.partner", "ids": [self.partner_a.id], "values": {"company_id": empty}},
                token=token,
                contains="Leave company_id out",
            )
        self.assertEqual(self.partner_a.company_id, self.company_a)
        nested = {"child_ids": [[0, 0, {"name": "Child Shared Qzv", "company_id": False}]]}
        self.tool_error(
            "update_records", {"model": "res.partner", "ids": [self.partner_a.id], "values": nested}, token=token
        )
        self.tool_error(
            "create_records",
            {"model": "res.partner", "values": {"name": "Shared Qzv", "company_id": False}},
            token=token,
        )
        self.assertFalse(self.env["res.partner"].search([("name", "in", ["Child Shared Qzv", "Shared Qzv"])]))

    def test_every_field_to_companies_stays_inside_them(self):
        # A database without extra modules has no many2many to res.company that a tool may write
        # (res.users.company_ids is hidden from tools): the check itself, on that field, in companies A and B.
        both = (self.company_a | self.company_b).ids
        users = self.env["res.users"].with_context(allowed_company_ids=both)
        for value in (
            [*both, self.company_c.id],
            [[4, self.company_c.id, 0]],
            [[6, 0, [self.company_a.id, self.company_c.id]]],
            [[0, 0, {"name": "Company D Kwz"}]],
        ):
            with self.assertRaisesRegex(ToolError, "company_ids .* not one of the companies"):
                check_company_value(users, {"company_ids": value})
        for value in (both, [[3, self.company_c.id, 0], [4, self.company_b.id, 0]], [[5, 0, 0], [6, 0, both]]):
            check_company_value(users, {"company_ids": value})

    def test_a_company_taken_from_the_user_stops_working_on_the_next_request(self):
        both = self.make_token(
            company_id=self.company_a.id, company_ids=[Command.set((self.company_a | self.company_b).ids)]
        )
        only_b = self.make_token(company_id=self.company_b.id, company_ids=[Command.set(self.company_b.ids)])
        self.assertEqual(self.names(only_b), {"Partner B Qzv"})
        self.user.company_ids = [Command.unlink(self.company_b.id)]
        self.assertEqual(self.names(both), {"Partner A Qzv"})
        response = self.modern("tools/call", {"name": "whoami", "arguments": {}}, token=only_b)
        self.assertEqual(response.status_code, 401, response.text)
        self.assertIn("companies", response.headers["WWW-Authenticate"])

    def test_a_refresh_keeps_the_companies(self):
        tokens = self.consented_tokens(self.public, [self.company_b, self.company_a])
        response = self.post_form(
            "/oauth/token",
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": self.public.client_id,
            },
        )
        self.assertEqual(response.status_code, 200, response.text)
        for key in ("access_token", "refresh_token"):
            record = self.token_record(response.json()[key])
            self.assertEqual(record.company_id, self.company_a)
            self.assertEqual(record.company_ids, self.company_a | self.company_b)

    def test_an_approved_call_runs_only_in_the_companies_the_connection_still_allows(self):
        admin = self.env.ref("base.user_admin")
        tools = self.env["mcp.tool"].search([("name", "=", "create_records")])
        self.connection.write({"approval_tool_ids": [Command.set(tools.ids)], "approver_id": admin.id})
        token = self.make_token(
            company_id=self.company_a.id, company_ids=[Command.set((self.company_a | self.company_b).ids)]
        )
        arguments = {"model": "res.partner", "values": {"name": "Capped B Qzv"}, "company_id": self.company_b.id}
        request = self.env["mcp.approval.request"].browse(
            self.tool_ok("create_records", arguments, token=token)["approval_id"]
        )
        # A manager narrows the connection to company A before the call is approved.
        self.connection.company_ids = self.company_a
        request.with_user(admin).action_approve()
        self.assertEqual(request.state, "failed")
        self.assertIn("company_id", request.error)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Capped B Qzv")]))

    def test_an_approved_create_runs_in_the_companies_of_the_call(self):
        admin = self.env.ref("base.user_admin")
        tools = self.env["mcp.tool"].search([("name", "=", "create_records")])
        self.connection.write({"approval_tool_ids": [Command.set(tools.ids)], "approver_id": admin.id})
        token = self.make_token(
            company_id=self.company_a.id, company_ids=[Command.set((self.company_a | self.company_b).ids)]
        )
        arguments = {"model": "res.partner", "values": {"name": "Approved B Qzv"}, "company_id": self.company_b.id}
        data = self.tool_ok("create_records", arguments, token=token)
        request = self.env["mcp.approval.request"].browse(data["approval_id"])
        self.assertEqual(request.company_ids, self.company_a | self.company_b)
        request.with_user(admin).action_approve()
        self.assertEqual(request.state, "done", request.error)
        created = self.env["res.partner"].search([("name", "=", "Approved B Qzv")])
        self.assertEqual(created.company_id, self.company_b)
