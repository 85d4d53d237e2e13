"""The paths around a tool's top-level arguments: methods a user could not click, dotted fields,
value-revealing aggregates, and approvals by the person who asked."""

import json

import mcp_connect_core as core
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import McpCase
from .test_mcp_policy import tool_ids

WEB_AND_FRAMEWORK = (
    ("web_read", {"specification": {"name": {}}}),
    ("web_save", {"vals": {"name": "x"}, "specification": {}}),
    ("web_search_read", {"domain": [], "specification": {"name": {}}}),
    ("web_read_group", {"domain": [], "groupby": ["name"], "fields": []}),
    ("read_progress_bar", {"domain": [], "group_by": "name", "progress_bar": {}}),
    ("onchange", {"values": {}, "field_names": [], "fields_spec": {}}),
    ("name_create", {"name": "x"}),
    ("action_archive", {}),
    ("write", {"vals": {"name": "x"}}),
)


@tagged("post_install", "-at_install")
class TestCallMethodAllowList(McpCase):
    def setUp(self):
        super().setUp()
        self.partner = self.env["res.partner"].create({"name": "Method Qwv", "company_name": "Method Company Qwv"})

    def call(self, method, ids=None, **arguments):
        return {"model": "res.partner", "method": method, "ids": ids or [self.partner.id], **arguments}

    def test_web_client_and_framework_methods_are_refused(self):
        for method, kwargs in WEB_AND_FRAMEWORK:
            with self.subTest(method=method):
                text = self.tool_error("call_method", self.call(method, kwargs=kwargs))
                # The refusal tells the model what it may call instead.
                self.assertIn("create_company", text)
        self.assertEqual(self.partner.name, "Method Qwv")
        self.assertFalse(self.env["res.partner"].search([("name", "=", "x")]))

    def test_a_button_of_the_models_views_is_allowed(self):
        data = self.tool_ok("call_method", self.call("create_company"))
        self.assertEqual(data["method"], "create_company")
        self.assertEqual(self.partner.parent_id.name, "Method Company Qwv")
        self.assertTrue(self.partner.parent_id.is_company)

    def test_a_public_method_without_a_button_is_refused_until_a_manager_lists_it(self):
        self.tool_error("call_method", self.call("address_get"), contains="create_company")
        self.connection.allowed_methods = "res.country.get_address_fields\nres.partner.address_get"
        data = self.tool_ok("call_method", self.call("address_get"))
        self.assertEqual(data["result"]["value"]["contact"], self.partner.id)
        methods = self.tool_ok("describe_model", {"model": "res.partner", "fields": ["name"]})["methods"]
        self.assertIn("address_get", methods)
        self.assertIn("create_company", methods)
        self.assertFalse({"web_read", "write", "onchange", "get_address_fields"} & set(methods))
        read_only = self.tool_ok("describe_model", {"model": "res.partner", "fields": ["name"]}, token=self.read_token)
        self.assertEqual(read_only["methods"], [])

    def test_a_button_added_by_a_view_becomes_callable(self):
        self.tool_error("call_method", self.call("address_get"))
        view = self.env["ir.ui.view"].create(
            {
                "name": "res.partner.form.mcp.test",
                "model": "res.partner",
                "inherit_id": self.env.ref("base.view_partner_form").id,
                "arch": '<xpath expr="//sheet" position="inside">'
                '<button name="address_get" type="object" string="Addresses" groups="base.group_system"/></xpath>',
            }
        )
        # A button of a group the user is not in is not theirs to click.
        self.tool_error("call_method", self.call("address_get"))
        view.arch = view.arch.replace(' groups="base.group_system"', "")
        self.tool_ok("call_method", self.call("address_get"))
        view.unlink()
        self.tool_error("call_method", self.call("address_get"))

    def test_listed_methods_are_validated_when_saved(self):
        for line in (
            "res.partner.web_read",
            "res.partner.write",
            "res.partner.name_create",
            "res.partner._compute_display_name",
            "res.partner.no_such_method",
            "no.such.model.action_x",
            "address_get",
        ):
            with self.subTest(line=line), self.assertRaises(ValidationError):
                self.connection.allowed_methods = line

    def test_a_context_inside_any_argument_is_refused(self):
        self.connection.allowed_methods = "res.partner.address_get"
        for arguments in (
            {"kwargs": {"context": {"active_test": False}}},
            {"kwargs": {"adr_pref": [{"context": {"allowed_company_ids": [1]}}]}},
            {"args": [[{"name": {"context": {"lang": "fr_FR"}}}]]},
        ):
            with self.subTest(arguments=arguments):
                self.tool_error("call_method", self.call("address_get", **arguments), contains="context")
        self.tool_error("call_method", self.call("create_company", kwargs={"x": {"context": {}}}), contains="context")
        self.assertFalse(self.partner.parent_id)


PARTNER_FIELDS = ["name", "email", "ref", "parent_id", "child_ids", "country_id"]


