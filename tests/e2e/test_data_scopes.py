"""A connection's record filter and field allow-list, configured by an administrator through Odoo's
own RPC, enforced on the next MCP request to a live Odoo."""

from .helpers import Browser, OAuthClient, OdooAdmin, call_tool, connection_of


def test_record_filter_and_field_list_through_the_endpoint(odoo):
    admin = OdooAdmin(odoo)
    inside = admin.call("res.partner", "create", [{"name": "Scoped e2e A", "ref": "CUST-E2E", "comment": "secret"}])
    outside = admin.call("res.partner", "create", [{"name": "Scoped e2e B", "ref": "SUPP-E2E"}])
    client = OAuthClient(odoo, name="data scopes e2e")
    token = client.sign_in(Browser())["access_token"]

    before = call_tool(
        odoo,
        token,
        "search_records",
        {"model": "res.partner", "domain": [["name", "like", "Scoped e2e"]], "fields": ["name", "comment"]},
    )
    assert {r["id"] for r in before["structuredContent"]["records"]} == {inside, outside}

    connection = connection_of(admin, client)
    model = admin.call("ir.model", "search", [[["model", "=", "res.partner"]]])
    fields = admin.call("ir.model.fields", "search", [[["model", "=", "res.partner"], ["name", "in", ["name", "ref"]]]])
    admin.call(
        "mcp.connection",
        "write",
        [
            connection,
            {
                "model_rule_ids": [
                    [
                        0,
                        0,
                        {"model_id": model[0], "domain": "[('ref', '=like', 'CUST%')]", "field_ids": [[6, 0, fields]]},
                    ]
                ]
            },
        ],
    )

    after = call_tool(
        odoo,
        token,
        "search_records",
        {"model": "res.partner", "domain": [["name", "like", "Scoped e2e"]], "fields": ["name"]},
    )
    assert [r["id"] for r in after["structuredContent"]["records"]] == [inside]
    refused = call_tool(odoo, token, "search_records", {"model": "res.partner", "fields": ["comment"]})
    assert refused["isError"]
    assert "comment" in refused["content"][0]["text"]
    moved = call_tool(
        odoo, token, "update_records", {"model": "res.partner", "ids": [inside], "values": {"ref": "SUPP-MOVED"}}
    )
    assert moved["isError"]
    assert admin.call("res.partner", "read", [[inside], ["ref"]])[0]["ref"] == "CUST-E2E"
