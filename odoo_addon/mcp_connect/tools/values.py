"""Turning records into JSON a model can read, within a size budget.

A tool result stays well under 25k tokens: long texts are cut, relations are shown
as ids with names, binary fields are left out unless asked for, and a page of
records is shortened (with the offset of the next page) when it would not fit.
Datetimes carry their zone: Odoo stores them as naive UTC, and a model reading
"2026-03-01T09:00:00" cannot know whether that is UTC or the user's time.
"""

import base64
import datetime
import json
from collections.abc import Mapping

import pytz
from lxml import etree
from odoo import fields
from odoo.exceptions import MissingError
from odoo.tools import html2plaintext

from .. import compat
from ..mcp.jsonrpc import Encoded, EncodedList, encode

MAX_TEXT = 2000
MAX_RELATED_IDS = 50
MAX_RESULT_CHARS = 40_000
MAX_BINARY_BYTES = 64 * 1024
MAX_SUMMARY = 500
DEFAULT_FIELD_COUNT = 12
SKIPPED_BY_DEFAULT = ("binary", "image", "html", "properties", "properties_definition", "json")
# Types whose text values are shown as they are (cut when long).
PLAIN_TEXT = frozenset({"char", "text", "selection"})
# Types whose read() value comes from their column alone (a many2one adds its target's name).
COLUMN_TYPES = frozenset(
    {"char", "text", "selection", "integer", "float", "monetary", "boolean", "date", "datetime", "many2one"}
)
NAME_LIKE = ("name", "display_name", "email", "phone", "state", "date", "ref", "partner_id", "user_id", "amount_total")


def _text(value):
    if len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + f"… [{len(value) - MAX_TEXT} more characters]"
    return value


