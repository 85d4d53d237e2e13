import { registry } from "@web/core/registry";

/**
 * An administrator connects a tool with Custom OAuth: the wizard from the Connections
 * list, the identity check, the saved connection's client ID and secret shown once, and
 * the list reloaded with the new connection when that window closes.
 */
registry.category("web_tour.tours").add("mcp_connect_custom_oauth", {
    url: "/odoo/action-mcp_connect.mcp_connection_action",
    steps: () => [
        { trigger: ".o_mcp_connect_new_tool", run: "click" },
        { trigger: ".modal .o_mcp_choose_custom", run: "click" },
        { trigger: ".modal div[name=client_name] input", run: "edit Cursor tour" },
        { trigger: ".modal div[name=redirect_uris] textarea", run: "edit http://evil.example/cb" },
        { trigger: ".modal .o_mcp_custom_next", run: "click" },
        // A bad address is reported before any password prompt, and the wizard keeps what was typed.
        {
            trigger: ".modal:has(.modal-body:contains(Some redirect URIs cannot be used)) .modal-footer .btn-primary",
            run: "click",
        },
        { trigger: ".modal div[name=client_name] input:value(Cursor tour)" },
        {
            trigger: ".modal div[name=redirect_uris] textarea",
            run: "edit cursor://anysphere.cursor-mcp/oauth/callback",
        },
        { trigger: ".modal .o_mcp_custom_next", run: "click" },
        { trigger: ".modal div[name=password] input", run: "edit admin" },
        { trigger: ".modal #password_confirm", run: "click" },
        { trigger: ".modal .o_mcp_done_custom div[name=client_id]:contains(mcpci_)" },
        { trigger: ".modal .o_mcp_done_custom div[name=client_secret]:contains(mcpcs_)" },
        { trigger: ".modal .o_mcp_done_custom .alert-success:contains(Cursor tour)" },
        { trigger: ".modal .o_mcp_show_done", run: "click" },
        { trigger: ".o_list_view .o_data_row:contains(Cursor tour)" },
    ],
});
