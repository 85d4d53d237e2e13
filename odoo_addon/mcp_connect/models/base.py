import copy
import functools

from odoo import api, models
from odoo.tools import SQL

from .. import compat, guard


def _fetches_plainly(model_class):
    """Whether ``_fetch_query`` of this model is Odoo's own (and this module's guard around it):
    no model or addon overrides it to change the values it puts in the cache."""
    plain = (models.BaseModel._fetch_query, Base._fetch_query)
    return all(vars(cls)["_fetch_query"] in plain for cls in model_class.__mro__ if "_fetch_query" in vars(cls))


def unpaged(query):
    """A copy of a search's ``Query`` without its limit, offset and order: the same joins and
    conditions (record rules included), to count what the search matches."""
    counted = copy.copy(query)
    counted.limit = counted.offset = counted.order = None
    return counted


class Base(models.AbstractModel):
    """Field access during an MCP call: the connection's field lists (``guard``).

    Both versions check the fields of ``read``, ``search_read`` and ``write`` in
    ``check_field_access_rights``; 18.0 also checks every field of a domain, an order
    or a group-by there, 19.0 in ``_check_field_access`` (``compat.FIELD_ACCESS_HOOK``).

    The flags below tell the guard what the ORM is doing: searching (a read of the model
    even before it has records), loading columns of fields already checked, or reading a
    field of a record that business code holds.
    """

    _inherit = "base"

    @api.model
    def check_field_access_rights(self, operation, field_names):
        result = super().check_field_access_rights(operation, field_names)
        current = guard.current()
        if current is None or self.env.su or operation != "read":
            return result
        if not field_names:
            allowed = current.field_list(self)
            return result if allowed is None else [name for name in result if name in allowed]
        reason = current.field_refusal(self, field_names)
        if reason:
            guard.refuse(reason)
        return result

    if compat.FIELD_ACCESS_HOOK:

        @api.model
        def _check_field_access(self, field, operation):
            current = guard.current()
            if current is not None and operation == "read" and not self.env.su:
                reason = current.field_refusal(self, [field.name])
                if reason:
                    guard.refuse(reason)
            return super()._check_field_access(field, operation)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        current = guard.current()
        if result or current is None or self.env.su or operation != "read" or not guard.reads_data(self):
            return result
        reason = current.model_refusal(self._name, "read")
        if reason is None:
            return None
        return self, functools.partial(guard.access_error, reason)

    @api.model
    def _search(self, *args, **kwargs):
        with guard.searching():
            return super()._search(*args, **kwargs)

    @api.model
    def _read_group(self, *args, **kwargs):
        with guard.searching():
            return super()._read_group(*args, **kwargs)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        current = guard.current()
        if current is not None:
            current.record_created(records)
        return records

    def read(self, fields=None, load="_classic_read"):
        current = guard.current()
        if not fields and current is not None and not self.env.su:
            allowed = current.field_list(self)
            if allowed is not None:
                fields = [name for name in self.fields_get(attributes=()) if name in allowed]
        return super().read(fields, load=load)

    def _fetch_query(self, query, fields):
        with guard.fetching():
            return super()._fetch_query(query, fields)

    @api.model
    def _mcp_fetch_page(self, query, fields):
        """``_fetch_query(query, fields)``, counting in the same statement the rows that ``query``
        matches past its limit and offset: ``(records, total, columns)``. ``total`` is None when
        the page is empty (no row carries it), when a field is not a plain column, or when the
        model changes what ``_fetch_query`` reads (calendar events hide the details of others'
        private events, users hide private fields): then this is ``_fetch_query`` itself.

        The columns are read as ``_fetch_query`` reads them and put in the cache the same way,
        without overwriting values already there. The count is a scalar subquery, which
        PostgreSQL runs once while the page itself still stops at its limit (a window count
        would read every matching row's columns first).

        ``columns`` maps each field's name to its values, one per record, when they are what
        the cache holds: the query flushed the fields' pending writes and computations first
        (``to_flush``), and the cache's values of the same transaction are the database's.
        It is None after ``_fetch_query``.
        """
        if (
            self.env.context.get("prefetch_langs")
            or not _fetches_plainly(type(self))
            or any(field.name != "id" and (not field.column_type or field.type == "binary") for field in fields)
        ):
            return self._fetch_query(query, fields), None, None
        columns = [field for field in fields if field.name != "id"]
        with guard.fetching():
            terms = [self._field_to_sql(self._table, field.name, query) for field in columns]
            total = unpaged(query).subselect(SQL("COUNT(*)"))
            rows = self.env.execute_query(query.select(SQL.identifier(self._table, "id"), *terms, total))
        if not rows:
            return self.browse(), None, None
        values = list(zip(*rows, strict=True))
        records = self.browse(values[0])
        read = {}
        for field, column in zip(columns, values[1:-1], strict=True):
            compat.insert_fetched(field, records, column)
            read[field.name] = column
        return records, values[-1][0], read

    def _fetch_field(self, field):
        with guard.implicit():
            return super()._fetch_field(field)
