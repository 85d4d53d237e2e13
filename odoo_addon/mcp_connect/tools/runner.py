"""Running one tool call: argument validation, isolation, and errors the model can act on.

A tool that fails half-way leaves nothing behind (no partial writes, and a SQL error does
not leave the transaction aborted for the audit row written after it): a call runs inside
a savepoint, except a read-only tool alone in its request's transaction (``alone``), which
has nothing before it to keep: its failure rolls the whole transaction back instead, and
its success spares the savepoint's two statements. Every call runs under the connection's
guard (``mcp_connect.guard``), which narrows Odoo's own access checks for everything the
call does. Validation and business errors become ``isError`` results; only an unexpected
failure is logged, and its details stay in the server log.
"""

import logging
from contextlib import contextmanager

import psycopg2
from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError, ValidationError

from .. import guard
from ..mcp.schema import SchemaError, validate
from .context import ToolError

_logger = logging.getLogger(__name__)


@contextmanager
def _undone_on_failure(cr, alone):
    if not alone:
        with cr.savepoint():
            yield
        return
    try:
        yield
    except Exception:
        cr.rollback()
        raise


def run(tool, ctx, arguments, alone=False):
    """Return ``(result, None)`` or ``(None, error message)``.

    ``alone``: nothing was written in this transaction before the call (it serves the first
    message of its request).
    """
    try:
        validate(arguments, tool.input_schema)
    except SchemaError as error:
        return None, f"Invalid arguments: {error}."
    try:
        try:
            with (
                _undone_on_failure(ctx.env.cr, alone and tool.read_only),
                guard.active(guard.for_context(ctx, tool.name)),
            ):
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
