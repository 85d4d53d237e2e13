"""Documents of records: printed reports and attachments.

A file travels in the tool result as an MCP embedded resource (``resource`` in the
handler's result, moved into the result's content by the backend) when it is small
enough; a larger one is rendered now, as the user under the connection's policy, and
offered by a short-lived, single-use download link (``mcp.download``).

Attachments are reached through their record: the tools name the record's model, so the
connection's policy on that model (operations, record filter, approvals) and Odoo's own
rule (an attachment is readable by whoever reads its record) both apply. A connection's field
list names fields of the record; the files attached to it are records of their own
(``ir.attachment``), which the list does not hide: a connection that must not see them is not
allowed the attachment tools.
"""

import base64
import binascii

from odoo.tools import html2plaintext
from odoo.tools.mimetypes import guess_mimetype

from .. import compat, config
from ..mcp.registry import tool
from ..mcp.schemas import IDS, MODEL, RECORD_ID, inputs, nullable, outputs
from ..oauth import scopes as scope_rules
from ..storage import server_urls
from .context import ToolError
from .values import MAX_RESULT_CHARS, utc_text

# Larger files are offered by a download link rather than inside the result.
INLINE_MAX_BYTES = 512 * 1024
# Text extracted from an attachment, at most.
MAX_TEXT_CHARS = MAX_RESULT_CHARS - 2000
MAX_LISTED = 100
REPORT_TYPES = {
    "qweb-pdf": ("application/pdf", "pdf"),
    "qweb-html": ("text/html", "html"),
    "qweb-text": ("text/plain", "txt"),
}
TEXT_TYPES = ("application/json", "application/xml", "application/csv", "application/javascript")
DOWNLOAD_PATH = "/api/mcp/download/"

FILE = {
    "name": {"type": "string"},
    "mimetype": {"type": "string"},
    "size": {"type": "integer", "description": "Bytes."},
    "delivery": {
        "type": "string",
        "description": "inline: the file is an embedded resource of this result; link: download it from "
        "download_url, once, before expires_at; text: the attachment's text is in 'text'.",
    },
    "download_url": nullable("string"),
    "expires_at": nullable("string"),
}


def _deliver(ctx, tool_name, uri, name, mimetype, raw):
    """The file inline (an embedded resource) when small enough, otherwise a download link."""
    if len(raw) <= INLINE_MAX_BYTES:
        return {
            "name": name,
            "mimetype": mimetype,
            "size": len(raw),
            "delivery": "inline",
            "download_url": None,
            "expires_at": None,
            "resource": {"uri": uri, "mimeType": mimetype, "blob": base64.b64encode(raw).decode()},
        }
    if not ctx.connection_record:
        raise ToolError(f"The file is larger than {INLINE_MAX_BYTES // 1024} KB and cannot be sent in the result.")
    token, expires = ctx.env["mcp.download"]._offer(ctx.connection_record, ctx.env.user, tool_name, name, mimetype, raw)
    return {
        "name": name,
        "mimetype": mimetype,
        "size": len(raw),
        "delivery": "link",
        "download_url": server_urls(ctx.env).issuer + DOWNLOAD_PATH + token,
        "expires_at": utc_text(expires),
    }


def _document(ctx, arguments, operation="read"):
    model = ctx.model(arguments["model"], operation)
    record = ctx.records(model, [arguments["record_id"]])
    record.check_access(operation)
    return record


# -- reports ----------------------------------------------------------------------------


def _reports(ctx, model):
    """The reports of ``model`` the user may print (the report's groups)."""
    # sudo: reports are metadata; each is filtered below by the groups the user has
    reports = ctx.env["ir.actions.report"].sudo().search([("model", "=", model._name)], order="name, id")
    # sudo: the user's own groups, which the user may not read through res.groups
    user_groups = compat.user_all_groups(ctx.env.user.sudo())
    field = compat.action_groups_field(ctx.env)
    return reports.filtered(lambda report: not report[field] or report[field] & user_groups)


def _report_entry(report):
    xmlid = report.get_external_id().get(report.id) or None
    return {"report": xmlid or report.report_name, "name": report.name, "type": report.report_type}


def _find_report(ctx, model, reference):
    available = _reports(ctx, model)
    for report in available:
        if reference in (report.get_external_id().get(report.id), report.report_name) or (
            reference.strip().lower() == (report.name or "").strip().lower()
        ):
            return report
    listed = ", ".join(f"{entry['report']} ({entry['name']})" for entry in map(_report_entry, available[:20]))
    raise ToolError(
        f"No report {reference[:100]!r} of {model._name} that you may print. "
        + (f"Reports of {model._name}: {listed}." if listed else f"{model._name} has no report you may print.")
    )


