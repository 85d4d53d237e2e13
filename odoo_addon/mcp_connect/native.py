"""The native core (``mcp_connect_core``, built from ``rust/python``) checked before anything imports it.

Odoo's own ``external_dependencies`` check would refuse the install with "an external
dependency is not met" and no way to fix it; this check runs when Odoo imports the addon
(installing it, or loading a database where it is installed), before any module that
imports the core, and says in one sentence what to install with which command.
"""

import sys

from odoo.exceptions import UserError

# The core release this addon is built and tested with; requirements.txt pins the same.
CORE_VERSION = "0.1.0"
CORE_DISTRIBUTION = "mcp-connect-core"


def pip_command() -> str:
    """The command that installs the right core into the Python running Odoo."""
    return f"{sys.executable} -m pip install {CORE_DISTRIBUTION}=={CORE_VERSION}"


def core_problem() -> str | None:
    """Why the core cannot be used (one sentence with the pip command), or None when it can."""
    try:
        import mcp_connect_core
    except ImportError as error:
        return (
            f"MCP Connect needs its native module {CORE_DISTRIBUTION} {CORE_VERSION}, which the Python running "
            f"Odoo cannot import ({error}): install it with `{pip_command()}` and restart Odoo."
        )
    installed = getattr(mcp_connect_core, "__version__", "unknown")
    if installed != CORE_VERSION:
        return (
            f"MCP Connect needs its native module {CORE_DISTRIBUTION} {CORE_VERSION}, but version {installed} "
            f"is installed in the Python running Odoo: install the right one with `{pip_command()}` "
            f"and restart Odoo."
        )
    return None


def require_core() -> None:
    """Refuse to load the addon, with the sentence of ``core_problem``, when the core is unusable."""
    problem = core_problem()
    if problem:
        raise UserError(problem)
