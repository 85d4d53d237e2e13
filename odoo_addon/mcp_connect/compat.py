"""Every difference between Odoo 18.0 and 19.0 that the addon has to care about.

Prefer feature detection over version numbers; keep this module small.
"""

import contextlib

from odoo import models, release
from odoo.tools import SQL

ODOO_MAJOR = release.version_info[0]
# 19.0 checks every field of a domain, an order or a group-by in ``_check_field_access``;
# 18.0 does it in ``check_field_access_rights`` and has no such method to extend.
FIELD_ACCESS_HOOK = hasattr(models.BaseModel, "_check_field_access")


def set_groups_section(env, groups, category_xmlid, privilege_xmlid, name):
    """Put ``groups`` under the addon's heading in the user form.

    18.0 groups point at an ``ir.module.category``, shown under its parent's heading
    (under "Other" without a parent); 19.0 groups point at a ``res.groups.privilege``,
    shown under its category's heading: the privilege gets the category's parent, so
    both versions show the groups as "MCP Connect" under the same heading. One XML
    file cannot write either field, so the security XML calls this.
    """
    category = env.ref(category_xmlid)
    if "privilege_id" in env["res.groups"]._fields:
        # _load_records registers the xmlid like XML loading does, so a module
        # update keeps the record instead of deleting it as orphaned.
        privilege = env["res.groups.privilege"]._load_records(
            [{"xml_id": privilege_xmlid, "values": {"name": name, "category_id": (category.parent_id or category).id}}],
            update=True,
        )
        groups.write({"privilege_id": privilege.id})
    else:
        groups.write({"category_id": category.id})


def user_groups_field(env):
    """Name of the many2many from ``res.users`` to its explicit groups."""
    return "group_ids" if "group_ids" in env["res.users"]._fields else "groups_id"


def action_groups_field(env):
    """Name of the many2many from ``ir.actions.server`` to the groups that may run it."""
    return "group_ids" if "group_ids" in env["ir.actions.server"]._fields else "groups_id"


def ensure_unique_index(cr, index_name, table, columns):
    """Create a unique index if it is missing.

    ``_sql_constraints`` is ignored by 19.0 and ``models.Constraint`` does not exist
    in 18.0; ``create_unique_index`` is deprecated in 19.0. Plain SQL works in both.
    """
    cr.execute(
        SQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (%s)",
            SQL.identifier(index_name),
            SQL.identifier(table),
            SQL(", ").join(SQL.identifier(column) for column in columns),
        )
    )


def validate_domain(model, domain):
    """Check a domain against a model without running it; raise on unknown fields or operators.

    19.0 has ``Domain(...).validate(model)``; 18.0 validates while building the query.
    """
    try:
        from odoo.fields import Domain
    except ImportError:
        from odoo.osv import expression

        expression.expression(domain, model)
        return
    Domain(domain).validate(model)


def public_method(records, name):
    """The public method ``name`` as RPC would allow it, or raise ``AccessError``/``AttributeError``."""
    try:
        from odoo.service.model import get_public_method
    except ImportError:
        from odoo.models import check_method_name

        check_method_name(name)
        method = getattr(type(records), name, None)
        if not callable(method):
            raise AttributeError(f"The method '{records._name}.{name}' does not exist") from None
        return method
    return get_public_method(records, name)


def is_model_method(method):
    """Whether a method is decorated ``@api.model`` (called without record ids)."""
    return getattr(method, "_api", None) in ("model", "model_create") or getattr(method, "_api_model", False)


def read_group(records, domain, groupby, aggregates, limit=None, order=None):
    """``_read_group`` (the public ``read_group`` is deprecated in 19.0): rows of tuples."""
    return records._read_group(domain, groupby, aggregates, limit=limit, order=order)


def domain_and(first, second):
    """The conjunction of two domains, in the form ``search`` accepts on each version."""
    try:
        from odoo.fields import Domain
    except ImportError:
        from odoo.osv import expression

        return expression.AND([first, second])
    return Domain.AND([Domain(first), Domain(second)])


def field_access(model, field, operation):
    """Whether the user of ``model``'s environment may ``read`` or ``write`` ``field``
    (its ``groups``), as ``fields_get`` decides it.

    19.0 asks the overridable ``_has_field_access``; 18.0 has ``Field.is_accessible``
    (the same check for both operations).
    """
    if hasattr(model, "_has_field_access"):
        return model._has_field_access(field, operation)
    return field.is_accessible(model.env)


def view_group_spec(view):
    """The groups a view is restricted to, as a ``has_groups`` specification: ``""`` for none,
    ``None`` when one of them has no external id to name it by.

    18.0 names the field ``groups_id``, 19.0 ``group_ids``.
    """
    groups = view["group_ids" if "group_ids" in view._fields else "groups_id"]
    if not groups:
        return ""
    xmlids = groups.get_external_id()
    if not all(xmlids.get(group.id) for group in groups):
        return None
    return ",".join(xmlids[group.id] for group in groups)


def group_members(group):
    """The active users of ``group``, including those who have it through an implying group.

    18.0 stores implied memberships in ``users``; 19.0 keeps ``user_ids`` for explicit
    members and adds ``all_user_ids``.
    """
    users = group.all_user_ids if "all_user_ids" in group._fields else group.users
    return users.filtered("active")


def group_members_domain(env, group):
    """A ``res.users`` domain for the members of ``group``, including those who have it through an
    implying group.

    18.0 stores implied groups in ``groups_id``; 19.0 keeps ``group_ids`` for explicit groups and
    adds ``all_group_ids``.
    """
    field = "all_group_ids" if "all_group_ids" in env["res.users"]._fields else "groups_id"
    return [(field, "in", group.ids)]


def http_requests_allowed(case):
    """A context in which the server of an ``HttpCase`` answers requests that the code under test
    sends itself, without the test's cookie.

    19.0 ignores a request without the test cursor cookie and holds a lock while the test runs
    (``allow_requests`` releases both); 18.0 answers every request.
    """
    if hasattr(case, "allow_requests"):
        return case.allow_requests(all_requests=True)
    return contextlib.nullcontext()


def user_all_groups(user):
    """The groups of ``user``, including those implied by its groups.

    18.0 stores implied groups in ``groups_id``; 19.0 has ``all_group_ids``.
    """
    return user.all_group_ids if "all_group_ids" in user._fields else user.groups_id


def insert_fetched(field, records, values):
    """Put the values of ``field`` read from its column in the cache of ``records``, without
    overwriting values already there, as ``_fetch_query`` does: 19.0 asks the field (translated
    texts keep each language apart), 18.0 the cache."""
    insert = getattr(field, "_insert_cache", None)
    if insert is not None:
        insert(records, values)
    else:
        records.env.cache.insert_missing(records, field, values)
