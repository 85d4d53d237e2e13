"""A connection's policy inside Odoo's own access checks, for the whole duration of a call.

The tools check their arguments to give clear errors; this module is the enforcement.
While a tool call runs (``runner.run``, which also runs approved replays), ``active()``
installs a ``Guard`` for the call. The access checks of every non-superuser
environment consult it, on every path into the ORM (nested x2many commands, related
writes, ``web_*`` methods, onchange, business methods):

- model access (``ir.model.access.check``): a model outside the connection's models,
  or an operation the connection does not allow on it, is refused; configuration and
  credential models are refused unless a manager named them on the connection;
- record rules (``ir.rule._compute_domain``): the connection's record filter of a model
  is one more rule of that model, for every operation;
- field access (``check_field_access_rights`` and, on 19.0, ``_check_field_access``):
  reading, searching, ordering or grouping on a field outside the connection's field
  list is refused, on every segment of a dotted path.

Reading a field of a record that business code already holds (``record.field``) is
not a request of the client and is not narrowed: Odoo's own rules still apply to it.
Code that switches to superuser leaves Odoo's checks, and so this guard, as it does for
the user.
"""

import contextlib
import contextvars
from dataclasses import dataclass, field

from odoo.exceptions import AccessError

_current = contextvars.ContextVar("mcp_connect_guard", default=None)
_implicit = contextvars.ContextVar("mcp_connect_guard_implicit", default=False)
_searching = contextvars.ContextVar("mcp_connect_guard_searching", default=False)
_fetching = contextvars.ContextVar("mcp_connect_guard_fetching", default=False)

MODES = {"read": "read", "create": "create", "write": "write", "unlink": "delete"}
VERBS = {"read": "read", "create": "create", "write": "change", "delete": "delete"}

# MCP Connect's own records: an AI tool never loosens its own restrictions or approves
# its own calls, whatever a manager lists.
NEVER = ("mcp.",)
# Models whose access Odoo derives from the document they belong to, and that business
# code writes as the user as a side effect of a change (chatter, followers, tracking,
# activities, attachments). Their own access rules check the document, and so go
# through this guard for it.
DOCUMENT_BOUND = frozenset(
    {
        "ir.attachment",
        "mail.activity",
        "mail.followers",
        "mail.message",
        "mail.message.reaction",
        "mail.notification",
        "mail.tracking.value",
    }
)
# Reference data that business code reads while it works (subtypes of a chatter message,
# currencies, countries, languages, units): readable by every call, never written
# unless listed.
REFERENCE = frozenset(
    {
        "mail.message.subtype",
        "mail.activity.type",
        "res.currency",
        "res.country",
        "res.country.state",
        "res.lang",
        "uom.uom",
        "uom.category",
    }
)
# Configuration, security and code: reachable only when a manager names the model on
# the connection. Reads of these stay open to business code (sequences, defaults,
# views), except the ones that hold credentials (below).
TECHNICAL_PREFIXES = ("ir.", "base.", "bus.", "res.config", "res.users.", "auth", "iap.", "fetchmail.", "web_")
TECHNICAL_MODELS = frozenset(
    {
        "res.users",
        "res.groups",
        "res.company",
        "mail.template",
        "mail.alias",
        "mail.server",
        "change.password.wizard",
        "change.password.user",
    }
)
# Never read through a connection unless named on it.
SECRET_MODELS = frozenset(
    {
        "ir.config_parameter",
        "ir.mail_server",
        "fetchmail.server",
        "res.users.apikeys",
        "res.users.apikeys.description",
        "res.users.identitycheck",
        "auth.oauth.provider",
        "auth_totp.device",
        "iap.account",
    }
)


# Technical models whose reads follow the connection's model list like business models:
# who the users are and what they may do.
PEOPLE = frozenset({"res.users", "res.groups", "res.company"})


def is_technical(model_name):
    return model_name in TECHNICAL_MODELS or model_name.startswith(TECHNICAL_PREFIXES)


def is_secret(model_name):
    return model_name in SECRET_MODELS or model_name.startswith(NEVER)