def utc_text(moment):
    """A datetime as ISO 8601 in UTC with ``Z``; a naive one is UTC, as Odoo stores them."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def local_text(moment, tz_name):
    """A naive datetime in the time zone ``tz_name`` as ISO 8601 with its offset (UTC's ``Z`` without a zone)."""
    if tz_name not in pytz.all_timezones_set:
        return utc_text(moment)
    return pytz.timezone(tz_name).localize(moment).isoformat()


def naive_utc(value):
    """A datetime text as results show it (ISO 8601 with ``Z`` or an offset) in the form Odoo
    stores: naive UTC, ``YYYY-MM-DD HH:MM:SS``. Anything else is returned as it is."""
    if not isinstance(value, str) or ("T" not in value and not value.endswith("Z")):
        return value
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def convert(value, field_type):
    """One value from ``read()`` as JSON."""
    if field_type in PLAIN_TEXT and value.__class__ is str:
        return _text(value)
    if value is False and field_type != "boolean":
        return None
    if field_type == "many2one" and isinstance(value, (tuple, list)):
        return {"id": value[0], "display_name": value[1]}
    if field_type in ("one2many", "many2many") and isinstance(value, list):
        shown = value[:MAX_RELATED_IDS]
        return shown if len(value) <= MAX_RELATED_IDS else {"ids": shown, "count": len(value)}
    if field_type == "html":
        return _text(html2plaintext(value or ""))
    if isinstance(value, datetime.datetime):
        return utc_text(value)
    if field_type == "datetime" and isinstance(value, str):
        return utc_text(fields.Datetime.to_datetime(value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    if field_type in ("binary", "image"):
        raw = value.encode() if isinstance(value, str) else value
        size = len(base64.b64decode(raw)) if raw else 0
        if size > MAX_BINARY_BYTES:
            return {"omitted": f"{size} bytes; larger than {MAX_BINARY_BYTES} bytes"}
        return raw.decode() if isinstance(raw, bytes) else raw
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bytes):
        return _text(value.decode(errors="replace"))
    return value


class CheckedFields(Mapping):
    """Field name -> description, a field admitted (``admit`` returns its description, or None)
    when it is first looked up: a call that names five fields checks those five, not every
    field of the model. Iterating (listing the fields) checks them all."""

    def __init__(self, descriptions, admit):
        self._descriptions = descriptions
        self._admit = admit
        self._checked = {}

    def __getitem__(self, name):
        if name not in self._checked:
            description = self._descriptions[name]
            self._checked[name] = self._admit(name, description)
        found = self._checked[name]
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name):
        try:
            self[name]
        except (KeyError, TypeError):
            return False
        return True

    def __iter__(self):
        return (name for name in self._descriptions if name in self)

    def __len__(self):
        return sum(1 for _name in self)


def readable_fields(model):
    """Field name -> description for the fields the user may read, like ``fields_get``.

    Describing every field of a large model costs more than the search a tool runs, so
    the descriptions are computed once per model, user and language (``_mcp_field_descriptions``,
    cleared when the registry changes) and only the access check runs per request, for the
    fields the call looks up (``CheckedFields``).
    """
    descriptions = model.env["mcp.connection"]._mcp_field_descriptions(model._name)

    def admit(name, description):
        field = model._fields.get(name)
        # Names without a field are ones a model's fields_get adds itself (18.0's res.users).
        if field is not None and not compat.field_access(model, field, "read"):
            return None
        description = dict(description)
        if field is not None and "readonly" in description:
            description["readonly"] = description["readonly"] or not compat.field_access(model, field, "write")
        return description

    return CheckedFields(descriptions, admit)


def default_fields(model, described):
    """A readable choice of fields: the model's list view, or fields with telling names."""
    names = []
    try:
        arch = model.get_view(view_type="list")["arch"]
        root = etree.fromstring(arch.encode() if isinstance(arch, str) else arch)
        names = [node.get("name") for node in root.findall("field")]
    except Exception:  # noqa: BLE001 (no usable list view: fall back to names)
        names = []
    chosen = [n for n in names if n in described and described[n]["type"] not in SKIPPED_BY_DEFAULT]
    if not chosen:
        chosen = [n for n in NAME_LIKE if n in described and described[n]["type"] not in SKIPPED_BY_DEFAULT]
    result = ["display_name"] if "display_name" in described else []
    for name in chosen:
        if name not in result:
            result.append(name)
    return result[:DEFAULT_FIELD_COUNT]


def serialize_records(records, field_names, described):
    return serialize_rows(records.read(field_names), field_names, described)


def serialize_rows(rows, field_names, described):
    """Rows as ``read()`` returns them, as JSON."""
    types = {name: described[name]["type"] for name in field_names if name in described}
    result = []
    for row in rows:
        item = {"id": row["id"]}
        for name in field_names:
            if name in row:
                item[name] = convert(row[name], types[name])
        result.append(item)
    return result


def serialize_columns(records, field_names, columns, described):
    """``serialize_rows(records._read_format(field_names), ...)`` from the values the page's query
    read (``columns``: field name -> one value per record, the values the cache holds), without
    going through each record's fields: each value is converted by its field's own
    ``convert_to_record`` and ``convert_to_read``, as ``read()`` does, and a many2one's name is
    its target's ``display_name`` read as superuser, as ``read()`` reads it.

    None when a field is not such a column (``COLUMN_TYPES``; company-dependent values and texts
    translated term by term are formatted by their field), or when a many2one's target is
    missing: then ``read()``'s own formatting runs.
    """
    model = records.browse()
    converters = []
    for name in field_names:
        field = model._fields[name]
        if (
            name not in columns
            or field.type not in COLUMN_TYPES
            or field.company_dependent
            or callable(field.translate)
        ):
            return None
        converter = _column_converter(model, field, described[name]["type"], columns[name])
        if converter is None:
            return None
        converters.append((name, converter, columns[name]))
    rows = [{"id": record_id} for record_id in records._ids]
    for name, converter, values in converters:
        for row, value in zip(rows, values, strict=True):
            row[name] = converter(value)
    return rows


def _column_converter(model, field, field_type, values):
    """value from the column -> JSON value, for ``serialize_columns``."""
    if field.type == "many2one":
        # sudo: read() names a many2one's target as superuser, since seeing the value depends on
        # the record's access rights, not on the target's; the same name is shown here
        targets = model.env[field.comodel_name].sudo().browse(tuple(dict.fromkeys(value for value in values if value)))
        try:
            names = {target.id: target.display_name for target in targets}
        except MissingError:
            return None
        return lambda value: {"id": value, "display_name": names[value]} if value else None
    if field.type in PLAIN_TEXT and field_type in PLAIN_TEXT:
        # convert_to_record: None is False; convert_to_read: the text itself.
        return lambda value: None if value is None else _text(value)
    to_record, to_read = field.convert_to_record, field.convert_to_read
    return lambda value: convert(to_read(to_record(value, model), model, True), field_type)


def size(value):
    return len(encode(value))


def fit(rows, overhead=0):
    """Keep as many leading rows as fit in the budget; return (rows, truncated).

    The rows are measured by encoding them, and come back with that text, so the answer does
    not encode them again: all of them at once when they fit (``EncodedList``), else each row
    that is an object (``Encoded``).
    """
    budget = MAX_RESULT_CHARS - overhead
    if not isinstance(rows, list):
        rows = list(rows)
    text = encode(rows)
    if len(text) <= budget:
        return EncodedList(rows, text), False
    total, kept = 2, []
    for row in rows:
        text = encode(row)
        row_size = len(text) + 1
        if total + row_size > budget and kept:
            return kept, True
        kept.append(Encoded(row, text) if isinstance(row, dict) else row)
        total += row_size
    return kept, False


def summarize_arguments(arguments):
    """What a call asked for, without its values: model, ids count, domain size, field names, limits."""
    if not isinstance(arguments, dict):
        return None
    summary = {}
    for key, value in arguments.items():
        if key in ("model", "method", "limit", "offset", "order", "internal") and isinstance(value, (str, int)):
            summary[key] = value
        elif isinstance(value, list):
            summary[key] = f"<{len(value)} items>"
        elif isinstance(value, dict):
            summary[key] = "<" + ", ".join(sorted(map(str, value))[:20]) + ">"
        else:
            summary[key] = f"<{type(value).__name__}>"
    text = json.dumps(summary, ensure_ascii=False)
    return text if len(text) <= MAX_SUMMARY else text[:MAX_SUMMARY] + "…"
