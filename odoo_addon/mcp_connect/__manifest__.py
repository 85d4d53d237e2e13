{
    "name": "MCP Connect",
    "summary": "Connect Claude, ChatGPT, Cursor and other AI tools to Odoo: OAuth 2.1 and a remote MCP server, "
    "inside each user's access rights",
    "version": "1.0.0",
    "category": "Productivity",
    "author": "MCP Connect",
    "maintainers": ["mcp-connect"],
    "website": "https://github.com/mcp-connect/mcp-connect-odoo",
    "license": "LGPL-3",
    "depends": ["base", "base_setup", "web", "mail"],
    "external_dependencies": {"python": ["mcp_connect_core"]},
    "data": [
        "security/mcp_connect_groups.xml",
        "views/mcp_connect_menus.xml",
        "views/res_config_settings_views.xml",
    ],
    "application": True,
    "installable": True,
}
