from odoo import fields
from odoo.tests import TransactionCase, tagged

from ..transactions import independent_cursor


def enter_registry_test_mode(case):
    """New cursors of the registry wrap the test's cursor until the test ends (named differently in 18.0)."""
    if hasattr(case, "registry_enter_test_mode"):  # 19.0
        case.registry_enter_test_mode()
    else:  # 18.0
        case.registry.enter_test_mode(case.cr)
        case.addCleanup(case.registry.leave_test_mode)


@tagged("post_install", "-at_install")
class TestIndependentCursor(TransactionCase):
    def isolation(self, cr):
        cr.execute("SHOW transaction_isolation")
        return cr.fetchone()[0]

    def test_a_cursor_of_its_own_reads_committed_data(self):
        with independent_cursor(self.env) as cr:
            self.assertIsNot(cr, self.env.cr)
            self.assertEqual(self.isolation(cr), "read committed")

    def test_under_test_mode_it_is_a_test_cursor_inside_the_tests_transaction(self):
        enter_registry_test_mode(self)
        self.assertEqual(self.isolation(self.env.cr), "repeatable read")
        with independent_cursor(self.env) as cr:
            self.assertIsNot(cr, self.env.cr)
            # Not the first statement of its transaction: the level is left alone, not an error.
            self.assertEqual(self.isolation(cr), "repeatable read")
        counter, now = self.env["mcp.rate.counter"], fields.Datetime.now()
        self.assertIsNone(counter._hit("test:independent", 2, 60, now))
        self.assertIsNone(counter._hit("test:independent", 2, 60, now))
        self.assertTrue(counter._hit("test:independent", 2, 60, now))
        self.env.cr.execute("SELECT count FROM mcp_rate_counter WHERE key = 'test:independent'")
        self.assertEqual(self.env.cr.fetchone()[0], 3)
