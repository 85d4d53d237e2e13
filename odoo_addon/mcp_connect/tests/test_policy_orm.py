"""The connection's policy inside Odoo's access checks: every path into the ORM obeys it."""

import itertools

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .. import compat, guard
from ..mcp import registry
from ..tools import runner
from ..tools.context import ToolContext
from .common import McpCase
from .test_mcp_policy import tool_ids

PASSWORD = "A-new-password-42"


def restrict_partners(env, connection, field_names=None, **values):
    """A model rule of ``connection`` for res.partner (with ``field_names`` as its field list)."""
    if field_names is not None:
        fields = env["ir.model.fields"].search([("model", "=", "res.partner"), ("name", "in", list(field_names))])
        values["field_ids"] = [(6, 0, fields.ids)]
    return env["mcp.connection.model"].create(
        {"connection_id": connection.id, "model_id": env["ir.model"]._get("res.partner").id, **values}
    )


@tagged("post_install", "-at_install")
class TestNestedPaths(McpCase):
    """A connection that may read, create and update companies only (no delete)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.company = Partner.create({"name": "Inside Corp Zq", "is_company": True})
        cls.person = Partner.create({"name": "Outside Person Zq", "phone": "+1 555 0100"})
        cls.child = Partner.create({"name": "Child Zq", "parent_id": cls.company.id, "is_company": True})
        cls.contact = Partner.create({"name": "Contact Zq", "parent_id": cls.company.id})
        cls.admin = cls.env.ref("base.user_admin")
        restrict_partners(
            cls.env, cls.connection, can_delete=False, can_call=False, domain="[('is_company', '=', True)]"
        )

    def test_nested_user_creation_is_refused(self):
        users = self.env["res.users"].with_context(active_test=False).search_count([])
        settings = self.env.ref("base.group_system")
        groups = compat.user_groups_field(self.env)
        text = self.tool_error(
            "create_records",
            {
                "model": "res.partner",
                "values": {
                    "name": "Trojan Zq",
                    "is_company": True,
                    "user_ids": [[0, 0, {"login": "trojan", "password": PASSWORD, groups: [[6, 0, [settings.id]]]}]],
                },
            },
        )
        self.assertIn("user_ids", text)
        self.assertEqual(self.env["res.users"].with_context(active_test=False).search_count([]), users)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Trojan Zq")]))

    def test_nested_password_change_of_another_user_is_refused(self):
        # An administrator's token: Odoo itself would let them change a password.
        boss = new_test_user(
            self.env,
            login="mcp_nested_boss",
            groups="base.group_system,base.group_partner_manager,mcp_connect.group_mcp_user",
        )
        self.env.cr.execute("SELECT password FROM res_users WHERE id = %s", [self.admin.id])
        before = self.env.cr.fetchone()
        self.tool_error(
            "update_records",
            {
                "model": "res.partner",
                "ids": [self.company.id],
                "values": {"user_ids": [[1, self.admin.id, {"password": PASSWORD}]]},
            },
            token=self.make_token(user=boss),
        )
        self.env.cr.execute("SELECT password FROM res_users WHERE id = %s", [self.admin.id])
        self.assertEqual(self.env.cr.fetchone(), before)

    def test_nested_delete_needs_the_delete_operation(self):
        self.tool_error(
            "update_records",
            {"model": "res.partner", "ids": [self.company.id], "values": {"child_ids": [[2, self.child.id]]}},
            contains="may not delete res.partner",
        )
        self.assertTrue(self.child.exists())

    def test_nested_update_outside_the_filter_is_refused(self):
        self.tool_error(
            "update_records",
            {
                "model": "res.partner",
                "ids": [self.company.id],
                "values": {"child_ids": [[1, self.person.id, {"phone": "+1 555 0199"}]]},
            },
            contains="outside its record filter",
        )
        self.assertEqual(self.person.phone, "+1 555 0100")

    def test_nested_update_of_a_contact_outside_the_filter_is_refused(self):
        self.tool_error(
            "update_records",
            {
                "model": "res.partner",
                "ids": [self.company.id],
                "values": {"child_ids": [[1, self.contact.id, {"name": "Renamed Zq"}]]},
            },
        )
        self.assertEqual(self.contact.name, "Contact Zq")

    def test_nested_update_needs_the_approval_of_update_records(self):
        self.connection.approval_tool_ids = [(6, 0, tool_ids(self.env, "update_records"))]
        self.tool_error(
            "create_records",
            {
                "model": "res.partner",
                "values": {
                    "name": "New Zq",
                    "is_company": True,
                    "child_ids": [[1, self.child.id, {"name": "Renamed"}]],
                },
            },
        )
        self.assertEqual(self.child.name, "Child Zq")
        self.assertFalse(self.env["res.partner"].search([("name", "=", "New Zq")]))

    def test_nested_commands_work_inside_the_policy(self):
        created = self.tool_ok(
            "create_records",
            {
                "model": "res.partner",
                "values": {
                    "name": "Parent Zq",
                    "is_company": True,
                    "child_ids": [[0, 0, {"name": "Branch Zq", "is_company": True}]],
                },
            },
        )
        parent = self.env["res.partner"].browse(created["ids"])
        self.assertEqual(parent.child_ids.mapped("name"), ["Branch Zq"])
        self.tool_ok(
            "update_records",
            {
                "model": "res.partner",
                "ids": parent.ids,
                "values": {"child_ids": [[1, parent.child_ids.id, {"name": "Renamed Zq"}]]},
            },
        )
        self.assertEqual(parent.child_ids.name, "Renamed Zq")

    def test_records_created_outside_the_filter_are_refused(self):
        self.tool_error(
            "create_records",
            {
                "model": "res.partner",
                "values": {"name": "Co Zq", "is_company": True, "child_ids": [[0, 0, {"name": "Person Zq"}]]},
            },
        )
        self.assertFalse(self.env["res.partner"].search([("name", "in", ["Co Zq", "Person Zq"])]))

    def test_other_models_are_refused_on_every_path(self):
        self.tool_error(
            "update_records",
            {"model": "res.partner", "ids": [self.company.id], "values": {"category_id": [[0, 0, {"name": "Tag Zq"}]]}},
        )
        self.assertFalse(self.env["res.partner.category"].search([("name", "=", "Tag Zq")]))


@tagged("post_install", "-at_install")
class TestFieldPaths(McpCase):
    """A connection that sees the name, email and relations of partners, never their phone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.parent = Partner.create({"name": "Parent Fq", "phone": "+1 555 0142", "is_company": True})
        cls.kid = Partner.create({"name": "Kid Fq", "parent_id": cls.parent.id})
        restrict_partners(
            cls.env, cls.connection, ["name", "email", "is_company", "parent_id", "child_ids", "user_ids"]
        )

    def test_dotted_domains_check_every_segment(self):
        self.tool_error(
            "search_records",
            {"model": "res.partner", "domain": [["child_ids.phone", "like", "%"]], "fields": ["name"]},
            contains="phone",
        )
        self.tool_error("count_records", {"model": "res.partner", "domain": [["parent_id.phone", "=", "+1 555 0142"]]})
        self.tool_ok(
            "search_records",
            {"model": "res.partner", "domain": [["parent_id.name", "=", "Parent Fq"]], "fields": ["name"]},
        )

    def test_dotted_group_by_is_refused(self):
        self.tool_error(
            "aggregate_records",
            {"model": "res.partner", "groupby": ["parent_id.phone"], "aggregates": ["__count"]},
        )

    def test_nested_writes_obey_the_field_list(self):
        self.tool_error(
            "update_records",
            {
                "model": "res.partner",
                "ids": [self.parent.id],
                "values": {"child_ids": [[1, self.kid.id, {"phone": "0"}]]},
            },
            contains="phone",
        )
        self.assertFalse(self.kid.phone)

    def test_models_reached_through_a_relation_follow_the_policy(self):
        # res.users is not listed: a path through user_ids reads nothing of it.
        self.tool_error("search_records", {"model": "res.partner", "domain": [["user_ids.login", "like", "%"]]})


