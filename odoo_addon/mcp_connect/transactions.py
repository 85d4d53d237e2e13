"""Writes that must not share the fate of the request's transaction."""

from contextlib import contextmanager
from datetime import timedelta

from odoo import fields
from odoo.tools import SQL
from psycopg2.extensions import TRANSACTION_STATUS_IDLE


@contextmanager
def independent_cursor(env):
    """A cursor with its own READ COMMITTED transaction, committed on exit.

    Used for counters, claims and "last used" stamps: they must persist when the request
    fails, and concurrent updates of one row must wait for each other rather than fail with
    the serialization errors REPEATABLE READ (Odoo's default) would raise.

    The isolation level can only be the first statement of a transaction: it is set when
    the cursor's connection is idle, that is, when the cursor starts a transaction of its
    own. A cursor that continues one already under way (Odoo's test cursor, which runs
    inside the test's transaction) keeps that transaction's level.
    """
    with env.registry.cursor() as cr:
        if cr.connection.info.transaction_status == TRANSACTION_STATUS_IDLE:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        yield cr


def touch(records, column, min_seconds):
    """Record "last used" on hot paths: at most once per ``min_seconds``, in its own transaction.

    Concurrent requests with the same token would otherwise fight over one row under
    REPEATABLE READ (serialization failures and retried requests); under READ COMMITTED
    the second update waits, re-reads the condition and does nothing.
    """
    if not records:
        return
    now = fields.Datetime.now()
    stale = records.filtered(lambda r: not r[column] or (now - r[column]).total_seconds() >= min_seconds)
    if not stale:
        return
    query = SQL(
        "UPDATE %(table)s SET %(column)s = %(now)s WHERE id IN %(ids)s "
        "AND (%(column)s IS NULL OR %(column)s < %(threshold)s)",
        table=SQL.identifier(records._table),
        column=SQL.identifier(column),
        now=now,
        ids=tuple(stale.ids),
        threshold=now - timedelta(seconds=min_seconds),
    )
    with independent_cursor(records.env) as cr:
        cr.execute(query)
    stale.invalidate_recordset([column])
