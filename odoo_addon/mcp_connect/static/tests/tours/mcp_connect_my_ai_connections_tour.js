import { registry } from "@web/core/registry";

/**
 * A user of MCP Connect opens My AI Connections: the address to paste into an AI tool, with its
 * copy button, and the tools they allowed.
 */
registry.category("web_tour.tours").add("mcp_connect_my_ai_connections", {
    url: "/odoo/action-mcp_connect.mcp_consent_action_my_connections",
    steps: () => [
        { trigger: ".o_mcp_my_connections div[name=mcp_endpoint_url]:contains(https://odoo.example.com/api/mcp)" },
        { trigger: ".o_mcp_my_connections div[name=mcp_endpoint_url] .o_clipboard_button" },
        { trigger: ".o_mcp_my_connections .o_mcp_endpoint_hint:contains(Paste this address into claude.ai)" },
        { trigger: ".o_mcp_my_connections div[name=mcp_consent_ids] .o_data_row:contains(claude.ai Qwv)" },
    ],
});
