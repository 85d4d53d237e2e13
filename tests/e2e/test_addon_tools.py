"""An addon's own tool (odoo_addon/mcp_connect_example) follows the addon: offered once it is installed,
gone and refused once it is uninstalled, on a live Odoo."""

from .helpers import Browser, OAuthClient, OdooAdmin, call_tool, mcp_call

EXAMPLE = "mcp_connect_example"
TOOL = "partner_open_activities"


def tool_names(odoo, token):
    response = mcp_call(odoo, token, "tools/list")
    assert response.status_code == 200, response.text
    return {tool["name"] for tool in response.json()["result"]["tools"]}


def test_example_tool_follows_its_addon(odoo):
    admin = OdooAdmin(odoo)
    admin.call("ir.module.module", "update_list")
    module = admin.call("ir.module.module", "search", [[["name", "=", EXAMPLE]]])
    assert module, f"{EXAMPLE} is not on the addons path"
    token = OAuthClient(odoo, name="addon tools e2e").sign_in(Browser())["access_token"]
    assert TOOL not in tool_names(odoo, token)

    admin.call("ir.module.module", "button_immediate_install", [module])
    try:
        assert TOOL in tool_names(odoo, token)
        result = call_tool(odoo, token, TOOL, {"limit": 5})
        assert not result["isError"], result
        assert isinstance(result["structuredContent"]["partners"], list)
        catalogue = admin.call("mcp.tool", "search_read", [[["name", "=", TOOL]], ["module", "active"]])
        assert [(row["module"], row["active"]) for row in catalogue] == [(EXAMPLE, True)]
    finally:
        admin = OdooAdmin(odoo)
        admin.call("ir.module.module", "button_immediate_uninstall", [module])

    admin = OdooAdmin(odoo)
    assert TOOL not in tool_names(odoo, token)
    refused = mcp_call(odoo, token, "tools/call", {"name": TOOL, "arguments": {"limit": 5}}).json()
    assert refused["error"]["code"] == -32602
    catalogue = admin.call(
        "mcp.tool", "search_read", [[["name", "=", TOOL], ["active", "in", [True, False]]], ["active", "missing"]]
    )
    assert [(row["active"], row["missing"]) for row in catalogue] == [(False, True)]
