"""Who the tool acts as, and within which limits."""

from ..mcp.registry import tool
from ..mcp.schemas import inputs, nullable, outputs


@tool(
    "whoami",
    title="Who am I",
    description="The Odoo user this connection acts as: name, login, its main company and the companies it works "
    "in (reads see their records; create_records takes one of them as company_id), language, "
    "timezone, the granted scopes and the connection's limits. Call it first to know whose data you see.",
    input_schema=inputs({}),
    output_schema=outputs(
        {
            "user": {"type": "object"},
            "company": {"type": "object"},
            "companies": {"type": "array"},
            "language": nullable("string"),
            "timezone": nullable("string"),
            "scopes": {"type": "array", "items": {"type": "string"}},
            "connection": {"type": "object"},
        }
    ),
)
def whoami(ctx, arguments):
    user = ctx.env.user
    company = ctx.env.company
    return {
        "user": {"id": user.id, "name": user.name, "login": user.login, "email": user.email or None},
        "company": {"id": company.id, "name": company.name},
        "companies": [{"id": c.id, "name": c.name} for c in ctx.env.companies],
        "language": user.lang or None,
        "timezone": user.tz or None,
        "scopes": list(ctx.scopes),
        "connection": ctx.connection,
    }
