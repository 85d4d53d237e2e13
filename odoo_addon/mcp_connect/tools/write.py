"""Creating, updating and deleting records (mcp:write)."""

from ..mcp.registry import tool
from ..mcp.schemas import IDS, MODEL, VALUES, inputs, outputs
from ..oauth import scopes as scope_rules
from . import preview
from .context import ToolError
from .values import default_fields, fit, naive_utc

MAX_CREATE = 100
DATETIMES = "Datetimes are UTC: 2026-03-01T09:30:00Z (an offset such as +01:00 is converted)."


def checked_values(ctx, model, values, described):
    if not isinstance(values, dict) or not values:
        raise ToolError("values must be a non-empty object of field values.")
    ctx.check_fields(model, list(values), described)
    computed = [name for name in values if described[name].get("readonly") and not described[name].get("store")]
    if computed:
        raise ToolError(f"These fields of {model._name} are computed and cannot be set: {', '.join(computed)}")
    ctx.check_written(model, values)
    check_company_value(model, values)
    datetimes = [name for name in values if described[name]["type"] == "datetime"]
    return {**values, **{name: naive_utc(values[name]) for name in datetimes}}


def check_company_value(model, values, depth=0):
    """A company set in ``values``, or in the records its x2many commands create or change, must be
    one this call works in (the token's companies the user has): Odoo lets a write move a record
    to any company, or to none, which shares it with every company. This holds for every field to
    ``res.company``, whatever its name; x2many commands that only remove companies are left alone."""
    for name, value in values.items():
        field = model._fields.get(name)
        if field is None or field.comodel_name != "res.company":
            continue
        if field.type == "many2one":
            if not value:
                raise ToolError(
                    f"{name} cannot be emptied: a record without a company is shared with every company. "
                    f"Leave {name} out or name one of the companies this connection works in: {_named(model)}."
                )
            linked = [value]
        elif field.type in ("one2many", "many2many") and isinstance(value, list):
            linked = [_linked(command) for command in value]
            linked = [item for items in linked for item in items]
        else:
            continue
        outside = [item for item in linked if isinstance(item, bool) or item not in model.env.companies.ids]
        if outside:
            raise ToolError(
                f"{name} {outside[0]!r} is not one of the companies this connection works in: {_named(model)}."
            )
    for name, commands in values.items():
        field = model._fields.get(name)
        if depth >= 4 or field is None or field.type not in ("one2many", "many2many") or not isinstance(commands, list):
            continue
        for command in commands:
            if isinstance(command, (list, tuple)) and len(command) == 3 and isinstance(command[2], dict):
                check_company_value(model.env[field.comodel_name], command[2], depth + 1)


def _linked(command):
    """The companies an item of an x2many value adds: a plain id, the ids of commands 4 and 6, and a
    new company for command 0 (never one of the companies already there); none for the others."""
    if not isinstance(command, (list, tuple)) or not command:
        return [command]
    if command[0] == 4 and len(command) > 1:
        return [command[1]]
    if command[0] == 6 and len(command) == 3:
        return list(command[2]) if isinstance(command[2], (list, tuple)) else [command[2]]
    if command[0] == 0:
        return ["a new company"]
    return []


def _named(model):
    return ", ".join(f"{company.id} ({company.name})" for company in model.env.companies)


def in_company(model, arguments, batch):
    """The model and values to create in the company the call names; unchanged without ``company_id``.

    The named company comes first in ``allowed_company_ids``, so it is also the default of
    fields and records that the new ones create in turn.
    """
    if "company_id" not in arguments:
        return model, batch
    company_id = arguments["company_id"]
    field = model._fields.get("company_id")
    if field is None or field.type != "many2one" or field.comodel_name != "res.company":
        raise ToolError(f"{model._name} records belong to no company: leave out company_id.")
    if not isinstance(company_id, int) or isinstance(company_id, bool) or company_id not in model.env.companies.ids:
        raise ToolError(
            f"company_id {company_id!r} is not one of the companies this connection works in: {_named(model)}."
        )
    # Anything but a non-empty object is left for checked_values to refuse.
    objects = [values for values in batch if isinstance(values, dict) and values]
    if any(values.get("company_id", company_id) != company_id for values in objects):
        raise ToolError("values set a company_id other than the company_id argument.")
    others = [company for company in model.env.companies.ids if company != company_id]
    model = model.with_context(allowed_company_ids=[company_id, *others])
    return model, [{**values, "company_id": company_id} if values in objects else values for values in batch]


# What create_records and update_records answer: the records written, by id and name.
WRITTEN = outputs(
    {
        "model": {"type": "string"},
        "ids": {"type": "array", "items": {"type": "integer"}},
        "records": {"type": "array", "items": {"type": "object"}},
        **preview.PREVIEW_OUTPUTS,
    }
)


def summary(records):
    return [{"id": record.id, "display_name": record.display_name} for record in records]


