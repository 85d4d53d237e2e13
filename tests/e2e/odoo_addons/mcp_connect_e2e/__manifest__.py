{
    "name": "MCP Connect: end-to-end test support",
    "summary": "Test only: lets the end-to-end tests' client metadata document server through the fetcher's guard",
    "version": "1.0.0",
    "category": "Hidden",
    "author": "MCP Connect",
    "depends": ["mcp_connect"],
    "installable": True,
    "license": "LGPL-3",
}
