"""Odoo's launcher for the addon's Odoo tests (``make odoo-test``): ``python odoo_test_launcher.py
<odoo-bin or setup/odoo> <Odoo's arguments>``.

Before post-install tests that open pages, Odoo builds every asset bundle a view of the database
names, to spare the first page of a test the wait. On the two cores ``make test`` shares, that took
100 seconds a version, most of it for bundles that only Odoo's own JavaScript unit tests and the
dark theme load (``UNUSED_BUNDLES``): no test of the addon opens them. They are left out of that
build, and a page that asked for one would still get it, built on its first request. Everything
else runs as Odoo's own launcher runs it.
"""

import os
import runpy
import sys

# Odoo's JavaScript unit-test and QUnit pages, its Mocha editor tests, the test tours of Discuss's
# public pages, and the dark theme.
UNUSED_BUNDLES = frozenset(
    {
        "web.assets_unit_tests",
        "web.assets_unit_tests_setup",
        "web.qunit_suite_tests",
        "web.qunit_mobile_suite_tests",
        "web.tests_assets",
        "web_editor.mocha_tests",
        "mail.assets_discuss_public_test_tours",
        "web.assets_web_dark",
    }
)


def leave_out_unused_bundles():
    # Imported here: the launcher puts Odoo on the path first.
    from odoo.addons.base.models import ir_qweb

    [qweb] = [
        cls for cls in vars(ir_qweb).values() if isinstance(cls, type) and getattr(cls, "_name", None) == "ir.qweb"
    ]
    bundles_of_views = qweb._get_bundles_to_pregenarate

    def _get_bundles_to_pregenarate(self):
        js_bundles, css_bundles = bundles_of_views(self)
        return js_bundles - UNUSED_BUNDLES, css_bundles - UNUSED_BUNDLES

    qweb._get_bundles_to_pregenarate = _get_bundles_to_pregenarate


def main():
    launcher = sys.argv.pop(1)
    sys.argv[0] = launcher
    # The launcher's directory, not this one, first on the path, as when Python runs it.
    sys.path[0] = os.path.dirname(os.path.abspath(launcher))
    # As odoo-bin does before anything imports the time module.
    os.environ["TZ"] = "UTC"
    leave_out_unused_bundles()
    runpy.run_path(launcher, run_name="__main__")


if __name__ == "__main__":
    main()
