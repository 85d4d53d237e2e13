"""Searching, reading, counting and aggregating records."""

import datetime
import re

from odoo.tools import SQL

from .. import compat
from ..mcp.registry import TOOLS, tool
from ..mcp.schemas import DOMAIN, FIELDS, IDS, MODEL, RECORD, inputs, nullable, outputs
from ..models.base import unpaged
from .context import ToolError
from .values import (
    MAX_RELATED_IDS,
    MAX_RESULT_CHARS,
    convert,
    default_fields,
    fit,
    local_text,
    serialize_columns,
    serialize_records,
    serialize_rows,
    size,
)

DATETIMES = "Datetimes are in UTC, ISO 8601 ending in Z (2026-03-01T09:30:00Z); dates are YYYY-MM-DD."
MAX_LIMIT = 200
DEFAULT_LIMIT = 20
ORDER = re.compile(r"^\s*[a-z_][a-z0-9_]*(\s+(asc|desc))?(\s*,\s*[a-z_][a-z0-9_]*(\s+(asc|desc))?)*\s*$", re.I)
AGGREGATORS = ("sum", "avg", "min", "max", "count", "count_distinct", "bool_and", "bool_or", "array_agg")
# What shows the values of records rather than numbers about them: these follow the rules of
# the tools that read records (their approval, their presence on the connection).
LISTING_AGGREGATORS = ("array_agg",)
NUMERIC_TYPES = ("integer", "float", "monetary")
FREE_TEXT_TYPES = ("char", "text", "html")
RECORD_READING_TOOLS = ("read_records", "search_records")


def chosen_fields(ctx, model, described, requested):
    if not requested:
        return default_fields(model, described)
    ctx.check_fields(model, requested, described)
    return list(dict.fromkeys(requested))


def _count_all(model, query):
    """How many rows a search's ``query`` matches past its limit and offset: one ``COUNT(*)`` with
    the search's joins and conditions (record rules included), without parsing the domain again."""
    return model.env.execute_query(unpaged(query).select(SQL("COUNT(*)")))[0][0]


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
    # search_read's queries and checks: the page and its fields in one query (the search applied
    # the record rules, so read()'s access check of the same records would only read them again),
    # formatted as read() formats them: from the query's own values when the fields are plain
    # columns, else from the cache. The total comes with the page (a count subquery); a separate
    # count from the same query (the domain and the record rules are not parsed twice) only when
    # the page cannot carry it: past the end, or with fields that are not plain columns.
    query = model._search(domain, offset=offset, limit=limit, order=order or model._order)
    fetched = model._determine_fields_to_fetch(names)
    records, total, columns = model.browse(), None, None
    if not query.is_empty():
        records, total, columns = model._mcp_fetch_page(query, fetched)
    if (records and len(records) < limit) or (not records and not offset):
        total = offset + len(records)
    elif total is None:
        total = _count_all(model, query)
    rows = serialize_columns(records, names, columns, described) if columns else None
    if rows is None:
        rows = serialize_rows(records._read_format(names), names, described)
    rows, truncated = fit(rows, overhead=300)
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
    if isinstance(value, (list, tuple)):
        shown = [_aggregate(item) for item in value[:MAX_RELATED_IDS]]
        return shown if len(value) <= MAX_RELATED_IDS else {"values": shown, "count": len(value)}
    return convert(value, "char")


def _shrink(group, budget):
    """Halve the longest lists of values of one group until it fits ``budget``; whether it had to."""
    shrunk = False
    while size(group) > budget:
        lists = {
            key: value["values"] if isinstance(value, dict) else value
            for key, value in group.items()
            if isinstance(value, list) or (isinstance(value, dict) and "values" in value)
        }
        lists = {key: items for key, items in lists.items() if items}
        if not lists:
            break
        key = max(lists, key=lambda name: size(lists[name]))
        counted = group[key]["count"] if isinstance(group[key], dict) else len(group[key])
        group[key] = {"values": lists[key][: len(lists[key]) // 2], "count": counted}
        shrunk = True
    return shrunk


def _check_reading_values(ctx, model, specs):
    """Aggregates that list values are reads: refused unless the tools reading records run without approval."""
    for name in RECORD_READING_TOOLS:
        decision = ctx.policy.evaluate(
            tool=name,
            required_scope=TOOLS[name].scope,
            granted_scopes=list(ctx.scopes),
            model=model._name,
            operation="read",
            client_ip=ctx.client_ip,
        )
        if decision.outcome != "allow":
            state = "needs an approval" if decision.outcome == "needs_approval" else "is not allowed"
            raise ToolError(
                f"{', '.join(specs)} would show the values of {model._name} records, and on this connection {name} "
                f"{state}. Aggregate numbers instead (__count, sum, avg, count_distinct, min or max of numbers)."
            )


def checked_aggregate_order(order, groupby, aggregates):
    """An order on the call's own groups and aggregates only (any other term would be an oracle)."""
    if not order:
        return None
    terms = {*groupby, *aggregates, "__count"}
    for part in order.split(","):
        words = part.split()
        direction = words[1].lower() if len(words) == 2 else "asc"
        if not words or len(words) > 2 or words[0] not in terms or direction not in ("asc", "desc"):
            example = (groupby or aggregates)[0]
            raise ToolError(
                f'order may only sort by this call\'s groupby or aggregates, e.g. "{example} desc"; '
                f"{part.strip()[:100]!r} is not one of them."
            )
    return order


@tool(
    "aggregate_records",
    title="Aggregate records",
    description="Group records and compute totals, like a pivot table. 'groupby' takes fields such as "
    '"partner_id" or "date:month"; "aggregates" takes "field:function" such as "amount_total:sum", or "__count". '
    'Example: model sale.order, groupby ["user_id"], aggregates ["amount_total:sum", "__count"]. Aggregates that '
    "list values (array_agg, min or max of text, grouping by a text field) follow read_records' approval. "
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
    listing = []
    for spec in groupby:
        field = ctx.check_path(model, spec.split(":")[0], f"group {model._name} by {spec!r}", described)
        if field is not None and field.type in FREE_TEXT_TYPES:
            listing.append(spec)
    for spec in aggregates:
        if spec == "__count":
            continue
        name, _, function = spec.partition(":")
        if name not in described or name.startswith("_") or function not in AGGREGATORS:
            raise ToolError(
                f"Aggregate {spec!r} must be field:function with a readable field and one of "
                f"{', '.join(AGGREGATORS)}, or __count."
            )
        if function in LISTING_AGGREGATORS or (
            function in ("min", "max") and described[name]["type"] not in NUMERIC_TYPES
        ):
            listing.append(spec)
    if listing:
        _check_reading_values(ctx, model, listing)
    order = checked_aggregate_order(arguments.get("order"), groupby, aggregates)
    try:
        rows = compat.read_group(model, domain, groupby, aggregates, limit=arguments.get("limit", 100), order=order)
    except ValueError as error:
        raise ToolError(f"Invalid aggregation: {error}") from error
    groups, shrunk = [], False
    for row in rows:
        tz_name = model.env.context.get("tz")
        keys = dict(zip(groupby, (_group_key(v, tz_name) for v in row[: len(groupby)]), strict=True))
        values = dict(zip(aggregates, (_aggregate(v) for v in row[len(groupby) :]), strict=True))
        group = {**keys, **values}
        shrunk = _shrink(group, MAX_RESULT_CHARS - 400) or shrunk
        groups.append(group)
    groups, truncated = fit(groups, overhead=200)
    return {"model": model._name, "groups": groups, "truncated": truncated or shrunk}
