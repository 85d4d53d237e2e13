"""Calling business methods (``action_confirm``, ``button_validate``...) as the user.

Only what a user could click: the ``type="object"`` buttons of the model's own views,
plus the methods a manager lists on the connection. Never the web client's methods,
the ORM's, or anything else every model inherits from ``base``: they reach fields,
records and contexts that the other tools check.
"""

import json
import re

from odoo import models
from odoo.exceptions import AccessError

from .. import compat, guard
from ..mcp.registry import tool
from ..mcp.schemas import ANY_JSON, MODEL, inputs, outputs
from ..oauth import scopes as scope_rules
from . import preview
from .context import ToolError
from .values import MAX_TEXT, default_fields, fit

METHOD = re.compile(r"^[a-z][a-z0-9_]{0,127}$")
# A button changes the record it is on: while it runs, the connection's "call" on the
# model stands for "write" on it too. What it does to other models follows the policy.
CALL_IMPLIES = ("write",)
SHOWN_METHODS = 30


def refusal(model, name):
    """Why ``name`` can never be called on ``model`` through MCP, or None."""
    if not isinstance(name, str) or not METHOD.match(name):
        return "Only public methods can be called (lower-case names not starting with _)."
    if name.startswith("web_"):
        return f"{name} is a method of Odoo's web client."
    if hasattr(models.BaseModel, name) or hasattr(type(model.env["base"]), name):
        return (
            f"{name} is a method every model has (the ORM's or the framework's); use search_records, "
            "read_records, create_records, update_records or delete_records instead."
        )
    try:
        compat.public_method(model, name)
    except (AccessError, AttributeError):
        return f"{model._name} has no public method {name}."
    return None


def callable_methods(ctx, model):
    """The methods ``call_method`` accepts on ``model`` for this user and connection, sorted."""
    user = model.env.user
    offered = model.env["ir.ui.view"]._mcp_button_methods(model._name)
    names = {name for name, groups in offered if all(user.has_groups(spec) for spec in groups)}
    if ctx.connection_record:
        names |= ctx.connection_record._listed_methods().get(model._name, frozenset())
    return sorted(name for name in names if refusal(model, name) is None)


def _offer(model, allowed):
    if not allowed:
        return (
            f"No method of {model._name} can be called through this connection: its views offer no button, and "
            "a manager can list methods on the connection."
        )
    shown = ", ".join(allowed[:SHOWN_METHODS])
    more = f" (and {len(allowed) - SHOWN_METHODS} more)" if len(allowed) > SHOWN_METHODS else ""
    return f"Methods you may call on {model._name}: {shown}{more}."


