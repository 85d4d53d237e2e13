"""Exporting a search to a CSV or XLSX file, the way Odoo's Export button does.

The rows come from ``export_data`` on the records, and the file from the web client's
own CSV and XLSX writers: the user's language, access rights and field groups apply as
in Odoo's export, and the file looks like one made there. The file travels in the result
as an MCP embedded resource.
"""

import base64

from odoo.addons.web.controllers.export import CSVExport, ExcelExport

from .. import config
from ..mcp.registry import tool
from ..mcp.schemas import DOMAIN, MODEL, inputs, outputs
from .context import ToolError
from .read import checked_order

# The file itself, before base64: a result stays within what MCP clients accept.
MAX_EXPORT_BYTES = 2 * 1024 * 1024
FORMATS = {
    "csv": (CSVExport, "text/csv"),
    "xlsx": (ExcelExport, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _column(ctx, model, path):
    """``(export path, label, field type)`` of one requested column, every segment checked.

    Paths are written like Odoo's export (``partner_id/name``) or like a domain
    (``partner_id.name``); a last segment ``id`` is the database id.
    """
    if not isinstance(path, str) or not path.strip():
        raise ToolError("fields must be field names or paths such as partner_id/name.")
    segments = path.strip().replace(".", "/").split("/")
    if segments[-1] == "id":
        segments = segments[:-1]
        suffix, label_end, kind = ".id", "ID", "integer"
    else:
        suffix = label_end = kind = None
    labels, current = [], model
    for position, name in enumerate(segments):
        what = f"export {path!r}"
        field = ctx.check_path(current, name, what)
        if field is None:
            raise ToolError(f"Cannot {what}: {name!r} is not a field of {current._name}.")
        labels.append(ctx.fields(current)[name].get("string") or name)
        last = position == len(segments) - 1
        if not last or suffix:
            if not field.relational:
                raise ToolError(f"Cannot {what}: {name} of {current._name} is not a relation.")
            current = ctx.related_model(field.comodel_name, what)
        if last:
            kind = kind or field.type
    export = "/".join(segments + ([suffix] if suffix else []))
    return export, "/".join(labels + ([label_end] if label_end else [])), kind


@tool(
    "export_records",
    title="Export records to a file",
    description="Export the records matching a domain to a CSV or XLSX file, as Odoo's Export button does "
    "(values in your language; one row per record, and more rows for the lines of a one2many path). 'fields' "
    'are field names or paths through relations, e.g. ["name", "partner_id/name", "order_line/product_id/name"]. '
    "The file comes back as an embedded resource (base64).",
    input_schema=inputs(
        {
            "model": MODEL,
            "fields": {
                "type": "array",
                "items": {"type": "string", "maxLength": 300},
                "minItems": 1,
                "maxItems": 100,
                "description": "Columns: field names or paths such as partner_id/name (id is the database id).",
            },
            "domain": DOMAIN,
            "order": {"type": "string", "maxLength": 200, "description": 'Sort, e.g. "date desc, id".'},
            "limit": {
                "type": "integer",
                "minimum": 1,
                "description": "Most records to export (the default and the maximum are set in Settings).",
            },
            "format": {"type": "string", "enum": sorted(FORMATS), "description": "csv (default) or xlsx."},
        },
        required=["model", "fields"],
    ),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "format": {"type": "string"},
            "filename": {"type": "string"},
            "mimetype": {"type": "string"},
            "size": {"type": "integer", "description": "Bytes of the file."},
            "records": {"type": "integer", "description": "Records exported."},
            "total": {"type": "integer", "description": "Records matching the domain."},
            "truncated": {"type": "boolean", "description": "true: more records match than were exported."},
        }
    ),
    operation="read",
)
def export_records(ctx, arguments):
    model = ctx.model(arguments["model"], "read")
    described = ctx.fields(model)
    domain = ctx.restrict(model, ctx.validate_domain(model, arguments.get("domain"), described))
    columns = [_column(ctx, model, path) for path in arguments["fields"]]
    cap = config.get(ctx.env, "export_max_records")
    limit = arguments.get("limit", cap)
    if limit > cap:
        raise ToolError(f"limit may be at most {cap}: Settings cap the records of one export.")
    order = checked_order(model, described, arguments.get("order"))
    records = model.search(domain, limit=limit, order=order)
    total = len(records) if len(records) < limit else model.search_count(domain)
    rows = records.export_data([export for export, _label, _kind in columns]).get("datas", [])
    writer, mimetype = FORMATS[arguments.get("format", "csv")]
    described_columns = [{"label": label, "type": kind} for _export, label, kind in columns]
    content = writer().from_data(described_columns, [label for _export, label, _kind in columns], rows)
    raw = content.encode() if isinstance(content, str) else content
    if len(raw) > MAX_EXPORT_BYTES:
        raise ToolError(
            f"The file would be {len(raw)} bytes, more than the {MAX_EXPORT_BYTES} bytes a result may carry: "
            "export fewer records (limit, domain) or fewer fields."
        )
    extension = arguments.get("format", "csv")
    filename = f"{model._name}.{extension}"
    return {
        "model": model._name,
        "format": extension,
        "filename": filename,
        "mimetype": mimetype,
        "size": len(raw),
        "records": len(records),
        "total": total,
        "truncated": total > len(records),
        "resource": {
            "uri": f"odoo://export/{filename}",
            "mimeType": mimetype,
            "blob": base64.b64encode(raw).decode(),
        },
    }
