"""The tool registry: tools are declared with the ``tool`` decorator, one file per family in ``tools/``.

Every tool declares its input and output schemas, the scope it needs, what it does
to a model (for the connection policy), and all four annotation hints explicitly
(OpenAI's app review rejects tools that leave them unset).

Other Odoo addons declare tools with the same decorator (README, "Adding your own
tools"). The registry is shared by every database of the process: each tool records
the Odoo module that declares it, and a database offers it only while that module is
installed in it (``ordered(modules)``).
"""

from dataclasses import dataclass, field

import mcp_connect_core as core

from ..oauth import scopes as scope_rules

TOOLS = {}
# Tools that show what another tool shows: that tool's approval, and its archiving, hold for them.
SAME_DATA = {"search": "search_records", "fetch": "read_records"}


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    input_schema: dict
    output_schema: dict
    handler: object = field(repr=False)
    scope: str = scope_rules.READ
    operation: str | None = None
    risk: str = "low"
    read_only: bool = True
    destructive: bool = False
    idempotent: bool = True
    open_world: bool = False
    # The one model the tool works on, for the connection policy (else the "model" argument).
    model: str | None = None
    # The Odoo module that declares the tool (None: offered in every database).
    module: str | None = None

    @property
    def category(self):
        return "read" if self.read_only else "write"

    def definition(self):
        """The tool as ``tools/list`` shows it."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
            "annotations": {
                "title": self.title,
                "readOnlyHint": self.read_only,
                "destructiveHint": self.destructive,
                "idempotentHint": self.idempotent,
                "openWorldHint": self.open_world,
            },
        }


def tool(
    name,
    *,
    title,
    description,
    input_schema,
    output_schema,
    scope=scope_rules.READ,
    operation=None,
    risk="low",
    read_only=True,
    destructive=False,
    idempotent=True,
    open_world=False,
    model=None,
):
    """Declare a tool: ``handler(ctx, arguments)`` returns a dict that matches ``output_schema``.

    ``ctx`` is a ``tools.context.ToolContext`` (``ctx.env`` is the token's user; use
    ``ctx.model(name, operation)`` and ``ctx.records(model, ids)`` to reach records
    through the connection's policy) and ``arguments`` are already validated against
    ``input_schema``. Raise ``tools.context.ToolError`` for an error the AI can act on.

    ``scope`` is the OAuth scope the call needs (``mcp:read`` or ``mcp:write``); ``operation``
    (read, create, write, delete, call) and ``model`` (else the call's ``model`` argument) are
    what the connection's model rules judge; ``risk`` and the four hints (``read_only``,
    ``destructive``, ``idempotent``, ``open_world``) are shown to managers and clients.

    A tool declared in another addon's Python code belongs to that addon: it is offered,
    and listed in the catalogue, only in databases where that addon is installed. The
    addon's data calls ``mcp.tool._sync_catalogue`` to list it on install and update.
    """
    # The rule policy documents are checked by: a tool a policy could not name is not declared.
    if not core.is_tool_name(name):
        raise ValueError(f"invalid tool name {name!r}")
    if input_schema.get("type") != "object" or output_schema.get("type") != "object":
        raise ValueError(f"{name}: input and output schemas must be object schemas")

    def register(handler):
        if name in TOOLS:
            raise ValueError(f"tool {name} registered twice")
        TOOLS[name] = Tool(
            name=name,
            title=title,
            description=description,
            input_schema=input_schema,
            output_schema=output_schema,
            handler=handler,
            scope=scope,
            operation=operation,
            risk=risk,
            read_only=read_only,
            destructive=destructive,
            idempotent=idempotent,
            open_world=open_world,
            model=model,
            module=odoo_module(handler.__module__),
        )
        return handler

    return register


def odoo_module(python_module):
    """The Odoo module of a Python module (``odoo.addons.<module>.…``), or None."""
    parts = python_module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["odoo", "addons"] else None


def ordered(modules=None):
    """The tools in a deterministic order (by name); with ``modules``, only those of these Odoo modules."""
    return [
        TOOLS[name]
        for name in sorted(TOOLS)
        if modules is None or TOOLS[name].module is None or TOOLS[name].module in modules
    ]
