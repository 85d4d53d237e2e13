"""The MCP server as protocol code, without the ORM: Streamable HTTP transport, JSON-RPC
framing, version negotiation, request headers, tool schemas and the tool registry.

The tools themselves run on Odoo and live beside this package, in ``tools/``.
"""
