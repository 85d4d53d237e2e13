"""Searching, reading, counting and aggregating records."""

import datetime
import re

from .. import compat
from .context import ToolError
from .registry import tool
from .schemas import DOMAIN, FIELDS, IDS, MODEL, RECORD, inputs, nullable, outputs
from .values import convert, default_fields, fit, local_text, serialize_records

DATETIMES = "Datetimes are in UTC, ISO 8601 ending in Z (2026-03-01T09:30:00Z); dates are YYYY-MM-DD."
MAX_LIMIT = 200
DEFAULT_LIMIT = 20
ORDER = re.compile(r"^\s*[a-z_][a-z0-9_]*(\s+(asc|desc))?(\s*,\s*[a-z_][a-z0-9_]*(\s+(asc|desc))?)*\s*$", re.I)
AGGREGATORS = ("sum", "avg", "min", "max", "count", "count_distinct", "bool_and", "bool_or", "array_agg")


def chosen_fields(ctx, model, described, requested):
    if not requested:
        return default_fields(model, described)
    ctx.check_fields(model, requested, described)
    return list(dict.fromkeys(requested))


def checked_order(model, described, order):
    if not order:
        return None
    if not isinstance(order, str) or not ORDER.match(order):
        raise ToolError('order must look like "name asc, id desc".')
    for part in order.split(","):
        name = part.split()[0]
        if name != "id" and (name not in described or not described[name].get("sortable", True)):
            raise ToolError(f"Cannot sort {model._name} by {name!r}.")
    return order


@tool(
    "search_records",
    title="Search records",
    description="Find records matching an Odoo domain and return chosen fields, one page at a time. Without "
    "'fields' you get a readable default (the model's list view). Results are capped; use next_offset for the next "
    'page. Example: model res.partner, domain [["is_company", "=", true]], fields ["name", "email"]. ' + DATETIMES,
    input_schema=inputs(
        {
            "model": MODEL,
            "domain": DOMAIN,
            "fields": FIELDS,
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "description": f"Records per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).",
            },
            "offset": {"type": "integer", "minimum": 0, "description": "Skip this many records."},
            "order": {"type": "string", "maxLength": 200, "description": 'Sort, e.g. "date desc, id".'},
        },
        required=["model"],
    ),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "records": {"type": "array", "items": RECORD},
            "next_offset": nullable("integer"),
            "truncated": {"type": "boolean"},
        }
    ),
    operation="read",
)
def search_records(ctx, arguments):
    model = ctx.model(arguments["model"], "read")
    described = ctx.fields(model)
    domain = ctx.restrict(model, ctx.validate_domain(model, arguments.get("domain"), described))
    names = chosen_fields(ctx, model, described, arguments.get("fields"))
    limit = arguments.get("limit", DEFAULT_LIMIT)
    offset = arguments.get("offset", 0)
    order = checked_order(model, described, arguments.get("order"))
    records = model.search(domain, offset=offset, limit=limit, order=order)
    total = model.search_count(domain)
    rows, truncated = fit(serialize_records(records, names, described), overhead=300)
    following = offset + len(rows)
    return {
        "model": model._name,
        "total": total,
        "offset": offset,
        "records": rows,
        "next_offset": following if following < total else None,
        "truncated": truncated,
    }


@tool(
    "read_records",
    title="Read records",
    description="Read records by id. Without 'fields' you get a readable default. " + DATETIMES,
    input_schema=inputs({"model": MODEL, "ids": IDS, "fields": FIELDS}, required=["model", "ids"]),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "records": {"type": "array", "items": RECORD},
            "truncated": {"type": "boolean"},
            "omitted_ids": {"type": "array", "items": {"type": "integer"}},
        }
    ),
    operation="read",
)
def read_records(ctx, arguments):
    model = ctx.model(arguments["model"], "read")
    described = ctx.fields(model)
    names = chosen_fields(ctx, model, described, arguments.get("fields"))
    records = ctx.records(model, arguments["ids"])
    rows, truncated = fit(serialize_records(records, names, described), overhead=300)
    shown = {row["id"] for row in rows}
    return {
        "model": model._name,
        "records": rows,
        "truncated": truncated,
        "omitted_ids": [i for i in records.ids if i not in shown],
    }


