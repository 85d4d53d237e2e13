"""Calling business methods (``action_confirm``, ``button_validate``...) as the user."""

import json
import re

from odoo import models

from .. import compat
from ..oauth import scopes as scope_rules
from .context import ToolError
from .registry import tool
from .schemas import ANY_JSON, MODEL, inputs, outputs
from .values import MAX_TEXT

METHOD = re.compile(r"^[a-z][a-z0-9_]{0,127}$")
# The ORM's own CRUD and framework methods go through the dedicated tools (or not at all).
FRAMEWORK_METHODS = frozenset(name for name in dir(models.Model) if not name.startswith("_"))


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
    description="Call a public business method of a model on records, e.g. action_confirm on sale.order or "
    "action_post on account.move, as the user (their access rights apply). Private methods (starting with _) and the "
    "ORM's own methods (create, write, unlink, search...) are refused; use the dedicated tools for those.",
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
        },
        required=["model", "method"],
    ),
    output_schema=outputs({"model": {"type": "string"}, "method": {"type": "string"}, "result": ANY_JSON}),
    scope=scope_rules.WRITE,
    operation="call",
    risk="high",
    read_only=False,
    idempotent=False,
    open_world=True,
)
def call_method(ctx, arguments):
    model = ctx.model(arguments["model"], "call")
    name = arguments["method"]
    if not METHOD.match(name):
        raise ToolError("Only public methods can be called (lower-case names not starting with _).")
    if name in FRAMEWORK_METHODS:
        raise ToolError(
            f"{name} is an ORM method; use search_records, create_records, update_records or delete_records instead."
        )
    kwargs = arguments.get("kwargs") or {}
    if "context" in kwargs:
        raise ToolError("kwargs may not carry a context: the call runs in your own context.")
    try:
        method = compat.public_method(model, name)
    except AttributeError as error:
        raise ToolError(f"{model._name} has no public method {name}.") from error
    args = arguments.get("args") or []
    try:
        result = _call(ctx, model, name, method, arguments, args, kwargs)
    except TypeError as error:
        raise ToolError(f"Invalid arguments for {model._name}.{name}: {error}") from error
    return {"model": model._name, "method": name, "result": describe_result(result)}


def _call(ctx, model, name, method, arguments, args, kwargs):
    if compat.is_model_method(method):
        scope = ctx.scope(model)
        if scope and scope.domain:
            raise ToolError(
                f"{name} works on the whole model, but this connection may only use some {model._name} records."
            )
        result = getattr(model, name)(*args, **kwargs)
    else:
        records = ctx.records(model, arguments.get("ids") or [])
        result = getattr(records, name)(*args, **kwargs)
    return result
