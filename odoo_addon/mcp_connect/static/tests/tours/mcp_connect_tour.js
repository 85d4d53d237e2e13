import { registry } from "@web/core/registry";

/**
 * An administrator connects a tool with Custom OAuth: the wizard from the Connections list, a bad
 * redirect URI reported inside the wizard (which keeps what was typed and its size), the identity
 * check once, the saved connection's client ID, secret and OAuth endpoints shown once in a window
 * as wide as the wizard, and the list reloaded with the new connection when that window closes.
 */
registry.category("web_tour.tours").add("mcp_connect_custom_oauth", {
    url: "/odoo/action-mcp_connect.mcp_connection_action",
    steps: () => [
        { trigger: ".o_mcp_connect_new_tool", run: "click" },
        { trigger: ".modal .o_mcp_choose_custom", run: "click" },
        { trigger: ".modal div[name=client_name] input", run: "edit Cursor tour" },
        { trigger: ".modal div[name=redirect_uris] textarea", run: "edit http://evil.example/cb" },
        { trigger: ".modal .o_mcp_custom_next", run: "click" },
        // Reported in the wizard itself, before any password prompt; the wizard keeps what was typed.
        { trigger: ".modal .o_mcp_step_custom .o_mcp_wizard_problem:contains(Line 1 (http://evil.example/cb))" },
        { trigger: ".modal-dialog.modal-lg:has(.o_mcp_step_custom)" },
        { trigger: ".modal div[name=client_name] input:value(Cursor tour)" },
        { trigger: ".modal div[name=redirect_uris] textarea:value(http://evil.example/cb)" },
        {
            trigger: ".modal div[name=redirect_uris] textarea",
            run: "edit cursor://anysphere.cursor-mcp/oauth/callback",
        },
        { trigger: ".modal .o_mcp_custom_next", run: "click" },
        { trigger: ".modal div[name=password] input", run: "edit admin" },
        { trigger: ".modal #password_confirm", run: "click" },
        { trigger: ".modal .o_mcp_done_custom div[name=client_id]:contains(mcpci_)" },
        { trigger: ".modal .o_mcp_done_custom div[name=client_secret]:contains(mcpcs_)" },
        { trigger: ".modal .o_mcp_done_custom div[name=authorize_url]:contains(/oauth/authorize)" },
        { trigger: ".modal .o_mcp_done_custom div[name=token_url]:contains(/oauth/token)" },
        { trigger: ".modal .o_mcp_done_custom div[name=scopes]:contains(mcp:read mcp:write)" },
        { trigger: ".modal .o_mcp_done_custom .o_mcp_manual_oauth:contains(S256)" },
        { trigger: ".modal .o_mcp_done_custom .alert-success:contains(Cursor tour)" },
        // As wide as the wizard, not as narrow as the password check.
        { trigger: ".modal-dialog.modal-lg:has(.o_mcp_done_custom)" },
        { trigger: ".modal .o_mcp_show_done", run: "click" },
        { trigger: ".o_list_view .o_data_row:contains(Cursor tour)" },
    ],
});
