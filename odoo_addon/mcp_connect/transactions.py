"""Writes that must not share the fate of the request's transaction."""

import os
import threading
from contextlib import contextmanager
from datetime import timedelta

import psycopg2
from odoo import fields, sql_db
from odoo.modules import module
from odoo.tools import SQL
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

# Idle autocommit connections (``autocommit_fetchone``): database -> connections, of this process.
IDLE_MAX = 4


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


class _Autocommit:
    """This process's idle autocommit connections, by database, and the lock its threads share."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle = {}
        self.inherited = []

    def after_fork(self):
        """A forked worker opens its own: the parent's sockets are its parent's. They are kept,
        unused, for the life of the process (closing one would end the parent's session)."""
        self.inherited.extend(cnx for connections in self.idle.values() for cnx in connections)
        self.idle = {}
        self.lock = threading.Lock()

    def borrow(self, dbname):
        with self.lock:
            connections = self.idle.get(dbname)
            if connections:
                return connections.pop()
        _name, info = sql_db.connection_info_for(dbname)
        cnx = psycopg2.connect(**info)
        cnx.set_session(isolation_level="READ COMMITTED", autocommit=True)
        return cnx

    def give_back(self, dbname, cnx):
        with self.lock:
            connections = self.idle.setdefault(dbname, [])
            if len(connections) < IDLE_MAX:
                connections.append(cnx)
                return
        cnx.close()


_autocommit = _Autocommit()
os.register_at_fork(after_in_child=_autocommit.after_fork)


def autocommit_fetchone(env, query):
    """Run one statement in a transaction of its own, committed at once, and return its first row.

    For counters that every request bumps: on a connection of this process kept open in
    autocommit, that is one round trip, where a pooled cursor costs five (``BEGIN``, the
    isolation level, the statement, ``COMMIT``, and the pool's reset). Such a statement is its own
    READ COMMITTED transaction: concurrent increments of one row wait for each other. Each worker
    process keeps at most ``IDLE_MAX`` of these connections per database, besides Odoo's pool.

    While Odoo runs tests, they run inside the test's transaction, which must see the counters
    and roll them back: there, an ``independent_cursor`` (Odoo's test cursor) does it.
    """
    if module.current_test:
        with independent_cursor(env) as cr:
            cr.execute(query)
            return cr.fetchone()
    dbname = env.cr.dbname
    try:
        return _fetchone(dbname, query)
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        # A connection the server closed (a restart, an idle timeout): once more on a new one.
        return _fetchone(dbname, query)


def _fetchone(dbname, query):
    """``query``'s first row, on one of this process's autocommit connections to ``dbname``: given
    back when the statement ran, closed when it failed."""
    cnx = _autocommit.borrow(dbname)
    try:
        with cnx.cursor() as cursor:
            cursor.execute(query.code, query.params)
            row = cursor.fetchone()
    except Exception:
        cnx.close()
        raise
    _autocommit.give_back(dbname, cnx)
    return row
