import json

from odoo.tests import tagged

from ..mcp.schema import validate
from .common import McpCase

# The shapes OpenAI documents for ChatGPT deep research and company knowledge
# (developers.openai.com/api/docs/mcp, "search tool" and "fetch tool").
OPENAI_SEARCH_RESULT = {
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"}},
                "required": ["id", "title", "url"],
            },
        }
    },
    "required": ["results"],
}
OPENAI_FETCH_RESULT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "url": {"type": "string"},
        "metadata": {"type": "object"},
    },
    "required": ["id", "title", "text", "url"],
}
ALLOWED = ["name", "email", "ref"]


class SearchFetchCase(McpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.trading = Partner.create(
            {
                "name": "Quokka Trading",
                "is_company": True,
                "ref": "CUST-Q1",
                "email": "hello@quokka.example",
                "phone": "+32 2 555 01 01",
                "comment": "<p>Pays late, secret margin 42%</p>",
            }
        )
        cls.imports = Partner.create({"name": "Quokka Imports", "ref": "SUPP-Q2", "email": "buy@quokka.example"})
        other_company = cls.env["res.company"].create({"name": "Quokka Elsewhere Ltd"})
        cls.elsewhere = Partner.create({"name": "Quokka Hidden", "company_id": other_company.id})

    def openai_result(self, name, arguments, schema):
        """The tool's answer, checked against OpenAI's shape: one text item holding the JSON."""
        result = self.call_tool(name, arguments)
        self.assertFalse(result.get("isError"), result)
        self.assertEqual(len(result["content"]), 1)
        self.assertEqual(result["content"][0]["type"], "text")
        document = json.loads(result["content"][0]["text"])
        validate(document, schema)
        self.assertEqual(document, result["structuredContent"])
        return document

    def search_ids(self, query):
        return [r["id"] for r in self.openai_result("search", {"query": query}, OPENAI_SEARCH_RESULT)["results"]]

    def rule(self, model_name, **values):
        return self.env["mcp.connection.model"].create(
            {"connection_id": self.connection.id, "model_id": self.env["ir.model"]._get(model_name).id, **values}
        )


@tagged("post_install", "-at_install")
class TestSearchFetch(SearchFetchCase):
    def test_tools_are_listed_read_only_with_openai_arguments(self):
        listed = self.modern("tools/list", token=self.read_token).json()["result"]["tools"]
        tools = {tool["name"]: tool for tool in listed}
        for name, argument in (("search", "query"), ("fetch", "id")):
            schema = tools[name]["inputSchema"]
            self.assertEqual(schema["required"], [argument])
            self.assertEqual(list(schema["properties"]), [argument])
            self.assertEqual(schema["properties"][argument]["type"], "string")
            self.assertTrue(tools[name]["annotations"]["readOnlyHint"])
            self.assertFalse(tools[name]["annotations"]["destructiveHint"])
        catalogue = self.env["mcp.tool"].search([("name", "in", ["search", "fetch"])])
        self.assertEqual(set(catalogue.mapped("scope")), {"mcp:read"})
        self.assertTrue(all(catalogue.mapped("read_only")))

    def test_search_answers_ids_titles_and_deep_links(self):
        found = self.openai_result("search", {"query": "quokka"}, OPENAI_SEARCH_RESULT)["results"]
        by_id = {row["id"]: row for row in found}
        self.assertIn(f"res.partner:{self.trading.id}", by_id)
        self.assertIn(f"res.partner:{self.imports.id}", by_id)
        row = by_id[f"res.partner:{self.trading.id}"]
        self.assertEqual(row["url"], f"{self.base_url()}/odoo/res.partner/{self.trading.id}")
        self.assertIn("Quokka Trading", row["title"])
        self.assertLessEqual(len(found), 20)

    def test_search_answers_a_few_records_of_each_kind(self):
        self.env["res.partner"].create([{"name": f"Wombat {number}"} for number in range(8)])
        self.assertEqual(len(self.search_ids("wombat")), 5)

    def test_search_with_more_words_than_a_name_ranks_the_best_match_first(self):
        ids = self.search_ids("Quokka Trading company in Brussels")
        self.assertEqual(ids[0], f"res.partner:{self.trading.id}")

    def test_search_and_fetch_follow_record_rules(self):
        self.assertNotIn(f"res.partner:{self.elsewhere.id}", self.search_ids("quokka"))
        hidden = self.tool_error("fetch", {"id": f"res.partner:{self.elsewhere.id}"})
        missing = self.tool_error("fetch", {"id": "res.partner:999999999"})
        self.assertEqual(hidden, missing.replace("999999999", str(self.elsewhere.id)))

    def test_the_approvals_of_the_tools_showing_the_same_data_hold(self):
        pending = [
            ("fetch", "read_records", {"id": f"res.partner:{self.elsewhere.id}"}),
            ("search", "search_records", {"query": "quokka"}),
        ]
        for name, same, arguments in pending:
            with self.subTest(tool=name):
                self.connection.approval_tool_ids = [(6, 0, self.env["mcp.tool"].search([("name", "=", same)]).ids)]
                result = self.tool_ok(name, arguments)
                self.assertEqual(result["approval_status"], "pending")

    def test_fetch_answers_the_record_as_text_with_metadata(self):
        document = self.openai_result("fetch", {"id": f"res.partner:{self.trading.id}"}, OPENAI_FETCH_RESULT)
        self.assertEqual(document["id"], f"res.partner:{self.trading.id}")
        self.assertEqual(document["url"], f"{self.base_url()}/odoo/res.partner/{self.trading.id}")
        self.assertIn("Quokka Trading", document["title"])
        self.assertIn("hello@quokka.example", document["text"])
        self.assertIn("Pays late", document["text"])
        self.assertNotIn("<p>", document["text"])
        self.assertEqual(document["metadata"]["model"], "res.partner")
        self.assertEqual(document["metadata"]["id"], self.trading.id)
        self.assertIn("updated", document["metadata"])

    def test_fetch_refuses_malformed_ids_and_blocked_models(self):
        self.tool_error("fetch", {"id": "7"}, contains="res.partner:7")
        self.tool_error("fetch", {"id": "res.partner:0"}, contains="res.partner:7")
        self.tool_error("fetch", {"id": "res.partner:abc"}, contains="res.partner:7")
        self.tool_error("fetch", {"id": f"mcp.connection:{self.connection.id}"}, contains="never exposes")
        self.tool_error("fetch", {"id": "no.such.model:1"}, contains="Unknown model")
        self.tool_error("fetch", {}, contains="id is required")
        self.tool_error("search", {"query": 7}, contains="string")


@tagged("post_install", "-at_install")
class TestSearchFetchPolicy(SearchFetchCase):
    def test_record_filter_hides_records_from_search_and_fetch(self):
        self.rule("res.partner", domain="[('ref', '=like', 'CUST%')]")
        ids = self.search_ids("quokka")
        self.assertIn(f"res.partner:{self.trading.id}", ids)
        self.assertNotIn(f"res.partner:{self.imports.id}", ids)
        filtered = self.tool_error("fetch", {"id": f"res.partner:{self.imports.id}"})
        missing = self.tool_error("fetch", {"id": "res.partner:999999999"})
        self.assertEqual(filtered, missing.replace("999999999", str(self.imports.id)))
        self.assertNotIn("Quokka", filtered)

    def test_field_list_keeps_hidden_fields_out_of_text_and_metadata(self):
        fields = self.env["ir.model.fields"].search([("model", "=", "res.partner"), ("name", "in", ALLOWED)])
        self.rule("res.partner", field_ids=[(6, 0, fields.ids)])
        self.assertIn(f"res.partner:{self.trading.id}", self.search_ids("Quokka Trading"))
        document = self.openai_result("fetch", {"id": f"res.partner:{self.trading.id}"}, OPENAI_FETCH_RESULT)
        self.assertIn("hello@quokka.example", document["text"])
        self.assertIn("CUST-Q1", document["text"])
        for hidden in ("Pays late", "555 01 01", "Company", "Created on"):
            self.assertNotIn(hidden, document["text"])
        self.assertEqual(set(document["metadata"]), {"model", "id", "kind"})
        # Matching on a name the connection does not show would reveal it: such models are not searched.
        email = self.env["ir.model.fields"].search([("model", "=", "res.partner"), ("name", "=", "email")])
        self.connection.model_rule_ids.field_ids = [(6, 0, email.ids)]
        self.assertEqual(self.search_ids("quokka"), [])
        document = self.openai_result("fetch", {"id": f"res.partner:{self.trading.id}"}, OPENAI_FETCH_RESULT)
        self.assertNotIn("Quokka", document["title"] + document["text"])

    def test_models_the_connection_does_not_allow_are_not_searched_nor_fetched(self):
        belgium = self.env.ref("base.be")
        self.rule("res.country")
        self.assertEqual(self.search_ids("quokka"), [])
        self.assertIn(f"res.country:{belgium.id}", self.search_ids("Belgium"))
        self.tool_error("fetch", {"id": f"res.partner:{self.trading.id}"}, contains="not allowed")
        self.openai_result("fetch", {"id": f"res.country:{belgium.id}"}, OPENAI_FETCH_RESULT)
        partners = self.rule("res.partner")
        kinds = [result_id.split(":")[0] for result_id in self.search_ids("a")]
        self.assertEqual(set(kinds[:2]), {"res.country", "res.partner"}, "each allowed model takes its turn")
        partners.can_read = False
        self.assertEqual(self.search_ids("quokka"), [])
        self.tool_error("fetch", {"id": f"res.partner:{self.trading.id}"}, contains="not allowed")