@tool(
    "print_report",
    title="Print a report",
    description="Render an Odoo report (an invoice, a quotation, a delivery slip...) of records as a PDF. Without "
    "'report' you get the reports of the model. A small file comes back as an embedded resource; a larger one "
    "as a download link that works once, for 10 minutes. Example: model sale.order, report "
    "sale.action_report_saleorder, ids [7].",
    input_schema=inputs(
        {
            "model": MODEL,
            "report": {
                "type": "string",
                "maxLength": 200,
                "description": "The report's XML id, technical name or name. Leave out to list the reports.",
            },
            "ids": IDS,
        },
        required=["model"],
    ),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "report": {"type": "string"},
            "ids": {"type": "array", "items": {"type": "integer"}},
            "reports": {"type": "array", "items": {"type": "object"}},
            **FILE,
        }
    ),
    operation="read",
)
def print_report(ctx, arguments):
    model = ctx.model(arguments["model"], "read")
    reference = arguments.get("report")
    if not reference:
        return {"model": model._name, "reports": [_report_entry(report) for report in _reports(ctx, model)]}
    scope = ctx.scope(model)
    if scope is not None and scope.fields is not None:
        # A report prints what its template reads, not the connection's field list.
        raise ToolError(
            f"This connection shows only some fields of {model._name}; a report prints fields beyond them, "
            "so it cannot be printed on this connection."
        )
    report = _find_report(ctx, model, reference)
    if report.report_type not in REPORT_TYPES:
        raise ToolError(f"The report {reference!r} is of type {report.report_type}, which this tool cannot render.")
    if "ids" not in arguments:
        raise ToolError("ids: name the records to print.")
    records = ctx.records(model, arguments["ids"])
    records.check_access("read")
    renderer = ctx.env["ir.actions.report"].with_context(force_report_rendering=True)
    # By id: several reports may share one template name, each for its own model.
    raw, _kind = renderer._render(report.id, records.ids)
    raw = raw.encode() if isinstance(raw, str) else raw
    mimetype, extension = REPORT_TYPES[report.report_type]
    name = f"{report.name}.{extension}" if len(records) > 1 else f"{report.name} {records.display_name}.{extension}"
    uri = f"odoo://{model._name}/{records.ids[0]}/report/{report.report_name}"
    return {
        "model": model._name,
        "report": _report_entry(report)["report"],
        "ids": records.ids,
        **_deliver(ctx, "print_report", uri, name.replace("/", "-"), mimetype, raw),
    }


# -- attachments --------------------------------------------------------------------------


def _attachments(record, attachment_ids=None):
    """The files attached to ``record``. Not the attachments that hold its binary fields (a photo):
    those are fields, read with read_records under the connection's field list; Odoo leaves them
    out of a search unless it names ids, so they are left out here in so many words."""
    domain = [("res_model", "=", record._name), ("res_id", "=", record.id), ("res_field", "=", False)]
    if attachment_ids is not None:
        domain.append(("id", "in", attachment_ids))
    return record.env["ir.attachment"].search(domain, order="create_date desc, id desc")


@tool(
    "list_attachments",
    title="List attachments",
    description="The files attached to a record (name, type, size, date), newest first. Read one with read_attachment.",
    input_schema=inputs({"model": MODEL, "record_id": RECORD_ID}, required=["model", "record_id"]),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "record_id": {"type": "integer"},
            "attachments": {"type": "array", "items": {"type": "object"}},
            "total": {"type": "integer"},
        }
    ),
    operation="read",
)
def list_attachments(ctx, arguments):
    record = _document(ctx, arguments)
    attachments = _attachments(record)
    return {
        "model": record._name,
        "record_id": record.id,
        "total": len(attachments),
        "attachments": [
            {
                "id": attachment.id,
                "name": attachment.name,
                "mimetype": attachment.mimetype or "application/octet-stream",
                "size": attachment.file_size,
                "created": utc_text(attachment.create_date) if attachment.create_date else None,
                "kind": "url" if attachment.type == "url" else "file",
            }
            for attachment in attachments[:MAX_LISTED]
        ],
    }


def _is_text(mimetype):
    return mimetype.startswith("text/") or mimetype in TEXT_TYPES or mimetype.endswith(("+json", "+xml"))


