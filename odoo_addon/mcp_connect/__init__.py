from . import native

# Before the modules that import the core: a missing or mismatched core is then one sentence
# with the pip command to run, in Odoo's dialog and log, rather than an ImportError traceback.
native.require_core()

from . import controllers, mcp, models, tools, wizards  # noqa: E402
