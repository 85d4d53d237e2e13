"""The tool this addon adds to MCP Connect, declared with its ``tool`` decorator.

The decorator records that the tool belongs to this addon: databases where the addon is
not installed never offer it, and uninstalling the addon takes it away.
"""

from odoo import fields
from odoo.addons.mcp_connect.mcp.registry import tool
from odoo.addons.mcp_connect.mcp.schemas import IDS, inputs, outputs
from odoo.addons.mcp_connect.oauth import scopes

MAX_PARTNERS = 100
# Partners with activities looked at when no ids are given.
SEARCHED = 1000


@tool(
    "partner_open_activities",
    title="Partners' open activities",
    description="Count the open activities (to-dos, calls, meetings) of partners, and how many are overdue. "
    "Give partner ids, or leave them out for the partners with the most open activities (among the first "
    f"{SEARCHED} partners that have any).",
    input_schema=inputs(
        {
            "partner_ids": {**IDS, "description": "Ids of res.partner records (leave out for the busiest ones)."},
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PARTNERS,
                "description": "At most 20 by default.",
            },
        }
    ),
    output_schema=outputs(
        {
            "partners": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "open_activities": {"type": "integer"},
                        "overdue_activities": {"type": "integer"},
                    },
                },
            }
        }
    ),
    scope=scopes.READ,
    operation="read",
    model="res.partner",
)
def partner_open_activities(ctx, arguments):
    partners = ctx.model("res.partner", "read")
    limit = arguments.get("limit", 20)
    if arguments.get("partner_ids"):
        partners = ctx.records(partners, arguments["partner_ids"])[:limit]
    else:
        partners = partners.search(ctx.restrict(partners, [("activity_ids", "!=", False)]), limit=SEARCHED)
    today = fields.Date.context_today(partners)
    rows = []
    for partner in partners:
        activities = partner.activity_ids
        rows.append(
            {
                "id": partner.id,
                "name": partner.display_name,
                "open_activities": len(activities),
                "overdue_activities": len(activities.filtered(lambda activity: activity.date_deadline < today)),
            }
        )
    rows.sort(key=lambda row: (-row["open_activities"], row["id"]))
    return {"partners": rows[:limit]}