@tool(
    "read_attachment",
    title="Read an attachment",
    description="The content of a file attached to a record: the text of text files (plain text, CSV, JSON, "
    "XML; HTML as text), otherwise the file itself as an embedded resource, or a download link that works "
    "once, for 10 minutes, when it is large. Find attachment ids with list_attachments.",
    input_schema=inputs(
        {"model": MODEL, "record_id": RECORD_ID, "attachment_id": {"type": "integer", "description": "Attachment id."}},
        required=["model", "record_id", "attachment_id"],
    ),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "record_id": {"type": "integer"},
            "attachment_id": {"type": "integer"},
            "text": nullable("string"),
            "truncated": {"type": "boolean"},
            "url": nullable("string"),
            **FILE,
        }
    ),
    operation="read",
)
def read_attachment(ctx, arguments):
    record = _document(ctx, arguments)
    attachment = _attachments(record, [arguments["attachment_id"]])
    if not attachment:
        raise ToolError(
            f"No attachment {arguments['attachment_id']} on {record._name} {record.id}. Use list_attachments."
        )
    mimetype = attachment.mimetype or "application/octet-stream"
    head = {"model": record._name, "record_id": record.id, "attachment_id": attachment.id, "truncated": False}
    if attachment.type == "url":
        return {
            **head,
            "name": attachment.name,
            "mimetype": mimetype,
            "size": 0,
            "delivery": "text",
            "text": None,
            "url": attachment.url,
        }
    raw = attachment.raw or b""
    if _is_text(mimetype):
        text = raw.decode("utf-8", errors="replace")
        if mimetype == "text/html":
            text = html2plaintext(text)
        return {
            **head,
            "name": attachment.name,
            "mimetype": mimetype,
            "size": len(raw),
            "delivery": "text",
            "text": text[:MAX_TEXT_CHARS],
            "truncated": len(text) > MAX_TEXT_CHARS,
        }
    uri = f"odoo://ir.attachment/{attachment.id}"
    return {**head, **_deliver(ctx, "read_attachment", uri, attachment.name, mimetype, raw)}


@tool(
    "attach_file",
    title="Attach a file",
    description="Attach a file to a record: its content as base64 ('content_base64') or, for text, as it is "
    "('text'). The file type is read from the content. The largest file is set in Settings.",
    input_schema=inputs(
        {
            "model": MODEL,
            "record_id": RECORD_ID,
            "name": {"type": "string", "minLength": 1, "maxLength": 255, "description": "File name, e.g. notes.csv."},
            "content_base64": {"type": "string", "maxLength": 1_000_000, "description": "The file, base64."},
            "text": {"type": "string", "maxLength": 1_000_000, "description": "The file as text (UTF-8)."},
        },
        required=["model", "record_id", "name"],
    ),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "record_id": {"type": "integer"},
            "attachment_id": {"type": "integer"},
            "name": {"type": "string"},
            "mimetype": {"type": "string"},
            "size": {"type": "integer"},
        }
    ),
    scope=scope_rules.WRITE,
    operation="write",
    risk="medium",
    read_only=False,
    idempotent=False,
)
def attach_file(ctx, arguments):
    if ("content_base64" in arguments) == ("text" in arguments):
        raise ToolError("Give the file either as content_base64 or as text, not both.")
    if "text" in arguments:
        raw = arguments["text"].encode()
    else:
        try:
            raw = base64.b64decode(arguments["content_base64"], validate=True)
        except (binascii.Error, ValueError) as error:
            raise ToolError("content_base64 is not valid base64.") from error
    if not raw:
        raise ToolError("The file is empty.")
    limit = config.get(ctx.env, "attachment_max_kb") * 1024
    if len(raw) > limit:
        raise ToolError(
            f"The file is {len(raw) // 1024} KB; this database accepts files of at most {limit // 1024} KB "
            "(MCP Connect settings)."
        )
    name = arguments["name"].strip().replace("/", "-")
    if not name:
        raise ToolError("name must not be blank.")
    record = _document(ctx, arguments, "write")
    values = {"name": name, "raw": raw, "res_model": record._name, "res_id": record.id}
    sniffed = guess_mimetype(raw, default="")
    if sniffed and sniffed not in ("application/octet-stream", "text/plain"):
        # The content's type wins over the name's; Odoo still turns HTML and XML from users into plain text.
        values["mimetype"] = sniffed
    attachment = ctx.env["ir.attachment"].create(values)
    return {
        "model": record._name,
        "record_id": record.id,
        "attachment_id": attachment.id,
        "name": attachment.name,
        "mimetype": attachment.mimetype,
        "size": attachment.file_size,
    }
