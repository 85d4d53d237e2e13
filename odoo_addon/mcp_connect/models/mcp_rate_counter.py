import os
import threading
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .. import compat
from ..transactions import autocommit_fetchone, independent_cursor

LEASES_MAX = 10000


class LeaseStore(dict):
    """(database, counter key) -> (window start, hits this process reserved in the database and
    has not used yet), with the lock the request threads of the process share."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def forget(self):
        """A forked worker starts with no lease (and a free lock): what its parent reserved is its parent's."""
        self.clear()
        self.lock = threading.Lock()


_leases = LeaseStore()
os.register_at_fork(after_in_child=_leases.forget)


def lease_size(limit):
    """How many hits a worker reserves at once under ``limit``: 1 (exact counting) up to 199 calls
    a window, then 1% of the limit, at most 50.

    A reservation is one statement instead of one per call. The limit is never exceeded: a worker
    only uses hits the database granted it. What it costs is refusing early: once the database
    has granted the whole window, each worker may still hold up to ``block - 1`` unused hits, so
    a user is refused after at least ``limit - workers * (block - 1)`` calls, that is 1% early per
    worker that served the user in the window (4% for 4 workers) and less above 5,000 calls a
    window, where the cap of 50 takes over. Only while those hits stay unused: under a steady load
    the workers spend them and the whole limit is admitted. The cap keeps the unused hits small
    where the saving no longer grows: at 50, 2% of the calls run a reservation. The Settings'
    default (120) stays exact.
    """
    return max(1, min(limit // 100, 50))


class McpRateCounter(models.Model):
    """Fixed-window counters kept in the database, so limits hold across workers and servers.

    Counting runs in its own READ COMMITTED transaction: concurrent increments of one
    counter then wait for each other instead of failing with serialization errors,
    and an attempt stays counted even when the request that made it fails. A leased
    counter (``_take`` above 199 a window) holds what the workers reserved, used or not.
    """

    _name = "mcp.rate.counter"
    _description = "Rate limit counter"
    _log_access = False

    key = fields.Char(required=True)
    window_start = fields.Datetime(required=True)
    count = fields.Integer(required=True, default=0)

    def init(self):
        compat.ensure_unique_index(
            self.env.cr, "mcp_rate_counter_key_window_uniq", self._table, ["key", "window_start"]
        )

    @api.model
    def _hit(self, key, limit, window_seconds, now, count=True):
        """Count one event at ``now`` (unless ``count`` is False); return seconds to wait when over
        ``limit``, else None. Exact, never leased: each event is counted in the database as it happens."""
        now, window_start = self._window(now, window_seconds)
        if count:
            over = self._reserve(key, window_start, 1) > limit
        else:
            query = SQL("SELECT count FROM mcp_rate_counter WHERE key = %s AND window_start = %s", key, window_start)
            with independent_cursor(self.env) as cr:
                cr.execute(query)
                row = cr.fetchone()
            over = (row[0] if row else 0) >= limit
        if over:
            return self._retry_after(now, window_start, window_seconds)
        return None

    @api.model
    def _take(self, key, limit, window_seconds, amount, now):
        """Count ``amount`` events at once (the messages of a batch) at ``now`` (naive UTC).

        Return ``(admitted, retry_after)``: how many of them fit under ``limit`` in this window,
        in order, and the seconds to wait when some do not (else None). Refused events stay
        counted, as a single refused request does.

        Leased: this worker reserves hits in blocks of ``lease_size(limit)`` and uses them
        without a statement until they run out; the reservation admits only what the database
        grants under the limit, so the limit holds across workers and servers. A lowered limit
        applies at the next reservation: until then each worker may still use the hits it holds
        (at most ``block - 1``), and a raised one once the workers' leases run out.
        """
        now, window_start = self._window(now, window_seconds)
        lease_key = (self.env.cr.dbname, key)
        with _leases.lock:
            leased_window, held = _leases.pop(lease_key, (None, 0))
            if leased_window != window_start:
                held = 0
            if held >= amount:
                if held > amount:
                    _leases[lease_key] = (window_start, held - amount)
                return amount, None
        needed = amount - held
        reserved = max(needed, lease_size(limit))
        current = self._reserve(key, window_start, reserved)
        granted = max(0, min(reserved, limit - (current - reserved)))
        taken = min(needed, granted)
        if granted > taken:
            with _leases.lock:
                if len(_leases) >= LEASES_MAX:
                    _leases.clear()
                leased_window, other = _leases.get(lease_key, (None, 0))
                spare = granted - taken + (other if leased_window == window_start else 0)
                _leases[lease_key] = (window_start, spare)
        admitted = held + taken
        if admitted < amount:
            return admitted, self._retry_after(now, window_start, window_seconds)
        return admitted, None

    @api.model
    def _reserve(self, key, window_start, amount):
        """Add ``amount`` to the counter in one statement and in a transaction of its own (one round
        trip, ``autocommit_fetchone``); return the new count."""
        query = SQL(
            "INSERT INTO mcp_rate_counter (key, window_start, count) VALUES (%s, %s, %s) "
            "ON CONFLICT (key, window_start) DO UPDATE SET count = mcp_rate_counter.count + EXCLUDED.count "
            "RETURNING count",
            key,
            window_start,
            amount,
        )
        return autocommit_fetchone(self.env, query)[0]

    @staticmethod
    def _window(now, window_seconds):
        """The caller's clock (one clock per request, frozen in tests), to the second, and its window's start."""
        now = now.replace(microsecond=0)
        epoch = int((now - datetime(1970, 1, 1)).total_seconds())
        return now, datetime(1970, 1, 1) + timedelta(seconds=epoch - epoch % window_seconds)

    @staticmethod
    def _retry_after(now, window_start, window_seconds):
        return max(1, int((window_start + timedelta(seconds=window_seconds) - now).total_seconds()))

    @api.autovacuum
    def _gc_old_windows(self):
        self.env.cr.execute(
            SQL(
                "DELETE FROM mcp_rate_counter WHERE window_start < %s",
                fields.Datetime.now() - timedelta(days=2),
            )
        )