@tagged("post_install", "-at_install")
class TestTechnicalModels(McpCase):
    """An administrator's open connection reaches business models only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.boss = new_test_user(
            cls.env,
            login="mcp_admin_boss",
            groups="base.group_system,base.group_partner_manager,mcp_connect.group_mcp_user",
            password=cls.password,
        )

    def setUp(self):
        super().setUp()
        self.boss_token = self.make_token(user=self.boss)

    def test_configuration_and_credentials_stay_out(self):
        for model, tool, arguments in [
            ("res.config.settings", "create_records", {"values": {}}),
            ("ir.config_parameter", "search_records", {}),
            ("ir.mail_server", "search_records", {}),
            ("mail.template", "search_records", {}),
            ("ir.actions.server", "search_records", {}),
            ("base.automation", "count_records", {}),
            ("res.users", "update_records", {"ids": [self.boss.id], "values": {"name": "x"}}),
        ]:
            if model not in self.env:
                continue
            with self.subTest(model=model):
                self.tool_error(tool, {"model": model, **arguments}, token=self.boss_token)

    def test_nested_administrator_is_refused_on_an_open_connection(self):
        settings = self.env.ref("base.group_system")
        groups = compat.user_groups_field(self.env)
        self.tool_error(
            "create_records",
            {
                "model": "res.partner",
                "values": {
                    "name": "Trojan Tq",
                    "user_ids": [[0, 0, {"login": "trojan2", groups: [[6, 0, [settings.id]]]}]],
                },
            },
            token=self.boss_token,
            contains="res.users",
        )
        self.assertFalse(self.env["res.users"].with_context(active_test=False).search([("login", "=", "trojan2")]))

    def test_a_named_configuration_model_is_reachable_and_flagged(self):
        rule = self.env["mcp.connection.model"].create(
            {
                "connection_id": self.connection.id,
                "model_id": self.env["ir.model"]._get("mail.template").id,
                "can_create": False,
                "can_write": False,
                "can_delete": False,
            }
        )
        self.assertTrue(rule.configures_odoo)
        self.tool_ok("count_records", {"model": "mail.template"}, token=self.boss_token)
        self.tool_error("search_records", {"model": "ir.mail_server"}, token=self.boss_token)


@tagged("post_install", "-at_install")
class TestGeneratedPaths(McpCase):
    """Every x2many field and command, every relational path: nothing outside the policy moves."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.inside = Partner.create({"name": "Inside Gq", "is_company": True, "phone": "+1 555 0101"})
        cls.outside = Partner.create({"name": "Outside Gq", "phone": "+1 555 0102", "parent_id": cls.inside.id})
        relations = cls.env["ir.model.fields"].search(
            [("model", "=", "res.partner"), ("ttype", "in", ("one2many", "many2many", "many2one"))]
        )
        restrict_partners(
            cls.env,
            cls.connection,
            [*relations.mapped("name"), "name", "is_company"],
            can_delete=False,
            domain="[('is_company', '=', True)]",
        )

    def _snapshot(self):
        self.env.invalidate_all()
        self.env.cr.execute("SELECT count(*), max(write_date) FROM res_users")
        users = self.env.cr.fetchone()
        self.env.cr.execute(
            "SELECT id, name, phone, parent_id, active, write_date FROM res_partner WHERE id = %s", [self.outside.id]
        )
        return users, self.env.cr.fetchone()

    def test_nested_commands_never_touch_what_the_policy_excludes(self):
        before = self._snapshot()
        partner_fields = self.env["res.partner"]._fields
        x2many = sorted(
            name
            for name, field in partner_fields.items()
            if field.type in ("one2many", "many2many") and field.store and not field.readonly
        )
        commands = {
            "create": lambda comodel: [0, 0, {"name": "Gen Gq", "phone": "0"}],
            "update": lambda comodel: [1, self._target(comodel), {"name": "Gen Gq", "phone": "0"}],
            "delete": lambda comodel: [2, self._target(comodel)],
            "unlink": lambda comodel: [3, self._target(comodel)],
            "link": lambda comodel: [4, self._target(comodel)],
            "set": lambda comodel: [6, 0, [self._target(comodel)]],
        }
        cases = 0
        for (name, (kind, make)), tool in itertools.product(
            itertools.product(x2many, commands.items()), ("create_records", "update_records")
        ):
            comodel = partner_fields[name].comodel_name
            if comodel != "res.partner" and kind in ("link", "set"):
                continue
            values = {name: [make(comodel)]}
            arguments = (
                {"model": "res.partner", "values": {"name": "Host Gq", "is_company": True, **values}}
                if tool == "create_records"
                else {"model": "res.partner", "ids": [self.inside.id], "values": values}
            )
            with self.subTest(field=name, command=kind, tool=tool):
                self.call_tool(tool, arguments)
                self.assertEqual(self._snapshot(), before)
                cases += 1
        self.assertGreater(cases, 20)

    def _target(self, comodel):
        if comodel == "res.partner":
            return self.outside.id
        if comodel == "res.users":
            return self.env.ref("base.user_admin").id
        return self.env[comodel].sudo().search([], limit=1).id or 1

    def test_no_relational_path_reads_a_hidden_field(self):
        partner_fields = self.env["res.partner"]._fields
        relations = sorted(
            name for name, field in partner_fields.items() if field.type in ("many2one", "one2many", "many2many")
        )
        cases = 0
        for name in relations:
            comodel = self.env[partner_fields[name].comodel_name]
            hidden = next((f for f in ("phone", "login", "email", "name") if f in comodel._fields), None)
            if (
                hidden is None
                or (comodel._name == "res.partner" and hidden in ("name",))
                or comodel._name in guard.DOCUMENT_BOUND | guard.REFERENCE
            ):
                continue
            path = f"{name}.{hidden}"
            for tool, arguments in (
                ("search_records", {"domain": [[path, "!=", False]], "fields": ["name"]}),
                ("count_records", {"domain": [[path, "!=", False]]}),
                ("aggregate_records", {"groupby": [path], "aggregates": ["__count"]}),
            ):
                with self.subTest(path=path, tool=tool):
                    result = self.call_tool(tool, {"model": "res.partner", **arguments})
                    if (comodel._name == "res.partner" and hidden == "phone") or comodel._name != "res.partner":
                        self.assertTrue(result.get("isError"), (path, tool, result))
                    cases += 1
        self.assertGreater(cases, 10)


