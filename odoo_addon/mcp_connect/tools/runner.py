"""Running one tool call: argument validation, a savepoint, and errors the model can act on.

Every call runs inside a savepoint: a tool that fails half-way leaves nothing behind
(no partial writes), and under the connection's guard (``mcp_connect.guard``), which
narrows Odoo's own access checks for everything the call does. Validation and
business errors become ``isError`` results; only an unexpected failure is logged,
and its details stay in the server log.
"""

import logging

import psycopg2
from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError, ValidationError

from .. import guard
from ..mcp.schema import SchemaError, validate
from .context import ToolError

_logger = logging.getLogger(__name__)


def run(tool, ctx, arguments):
    """Return ``(result, None)`` or ``(None, error message)``."""
    try:
        validate(arguments, tool.input_schema)
    except SchemaError as error:
        return None, f"Invalid arguments: {error}."
    try:
        try:
            with ctx.env.cr.savepoint(), guard.active(guard.for_context(ctx, tool.name)):
                result = tool.handler(ctx, arguments)
                ctx.env.flush_all()
        finally:
            # Relations read under the connection's record filters stay in the call.
            ctx.env.invalidate_all(flush=False)
        return result, None
    except ToolError as error:
        return None, str(error)
    except (AccessError, AccessDenied) as error:
        return None, f"Access denied: {error.args[0] if error.args else 'you may not do this.'}"
    except MissingError:
        return None, "Some of these records do not exist or were deleted."
    except (UserError, ValidationError) as error:
        return None, str(error.args[0] if error.args else error)
    except psycopg2.IntegrityError as error:
        constraint = getattr(getattr(error, "diag", None), "constraint_name", None)
        return None, "The database refused the change" + (f" (constraint {constraint})." if constraint else ".")
    except (ValueError, KeyError) as error:
        return None, f"Invalid arguments: {error}"
    except Exception:
        _logger.exception("tool %s failed", tool.name)
        return None, "Internal error while running the tool; details are in the Odoo server log."
