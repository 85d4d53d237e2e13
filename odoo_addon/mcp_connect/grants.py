"""What a bearer token grants, resolved once per worker and forgotten on every change.

``mcp.token._grant`` reads a token with its user, companies and connection and keeps the
result in the registry's ``default`` ormcache: plain values and the compiled policy, never
records. Every change that could alter a grant calls ``forget``: token revocation, any
write to a connection, its model rules or the tool catalogue. Odoo itself clears the same
cache when a user's groups, companies, active flag, language or time zone change, or a
group's members or implied groups do. A cleared cache is signalled through the database
(``base_cache_signaling``/``orm_signaling``), and every worker checks the signal at the
start of each request: a revocation takes effect on the next request everywhere.

Time is never cached: expiry is checked against the cached dates on every request.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from odoo import fields
from odoo.tools import SQL

from .transactions import independent_cursor


@dataclass(frozen=True)
class Grant:
    token_id: int
    kind: str
    revoked: bool
    expires_at: datetime
    family_expires_at: datetime
    family: str
    resource: str
    # The token's scopes, expanded (``mcp:write`` implies ``mcp:read``).
    scopes: tuple
    user_id: int
    # Active and still in the MCP Connect users group.
    user_usable: bool
    # The token's companies the user still has and the connection's cap allows, main one first.
    company_ids: tuple
    connection_id: int
    connection_state: str
    # The connection's own limit (0: the Settings' default, read on each request).
    rate_limit: int
    policy: object
    last_used_at: datetime | None
    connection_last_used_at: datetime | None
    # The user's own context (``res.users.context_get``: language, time zone), as Odoo gives a
    # signed-in session: the request runs in it.
    user_context: object


@dataclass(frozen=True)
class ScopeRule:
    """A connection's model rule as stored: evaluated for a user only when a call reaches its model."""

    rule_id: int
    domain: str
    fields: frozenset | None


def forget(env):
    """Every worker resolves bearer tokens and connection rules again from their next request.

    Cleared now, so the rest of this transaction sees the change, and again once it
    commits, so a request of this worker that read the old rows meanwhile does not keep them.
    """
    env.registry.clear_cache()
    env.cr.postcommit.add(env.registry.clear_cache)


# (database, table, id) -> when this worker last recorded use of the row.
_stamped = {}
STAMPED_MAX = 10000


def touch_row(env, table, record_id, last_known, column, min_seconds):
    """``transactions.touch`` for one row whose stamp is known without reading it: the value the
    cached grant saw, or the last stamp this worker wrote, whichever is later."""
    now = fields.Datetime.now()
    key = (env.cr.dbname, table, record_id)
    seen = max((stamp for stamp in (last_known, _stamped.get(key)) if stamp), default=None)
    if seen is not None and 0 <= (now - seen).total_seconds() < min_seconds:
        return False
    query = SQL(
        "UPDATE %(table)s SET %(column)s = %(now)s WHERE id = %(id)s "
        "AND (%(column)s IS NULL OR %(column)s < %(threshold)s)",
        table=SQL.identifier(table),
        column=SQL.identifier(column),
        now=now,
        id=record_id,
        threshold=now - timedelta(seconds=min_seconds),
    )
    with independent_cursor(env) as cr:
        cr.execute(query)
    if len(_stamped) >= STAMPED_MAX:
        _stamped.clear()
    _stamped[key] = now
    return True
