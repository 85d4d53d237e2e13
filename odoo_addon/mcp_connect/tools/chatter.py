"""Messages and activities on records with chatter."""

from datetime import date

from markupsafe import escape

from ..mcp.registry import tool
from ..mcp.schemas import MODEL, RECORD_ID, inputs, nullable, outputs
from ..oauth import scopes as scope_rules
from .context import ToolError
from .values import convert, fit, utc_text


def record_with(ctx, arguments, field_name, what):
    model = ctx.model(arguments["model"], "write")
    if field_name not in model._fields:
        raise ToolError(f"{model._name} has no {what}.")
    return ctx.records(model, [arguments["record_id"]])


@tool(
    "post_message",
    title="Post a message",
    description="Post a message in a record's chatter. By default it is an internal note (only employees see it); "
    "set internal=false to send it to the record's followers, which can email them.",
    input_schema=inputs(
        {
            "model": MODEL,
            "record_id": RECORD_ID,
            "body": {"type": "string", "minLength": 1, "maxLength": 20000, "description": "Plain text."},
            "internal": {"type": "boolean", "description": "Internal note (default) or message to followers."},
        },
        required=["model", "record_id", "body"],
    ),
    output_schema=outputs(
        {"model": {"type": "string"}, "record_id": {"type": "integer"}, "message_id": {"type": "integer"}}
    ),
    scope=scope_rules.WRITE,
    operation="write",
    risk="medium",
    read_only=False,
    idempotent=False,
    open_world=True,
)
def post_message(ctx, arguments):
    record = record_with(ctx, arguments, "message_ids", "chatter")
    internal = arguments.get("internal", True)
    body = escape(arguments["body"]).replace("\n", "<br/>")
    message = record.message_post(
        body=body,
        message_type="comment",
        subtype_xmlid="mail.mt_note" if internal else "mail.mt_comment",
    )
    return {"model": record._name, "record_id": record.id, "message_id": message.id}


@tool(
    "schedule_activity",
    title="Schedule an activity",
    description="Schedule an activity (a to-do) on a record, for you or for another user.",
    input_schema=inputs(
        {
            "model": MODEL,
            "record_id": RECORD_ID,
            "summary": {"type": "string", "minLength": 1, "maxLength": 200},
            "note": {"type": "string", "maxLength": 5000},
            "date_deadline": {"type": "string", "description": "YYYY-MM-DD; today when omitted."},
            "user_id": {"type": "integer", "description": "Assignee; yourself when omitted."},
        },
        required=["model", "record_id", "summary"],
    ),
    output_schema=outputs(
        {"model": {"type": "string"}, "record_id": {"type": "integer"}, "activity_id": {"type": "integer"}}
    ),
    scope=scope_rules.WRITE,
    operation="write",
    risk="low",
    read_only=False,
    idempotent=False,
)
def schedule_activity(ctx, arguments):
    record = record_with(ctx, arguments, "activity_ids", "activities")
    deadline = date.today()
    if arguments.get("date_deadline"):
        try:
            deadline = date.fromisoformat(arguments["date_deadline"])
        except ValueError as error:
            raise ToolError("date_deadline must be a date like 2026-12-31.") from error
    assignee = ctx.env.user
    if arguments.get("user_id"):
        assignee = ctx.env["res.users"].browse(arguments["user_id"]).exists()
        if not assignee:
            raise ToolError(f"No user with id {arguments['user_id']}.")
    activity = record.activity_schedule(
        "mail.mail_activity_data_todo",
        date_deadline=deadline,
        summary=arguments["summary"],
        note=escape(arguments.get("note") or ""),
        user_id=assignee.id,
    )
    return {"model": record._name, "record_id": record.id, "activity_id": activity.id}


MAX_MESSAGES = 100
DEFAULT_MESSAGES = 20


@tool(
    "read_messages",
    title="Read a record's messages",
    description="Read the chatter of a record, newest first: messages, emails, notes and the changes of tracked "
    "fields (field: old value -> new value), with HTML turned into text. Only what you may see in Odoo: "
    "internal notes and tracked changes are for employees. Page with next_before_id (or offset).",
    input_schema=inputs(
        {
            "model": MODEL,
            "record_id": RECORD_ID,
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_MESSAGES,
                "description": f"Messages per page (default {DEFAULT_MESSAGES}, at most {MAX_MESSAGES}).",
            },
            "offset": {"type": "integer", "minimum": 0, "description": "Skip this many messages."},
            "before_id": {
                "type": "integer",
                "minimum": 1,
                "description": "Only messages older than this message id (next_before_id of the previous page).",
            },
        },
        required=["model", "record_id"],
    ),
    output_schema=outputs(
        {
            "model": {"type": "string"},
            "record_id": {"type": "integer"},
            "messages": {"type": "array", "items": {"type": "object"}},
            "next_before_id": nullable("integer"),
            "truncated": {"type": "boolean"},
        }
    ),
    operation="read",
)
def read_messages(ctx, arguments):
    model = ctx.model(arguments["model"], "read")
    if "message_ids" not in model._fields:
        raise ToolError(f"{model._name} has no chatter.")
    record = ctx.records(model, [arguments["record_id"]])
    record.check_access("read")
    domain = [("model", "=", model._name), ("res_id", "=", record.id)]
    if arguments.get("before_id"):
        domain.append(("id", "<", arguments["before_id"]))
    limit = arguments.get("limit", DEFAULT_MESSAGES)
    # Odoo's own rules of mail.message decide, as the user: notes only for employees.
    found = ctx.env["mail.message"].search(domain, offset=arguments.get("offset", 0), limit=limit + 1, order="id desc")
    page = found[:limit]
    tracked = ctx.fields(model) if ctx.env.user._is_internal() else {}
    rows, truncated = fit([_message(message, tracked) for message in page], overhead=400)
    more = len(found) > limit or len(rows) < len(page)
    return {
        "model": model._name,
        "record_id": record.id,
        "messages": rows,
        "next_before_id": rows[-1]["id"] if more and rows else None,
        "truncated": truncated,
    }


def _message(message, tracked):
    """One message as JSON; ``tracked``: the fields whose changes the user and the connection may see."""
    # sudo: the author and the tracking values of a message the user may read, as Odoo's chatter shows them.
    shown = message.sudo()
    row = {
        "id": message.id,
        "date": utc_text(message.date) if message.date else None,
        "author": shown.author_id.display_name or shown.email_from or None,
        "type": message.message_type,
        "subtype": shown.subtype_id.name or None,
        "internal": bool(message.is_internal or shown.subtype_id.internal),
        "subject": message.subject or None,
        "body": convert(message.body, "html") or None,
    }
    if shown.attachment_ids:
        # sudo: the attachment names of a message the user may read, as Odoo's chatter shows them
        row["attachments"] = [{"id": item.id, "name": item.name} for item in message.attachment_ids.sudo()]
    changes = []
    for tracking in shown.tracking_value_ids._filter_has_field_access(message.env):
        name = tracking.field_id.name
        if name not in tracked:
            continue
        kind = tracking.field_id.ttype
        changes.append(
            {
                "field": name,
                "label": tracked[name].get("string") or name,
                "old": _tracked(tracking._format_display_value(kind, new=False)[0]),
                "new": _tracked(tracking._format_display_value(kind, new=True)[0]),
            }
        )
    if changes:
        row["tracking"] = changes
    return row


def _tracked(value):
    if value is False or value is None:
        return None
    return convert(value, "char")
