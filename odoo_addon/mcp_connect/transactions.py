"""Writes that must not share the fate of the request's transaction."""

from contextlib import contextmanager

from odoo.modules import module


@contextmanager
def independent_cursor(env):
    """A cursor with its own READ COMMITTED transaction, committed on exit.

    Used for counters and audit rows: they must persist when the request fails, and
    concurrent increments of one row must wait for each other rather than fail with
    the serialization errors REPEATABLE READ (Odoo's default) would raise. Under
    tests everything stays in the test's transaction so it is rolled back with it.
    """
    if module.current_test:
        yield env.cr
        return
    with env.registry.cursor() as cr:
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        yield cr
