"""Every difference between Odoo 18.0 and 19.0 that the addon has to care about.

Prefer feature detection over version numbers; keep this module small.
"""

from odoo import release
from odoo.tools import SQL

ODOO_MAJOR = release.version_info[0]


def set_groups_section(env, groups, category_xmlid, privilege_xmlid, name):
    """Put ``groups`` under the addon's heading in the user form.

    18.0 groups point at an ``ir.module.category``; 19.0 groups point at a
    ``res.groups.privilege`` (which itself points at the category). One XML file
    cannot write either field, so the security XML calls this.
    """
    category = env.ref(category_xmlid)
    if "privilege_id" in env["res.groups"]._fields:
        # _load_records registers the xmlid like XML loading does, so a module
        # update keeps the record instead of deleting it as orphaned.
        privilege = env["res.groups.privilege"]._load_records(
            [{"xml_id": privilege_xmlid, "values": {"name": name, "category_id": category.id}}],
            update=True,
        )
        groups.write({"privilege_id": privilege.id})
    else:
        groups.write({"category_id": category.id})


def user_groups_field(env):
    """Name of the many2many from ``res.users`` to its explicit groups."""
    return "group_ids" if "group_ids" in env["res.users"]._fields else "groups_id"


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
