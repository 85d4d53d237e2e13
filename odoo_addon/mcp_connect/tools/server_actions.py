"""Server actions a manager made *Available to AI tools* (``ir.actions.server``), as tools.

Each one is a tool of its own, named by the manager, taking the ids of records of the
action's model. It runs as the user, like a click on the action in Odoo (the action's
groups, or write access on its model, apply), with ``active_model``/``active_ids`` in its
context and under the connection's guard: the policy judges the model's "call", which
stands for "write" on the model while the action runs (as for ``call_method``).
"""

from .. import guard
from ..mcp.registry import Tool
from ..mcp.schemas import IDS, inputs, outputs
from ..oauth import scopes as scope_rules
from .methods import CALL_IMPLIES, describe_result

DESCRIPTION_SUFFIX = " Runs the Odoo server action {action!r} on records of {model} (ids), as you."


def as_tool(action):
    """The tool of a server action (an ``ir.actions.server`` record read as superuser)."""
    model_name = action.model_id.model
    description = (action.mcp_tool_description or action.name).strip()
    return Tool(
        name=action.mcp_tool_name,
        title=action.name,
        description=description + DESCRIPTION_SUFFIX.format(action=action.name, model=model_name),
        input_schema=inputs({"ids": {**IDS, "description": f"Ids of the {model_name} records to run it on."}}, ["ids"]),
        output_schema=outputs(
            {
                "model": {"type": "string"},
                "ids": {"type": "array", "items": {"type": "integer"}},
                "result": {"type": "object", "description": "What the action answered, if anything."},
            }
        ),
        handler=_runner(action.id),
        scope=scope_rules.WRITE,
        operation="call",
        risk="high",
        read_only=False,
        idempotent=False,
        open_world=True,
        model=model_name,
    )


def _runner(action_id):
    def run_server_action(ctx, arguments):
        action = ctx.env["ir.actions.server"].browse(action_id)
        # sudo: only the action's model name is read; ctx.model checks the user's rights on that model
        model = ctx.model(action.sudo().model_id.model, "call")
        records = ctx.records(model, arguments["ids"])
        context = {"active_model": model._name, "active_ids": records.ids, "active_id": records.ids[0]}
        with guard.allowing(model._name, CALL_IMPLIES):
            result = action.with_context(**context).run()
        return {
            "model": model._name,
            "ids": records.ids,
            "result": describe_result(result) if result else {},
        }

    return run_server_action
