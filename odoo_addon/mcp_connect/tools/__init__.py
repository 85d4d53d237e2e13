"""The MCP tools over Odoo: what a tool receives (``context``), how a call runs
(``runner``), records as JSON (``values``), and one module per tool family, each
registered in ``mcp.registry`` on import.

Everything here uses the ORM; the protocol it serves is in ``mcp/``.
"""

from . import approvals, chatter, documents, exports, identity, methods, models, read, search, write