def _carries_context(value):
    """Whether any object inside ``value`` has a ``context`` key (a per-call or per-field context)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if "context" in item:
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def describe_result(result):
    if isinstance(result, models.BaseModel):
        return {"model": result._name, "ids": result.ids[:200]}
    if isinstance(result, dict) and result.get("type", "").startswith("ir.actions."):
        return {
            "action": result.get("type"),
            "name": result.get("name"),
            "res_model": result.get("res_model"),
            "res_id": result.get("res_id"),
            "note": "The method answered with an Odoo window or action; finish it in Odoo if it needs input.",
        }
    try:
        safe = json.loads(json.dumps(result, default=str))
    except (TypeError, ValueError):
        safe = str(result)
    text = json.dumps(safe)
    if len(text) > MAX_TEXT * 5:
        return {"value": text[: MAX_TEXT * 5], "truncated": True}
    return {"value": safe}


@tool(
    "call_method",
    title="Call a business method",
    description="Call a business method of a model on records, as the user (their access rights apply): what the "
    "model's buttons in Odoo do, e.g. action_confirm on sale.order or action_post on account.move, plus methods the "
    "connection's manager listed. describe_model lists the methods you may call. The ORM's and the web client's "
    "methods are refused; use the dedicated tools to search, read, create, update or delete.",
    input_schema=inputs(
        {
            "model": MODEL,
            "method": {"type": "string", "maxLength": 128},
            "ids": {
                "type": "array",
                "items": {"type": "integer"},
                "maxItems": 200,
                "description": "Records to call it on (omit for model-level methods).",
            },
            "args": {"type": "array", "maxItems": 20, "description": "Positional arguments."},
            "kwargs": {"type": "object", "description": "Keyword arguments."},
            "preview": preview.PREVIEW_ARGUMENT,
        },
        required=["model", "method"],
    ),
    output_schema=outputs(
        {"model": {"type": "string"}, "method": {"type": "string"}, "result": ANY_JSON, **preview.PREVIEW_OUTPUTS}
    ),
    scope=scope_rules.WRITE,
    operation="call",
    risk="high",
    read_only=False,
    idempotent=False,
    open_world=True,
)
def call_method(ctx, arguments):
    if preview.is_preview(arguments):
        return preview.run(ctx, lambda previewing: _call_method(previewing, arguments, True))
    return _call_method(ctx, arguments)


def _call_method(ctx, arguments, previewing=False):
    model = ctx.model(arguments["model"], "call")
    name = arguments["method"]
    allowed = callable_methods(ctx, model)
    if name not in allowed:
        reason = refusal(model, name) or (
            f"{name} is not a button of the {model._name} views, and this connection does not list it."
        )
        raise ToolError(f"{reason} {_offer(model, allowed)}")
    kwargs = arguments.get("kwargs") or {}
    if _carries_context(kwargs) or _carries_context(arguments.get("args") or []):
        raise ToolError("Arguments may not carry a context, at any depth: the call runs in your own context.")
    method = compat.public_method(model, name)
    args = arguments.get("args") or []
    if previewing:
        return _previewed_call(ctx, model, name, method, arguments, args, kwargs)
    try:
        result = _call(ctx, model, name, method, arguments, args, kwargs)
    except TypeError as error:
        raise ToolError(f"Invalid arguments for {model._name}.{name}: {error}") from error
    return {"model": model._name, "method": name, "result": describe_result(result)}


def _previewed_call(ctx, model, name, method, arguments, args, kwargs):
    """The call, with what it changed on its records, the records of its model it created or
    deleted, and how many records of other models it created."""
    described = ctx.fields(model)
    records = model.browse() if compat.is_model_method(method) else ctx.records(model, arguments.get("ids") or [])
    names = preview.compared_fields(model, described)
    before = preview.read(records, names, described)
    created = preview.snapshot_created()
    try:
        result = _call(ctx, model, name, method, arguments, args, kwargs)
    except TypeError as error:
        raise ToolError(f"Invalid arguments for {model._name}.{name}: {error}") from error
    described_result = describe_result(result)
    preview.settle(ctx.env)
    remaining = records.exists()
    current = guard.current()
    new_ids = sorted(current.created.get(model._name, set()) - created.get(model._name, set())) if current else []
    new = model.browse(new_ids).exists()
    answer = {
        "model": model._name,
        "method": name,
        "result": described_result,
        "would_change": preview.changes(before, preview.read(remaining, names, described)),
        "would_create": [
            {key: value for key, value in row.items() if key != "id"}
            for row in preview.read(new, default_fields(model, described), described)
        ],
        "would_delete": [row for row in before if row["id"] not in remaining.ids],
        "also_created": preview.side_records(created, model._name),
    }
    truncated = False
    for key in ("would_change", "would_create", "would_delete"):
        answer[key], cut = fit(answer[key], overhead=1000 + preview.size_of(answer, key))
        truncated = truncated or cut
    return {**answer, **({"truncated": True} if truncated else {})}


def _call(ctx, model, name, method, arguments, args, kwargs):
    if compat.is_model_method(method):
        scope = ctx.scope(model)
        if scope and scope.domain:
            raise ToolError(
                f"{name} works on the whole model, but this connection may only use some {model._name} records."
            )
        with guard.allowing(model._name, CALL_IMPLIES):
            result = getattr(model, name)(*args, **kwargs)
    else:
        records = ctx.records(model, arguments.get("ids") or [])
        with guard.allowing(model._name, CALL_IMPLIES):
            result = getattr(records, name)(*args, **kwargs)
    return result
