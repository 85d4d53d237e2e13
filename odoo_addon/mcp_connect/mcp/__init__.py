"""The MCP server as protocol code: transport, JSON-RPC framing, version negotiation,
the tool registry, and one module per tool family (registered on import)."""

from . import (
    tools_approvals,
    tools_chatter,
    tools_identity,
    tools_methods,
    tools_models,
    tools_read,
    tools_search,
    tools_write,
)