@tool(
    "count_records",
    title="Count records",
    description="How many records match a domain.",
    input_schema=inputs({"model": MODEL, "domain": DOMAIN}, required=["model"]),
    output_schema=outputs({"model": {"type": "string"}, "count": {"type": "integer"}}),
    operation="read",
)
def count_records(ctx, arguments):
    model = ctx.model(arguments["model"], "read")
    domain = ctx.restrict(model, ctx.validate_domain(model, arguments.get("domain"), ctx.fields(model)))
    return {"model": model._name, "count": model.search_count(domain)}


def _group_key(value, tz_name):
    if hasattr(value, "_name"):
        return {"id": value.id, "display_name": value.display_name} if value else None
    if isinstance(value, datetime.datetime):
        # Datetime groups (create_date:day) start at midnight in the context's time zone.
        return local_text(value, tz_name)
    return convert(value, "char")


def _aggregate(value):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return convert(value, "char")


@tool(
    "aggregate_records",
    title="Aggregate records",
    description="Group records and compute totals, like a pivot table. 'groupby' takes fields such as "
    '"partner_id" or "date:month"; "aggregates" takes "field:function" such as "amount_total:sum", or "__count". '
    'Example: model sale.order, groupby ["user_id"], aggregates ["amount_total:sum", "__count"]. '
    "Groups of a datetime start in your time zone and show its offset.",
    input_schema=inputs(
        {
            "model": MODEL,
            "domain": DOMAIN,
            "groupby": {"type": "array", "items": {"type": "string", "maxLength": 140}, "maxItems": 3},
            "aggregates": {
                "type": "array",
                "items": {"type": "string", "maxLength": 140},
                "minItems": 1,
                "maxItems": 10,
            },
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
            "order": {"type": "string", "maxLength": 200},
        },
        required=["model", "aggregates"],
    ),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "groups": {"type": "array", "items": {"type": "object"}},
            "truncated": {"type": "boolean"},
        }
    ),
    operation="read",
)
def aggregate_records(ctx, arguments):
    model = ctx.model(arguments["model"], "read")
    described = ctx.fields(model)
    domain = ctx.restrict(model, ctx.validate_domain(model, arguments.get("domain"), described))
    groupby = arguments.get("groupby") or []
    aggregates = arguments["aggregates"]
    for spec in groupby:
        name = spec.split(":")[0].split(".")[0]
        if name not in described:
            raise ToolError(f"Cannot group {model._name} by {spec!r}: unknown or unreadable field.")
    for spec in aggregates:
        if spec == "__count":
            continue
        name, _, function = spec.partition(":")
        if name not in described or function not in AGGREGATORS:
            raise ToolError(
                f"Aggregate {spec!r} must be field:function with a readable field and one of "
                f"{', '.join(AGGREGATORS)}, or __count."
            )
    try:
        rows = compat.read_group(
            model, domain, groupby, aggregates, limit=arguments.get("limit", 100), order=arguments.get("order")
        )
    except ValueError as error:
        raise ToolError(f"Invalid aggregation: {error}") from error
    groups = []
    for row in rows:
        tz_name = model.env.context.get("tz")
        keys = dict(zip(groupby, (_group_key(v, tz_name) for v in row[: len(groupby)]), strict=True))
        values = dict(zip(aggregates, (_aggregate(v) for v in row[len(groupby) :]), strict=True))
        groups.append({**keys, **values})
    groups, truncated = fit(groups, overhead=200)
    return {"model": model._name, "groups": groups, "truncated": truncated}
