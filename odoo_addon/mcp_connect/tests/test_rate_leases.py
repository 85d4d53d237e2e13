import os
import secrets
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged

from ..models import mcp_rate_counter
from .common import clock_frozen
from .test_transactions import enter_registry_test_mode


@tagged("post_install", "-at_install")
class TestRateLeases(TransactionCase):
    """Large limits are counted in blocks each worker reserves with one statement: never more than
    the limit across workers, and at most ``workers * (block - 1)`` refused early.

    Under the registry's test mode the counter's own cursor runs inside the test's transaction:
    its statements are counted on the test's cursor and its rows go with the test. Each test
    starts from an empty lease store, and "another worker" is another store swapped in.
    """

    def setUp(self):
        super().setUp()
        enter_registry_test_mode(self)
        self.counter = self.env["mcp.rate.counter"]
        self.key = f"test:lease:{secrets.token_hex(4)}"
        self.own_store = self.worker(mcp_rate_counter.LeaseStore())
        self.own_store.start()
        self.addCleanup(self.own_store.stop)

    def worker(self, store):
        """Calls made with ``store`` as the process's leases stand for another worker process."""
        return patch.object(mcp_rate_counter, "_leases", store)

    @contextmanager
    def statements(self):
        """The number of SQL statements run inside, the counter's included."""
        counted = [self.cr.sql_log_count]
        yield counted
        counted[0] = self.cr.sql_log_count - counted[0]

    def take(self, limit, amount=1, at=None):
        return self.counter._take(self.key, limit, 60, amount, at or self.frozen_at)

    def database_count(self, at=None):
        window_start = self.counter._window(at or self.frozen_at, 60)[1]
        self.env.cr.execute(
            "SELECT count FROM mcp_rate_counter WHERE key = %s AND window_start = %s", [self.key, window_start]
        )
        row = self.env.cr.fetchone()
        return row[0] if row else 0

    def test_lease_size(self):
        self.assertEqual([mcp_rate_counter.lease_size(n) for n in (1, 120, 199)], [1, 1, 1])
        self.assertEqual([mcp_rate_counter.lease_size(n) for n in (200, 1000, 4999)], [2, 10, 49])
        self.assertEqual([mcp_rate_counter.lease_size(n) for n in (5000, 100_000)], [50, 50])

    @clock_frozen
    def test_a_large_limit_takes_one_statement_per_block(self):
        with self.statements() as one:
            self.assertEqual(self.take(1000), (1, None))
        with self.statements() as hundred:
            for _call in range(99):
                self.assertEqual(self.take(1000), (1, None))
        # The first reservation covered 10 calls; the other 90 took 9 more.
        self.assertEqual(hundred[0], 9 * one[0])
        self.assertEqual(self.database_count(), 100)
        self.assertEqual(self.take(1000, amount=5), (5, None))
        self.assertEqual(self.database_count(), 110)

    @clock_frozen
    def test_a_batch_larger_than_the_lease_reserves_what_it_lacks(self):
        self.assertEqual(self.take(1000, amount=3), (3, None))
        self.assertEqual(self.database_count(), 10)
        # 7 leased, 25 needed: 18 more are reserved, nothing is leased after.
        self.assertEqual(self.take(1000, amount=25), (25, None))
        self.assertEqual(self.database_count(), 28)
        self.assertEqual(self.take(1000), (1, None))
        self.assertEqual(self.database_count(), 38)

    @clock_frozen
    def test_two_workers_never_exceed_the_limit_and_refuse_little_early(self):
        limit, block = 1000, 10
        workers = [mcp_rate_counter.LeaseStore(), mcp_rate_counter.LeaseStore()]
        admitted = refused = 0
        for call in range(1200):
            with self.worker(workers[call % 3 % 2]):
                taken, retry_after = self.take(limit)
            admitted += taken
            if not taken:
                refused += 1
                self.assertEqual(retry_after, 60 - self.frozen_at.second % 60)
            if admitted < limit - 2 * (block - 1):
                self.assertFalse(refused, call)
                self.assertLessEqual(self.database_count(), limit)
        self.assertLessEqual(admitted, limit)
        self.assertGreaterEqual(admitted, limit - 2 * (block - 1))
        self.assertEqual(admitted + refused, 1200)

    @clock_frozen
    def test_a_batch_gets_what_is_left_in_order(self):
        limit = 1000
        self.assertEqual(self.take(limit, amount=995), (995, None))
        admitted, retry_after = self.take(limit, amount=10)
        self.assertEqual(admitted, 5)
        self.assertTrue(retry_after)
        self.assertEqual(self.take(limit), (0, retry_after))

    @clock_frozen
    def test_the_next_window_drops_the_lease(self):
        self.assertEqual(self.take(1000), (1, None))
        next_window = self.frozen_at + timedelta(seconds=60)
        with self.statements() as counted:
            self.assertEqual(self.take(1000, at=next_window), (1, None))
        self.assertTrue(counted[0])
        self.assertEqual((self.database_count(), self.database_count(next_window)), (10, 10))
        for _call in range(9):
            self.take(1000, at=next_window)
        self.assertEqual((self.database_count(), self.database_count(next_window)), (10, 10))

    @clock_frozen
    def test_a_lowered_limit_applies_at_the_next_reservation(self):
        self.assertEqual(self.take(1000), (1, None))
        # The 9 hits this worker holds are still used, then the database refuses.
        for _call in range(9):
            self.assertEqual(self.take(5), (1, None))
        admitted, retry_after = self.take(5)
        self.assertEqual(admitted, 0)
        self.assertTrue(retry_after)

    @clock_frozen
    def test_the_default_limit_and_below_count_exactly(self):
        limit = 120
        workers = [mcp_rate_counter.LeaseStore(), mcp_rate_counter.LeaseStore()]
        for call in range(limit):
            with self.worker(workers[call % 2]):
                self.assertEqual(self.take(limit), (1, None))
            self.assertEqual(self.database_count(), call + 1)
        with self.worker(workers[0]):
            self.assertEqual(self.take(limit)[0], 0)
        self.assertFalse(workers[0] or workers[1] or mcp_rate_counter._leases)

    @clock_frozen
    def test_hit_stays_exact_whatever_the_limit(self):
        for call in range(5):
            self.assertIsNone(self.counter._hit(self.key, 100_000, 60, self.frozen_at))
            self.assertEqual(self.database_count(), call + 1)
        self.assertFalse(mcp_rate_counter._leases)

    @clock_frozen
    def test_a_forked_worker_starts_without_the_parents_lease(self):
        self.own_store.stop()  # the process's own store, whose fork hook the module registered
        self.addCleanup(self.own_store.start)
        store = mcp_rate_counter._leases
        self.addCleanup(store.pop, (self.env.cr.dbname, self.key), None)
        self.take(1000)
        self.assertIn((self.env.cr.dbname, self.key), store)
        with store.lock:  # a request thread holding the lock while the server forks
            child = os.fork()
            if not child:
                os._exit(1 if store or store.lock.locked() else 0)
        self.assertEqual(os.waitpid(child, 0)[1], 0)
        self.assertIn((self.env.cr.dbname, self.key), store)
