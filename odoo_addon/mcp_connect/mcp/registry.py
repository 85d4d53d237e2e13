"""The tool registry: tools are declared with the ``tool`` decorator, one file per family in ``tools/``.

Every tool declares its input and output schemas, the scope it needs, what it does
to a model (for the connection policy), and all four annotation hints explicitly
(OpenAI's app review rejects tools that leave them unset).
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
):
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
        )
        return handler

    return register


def ordered():
    """All tools in a deterministic order (by name)."""
    return [TOOLS[name] for name in sorted(TOOLS)]
