"""``search`` and ``fetch`` in the shapes OpenAI documents for ChatGPT deep research and company knowledge.

ChatGPT only uses a connector for deep research when it offers exactly these two tools:
``search(query)`` answers ``{"results": [{"id", "title", "url"}]}`` and ``fetch(id)`` answers
``{"id", "title", "text", "url", "metadata"}``, each as one JSON text content item
(developers.openai.com/api/docs/mcp). Both go through the connection's policy like every
other tool: only models it allows, within its record filters, showing only allowed fields.
"""

import re

from ..mcp.registry import tool
from ..mcp.schemas import inputs, outputs
from ..storage import server_urls
from .context import ToolError
from .values import convert, default_fields

# Searched when the connection does not restrict models: the business documents people ask
# about, whichever of them are installed and readable by the user.
DEFAULT_MODELS = (
    "res.partner",
    "product.template",
    "sale.order",
    "purchase.order",
    "account.move",
    "crm.lead",
    "project.project",
    "project.task",
)
MAX_MODELS = 20
PER_MODEL = 5
MAX_RESULTS = 20
MAX_TERMS = 6
MAX_TEXT_FIELDS = 60
MAX_FETCH_TEXT = 20_000
RECORD_ID = re.compile(r"^(?P<model>[a-z0-9_.]{1,128}):(?P<id>[1-9][0-9]{0,18})$")
# Fields that are noise or credentials in a document's text.
HIDDEN_PREFIXES = ("message_", "activity_", "website_message", "access_", "rating_", "image_", "avatar_")
HIDDEN_WORDS = ("token", "password", "signup")
# Unlike search_records, a document's text includes its html fields (as plain text): notes are content.
# Lists of linked records are left out: ids say nothing to a reader.
NOT_TEXT = ("binary", "image", "properties", "properties_definition", "json", "one2many", "many2many")
FACTS = (("state", "state"), ("partner_id", "partner"), ("company_id", "company"), ("write_date", "updated"))

RESULT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "Pass it to fetch, e.g. res.partner:7."},
        "title": {"type": "string"},
        "url": {"type": "string", "description": "The record in the Odoo web client."},
    },
    "required": ["id", "title", "url"],
}


def record_url(env, model_name, record_id):
    """A deep link to the record in the web client (``/odoo/<model>/<id>`` on 18.0 and 19.0)."""
    return f"{server_urls(env).issuer}/odoo/{model_name}/{record_id}"


def searchable_models(ctx):
    """The models this connection may read and the user can read: its model rules, else the defaults."""
    candidates = list(ctx.data_scopes) or DEFAULT_MODELS
    models = []
    for name in candidates:
        try:
            model = ctx.model(name, "read")
        except ToolError:
            continue
        if model.has_access("read"):
            models.append(model)
    return models[:MAX_MODELS]


def title_field(model, described):
    """The field that names a record, if the connection lets it be shown."""
    if "display_name" in described:
        return "display_name"
    if model._rec_name and model._rec_name in described:
        return model._rec_name
    return None


def record_title(record, field_name):
    if field_name:
        value = record.read([field_name])[0][field_name]
        if value:
            return f"{value} ({record._description})"
    return f"{record._description} {record.id}"


def _any_term(field_name, terms):
    conditions = [(field_name, "ilike", term) for term in terms]
    return ["|"] * (len(conditions) - 1) + conditions


def _matches(model, ctx, field_name, query):
    """Up to PER_MODEL records: those naming the whole query first, then those naming most of its words."""
    found = model.search(ctx.restrict(model, [(field_name, "ilike", query)]), limit=PER_MODEL)
    terms = list(dict.fromkeys(word for word in query.split() if len(word) > 1))[:MAX_TERMS]
    if len(found) >= PER_MODEL or len(terms) < 2:
        return found
    domain = [("id", "not in", found.ids), *_any_term(field_name, terms)]
    more = model.search(ctx.restrict(model, domain), limit=PER_MODEL * 4)
    names = {row["id"]: str(row[field_name] or "").lower() for row in more.read([field_name])}
    ranked = sorted(more, key=lambda r: -sum(term.lower() in names[r.id] for term in terms))
    return found + model.browse([r.id for r in ranked[: PER_MODEL - len(found)]])


