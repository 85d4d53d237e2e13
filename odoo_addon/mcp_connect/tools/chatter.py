"""Messages and activities on records with chatter."""

from datetime import date

from markupsafe import escape

from ..mcp.registry import tool
from ..mcp.schemas import MODEL, RECORD_ID, inputs, outputs
from ..oauth import scopes as scope_rules
from .context import ToolError


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