@tagged("post_install", "-at_install")
class TestGuardInTheOrm(TransactionCase):
    """The guard on its own, with no tool argument checked before the ORM: what a business
    method, ``web_read``/``web_save`` or an onchange would do inside a call."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="mcp_guard_user",
            groups="base.group_system,base.group_partner_manager,mcp_connect.group_mcp_user",
        )
        Partner = cls.env["res.partner"]
        cls.company = Partner.create({"name": "Guard Co", "is_company": True, "phone": "+1 555 0177"})
        cls.person = Partner.create({"name": "Guard Person", "parent_id": cls.company.id, "phone": "+1 555 0178"})
        cls.connection = cls.env["mcp.connection"].create(
            {
                "name": "Guarded",
                "connection_type": "custom",
                "client_type": "public",
                "redirect_uris": "http://127.0.0.1/cb",
            }
        )
        restrict_partners(
            cls.env,
            cls.connection,
            ["name", "is_company", "child_ids", "parent_id"],
            can_delete=False,
            domain="[('is_company', '=', True)]",
        )

    def guarded(self):
        env, ctx = self.tool_context()
        return env, lambda: guard.active(guard.for_context(ctx, "call_method"))

    def tool_context(self):
        env = self.env(user=self.user.id, su=False)
        if getattr(self.env.transaction, "default_env", None) is not None:
            # 19.0 runs the x2many commands of some models (res.partner, res.users) as the
            # transaction's first user: in a request, the token's user; here, the test's
            # superuser unless replaced.
            self.patch(self.env.transaction, "default_env", env)
        ctx = ToolContext(
            env=env,
            policy=self.connection._compiled_policy(),
            scopes=("mcp:read", "mcp:write"),
            client_ip=None,
            connection_record=self.connection,
        )
        return env, ctx

    def run_guarded(self, active, function):
        """Like a tool call: inside the guard and a savepoint, flushed before the guard ends."""
        try:
            with active(), self.env.cr.savepoint():
                function()
                self.env.flush_all()
        finally:
            self.env.invalidate_all()

    def test_nested_commands_reach_no_other_model(self):
        env, active = self.guarded()
        partner = env["res.partner"].browse(self.company.id)
        for values in (
            {"category_id": [(0, 0, {"name": "Tag T"})]},
            {"child_ids": [(2, self.person.id)]},
            {"child_ids": [(0, 0, {"name": "Not a company"})]},
            {"child_ids": [(1, self.person.id, {"name": "X"})]},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                self.run_guarded(active, lambda values=values: partner.write(values))
        with self.assertRaises(AccessError):
            self.run_guarded(
                active,
                lambda: env["res.partner"].create(
                    {"name": "T", "is_company": True, "category_id": [(0, 0, {"name": "Tag T"})]}
                ),
            )
        self.assertFalse(self.env["res.partner.category"].search([("name", "=", "Tag T")]))
        self.assertFalse(self.env["res.partner"].search([("name", "in", ["T", "Not a company"])]))
        self.assertEqual(self.person.name, "Guard Person")

    def test_records_outside_the_filter_are_invisible(self):
        env, active = self.guarded()
        with active():
            self.assertFalse(env["res.partner"].search([("id", "=", self.person.id)]))
            self.assertEqual(env["res.partner"].browse(self.company.id).read(["child_ids"])[0]["child_ids"], [])
        self.env.invalidate_all()
        self.assertEqual(self.env["res.partner"].browse(self.company.id).child_ids, self.person)

    def test_what_a_call_reads_under_its_filters_stays_in_the_call(self):
        _env, ctx = self.tool_context()
        arguments = {"model": "res.partner", "ids": [self.company.id], "fields": ["child_ids"]}
        result, error = runner.run(registry.TOOLS["read_records"], ctx, arguments)
        self.assertIsNone(error)
        self.assertEqual(result["records"][0]["child_ids"], [])
        # The same transaction afterwards, outside the call: Odoo's own view of the record.
        self.assertEqual(self.env["res.partner"].browse(self.company.id).child_ids, self.person)

    def test_web_read_and_paths_obey_the_field_list(self):
        env, active = self.guarded()
        partners = env["res.partner"].browse(self.company.id)
        with active():
            with self.assertRaises(AccessError):
                partners.web_read({"phone": {}})
            with self.assertRaises(AccessError):
                partners.web_read({"user_ids": {"fields": {"login": {}}}})
            with self.assertRaises(AccessError):
                env["res.partner"].search([("parent_id.phone", "!=", False)])
            with self.assertRaises(AccessError):
                env["res.partner"]._read_group([], [], ["phone:count_distinct"])
            keys = set(partners.read()[0])
            self.assertIn("name", keys)
            self.assertFalse(keys & {"phone", "email", "comment", "vat"})

    def test_configuration_needs_a_manager(self):
        env, active = self.guarded()
        with active():
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                env["res.config.settings"].create({})
            with self.assertRaises(AccessError):
                env["ir.config_parameter"].search([])
            with self.assertRaises(AccessError):
                env["mcp.connection"].search([])
        # the same user without a guard: Odoo's rights alone
        self.assertTrue(self.env(user=self.user.id)["ir.config_parameter"].search_count([]))
