"""Previews of writes: run a write tool for real inside a savepoint, tell what it did, undo it.

A preview runs the same code as the write, as the user and under the connection's
guard, so what it shows is what the call would do, refusals included. Then:

- its savepoint is rolled back: no row it wrote stays, ``mail.mail`` rows included;
- mail is never sent during it (``mail_notify_force_send`` off): Odoo queues it instead,
  and the queue is rolled back with the rest;
- a commit is refused while it runs (a method that commits by itself cannot be previewed);
- the callbacks it registered to run after the commit (mails sent after commit, bus
  notifications) are dropped, and those to run before the commit (tracking values) run
  inside the savepoint so that the preview can show them, then are rolled back too.

What a business method does outside the database by itself while it runs (a web service it
calls, a mail it sends at once with ``send()``) cannot be undone: ``call_method`` previews are
for methods that work in Odoo.

Previews need the same scope, models, operations and record filters as the write, but
no approval: an approver or a user sees with them what an approved call would do.
"""

import contextlib
import dataclasses

from odoo import _
from odoo.exceptions import UserError

from .. import guard
from .values import serialize_records, size

PREVIEW_ARGUMENT = {
    "type": "boolean",
    "description": "true: do not write anything; run the call, answer what it would change, and undo it. No mail "
    "is sent. Needs no approval even when the real call does.",
}
PREVIEW_OUTPUTS = {
    "preview": {"type": "boolean", "description": "true: nothing was written; this is what the call would do."},
    "would_create": {
        "type": "array",
        "items": {"type": "object"},
        "description": "Records the call would create, with their values as read back.",
    },
    "would_change": {
        "type": "array",
        "items": {"type": "object"},
        "description": "Records the call would change: id, and the values before and after.",
    },
    "would_delete": {
        "type": "array",
        "items": {"type": "object"},
        "description": "Records the call would delete, with their values.",
    },
    "also_created": {
        "type": "object",
        "description": "Other records the call would create (chatter messages, followers, lines...), "
        "as model: number of records.",
    },
    "truncated": {"type": "boolean", "description": "true: the lists of records were cut to fit the result."},
    "approval_required": {
        "type": "boolean",
        "description": "true: the real call will wait for a human approval on this connection.",
    },
}
# Fields that every write changes: not what a preview is asked about.
BOOKKEEPING = frozenset({"write_date", "write_uid", "__last_update", "display_name"})
SKIPPED_TYPES = frozenset({"binary", "image", "html", "properties", "properties_definition", "json"})


class _Undo(Exception):
    """Raised at the end of a preview to roll its savepoint back."""


_UNSET = object()


def _refuse_commit():
    raise UserError(_("This call commits its work by itself, so it cannot be previewed; nothing was changed."))


def is_preview(arguments):
    return arguments.get("preview") is True


def run(ctx, work):
    """``work(ctx)``'s answer, computed with everything it wrote rolled back and no mail sent."""
    env = ctx.env(context=dict(ctx.env.context, mail_notify_force_send=False))
    previewing = dataclasses.replace(ctx, env=env)
    cr = env.cr
    postcommit = (list(cr.postcommit._funcs), dict(cr.postcommit.data))
    current = guard.current()
    created = snapshot_created()
    answer = {}
    # A method that commits by itself would write what the preview is to undo.
    # The cursor may already carry its own commit (a test cursor does): put back whatever was there.
    replaced = cr.__dict__.get("commit", _UNSET)
    cr.commit = _refuse_commit
    try:
        # The savepoint rolls back on _Undo, then suppress() swallows it.
        with contextlib.suppress(_Undo), cr.savepoint():
            answer.update(work(previewing))
            raise _Undo()
    finally:
        if replaced is _UNSET:
            del cr.commit
        else:
            cr.commit = replaced
        cr.postcommit._funcs.clear()
        cr.postcommit._funcs.extend(postcommit[0])
        cr.postcommit.data.clear()
        cr.postcommit.data.update(postcommit[1])
        if current is not None:
            current.created.clear()
            current.created.update(created)
        env.invalidate_all(flush=False)
    return {**answer, "preview": True}


def settle(env):
    """Write what the ORM holds and run the before-commit callbacks (tracking), inside the preview."""
    env.flush_all()
    env.cr.precommit.run()
    env.flush_all()


def compared_fields(model, described, names=None):
    """The fields a preview shows before and after: ``names``, or the stored ones worth comparing."""
    if names is not None:
        return [name for name in names if name in described]
    return [
        name
        for name, info in described.items()
        if info.get("store", True)
        and name not in BOOKKEEPING
        and info.get("type") not in SKIPPED_TYPES
        and not name.startswith("_")
        and name in model._fields
        and _relation_readable(model, info)
    ]


def _relation_readable(model, info):
    """Whether the user may read the records a relational field shows (a field may be readable
    when the model it points to is not: the RTC sessions of a partner)."""
    relation = info.get("relation")
    return not relation or relation not in model.env or model.env[relation].has_access("read")


def changes(before, after):
    """Rows of ``after`` that differ from ``before`` (by id): the values that changed, both sides."""
    previous = {row["id"]: row for row in before}
    result = []
    for row in after:
        old = previous.get(row["id"], {})
        changed = sorted(name for name in row if name != "id" and row[name] != old.get(name))
        if changed:
            result.append(
                {
                    "id": row["id"],
                    "before": {name: old.get(name) for name in changed},
                    "after": {name: row[name] for name in changed},
                }
            )
    return result


def read(records, names, described):
    return serialize_records(records, names, described) if records and names else [{"id": i} for i in records.ids]


def side_records(before_created, skip_model=None):
    """What the preview created beside the tool's own records, as model: count."""
    current = guard.current()
    if current is None:
        return {}
    counts = {}
    for name, ids in current.created.items():
        new = ids - before_created.get(name, set())
        if new and name != skip_model:
            counts[name] = len(new)
    return counts


def snapshot_created():
    current = guard.current()
    return {name: set(ids) for name, ids in current.created.items()} if current is not None else {}


def size_of(answer, key):
    """The size of ``answer`` without ``key``: what the list under ``key`` leaves room for."""
    return size({name: value for name, value in answer.items() if name != key})
