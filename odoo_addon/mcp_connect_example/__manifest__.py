{
    "name": "MCP Connect: example tool",
    "summary": "An example of an addon that adds its own tool to MCP Connect: partners' open activities",
    "version": "1.0.0",
    "category": "Hidden",
    "author": "MCP Connect",
    "website": "https://github.com/mcp-connect/mcp-connect-odoo",
    "license": "LGPL-3",
    "depends": ["mcp_connect"],
    "data": ["data/mcp_tool_data.xml"],
    "installable": True,
}
