import json
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.tests import tagged

from .. import compat, config
from ..mcp import registry
from ..tools import read as read_tools
from ..tools import values
from .common import McpCase

WRITE_TOOLS = {
    "create_records",
    "update_records",
    "delete_records",
    "call_method",
    "post_message",
    "schedule_activity",
    "attach_file",
}
# What makes a schema node constrain its value (the MCP Inspector's --strict reports nodes without any).
CONSTRAINING = {"type", "enum", "const", "anyOf", "oneOf", "allOf", "not", "$ref", "properties", "items"}


def schema_problems(node, path):
    """Type lists (refused by Gemini's function declarations) and untyped nodes, anywhere in a schema."""
    if not isinstance(node, dict):
        return [f"{path}: not a schema object"]
    problems = []
    if not isinstance(node.get("type", ""), str):
        problems.append(f"{path}: type {node['type']!r} is not a single type")
    if not CONSTRAINING & set(node):
        problems.append(f"{path}: accepts any value")
    for keyword in ("properties", "patternProperties", "$defs", "definitions"):
        for name, child in node.get(keyword, {}).items():
            problems += schema_problems(child, f"{path}.{keyword}.{name}")
    for keyword in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for index, child in enumerate(node.get(keyword, [])):
            problems += schema_problems(child, f"{path}.{keyword}[{index}]")
    for keyword in ("items", "not", "contains", "propertyNames"):
        if keyword in node:
            problems += schema_problems(node[keyword], f"{path}.{keyword}")
    if isinstance(node.get("additionalProperties"), dict):
        problems += schema_problems(node["additionalProperties"], f"{path}.additionalProperties")
    return problems


@tagged("post_install", "-at_install")
class TestToolCatalogue(McpCase):
    def test_tools_list_shape_and_order(self):
        tools = self.modern("tools/list").json()["result"]["tools"]
        names = [tool["name"] for tool in tools]
        self.assertEqual(names, sorted(names))
        self.assertTrue(WRITE_TOOLS <= set(names))
        for tool in tools:
            self.assertRegex(tool["name"], r"^[A-Za-z0-9_.-]{1,128}$")
            self.assertTrue(tool["description"])
            self.assertEqual(tool["inputSchema"]["type"], "object")
            self.assertEqual(tool["outputSchema"]["type"], "object")
            hints = tool["annotations"]
            for hint in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"):
                self.assertIsInstance(hints[hint], bool, f"{tool['name']}.{hint}")
        by_name = {tool["name"]: tool for tool in tools}
        self.assertTrue(by_name["search_records"]["annotations"]["readOnlyHint"])
        self.assertTrue(by_name["delete_records"]["annotations"]["destructiveHint"])

    def test_every_schema_has_one_type_per_node(self):
        self.assertEqual(
            schema_problems({"type": "object", "properties": {"v": {"type": ["object", "array"]}, "r": {}}}, "s"),
            ["s.properties.v: type ['object', 'array'] is not a single type", "s.properties.r: accepts any value"],
        )
        problems = []
        for tool in registry.ordered():
            definition = tool.definition()
            for key in ("inputSchema", "outputSchema"):
                problems += schema_problems(definition[key], f"{tool.name}.{key}")
        self.assertEqual(problems, [])
        served = self.modern("tools/list").json()["result"]["tools"]
        self.assertEqual(
            [problem for tool in served for problem in schema_problems(tool["inputSchema"], tool["name"])], []
        )

    def test_read_token_sees_no_write_tools(self):
        tools = self.modern("tools/list", token=self.read_token).json()["result"]["tools"]
        self.assertFalse(WRITE_TOOLS & {tool["name"] for tool in tools})

    def test_catalogue_is_synchronised(self):
        catalogue = self.env["mcp.tool"].search([])
        self.assertIn("search_records", catalogue.mapped("name"))
        self.assertEqual(catalogue.filtered(lambda t: t.name == "delete_records").risk, "high")

    def test_write_tool_with_read_token_is_a_scope_challenge(self):
        response = self.modern(
            "tools/call",
            {"name": "create_records", "arguments": {"model": "res.partner", "values": {"name": "X"}}},
            token=self.read_token,
        )
        self.assertEqual(response.status_code, 403)
        challenge = response.headers["WWW-Authenticate"]
        self.assertIn('error="insufficient_scope"', challenge)
        self.assertIn('scope="mcp:write"', challenge)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "X")]))

    def test_unknown_tool_is_a_protocol_error(self):
        response = self.modern("tools/call", {"name": "drop_database", "arguments": {}})
        self.assertEqual(response.json()["error"]["code"], -32602)

    def test_schema_errors_are_is_error_results(self):
        text = self.tool_error("search_records", {"model": "res.partner", "limit": 5000})
        self.assertIn("limit", text)
        self.tool_error("search_records", {}, contains="model is required")
        self.tool_error("search_records", {"model": "res.partner", "bogus": 1}, contains="bogus")