@dataclass
class Guard:
    """What one call may reach: the connection's compiled policy and its data scopes."""

    policy: object
    # model name -> tools.context.DataScope (record filter, field allow-list or None)
    scopes: dict
    # models the connection lists (empty: the connection does not restrict models)
    named: frozenset
    # (model, policy operation) pairs that the running business method may do
    # beside the policy (call_method on a model whose "call" is allowed)
    extra: set = field(default_factory=set)
    # policy operations that need an approval through another tool than the running one
    gated: frozenset = frozenset()
    # model name -> ids of the records this call created
    created: dict = field(default_factory=dict)
    _exempt_fields: dict = field(default_factory=dict)

    # -- model access ---------------------------------------------------------------

    def model_refusal(self, model_name, mode):
        """None when ``mode`` (an ir.model.access mode) on the model is allowed, else why not."""
        operation = MODES.get(mode, mode)
        if model_name.startswith(NEVER):
            return f"An AI tool connection never reaches {model_name}."
        if model_name in DOCUMENT_BOUND or (model_name, operation) in self.extra:
            return None
        if operation == "create" and "create" in self.gated:
            return f"Creating {model_name} records needs an approval on this connection: use create_records."
        if model_name in self.named:
            if self.policy.allows_model(model_name, operation):
                return None
            return f"This connection may not {VERBS[operation]} {model_name} records."
        if is_secret(model_name):
            return f"{model_name} holds credentials; a manager must name it on the connection first."
        if is_technical(model_name):
            if operation != "read":
                return (
                    f"{model_name} configures Odoo; this connection may not {VERBS[operation]} it unless a manager "
                    "names it on the connection."
                )
            if model_name not in PEOPLE:
                return None
        if self.named and (_implicit.get() or (operation == "read" and model_name in REFERENCE)):
            return None
        if not self.policy.allows_model(model_name, operation):
            return f"This connection may not {VERBS[operation]} {model_name} records."
        return None

    # -- record rules ---------------------------------------------------------------

    def record_filter(self, model_name, mode):
        """The domain this call adds to the model's record rules for ``mode``, or None."""
        scope = self.scopes.get(model_name)
        domain = scope.domain if scope is not None and scope.domain else None
        operation = MODES.get(mode, mode)
        if operation in self.gated and model_name not in DOCUMENT_BOUND:
            # Only the records this call created; the others need the approval.
            only_new = [("id", "in", sorted(self.created.get(model_name, ())))]
            domain = only_new if domain is None else ["&", *only_new, *domain]
        return domain

    def record_created(self, records):
        self.created.setdefault(records._name, set()).update(records.ids)

    # -- field access ---------------------------------------------------------------

    def field_list(self, model):
        """The field allow-list of the model (with the fields Odoo itself needs), or None."""
        scope = self.scopes.get(model._name)
        if scope is None or scope.fields is None:
            return None
        exempt = self._exempt_fields.get(model._name)
        if exempt is None:
            exempt = frozenset(_framework_fields(model))
            self._exempt_fields[model._name] = exempt
        return scope.fields | exempt

    def field_refusal(self, model, names, depth=0):
        """None when the call may read ``names`` of ``model`` (a domain, an order, a group-by,
        a read), else why not. A related field reads the end of its path: that is checked too."""
        if _implicit.get() or _fetching.get():
            return None
        reason = self.model_refusal(model._name, "read")
        if reason:
            return reason
        allowed = self.field_list(model)
        if allowed is not None:
            hidden = sorted(name for name in names if name in model._fields and name not in allowed)
            if hidden:
                return f"This connection may not use these fields of {model._name}: {', '.join(hidden[:20])}."
        if depth < 3:
            for name in names:
                field = model._fields.get(name)
                if field is not None and field.related:
                    reason = self._related_refusal(model, field, depth)
                    if reason:
                        return reason
        return None

    def _related_refusal(self, model, field, depth):
        path = field.related.split(".") if isinstance(field.related, str) else list(field.related)
        target = model
        for name in path:
            reason = self.field_refusal(target, [name], depth + 1) if target is not model else None
            if reason:
                return reason
            step = target._fields.get(name)
            if step is None or not step.relational:
                break
            target = model.env[step.comodel_name]
        return None


def _framework_fields(model):
    """Fields Odoo reads by itself on every search: the id, the active flag, the default order."""
    names = {"id", "display_name"}
    if model._active_name:
        names.add(model._active_name)
    for part in (model._order or "").split(","):
        words = part.split()
        if words:
            names.add(words[0])
    return names


def current():
    return _current.get()


@contextlib.contextmanager
def _setting(variable, value):
    token = variable.set(value)
    try:
        yield value
    finally:
        variable.reset(token)


def active(guard):
    """The call's guard, for everything the ORM does until the block ends."""
    return _setting(_current, guard)


def implicit():
    """Business code reading a record it holds: the client did not ask for these fields."""
    return _setting(_implicit, True)


def fetching():
    """The ORM loads the columns of fields already checked, and what they depend on."""
    return _setting(_fetching, True)


def searching():
    """A search or a group-by runs: it reads the model even before it has records."""
    return _setting(_searching, True)


def reads_data(records):
    """Whether a read check on ``records`` reads data: records, or a search of the model.

    Odoo also checks read access on an empty recordset where nothing is read (linking no
    records through a many2many): the connection's model list does not apply there.
    """
    return bool(records._ids) or _searching.get()


@contextlib.contextmanager
def allowing(model_name, operations):
    """Let the running business method do ``operations`` on its own model."""
    guard = current()
    if guard is None:
        yield
        return
    added = {(model_name, operation) for operation in operations} - guard.extra
    guard.extra |= added
    try:
        yield
    finally:
        guard.extra -= added


# The record tools: when one of them needs an approval, the others may not do its
# operation through nested x2many commands.
GATED_TOOLS = {"create_records": "create", "update_records": "write", "delete_records": "delete"}


def for_context(ctx, tool_name):
    """The guard of a tool call's ``ToolContext``."""
    scopes = ctx.data_scopes
    gated = frozenset(
        operation
        for name, operation in GATED_TOOLS.items()
        if tool_name in GATED_TOOLS and name != tool_name and ctx.policy.needs_approval(name)
    )
    return Guard(policy=ctx.policy, scopes=scopes, named=frozenset(scopes), gated=gated)


def access_error(message):
    return AccessError(message)


def refuse(message):
    raise access_error(message)