@tool(
    "search",
    title="Search Odoo",
    description="Find Odoo records (contacts, products, orders, invoices, leads, tasks: whichever this connection "
    "may read) whose name matches the query, e.g. 'Azure Interior' or 'S00042'. Returns at most "
    f"{PER_MODEL} records per kind and {MAX_RESULTS} in all, each with an id to pass to fetch and a link to the "
    "record in Odoo. For filters and totals use search_records.",
    input_schema=inputs(
        {"query": {"type": "string", "maxLength": 500, "description": "Words of a record's name or reference."}},
        required=["query"],
    ),
    output_schema=outputs({"results": {"type": "array", "items": RESULT}}),
    operation="read",
)
def search(ctx, arguments):
    query = " ".join(arguments["query"].split())
    per_model = []
    for model in searchable_models(ctx):
        described = ctx.fields(model)
        field_name = title_field(model, described)
        # Without a name the connection may show, matching on it would reveal hidden values.
        if field_name is None:
            continue
        per_model.append((model, field_name, _matches(model, ctx, field_name, query)))
    results = []
    # One of each kind in turn, so every kind gets a place within the overall cap.
    for rank in range(PER_MODEL):
        for model, field_name, records in per_model:
            if rank < len(records) and len(results) < MAX_RESULTS:
                record = records[rank]
                results.append(
                    {
                        "id": f"{model._name}:{record.id}",
                        "title": record_title(record, field_name),
                        "url": record_url(ctx.env, model._name, record.id),
                    }
                )
    return {"results": results}


def _shown(model, name, info):
    """Whether a field goes into a document: not a list of ids, and a link only to a model the user reads."""
    if info["type"] in NOT_TEXT:
        return False
    relation = info.get("relation")
    return not relation or (relation in model.env and model.env[relation].has_access("read"))


def _text_fields(model, described):
    """The list view's fields first, then the other stored fields, within MAX_TEXT_FIELDS."""
    names = [name for name in default_fields(model, described) if name != "display_name"]
    for name in sorted(described, key=lambda n: (described[n].get("string") or n).lower()):
        if (
            name in names
            or name in ("id", "display_name")
            or not described[name].get("store")
            or name.startswith(HIDDEN_PREFIXES)
            or any(word in name for word in HIDDEN_WORDS)
        ):
            continue
        names.append(name)
    return [name for name in names if _shown(model, name, described[name])][:MAX_TEXT_FIELDS]


def _render(value, info):
    """One value as a person reads it, or None when there is nothing to show (empty, unset, false)."""
    kind = info["type"]
    if kind == "boolean":
        return "yes" if value else None
    if kind == "selection" and value:
        return dict(info.get("selection") or []).get(value, value)
    value = convert(value, kind)
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return value.get("display_name") or str(value.get("id"))
    return str(value)


def record_text(record, described, title):
    names = _text_fields(record, described)
    row = record.read(names)[0]
    lines = [title]
    for name in names:
        rendered = _render(row.get(name), described[name])
        if rendered is not None:
            lines.append(f"{described[name].get('string') or name}: {rendered}")
    text = "\n".join(lines)
    if len(text) > MAX_FETCH_TEXT:
        text = text[:MAX_FETCH_TEXT] + f"… [{len(text) - MAX_FETCH_TEXT} more characters]"
    return text


def record_metadata(record, described):
    metadata = {"model": record._name, "id": record.id, "kind": record._description}
    names = [name for name, _key in FACTS if name in described and _shown(record, name, described[name])]
    row = record.read(names)[0] if names else {}
    for name, key in FACTS:
        if name in row:
            rendered = _render(row[name], described[name])
            if rendered is not None:
                metadata[key] = rendered
    return metadata


@tool(
    "fetch",
    title="Fetch an Odoo record",
    description="The full record behind an id returned by search (e.g. res.partner:7): its fields as readable "
    "text, a link to it in Odoo, and a few facts (model, id, state, partner, last update).",
    input_schema=inputs(
        {"id": {"type": "string", "maxLength": 160, "description": "An id from search, e.g. res.partner:7."}},
        required=["id"],
    ),
    output_schema=outputs(
        {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "text": {"type": "string"},
            "url": {"type": "string"},
            "metadata": {"type": "object"},
        }
    ),
    operation="read",
)
def fetch(ctx, arguments):
    match = RECORD_ID.match(arguments["id"].strip())
    if not match:
        raise ToolError("id must be a model and a record id as search returns them, e.g. res.partner:7.")
    model = ctx.model(match.group("model"), "read")
    record_id = int(match.group("id"))
    # A search (record rules and the connection's filter) rather than a browse: a record the
    # user or the connection may not see answers exactly like one that does not exist.
    record = model.with_context(active_test=False).search(ctx.restrict(model, [("id", "=", record_id)]))
    if not record:
        raise ToolError(
            f"No {model._name} record with id {record_id} (it does not exist, was deleted, or you cannot see it)."
        )
    described = ctx.fields(model)
    title = record_title(record, title_field(model, described))
    return {
        "id": f"{model._name}:{record.id}",
        "title": title,
        "text": record_text(record, described, title),
        "url": record_url(ctx.env, model._name, record.id),
        "metadata": record_metadata(record, described),
    }
