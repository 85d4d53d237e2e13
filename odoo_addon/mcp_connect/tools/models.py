"""Discovering models and their fields."""

from ..mcp.registry import tool
from ..mcp.schemas import MODEL, inputs, nullable, outputs
from ..oauth import scopes as scope_rules
from .context import exposure
from .methods import callable_methods
from .values import fit

ATTRIBUTES = ("type", "string", "required", "readonly", "relation", "selection", "help")


@tool(
    "list_models",
    title="List models",
    description="Odoo models you can read through this connection, with their labels. Use 'search' to filter "
    "by technical name or label (e.g. 'invoice', 'partner').",
    input_schema=inputs(
        {
            "search": {"type": "string", "maxLength": 100, "description": "Filter on technical name or label."},
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": 500,
                "description": "At most this many (default 100).",
            },
            "offset": {"type": "integer", "minimum": 0, "description": "Skip this many."},
        }
    ),
    output_schema=outputs(
        {
            "models": {"type": "array", "items": {"type": "object"}},
            "total": {"type": "integer"},
            "next_offset": nullable("integer"),
        }
    ),
)
def list_models(ctx, arguments):
    search = (arguments.get("search") or "").lower()
    limit = arguments.get("limit", 100)
    offset = arguments.get("offset", 0)
    # sudo: the model list names every model; each is checked against the user's rights afterwards
    described = ctx.env["ir.model"].sudo().search_read([("transient", "=", False)], ["model", "name"], order="model")
    labels = {row["model"]: row["name"] for row in described}
    models = []
    for name in sorted(labels):
        if name not in ctx.env or exposure(name, "read", ctx.named_models) or not ctx.policy.allows_model(name, "read"):
            continue
        model = ctx.env[name]
        if model._abstract or not model.has_access("read"):
            continue
        label = labels[name]
        if search and search not in name.lower() and search not in (label or "").lower():
            continue
        models.append({"model": name, "name": label})
    page = models[offset : offset + limit]
    page, _truncated = fit(page, overhead=200)
    following = offset + len(page)
    return {"models": page, "total": len(models), "next_offset": following if following < len(models) else None}


@tool(
    "describe_model",
    title="Describe a model",
    description="The fields of a model that you can read: type, label, whether required or read-only, the related "
    "model of relational fields and the values of selection fields, and the methods call_method may call on it. "
    "Use it before searching or writing.",
    input_schema=inputs(
        {
            "model": MODEL,
            "fields": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": 200,
                "description": "Only these fields.",
            },
            "include_help": {"type": "boolean", "description": "Add each field's help text."},
        },
        required=["model"],
    ),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "name": {"type": "string"},
            "fields": {"type": "object"},
            "methods": {"type": "array", "items": {"type": "string"}},
            "truncated": {"type": "boolean"},
        }
    ),
    operation="read",
)
def describe_model(ctx, arguments):
    model = ctx.model(arguments["model"], "read")
    described = ctx.fields(model)
    wanted = arguments.get("fields")
    if wanted:
        ctx.check_fields(model, wanted, described)
        described = {name: described[name] for name in wanted}
    attributes = ATTRIBUTES if arguments.get("include_help") else ATTRIBUTES[:-1]
    fields_out = {}
    for name in sorted(described):
        if name.startswith("__"):
            continue
        info = {key: described[name][key] for key in attributes if described[name].get(key) not in (None, False, "")}
        fields_out[name] = info
    rows, truncated = fit(list(fields_out.items()), overhead=200)
    return {
        "model": model._name,
        "name": model._description or model._name,
        "fields": dict(rows),
        "methods": _methods(ctx, model),
        "truncated": truncated,
    }


def _methods(ctx, model):
    """What call_method accepts on the model, when this token and connection may call methods on it at all."""
    if (
        scope_rules.WRITE not in ctx.scopes
        or not ctx.policy.allows_tool("call_method")
        or not ctx.policy.allows_model(model._name, "call")
        or exposure(model._name, "call", ctx.named_models)
    ):
        return []
    return callable_methods(ctx, model)