@tagged("post_install", "-at_install")
class TestReadTools(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme = cls.env["res.partner"].create(
            {
                "name": "Acme Zyx",
                "email": "info@acme.example",
                "is_company": True,
                "comment": "<p>Big <b>client</b></p>",
            }
        )
        cls.bob = cls.env["res.partner"].create({"name": "Bob Zyx", "parent_id": cls.acme.id})

    def test_whoami(self):
        data = self.tool_ok("whoami")
        self.assertEqual(data["user"]["login"], self.user.login)
        self.assertEqual(data["company"]["id"], self.user.company_id.id)
        self.assertEqual(data["scopes"], ["mcp:read", "mcp:write"])
        self.assertEqual(data["connection"]["name"], self.connection.name)
        self.assertEqual(data["connection"]["sign_in_lifetime_days"], config.get(self.env, "family_max_days"))
        self.connection.session_days = 7
        self.assertEqual(self.tool_ok("whoami")["connection"]["sign_in_lifetime_days"], 7)
        # A longer lifetime than Settings' maximum changes nothing.
        self.connection.session_days = 5000
        self.assertEqual(
            self.tool_ok("whoami")["connection"]["sign_in_lifetime_days"], config.get(self.env, "family_max_days")
        )

    def test_list_and_describe_models(self):
        data = self.tool_ok("list_models", {"search": "partner"})
        names = [m["model"] for m in data["models"]]
        self.assertIn("res.partner", names)
        self.assertFalse([n for n in names if n.startswith("mcp.")])
        everything = self.tool_ok("list_models", {"limit": 500})
        self.assertNotIn("ir.config_parameter", [m["model"] for m in everything["models"]])
        described = self.tool_ok("describe_model", {"model": "res.partner", "fields": ["name", "parent_id", "type"]})
        self.assertEqual(described["fields"]["parent_id"]["relation"], "res.partner")
        self.assertEqual(described["fields"]["name"]["type"], "char")
        self.assertTrue(described["fields"]["type"]["selection"])
        self.tool_error("describe_model", {"model": "res.partner", "fields": ["nope"]}, contains="nope")
        self.tool_error("describe_model", {"model": "no.such.model"}, contains="Unknown model")

    def test_search_records(self):
        data = self.tool_ok(
            "search_records",
            {
                "model": "res.partner",
                "domain": [["name", "ilike", "Zyx"]],
                "fields": ["name", "parent_id", "comment"],
                "order": "name asc",
            },
        )
        self.assertEqual(data["total"], 2)
        self.assertEqual([r["name"] for r in data["records"]], ["Acme Zyx", "Bob Zyx"])
        self.assertEqual(data["records"][1]["parent_id"], {"id": self.acme.id, "display_name": "Acme Zyx"})
        self.assertEqual(data["records"][0]["comment"].strip(), "Big *client*")
        self.assertIsNone(data["next_offset"])

    def test_search_default_fields_and_paging(self):
        first = self.tool_ok(
            "search_records", {"model": "res.partner", "domain": [["name", "ilike", "Zyx"]], "limit": 1, "order": "id"}
        )
        self.assertEqual(first["next_offset"], 1)
        self.assertIn("display_name", first["records"][0])
        second = self.tool_ok(
            "search_records",
            {"model": "res.partner", "domain": [["name", "ilike", "Zyx"]], "limit": 1, "offset": 1, "order": "id"},
        )
        self.assertEqual(second["records"][0]["id"], self.bob.id)

    def test_search_total_on_every_kind_of_page(self):
        """The total is right whether the page is full, partial, empty or past the end (it is
        counted only when the page alone cannot tell it)."""
        self.env["res.partner"].create([{"name": f"Qwv pager {n}"} for n in range(5)])
        domain = [["name", "ilike", "Qwv pager"]]
        for limit, offset, rows, next_offset in (
            (10, 0, 5, None),  # one partial page
            (5, 0, 5, None),  # a full page that happens to hold everything
            (2, 0, 2, 2),  # a full first page
            (2, 4, 1, None),  # a partial last page
            (2, 5, 0, None),  # just past the end
            (2, 9, 0, None),  # far past the end
        ):
            with self.subTest(limit=limit, offset=offset):
                data = self.tool_ok(
                    "search_records",
                    {"model": "res.partner", "domain": domain, "limit": limit, "offset": offset, "order": "id"},
                )
                self.assertEqual(data["total"], 5)
                self.assertEqual(len(data["records"]), rows)
                self.assertEqual(data["next_offset"], next_offset)
        empty = self.tool_ok("search_records", {"model": "res.partner", "domain": [["name", "=", "Qwv none"]]})
        self.assertEqual((empty["total"], empty["records"], empty["next_offset"]), (0, [], None))

    def test_search_counts_only_when_the_page_is_full(self):
        """A partial first page is the whole result, and a full page carries its total (a count
        subquery in the page's own query): no second query, and the domain is parsed once. A page
        that cannot carry it (past the end, or with a field that is not a plain column) is
        counted from the search's query, still without parsing the domain again."""
        self.env["res.partner"].create([{"name": f"Qwc counted {n}"} for n in range(3)])
        partners = type(self.env["res.partner"])
        arguments = {
            "model": "res.partner",
            "domain": [["name", "ilike", "Qwc counted"]],
            "fields": ["name", "email"],
            "order": "id",
        }
        with (
            patch.object(read_tools, "_count_all", side_effect=read_tools._count_all) as counted,
            patch.object(partners, "_search", autospec=True, side_effect=partners._search) as searched,
        ):
            self.assertEqual(self.tool_ok("search_records", {**arguments, "limit": 10})["total"], 3)
            full = self.tool_ok("search_records", {**arguments, "limit": 2})
            self.assertEqual((full["total"], len(full["records"]), full["next_offset"]), (3, 2, 2))
            self.assertEqual(counted.call_count, 0)
            past = self.tool_ok("search_records", {**arguments, "limit": 2, "offset": 5})
            self.assertEqual((past["total"], past["records"]), (3, []))
            self.assertEqual(counted.call_count, 1)
            listed = self.tool_ok("search_records", {**arguments, "limit": 2, "fields": ["name", "category_id"]})
            self.assertEqual((listed["total"], len(listed["records"])), (3, 2))
            self.assertEqual(counted.call_count, 2)
        # The tool's domain was parsed once for each page.
        parsed = [call for call in searched.call_args_list if "Qwc counted" in repr(call.args[1:2])]
        self.assertEqual(len(parsed), 4)

    def test_a_model_that_changes_what_it_fetches_is_read_through_its_own_fetch(self):
        """A model (or an addon) that overrides _fetch_query changes the values a read sees: calendar
        events show "Busy" for others' private events. Its page is read through that method, and
        counted apart, never by the one-statement page that would go around it."""
        self.env["res.partner"].create([{"name": f"Qwf fetched {n}"} for n in range(3)])
        partners = type(self.env["res.partner"])
        arguments = {"model": "res.partner", "domain": [["name", "ilike", "Qwf fetched"]], "fields": ["name"]}
        with (
            patch.object(partners, "_fetch_query", autospec=True, side_effect=partners._fetch_query) as fetched,
            patch.object(read_tools, "_count_all", side_effect=read_tools._count_all) as counted,
        ):
            found = self.tool_ok("search_records", {**arguments, "limit": 2})
        self.assertEqual((found["total"], len(found["records"])), (3, 2))
        self.assertTrue(fetched.called)
        self.assertEqual(counted.call_count, 1)

    def test_a_page_read_with_its_total_holds_what_search_read_reads(self):
        """The page that carries its total reads its columns itself: the same values as Odoo's
        search_read, a translated text in the request's language (not another one it has)."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env.ref("base.be").with_context(lang="fr_FR").name = "Belgique"
        fields = ["name", "code", "currency_id", "phone_code"]
        found = self.tool_ok("search_records", {"model": "res.country", "fields": fields, "limit": 5, "order": "code"})
        countries = self.env["res.country"].with_user(self.user).with_context(lang="en_US")
        expected = countries.search_read([], fields, limit=5, order="code")
        self.assertEqual(found["total"], countries.search_count([]))
        self.assertEqual(
            [(row["id"], row["name"], row["code"], row["phone_code"]) for row in found["records"]],
            [(row["id"], row["name"], row["code"], row["phone_code"]) for row in expected],
        )
        self.assertEqual(
            [row["currency_id"]["id"] if row["currency_id"] else None for row in found["records"]],
            [row["currency_id"][0] if row["currency_id"] else None for row in expected],
        )
        belgium = self.tool_ok(
            "search_records",
            {"model": "res.country", "domain": [["code", "in", ["BE", "NL"]]], "fields": ["name"], "limit": 1},
        )
        self.assertEqual((belgium["total"], belgium["records"][0]["name"]), (2, "Belgium"))

    def test_calls_run_in_the_users_language_and_time_zone(self):
        """A call runs in the user's language and time zone, as their session in Odoo does: what
        the client's Accept-Language says changes nothing, and a change of the user's language
        counts from the next call (the cached grant is cleared with Odoo's own user cache)."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env.ref("base.be").with_context(lang="fr_FR").name = "Belgique"
        arguments = {"model": "res.country", "domain": [["code", "=", "BE"]], "fields": ["name"]}
        aggregate = {
            "model": "res.partner",
            "domain": [["id", "=", self.acme.id]],
            "groupby": ["create_date:day"],
            "aggregates": ["__count"],
        }

        def call(name, arguments, headers=None):
            response = self.modern("tools/call", {"name": name, "arguments": arguments}, headers=headers)
            return response.json()["result"]["structuredContent"]

        french_client = {"Accept-Language": "fr-FR"}
        self.assertEqual(call("search_records", arguments, french_client)["records"][0]["name"], "Belgium")
        self.assertTrue(call("aggregate_records", aggregate)["groups"][0]["create_date:day"].endswith("Z"))
        self.user.write({"lang": "fr_FR", "tz": "Europe/Brussels"})
        self.assertEqual(call("search_records", arguments)["records"][0]["name"], "Belgique")
        found = call("search_records", {**arguments, "domain": [["name", "=", "Belgique"]]})
        self.assertEqual([row["id"] for row in found["records"]], [self.env.ref("base.be").id])
        day = call("aggregate_records", aggregate)["groups"][0]["create_date:day"]
        self.assertIn(day[-6:], ("+01:00", "+02:00"))
        self.assertEqual(
            call("search_records", arguments, {"Accept-Language": "en-US"})["records"][0]["name"], "Belgique"
        )

    def test_a_page_formatted_from_its_columns_is_what_read_formats(self):
        """A page of plain columns is formatted from the values its query read, not record by
        record: every such field of contacts (texts, a selection, numbers, a float with its
        digits, datetimes, booleans, relations to a company, a country, a parent, none), currency
        rates (dates, rates) and countries (a translated name) comes out as read() formats it; a
        value written in the same transaction and not yet flushed is the one shown."""
        self.acme.write({"city": "Zyx City", "partner_latitude": 50.8503396, "color": 4})
        self.bob.write({"country_id": self.env.ref("base.be").id, "employee": True})
        self.env["res.currency.rate"].create(
            {"currency_id": self.env.ref("base.EUR").id, "name": "2026-03-01", "rate": 1.0870123456}
        )
        for model_name, domain in (
            ("res.partner", [["name", "ilike", "Zyx"]]),
            ("res.currency.rate", []),
            ("res.country", [["code", "in", ["BE", "FR", "NL"]]]),
        ):
            model = self.env[model_name].with_user(self.user)
            names = [
                name
                for name, field in model._fields.items()
                if field.store
                and field.column_type
                and field.type in values.COLUMN_TYPES
                and not field.company_dependent
                and not callable(field.translate)
                and compat.field_access(model, field, "read")
                and name != "id"
            ]
            self.assertGreater(len(names), 3)
            arguments = {"model": model_name, "domain": domain, "fields": names, "order": "id", "limit": 3}
            with (
                self.subTest(model=model_name),
                patch.object(
                    type(model), "_read_format", autospec=True, side_effect=type(model)._read_format
                ) as formatted,
            ):
                found = self.tool_ok("search_records", arguments)
                self.assertFalse([call for call in formatted.call_args_list if call.args[0]._name == model_name])
                described = values.readable_fields(model)
                expected = model.search_read(domain, names, order="id", limit=3)
                self.assertTrue(expected)
                self.assertEqual(
                    found["records"], json.loads(json.dumps(values.serialize_rows(expected, names, described)))
                )
        # The same page in this transaction, after a write the ORM has not flushed yet.
        partners = self.env["res.partner"].with_user(self.user)
        partners.browse(self.bob.id).city = "Pending Zyx"
        names = ["name", "city", "parent_id"]
        query = partners._search([["name", "ilike", "Zyx"]], order="id", limit=2)
        records, total, columns = partners._mcp_fetch_page(query, partners._determine_fields_to_fetch(names))
        self.assertEqual((records.ids, total), ([self.acme.id, self.bob.id], 2))
        described = values.readable_fields(partners)
        rows = values.serialize_columns(records, names, columns, described)
        self.assertEqual(rows[1]["city"], "Pending Zyx")
        self.assertEqual(rows, values.serialize_rows(records.read(names), names, described))

    def test_search_refuses_bad_domains_fields_and_orders(self):
        for domain, fragment in (
            ("name = x", "domain must be of type array"),
            ([["nope", "=", 1]], "unknown or not allowed field"),
            ([["name", "LIKE SQL", "x"]], "Invalid domain"),
            ([["_private", "=", 1]], "unknown or not allowed field"),
            (["~", ["name", "=", "x"]], "Unknown domain operator"),
            ([["name"]], "[field, operator, value]"),
        ):
            self.tool_error("search_records", {"model": "res.partner", "domain": domain}, contains=fragment)
        self.tool_error("search_records", {"model": "res.partner", "fields": ["nope"]}, contains="nope")
        self.tool_error(
            "search_records", {"model": "res.partner", "order": "name; DROP TABLE x"}, contains="order must look like"
        )
        self.tool_error("search_records", {"model": "res.partner", "order": "nope desc"}, contains="Cannot sort")

    def test_blocked_and_unreadable_models(self):
        self.tool_error("search_records", {"model": "ir.config_parameter"}, contains="must name it")
        self.tool_error("search_records", {"model": "mcp.token"}, contains="never exposes")
        self.tool_error("search_records", {"model": "ir.logging"}, contains="must name it")

    def test_read_count_and_aggregate(self):
        data = self.tool_ok("read_records", {"model": "res.partner", "ids": [self.acme.id], "fields": ["email"]})
        self.assertEqual(data["records"][0]["email"], "info@acme.example")
        self.tool_error("read_records", {"model": "res.partner", "ids": [999999999]}, contains="999999999")
        count = self.tool_ok("count_records", {"model": "res.partner", "domain": [["name", "ilike", "Zyx"]]})
        self.assertEqual(count["count"], 2)
        groups = self.tool_ok(
            "aggregate_records",
            {
                "model": "res.partner",
                "domain": [["name", "ilike", "Zyx"]],
                "groupby": ["is_company"],
                "aggregates": ["__count"],
            },
        )
        counts = {g["is_company"]: g["__count"] for g in groups["groups"]}
        self.assertEqual(sum(counts.values()), 2)
        self.tool_error(
            "aggregate_records", {"model": "res.partner", "aggregates": ["name:explode"]}, contains="field:function"
        )

    def test_datetimes_carry_their_zone(self):
        stored = self.acme.create_date
        fields = ["create_date", "name"]
        for name, arguments in (
            ("search_records", {"model": "res.partner", "domain": [["id", "=", self.acme.id]], "fields": fields}),
            ("read_records", {"model": "res.partner", "ids": [self.acme.id], "fields": fields}),
        ):
            record = self.tool_ok(name, arguments)["records"][0]
            self.assertTrue(record["create_date"].endswith("Z"), record)
            moment = datetime.fromisoformat(record["create_date"])
            self.assertEqual(moment.utcoffset(), timedelta(0))
            self.assertEqual(moment.replace(tzinfo=None), stored)
        groups = self.tool_ok(
            "aggregate_records",
            {
                "model": "res.partner",
                "domain": [["id", "=", self.acme.id]],
                "groupby": ["create_date:day"],
                "aggregates": ["__count"],
            },
        )["groups"]
        self.assertIsNotNone(datetime.fromisoformat(groups[0]["create_date:day"]).tzinfo, groups)
        # What a result shows is what a filter accepts, with Z or an offset (stored values may
        # carry microseconds that results leave out).
        since = (stored + timedelta(hours=1)).isoformat() + "+01:00"
        until = (stored + timedelta(seconds=1)).isoformat() + "Z"
        domain = [["id", "=", self.acme.id], ["create_date", ">=", since], ["create_date", "<", until]]
        self.assertEqual(self.tool_ok("search_records", {"model": "res.partner", "domain": domain})["total"], 1)
        domain[1][2] = stored.isoformat() + "-01:00"
        self.assertEqual(self.tool_ok("search_records", {"model": "res.partner", "domain": domain})["total"], 0)
        tools = {tool["name"]: tool for tool in self.modern("tools/list").json()["result"]["tools"]}
        for name in ("search_records", "read_records"):
            self.assertIn("UTC, ISO 8601 ending in Z", tools[name]["description"])

    def test_datetime_texts_and_dates_stay_dates(self):
        moment = datetime(2026, 3, 1, 8, 30)
        self.assertEqual(values.convert(moment, "datetime"), "2026-03-01T08:30:00Z")
        self.assertEqual(values.convert("2026-03-01 08:30:00", "datetime"), "2026-03-01T08:30:00Z")
        self.assertEqual(values.convert(moment.date(), "date"), "2026-03-01")
        self.assertEqual(values.local_text(datetime(2026, 3, 1), "Europe/Brussels"), "2026-03-01T00:00:00+01:00")
        self.assertEqual(values.local_text(datetime(2026, 3, 1), None), "2026-03-01T00:00:00Z")
        # What a result shows is what a write accepts.
        self.assertEqual(values.naive_utc("2026-03-01T08:30:00Z"), "2026-03-01 08:30:00")
        self.assertEqual(values.naive_utc("2026-03-01T09:30:00+01:00"), "2026-03-01 08:30:00")
        self.assertEqual(values.naive_utc("2026-03-01 08:30:00"), "2026-03-01 08:30:00")
        self.assertEqual(values.naive_utc("soon"), "soon")

    def test_results_are_capped_with_a_next_page(self):
        self.env["res.partner"].create([{"name": f"Bulk MCP {i}", "comment": "x" * 1900} for i in range(60)])
        data = self.tool_ok(
            "search_records",
            {
                "model": "res.partner",
                "domain": [["name", "like", "Bulk MCP"]],
                "fields": ["name", "comment"],
                "limit": 60,
            },
        )
        self.assertTrue(data["truncated"])
        self.assertLess(len(json.dumps(data)), 45_000)
        self.assertEqual(data["next_offset"], len(data["records"]))

    def test_resources(self):
        listed = self.modern("resources/list").json()["result"]["resources"]
        self.assertIn(f"odoo://res.users/{self.user.id}", [r["uri"] for r in listed])
        templates = self.modern("resources/templates/list").json()["result"]["resourceTemplates"]
        self.assertEqual(templates[0]["uriTemplate"], "odoo://{model}/{id}")
        uri = f"odoo://res.partner/{self.acme.id}"
        contents = self.modern("resources/read", {"uri": uri}).json()["result"]["contents"]
        self.assertEqual(json.loads(contents[0]["text"])["display_name"], "Acme Zyx")
        for missing in (
            "odoo://res.partner/999999999",
            "odoo://ir.config_parameter/1",
            "odoo://mcp.token/1",
            "odoo://ir.logging/1",
            "https://example.com/x",
        ):
            error = self.modern("resources/read", {"uri": missing}).json()["error"]
            self.assertEqual(error["code"], -32602, missing)
            self.assertEqual(error["data"]["uri"], missing)
        error = self.legacy("resources/read", {"uri": "odoo://res.partner/999999999"}).json()["error"]
        self.assertEqual(error["code"], -32002)

    def test_unknown_prompt_is_invalid_params(self):
        self.assertEqual(self.modern("prompts/get", {"name": "x"}).json()["error"]["code"], -32602)


@tagged("post_install", "-at_install")
class TestWriteTools(McpCase):
    def test_create_update_delete_as_the_user(self):
        created = self.tool_ok("create_records", {"model": "res.partner", "values": {"name": "Created by AI"}})
        partner = self.env["res.partner"].browse(created["ids"])
        self.assertEqual(partner.create_uid, self.user)
        self.assertEqual(partner.company_id.id or self.user.company_id.id, self.user.company_id.id)
        several = self.tool_ok(
            "create_records", {"model": "res.partner", "values_list": [{"name": "AI one"}, {"name": "AI two"}]}
        )
        self.assertEqual(len(several["ids"]), 2)
        updated = self.tool_ok(
            "update_records", {"model": "res.partner", "ids": created["ids"], "values": {"email": "ai@example.com"}}
        )
        self.assertEqual(updated["ids"], created["ids"])
        self.assertEqual(partner.email, "ai@example.com")
        deleted = self.tool_ok(
            "delete_records",
            {"model": "res.partner", "ids": several["ids"]},
            token=self.make_token(user=self.env.ref("base.user_admin")),
        )
        self.assertEqual(deleted["deleted_ids"], several["ids"])

    def test_access_rights_apply(self):
        country = self.env.ref("base.be")
        self.tool_error("delete_records", {"model": "res.country", "ids": [country.id]}, contains="Access denied")
        self.tool_error(
            "update_records",
            {"model": "res.country", "ids": [country.id], "values": {"name": "X"}},
            contains="Access denied",
        )
        self.assertTrue(country.exists())
        self.assertEqual(country.name, "Belgium")
        self.tool_error(
            "create_records", {"model": "res.users", "values": {"name": "x", "login": "x"}}, contains="must name it"
        )

    def test_bad_values_change_nothing(self):
        self.tool_error("create_records", {"model": "res.partner", "values": {"name": "x", "nope": 1}}, contains="nope")
        self.tool_error(
            "create_records",
            {"model": "res.partner", "values_list": [{"name": "ok"}, {"name": "bad", "parent_id": 999999999}]},
        )
        self.tool_error("create_records", {"model": "res.partner"}, contains="exactly one of values")
        self.tool_error(
            "create_records",
            {"model": "res.partner", "values": {"name": "x"}, "values_list": [{"name": "ok"}]},
            contains="exactly one of values",
        )
        self.tool_error("create_records", {"model": "res.partner", "values": [{"name": "x"}]}, contains="values")
        self.tool_error("create_records", {"model": "res.partner", "values_list": []}, contains="at least 1")
        self.assertFalse(self.env["res.partner"].search([("name", "in", ["ok", "x"])]))
        self.tool_error("update_records", {"model": "res.partner", "ids": [999999999], "values": {"name": "x"}})
        self.tool_error("create_records", {"model": "res.partner", "values": {}}, contains="non-empty")

    def test_call_method(self):
        partner = self.env["res.partner"].create({"name": "Method MCP", "type": "contact"})
        self.connection.allowed_methods = "res.partner.address_get"
        data = self.tool_ok("call_method", {"model": "res.partner", "method": "address_get", "ids": [partner.id]})
        self.assertEqual(data["result"]["value"]["contact"], partner.id)
        for method, fragment in (
            ("_compute_display_name", "public"),
            ("write", "every model has"),
            ("unlink", "every model has"),
            ("sudo", "every model has"),
            ("no_such_method", "no public method"),
            ("init", "every model has"),
        ):
            self.tool_error(
                "call_method", {"model": "res.partner", "method": method, "ids": [partner.id]}, contains=fragment
            )
        self.tool_error(
            "call_method",
            {
                "model": "res.partner",
                "method": "address_get",
                "ids": [partner.id],
                "kwargs": {"context": {"active_test": False}},
            },
            contains="context",
        )

    def test_post_message_and_schedule_activity(self):
        partner = self.env["res.partner"].create({"name": "Chatter MCP"})
        data = self.tool_ok(
            "post_message", {"model": "res.partner", "record_id": partner.id, "body": "Called <script>x</script>\nback"}
        )
        message = self.env["mail.message"].browse(data["message_id"])
        self.assertIn("&lt;script&gt;", message.body)
        self.assertEqual(message.author_id, self.user.partner_id)
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_note"))
        activity = self.tool_ok(
            "schedule_activity",
            {"model": "res.partner", "record_id": partner.id, "summary": "Call back", "date_deadline": "2030-01-31"},
        )
        record = self.env["mail.activity"].browse(activity["activity_id"])
        self.assertEqual(record.user_id, self.user)
        self.assertEqual(str(record.date_deadline), "2030-01-31")
        self.tool_error("post_message", {"model": "res.country", "record_id": 1, "body": "x"})
        self.tool_error(
            "schedule_activity",
            {"model": "res.partner", "record_id": partner.id, "summary": "x", "date_deadline": "tomorrow"},
            contains="date_deadline",
        )
