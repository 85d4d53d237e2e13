from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .. import compat
from ..transactions import independent_cursor


class McpRateCounter(models.Model):
    """Fixed-window counters kept in the database, so limits hold across workers and servers.

    Counting runs in its own READ COMMITTED transaction: concurrent increments of one
    counter then wait for each other instead of failing with serialization errors,
    and an attempt stays counted even when the request that made it fails.
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
        ``limit``, else None."""
        if count:
            return self._take(key, limit, window_seconds, 1, now)[1]
        now, window_start = self._window(now, window_seconds)
        query = SQL("SELECT count FROM mcp_rate_counter WHERE key = %s AND window_start = %s", key, window_start)
        with independent_cursor(self.env) as cr:
            cr.execute(query)
            row = cr.fetchone()
        if (row[0] if row else 0) >= limit:
            return self._retry_after(now, window_start, window_seconds)
        return None

    @api.model
    def _take(self, key, limit, window_seconds, amount, now):
        """Count ``amount`` events at once (the messages of a batch) at ``now`` (naive UTC).

        Return ``(admitted, retry_after)``: how many of them fit under ``limit`` in this window,
        in order, and the seconds to wait when some do not (else None). Refused events stay
        counted, as a single refused request does.
        """
        now, window_start = self._window(now, window_seconds)
        query = SQL(
            "INSERT INTO mcp_rate_counter (key, window_start, count) VALUES (%s, %s, %s) "
            "ON CONFLICT (key, window_start) DO UPDATE SET count = mcp_rate_counter.count + EXCLUDED.count "
            "RETURNING count",
            key,
            window_start,
            amount,
        )
        with independent_cursor(self.env) as cr:
            cr.execute(query)
            current = cr.fetchone()[0]
        admitted = max(0, min(amount, limit - (current - amount)))
        if admitted < amount:
            return admitted, self._retry_after(now, window_start, window_seconds)
        return admitted, None

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
