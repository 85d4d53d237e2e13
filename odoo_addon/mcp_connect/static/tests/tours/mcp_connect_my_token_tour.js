import { registry } from "@web/core/registry";

/**
 * An employee on My AI Connections creates a personal access token from the menu: once the
 * dialog with the token closes, the page lists it with its expiry, without a reload.
 */
registry.category("web_tour.tours").add("mcp_connect_my_token_from_menu", {
    url: "/odoo",
    steps: () => [
        { trigger: ".o_navbar_apps_menu button", run: "click" },
        { trigger: ".o_app[data-menu-xmlid='mcp_connect.mcp_connect_menu_root']", run: "click" },
        {
            trigger: ".o_menu_sections [data-menu-xmlid='mcp_connect.mcp_connect_menu_my_connections']",
            run: "click",
        },
        { trigger: ".o_mcp_my_connections .o_mcp_empty_state:visible" },
        {
            trigger: ".o_menu_sections [data-menu-xmlid='mcp_connect.mcp_connect_menu_new_tool']",
            run: "click",
        },
        { trigger: ".modal .o_mcp_choose_personal", run: "click" },
        { trigger: ".modal div[name=token_name] input", run: "edit Tour token" },
        { trigger: ".modal .o_mcp_personal_next", run: "click" },
        { trigger: ".modal div[name=password] input", run: "edit mcp_token_user" },
        { trigger: ".modal #password_confirm", run: "click" },
        { trigger: ".modal .o_mcp_done_personal div[name=personal_token]:contains(mcppt_)" },
        { trigger: ".modal .o_mcp_show_done", run: "click" },
        { trigger: "body:not(:has(.modal))" },
        {
            trigger:
                ".o_mcp_my_connections div[name=mcp_consent_ids] .o_data_row:contains(Tour token) td[name=expires_at]:not(:empty)",
        },
        { trigger: ".o_mcp_my_connections:not(:has(.o_mcp_empty_state:visible))" },
    ],
});
