"""Following a call that waits for a human approval."""

from ..mcp.registry import tool
from ..mcp.schemas import ANY_JSON, inputs, nullable, outputs
from .context import ToolError


@tool(
    "get_approval_status",
    title="Get approval status",
    description="The state of a call that needed a human approval (pending, approved and done, rejected, expired or "
    "failed) and, once it ran, its result.",
    input_schema=inputs({"approval_id": {"type": "integer"}}, required=["approval_id"]),
    output_schema=outputs(
        {
            "approval_id": {"type": "integer"},
            "state": {"type": "string"},
            "tool": {"type": "string"},
            "result": ANY_JSON,
            "error": nullable("string"),
        }
    ),
)
def get_approval_status(ctx, arguments):
    # sudo: the caller asks about their own request (filtered below), which users may not always read
    request = (
        ctx.env["mcp.approval.request"]
        .sudo()
        .search(
            [
                ("id", "=", arguments["approval_id"]),
                ("user_id", "=", ctx.env.uid),
                ("connection_id", "=", ctx.connection.get("id")),
            ]
        )
    )
    if not request:
        raise ToolError(f"No approval request {arguments['approval_id']} of yours on this connection.")
    return request._status()