@tool(
    "create_records",
    title="Create records",
    description="Create one record with values, or several (up to 100) with values_list; give exactly one of "
    "the two. Many2one fields take an id; many2many fields take a list of ids. " + DATETIMES + " On a model with a "
    "company_id field, name the company the records belong to with company_id (one of the companies whoami lists); "
    "without it they get the model's default, usually your main company.",
    input_schema=inputs(
        {
            "model": MODEL,
            "values": {
                **VALUES,
                "description": 'Field values of the one record to create, e.g. {"name": "Acme"}. '
                "For several records use values_list instead.",
            },
            "values_list": {
                "type": "array",
                "description": "Several records to create at once: a list of field-value objects like values.",
                "items": VALUES,
                "minItems": 1,
                "maxItems": MAX_CREATE,
            },
            "company_id": {
                "type": "integer",
                "description": "The company the new records belong to, for models with a company_id field: one of "
                "the companies this connection works in (whoami lists them). Leave out for the model's default.",
            },
            "preview": preview.PREVIEW_ARGUMENT,
        },
        required=["model"],
    ),
    output_schema=WRITTEN,
    scope=scope_rules.WRITE,
    operation="create",
    risk="medium",
    read_only=False,
    idempotent=False,
)
def create_records(ctx, arguments):
    if preview.is_preview(arguments):
        return preview.run(ctx, lambda previewing: _create(previewing, arguments, True))
    return _create(ctx, arguments)


def _create(ctx, arguments, previewing=False):
    # One argument per shape (an object, or a list of objects): a property that is "an object
    # or an array" has two types, which Gemini's function declarations refuse.
    if ("values" in arguments) == ("values_list" in arguments):
        raise ToolError("Give exactly one of values (one record) or values_list (several records).")
    model = ctx.model(arguments["model"], "create")
    described = ctx.fields(model)
    batch = arguments["values_list"] if "values_list" in arguments else [arguments["values"]]
    # The company goes into the values before they are checked: the connection's field lists apply to it.
    model, batch = in_company(model, arguments, batch)
    vals_list = [checked_values(ctx, model, item, described) for item in batch]
    created = preview.snapshot_created()
    records = model.create([_commands(item, described) for item in vals_list])
    ctx.check_inside(records)
    if not previewing:
        return {"model": model._name, "ids": records.ids, "records": summary(records)}
    preview.settle(ctx.env)
    given = [name for values in vals_list for name in values]
    names = list(dict.fromkeys([*default_fields(model, described), *given]))
    rows, truncated = fit(
        [{key: value for key, value in row.items() if key != "id"} for row in preview.read(records, names, described)],
        overhead=1000,
    )
    return {
        "model": model._name,
        "would_create": rows,
        "also_created": preview.side_records(created, model._name),
        **({"truncated": True} if truncated else {}),
    }


def _commands(values, described):
    """A plain list of ids on an x2many field means "exactly these records"."""
    converted = dict(values)
    for name, value in values.items():
        if (
            described[name]["type"] in ("many2many", "one2many")
            and isinstance(value, list)
            and all(isinstance(item, int) and not isinstance(item, bool) for item in value)
        ):
            converted[name] = [(6, 0, value)]
    return converted


@tool(
    "update_records",
    title="Update records",
    description="Write the same field values on records given by id. " + DATETIMES,
    input_schema=inputs(
        {"model": MODEL, "ids": IDS, "values": VALUES, "preview": preview.PREVIEW_ARGUMENT},
        required=["model", "ids", "values"],
    ),
    output_schema=WRITTEN,
    scope=scope_rules.WRITE,
    operation="write",
    risk="medium",
    read_only=False,
)
def update_records(ctx, arguments):
    if preview.is_preview(arguments):
        return preview.run(ctx, lambda previewing: _update(previewing, arguments, True))
    return _update(ctx, arguments)


def _update(ctx, arguments, previewing=False):
    model = ctx.model(arguments["model"], "write")
    described = ctx.fields(model)
    records = ctx.records(model, arguments["ids"])
    values = checked_values(ctx, model, arguments["values"], described)
    if previewing:
        # Every stored field, not only the ones written: what they compute changes too.
        names = preview.compared_fields(model, described)
        before = preview.read(records, names, described)
        created = preview.snapshot_created()
    records.write(_commands(values, described))
    ctx.check_inside(records)
    if not previewing:
        return {"model": model._name, "ids": records.ids, "records": summary(records)}
    preview.settle(ctx.env)
    changed, truncated = fit(preview.changes(before, preview.read(records, names, described)), overhead=1000)
    return {
        "model": model._name,
        "ids": records.ids,
        "records": summary(records),
        "would_change": changed,
        "also_created": preview.side_records(created),
        **({"truncated": True} if truncated else {}),
    }


@tool(
    "delete_records",
    title="Delete records",
    description="Delete records given by id. This cannot be undone; prefer archiving (update active=false) when the "
    "model supports it.",
    input_schema=inputs({"model": MODEL, "ids": IDS, "preview": preview.PREVIEW_ARGUMENT}, required=["model", "ids"]),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "deleted_ids": {"type": "array", "items": {"type": "integer"}},
            **preview.PREVIEW_OUTPUTS,
        }
    ),
    scope=scope_rules.WRITE,
    operation="delete",
    risk="high",
    read_only=False,
    destructive=True,
)
def delete_records(ctx, arguments):
    if preview.is_preview(arguments):
        return preview.run(ctx, lambda previewing: _delete(previewing, arguments, True))
    return _delete(ctx, arguments)


def _delete(ctx, arguments, previewing=False):
    model = ctx.model(arguments["model"], "delete")
    records = ctx.records(model, arguments["ids"])
    ids = records.ids
    if previewing:
        described = ctx.fields(model)
        removed = preview.read(records, default_fields(model, described), described)
        created = preview.snapshot_created()
    records.unlink()
    if not previewing:
        return {"model": model._name, "deleted_ids": ids}
    preview.settle(ctx.env)
    removed, truncated = fit(removed, overhead=1000)
    return {
        "model": model._name,
        "would_delete": removed,
        "also_created": preview.side_records(created),
        **({"truncated": True} if truncated else {}),
    }