@tagged("post_install", "-at_install")
class TestDottedPaths(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.parent = Partner.create({"name": "Parent Qwv", "ref": "CUST-P", "phone": "+32 555 01"})
        cls.child = Partner.create(
            {"name": "Child Qwv", "ref": "CUST-C", "phone": "+32 555 02", "parent_id": cls.parent.id}
        )
        fields = cls.env["ir.model.fields"].search([("model", "=", "res.partner"), ("name", "in", PARTNER_FIELDS)])
        cls.rule = cls.env["mcp.connection.model"].create(
            {
                "connection_id": cls.connection.id,
                "model_id": cls.env["ir.model"]._get("res.partner").id,
                "domain": "[('ref', '=like', 'CUST%')]",
                "field_ids": [(6, 0, fields.ids)],
            }
        )

    def search(self, domain):
        return {"model": "res.partner", "domain": domain}

    def test_every_segment_of_a_domain_path_obeys_the_field_list(self):
        for domain in (
            [["child_ids.phone", "like", "%"]],
            [["parent_id.phone", "=", "+32 555 01"]],
            [["parent_id.child_ids.phone", "!=", False]],
            ["|", ["name", "=", "x"], ["child_ids.comment", "ilike", "a"]],
            [["child_ids", "any", [["phone", "like", "%"]]]],
            [["parent_id", "not any", [["parent_id.phone", "like", "+32%"]]]],
        ):
            for tool in ("search_records", "count_records", "aggregate_records"):
                arguments = self.search(domain)
                if tool == "aggregate_records":
                    arguments["aggregates"] = ["__count"]
                with self.subTest(domain=domain, tool=tool):
                    self.tool_error(tool, arguments, contains="not allowed field")

    def test_a_path_into_a_model_the_connection_does_not_allow_is_refused(self):
        self.tool_error("count_records", self.search([["country_id.code", "=", "BE"]]), contains="res.country")
        self.tool_error(
            "aggregate_records",
            {"model": "res.partner", "groupby": ["country_id.code"], "aggregates": ["__count"]},
            contains="res.country",
        )
        country = self.env["ir.model"]._get("res.country")
        self.connection.model_rule_ids = [(0, 0, {"model_id": country.id})]
        self.tool_ok("count_records", self.search([["country_id.code", "=", "BE"]]))

    def test_allowed_paths_still_work(self):
        data = self.tool_ok("search_records", self.search([["parent_id.name", "=", "Parent Qwv"]]))
        self.assertEqual([r["id"] for r in data["records"]], [self.child.id])
        count = self.tool_ok("count_records", self.search([["child_ids", "any", [["name", "=", "Child Qwv"]]]]))
        self.assertEqual(count["count"], 1)

    def test_group_by_and_order_obey_the_field_list(self):
        for groupby in (["parent_id.phone"], ["phone"], ["parent_id.comment"]):
            with self.subTest(groupby=groupby):
                self.tool_error(
                    "aggregate_records",
                    {"model": "res.partner", "groupby": groupby, "aggregates": ["__count"]},
                    contains="not allowed field",
                )
        for order in ("phone:max desc", "comment:max", "parent_id.phone"):
            with self.subTest(order=order):
                self.tool_error(
                    "aggregate_records",
                    {"model": "res.partner", "groupby": ["ref"], "aggregates": ["__count"], "order": order},
                    contains="order",
                )
        self.tool_error("search_records", {"model": "res.partner", "order": "parent_id.phone"}, contains="order")
        data = self.tool_ok(
            "aggregate_records",
            {
                "model": "res.partner",
                "domain": [["name", "like", "Qwv"]],
                "groupby": ["ref"],
                "aggregates": ["__count"],
                "order": "ref desc",
            },
        )
        self.assertEqual([g["ref"] for g in data["groups"]], ["CUST-P", "CUST-C"])

    def test_value_aggregates_follow_the_approval_of_read_records(self):
        arguments = {"model": "res.partner", "domain": [["name", "like", "Qwv"]]}
        self.tool_ok("aggregate_records", {**arguments, "aggregates": ["name:array_agg"]})
        self.connection.approval_tool_ids = [(6, 0, tool_ids(self.env, "read_records"))]
        for aggregates, groupby in (
            (["name:array_agg"], []),
            (["name:max"], []),
            (["email:min"], []),
            (["__count"], ["name"]),
        ):
            with self.subTest(aggregates=aggregates, groupby=groupby):
                self.tool_error(
                    "aggregate_records",
                    {**arguments, "aggregates": aggregates, "groupby": groupby},
                    contains="read_records",
                )
        self.assertFalse(self.env["mcp.approval.request"].search([("connection_id", "=", self.connection.id)]))
        # Numbers are still fine.
        data = self.tool_ok("aggregate_records", {**arguments, "aggregates": ["__count", "id:count_distinct"]})
        self.assertEqual(data["groups"][0]["__count"], 2)
        self.tool_ok("aggregate_records", {**arguments, "aggregates": ["__count"], "groupby": ["parent_id"]})
        self.connection.approval_tool_ids = [(5, 0, 0)]
        self.connection.allowed_tool_ids = [(6, 0, tool_ids(self.env, "aggregate_records", "search_records"))]
        self.tool_error("aggregate_records", {**arguments, "aggregates": ["name:array_agg"]}, contains="read_records")

    def test_value_aggregates_obey_the_field_list(self):
        for spec in ("phone:array_agg", "comment:max", "parent_id.phone:array_agg"):
            with self.subTest(spec=spec):
                self.tool_error("aggregate_records", {"model": "res.partner", "aggregates": [spec]})


@tagged("post_install", "-at_install")
class TestAggregateSize(McpCase):
    def test_a_large_aggregate_is_cut_and_says_so(self):
        self.env["res.partner"].create([{"name": f"Big Qwv {i}", "comment": f"{i} " + "x" * 1500} for i in range(120)])
        response = self.call_tool(
            "aggregate_records",
            {
                "model": "res.partner",
                "domain": [["name", "like", "Big Qwv"]],
                "aggregates": ["comment:array_agg", "name:array_agg", "__count"],
            },
        )
        self.assertFalse(response.get("isError"), response)
        data = response["structuredContent"]
        self.assertLess(len(json.dumps(data)), 45_000)
        self.assertTrue(data["truncated"])
        group = data["groups"][0]
        self.assertEqual(group["__count"], 120)
        self.assertEqual(group["comment:array_agg"]["count"], 120)
        self.assertLess(len(group["comment:array_agg"]["values"]), 120)
        many = self.tool_ok(
            "aggregate_records",
            {
                "model": "res.partner",
                "domain": [["name", "like", "Big Qwv"]],
                "groupby": ["name"],
                "aggregates": ["comment:array_agg"],
                "limit": 500,
            },
        )
        self.assertLess(len(json.dumps(many)), 45_000)
        self.assertTrue(many["truncated"])


@tagged("post_install", "-at_install")
class TestApprovalBySomeoneElse(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")

    def setUp(self):
        super().setUp()
        token, _digest = core.mint_token(kind="personal")
        self.personal = self.env["mcp.connection"]._create_personal_token(self.user, "Mine", token, "write", 30)
        self.personal.approval_tool_ids = [(6, 0, tool_ids(self.env, "delete_records"))]
        self.personal_token = token
        self.partner = self.env["res.partner"].create({"name": "Delete me Qwv"})

    def pending(self, approver="an MCP Connect manager"):
        data = self.tool_ok(
            "delete_records", {"model": "res.partner", "ids": [self.partner.id]}, token=self.personal_token
        )
        self.assertEqual(data["approval_status"], "pending")
        self.assertIn(f"needs the approval of {approver}.", data["message"])
        return self.env["mcp.approval.request"].browse(data["approval_id"])

    def test_the_owner_of_a_personal_token_cannot_approve_their_own_call(self):
        request = self.pending()
        self.assertFalse(request.approver_id)
        self.assertNotIn(self.user, request.activity_ids.user_id)
        self.assertIn(self.admin, request.activity_ids.user_id)
        self.assertFalse(request.with_user(self.user).can_approve)
        self.assertIn("Nobody approves their own request", request.with_user(self.user).approval_note)
        with self.assertRaisesRegex(UserError, "own"):
            request.with_user(self.user).action_approve()
        self.assertTrue(self.partner.exists())
        self.assertEqual(request.state, "pending")
        self.assertTrue(request.with_user(self.admin).can_approve)
        request.with_user(self.admin).action_approve()
        self.assertEqual(request.state, "done")
        self.assertFalse(self.partner.exists())
        run = self.env["mcp.audit.log"].search([("method", "=", "approval/run"), ("user_id", "=", self.user.id)])
        self.assertEqual((run.tool, run.outcome), ("delete_records", "ok"))
        self.assertEqual(request.decided_by_id, self.admin)

    def test_an_approver_who_asked_cannot_approve_either(self):
        self.personal.approver_id = self.user
        request = self.pending()
        with self.assertRaisesRegex(UserError, "own"):
            request.with_user(self.user).action_approve()
        self.assertTrue(self.partner.exists())

    def test_a_manager_cannot_approve_their_own_call(self):
        token, _digest = core.mint_token(kind="personal")
        connection = self.env["mcp.connection"]._create_personal_token(self.admin, "Admin's", token, "write", 30)
        connection.approval_tool_ids = [(6, 0, tool_ids(self.env, "delete_records"))]
        data = self.tool_ok("delete_records", {"model": "res.partner", "ids": [self.partner.id]}, token=token)
        request = self.env["mcp.approval.request"].browse(data["approval_id"])
        with self.assertRaisesRegex(UserError, "own"):
            request.with_user(self.admin).action_approve()
        self.assertTrue(self.partner.exists())

    def test_the_requester_may_withdraw_their_request(self):
        request = self.pending()
        request.with_user(self.user).action_reject()
        self.assertEqual(request.state, "rejected")
        self.assertTrue(self.partner.exists())

    def test_a_set_approver_approves(self):
        approver = self.other_user
        self.personal.approver_id = approver
        request = self.pending(approver.name)
        self.assertEqual(request.approver_id, approver)
        request.with_user(approver).action_approve()
        self.assertEqual(request.state, "done")
