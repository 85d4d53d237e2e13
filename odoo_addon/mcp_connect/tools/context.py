"""What a tool receives: the user's environment and the connection's restrictions.

Tools run through the ORM as the token's user in the token's companies: Odoo's access
rights and record rules always apply, and nothing here uses ``sudo()`` with
client-supplied input. The connection policy and the models MCP Connect never
exposes can only narrow that.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from .. import compat, guard
from .values import CheckedFields, naive_utc, readable_fields

# Never reachable through MCP, whatever the user's rights or a manager lists: MCP
# Connect's own records (an AI tool must not loosen its own restrictions or approve
# its own calls) and the wizards that set credentials.
ALWAYS_BLOCKED = frozenset(
    {
        "res.users.apikeys",
        "res.users.apikeys.description",
        "res.users.identitycheck",
        "res.users.deletion",
        "change.password.wizard",
        "change.password.user",
        "auth_totp.wizard",
    }
)
# Configuration models that tools may read without being named (who is the user,
# which company); changing them needs a manager to name them on the connection.
READABLE_CONFIGURATION = frozenset({"res.users", "res.groups", "res.company"})


class ToolError(Exception):
    """A validation or business error, answered as an ``isError`` result the model can act on."""


@dataclass(frozen=True)
class DataScope:
    """A connection's rule for one model: a record filter and, optionally, a field allow-list."""

    domain: list
    fields: frozenset | None = None


class DataScopes(Mapping):
    """Model name -> ``DataScope``, each evaluated on first use: a call pays for the rules of the
    models it reaches, not for every rule of its connection. Which models have a rule (the keys)
    is known without evaluating any."""

    def __init__(self, rules, evaluate):
        self._rules = rules
        self._evaluate = evaluate
        self._scopes = {}

    def __getitem__(self, model_name):
        if model_name not in self._scopes:
            self._scopes[model_name] = self._evaluate(self._rules[model_name])
        return self._scopes[model_name]

    def __iter__(self):
        return iter(self._rules)

    def __len__(self):
        return len(self._rules)

    def __contains__(self, model_name):
        return model_name in self._rules


def exposure(model_name, operation, named=frozenset()):
    """None if tools may use ``operation`` on the model, otherwise the reason.

    Tools reach business models. Models that configure Odoo, run code or hold
    credentials (``guard.is_technical``/``is_secret``) are reachable only when a manager
    names them on the connection (``named``); some never are.
    """
    if model_name.startswith(guard.NEVER) or model_name in ALWAYS_BLOCKED:
        return f"MCP Connect never exposes the model {model_name} (credentials, security or its own records)."
    if model_name in named:
        return None
    if operation == "read" and model_name in READABLE_CONFIGURATION:
        return None
    if guard.is_technical(model_name) or guard.is_secret(model_name):
        return (
            f"{model_name} configures Odoo, runs code or holds credentials: an MCP Connect manager must name it on "
            "this connection before an AI tool can use it."
        )
    return None


@dataclass
class ToolContext:
    env: object
    policy: object
    scopes: tuple
    client_ip: str | None
    # The mcp.connection: its limits and data scopes are read when a tool first needs them.
    connection_record: object = None

    @cached_property
    def connection(self):
        """What the connection restricts, as whoami shows it."""
        return self.connection_record._limits() if self.connection_record else {}

    @cached_property
    def data_scopes(self):
        """Model name -> ``DataScope`` for the models the connection filters."""
        return self.connection_record._data_scopes(self.env.user) if self.connection_record else {}

    @property
    def named_models(self):
        """The models the connection lists (its model rules)."""
        return frozenset(self.data_scopes)

    def model(self, name, operation="read"):
        """The model ``name`` for ``operation``, or a ``ToolError`` saying why not."""
        if not isinstance(name, str) or not name or name not in self.env:
            raise ToolError(f"Unknown model {str(name)[:100]!r}. Use list_models to find model names.")
        reason = exposure(name, operation, self.named_models)
        if reason:
            raise ToolError(reason)
        model = self.env[name]
        if model._abstract:
            raise ToolError(f"{name} is an abstract model and holds no records.")
        if model._transient and name not in self.named_models:
            raise ToolError(f"{name} is a wizard; use the business methods of the model it works on.")
        if not self.policy.allows_model(name, operation):
            raise ToolError(f"The model {name} is not allowed for this connection ({operation}).")
        return model

    # -- the connection's record filters and field allow-lists -------------------------

    def scope(self, model):
        return self.data_scopes.get(model._name)

    def fields(self, model):
        """Field descriptions the user may read and the connection allows (``fields_get``).

        Lists of records of a model the call may not read are left out: reading them would
        read that model.
        """
        readable = readable_fields(model)
        current = guard.current()
        scope = self.scope(model)
        listed = None if scope is None else scope.fields
        if current is None and listed is None:
            return readable

        def admit(name, _description):
            if listed is not None and name not in listed and name != "id":
                return None
            info = readable.get(name)
            if (
                info is not None
                and current is not None
                and info.get("type") in ("one2many", "many2many")
                and info.get("relation")
                and current.model_refusal(info["relation"], "read") is not None
            ):
                return None
            return info

        return CheckedFields(readable, admit)

    def check_fields(self, model, names, described):
        """Refuse field names that are unknown, unreadable, or outside the connection's allow-list."""
        if self.scope(model) and self.scope(model).fields is not None:
            hidden = [name for name in names if name in readable_fields(model) and name not in described]
            if hidden:
                raise ToolError(f"This connection may not use these fields of {model._name}: {', '.join(hidden[:20])}.")
        unknown = [name for name in names if name not in described or name.startswith("_")]
        if unknown:
            raise ToolError(
                f"Unknown or unreadable fields on {model._name}: {', '.join(unknown[:20])}. Use describe_model."
            )

    def check_written(self, model, values, depth=0):
        """The connection's field lists for every record ``values`` writes.

        Nested x2many commands (``[0, 0, {...}]``, ``[1, id, {...}]``) write records of the
        comodel, and a related field writes the record at the end of its path: their
        fields must be in that model's list too. Which models and records may be
        written is enforced by the guard inside the ORM.
        """
        if depth > 4:
            raise ToolError("values nest x2many commands too deeply (at most 4 levels).")
        for name, value in values.items():
            field = model._fields.get(name)
            if field is None:
                continue
            if field.related:
                self._check_related(model, field)
            if field.type in ("one2many", "many2many") and isinstance(value, list):
                comodel = self.env[field.comodel_name]
                for command in value:
                    if (
                        isinstance(command, (list, tuple))
                        and len(command) == 3
                        and command[0] in (0, 1)
                        and isinstance(command[2], dict)
                    ):
                        self._check_listed(comodel, command[2])
                        self.check_written(comodel, command[2], depth + 1)

    def _check_listed(self, model, values):
        scope = self.scope(model)
        if scope is None or scope.fields is None:
            return
        hidden = sorted(name for name in values if name != "id" and name not in scope.fields)
        if hidden:
            raise ToolError(f"This connection may not use these fields of {model._name}: {', '.join(hidden[:20])}.")

    def _check_related(self, model, field):
        target = model
        *path, last = field.related.split(".") if isinstance(field.related, str) else field.related
        for name in path:
            target = self.env[target._fields[name].comodel_name]
        self._check_listed(target, {last: None})

    def restrict(self, model, domain):
        """The caller's domain within the connection's record filter (never wider)."""
        scope = self.scope(model)
        if scope is None or not scope.domain or guard.current() is not None:
            # Inside a call the guard applies the filter as a record rule (as superuser,
            # like Odoo's own rules, so its fields need not be in the field list).
            return domain
        return compat.domain_and(scope.domain, domain)

    def check_inside(self, records):
        """After a write: every record must still match the filter, or the whole call is undone."""
        scope = self.scope(records)
        if scope is None or not scope.domain or not records:
            return
        inside = records.with_context(active_test=False).search(self.restrict(records, [("id", "in", records.ids)]))
        if len(inside) != len(records):
            raise ToolError(
                f"The change would put {records._name} records outside the records this connection may use; "
                "nothing was changed."
            )

    def records(self, model, ids):
        """Records of ``ids`` that the user may see and the connection may use; a ToolError names the others."""
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ToolError("ids must be a non-empty list of integer record ids.")
        if self.scope(model) and self.scope(model).domain:
            records = model.with_context(active_test=False).search(self.restrict(model, [("id", "in", ids)]))
            records = records.with_context(active_test=model.env.context.get("active_test", True))
        else:
            records = model.browse(ids).exists()
        missing = sorted(set(ids) - set(records.ids))
        if missing:
            raise ToolError(
                f"No {model._name} record with id {', '.join(map(str, missing[:20]))} "
                "(it does not exist, was deleted, or you cannot see it)."
            )
        return records

    def validate_domain(self, model, domain, described=None):
        if domain is None:
            return []
        normalized = self._checked_domain(model, domain, self.fields(model) if described is None else described)
        try:
            compat.validate_domain(model, normalized)
        except Exception as error:
            raise ToolError(f"Invalid domain: {error}") from error
        return normalized

    def _checked_domain(self, model, domain, described):
        """The domain as tuples, every path checked; ``any``/``not any`` sub-domains on the model they reach."""
        if not isinstance(domain, list):
            raise ToolError('domain must be a list, e.g. [["name", "ilike", "acme"]].')
        normalized = []
        for item in domain:
            if isinstance(item, str):
                if item not in ("&", "|", "!"):
                    raise ToolError(f"Unknown domain operator {item!r}; use '&', '|' or '!'.")
                normalized.append(item)
                continue
            if not (
                isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and isinstance(item[1], str)
            ):
                raise ToolError('Each domain condition must be [field, operator, value], e.g. ["state", "=", "draft"].')
            path, operator, value = item
            field = self.check_path(model, path, f"filter {model._name} on {path!r}", described)
            if operator.lower() in ("any", "not any") and field is not None and field.relational:
                comodel = self.related_model(field.comodel_name, f"filter {model._name} on {path!r}")
                value = self._checked_domain(comodel, value, self.fields(comodel))
            elif field is not None and field.type == "datetime":
                # A datetime as results show it (``Z`` or an offset) becomes Odoo's naive UTC.
                value = [naive_utc(v) for v in value] if isinstance(value, list) else naive_utc(value)
            normalized.append((path, operator, value))
        return normalized

    def check_path(self, model, path, what, described=None):
        """The last field of a dotted ``path`` (domain, group by, order), or a ``ToolError``.

        Every segment must be a field the user may read and the connection allows on the
        model that segment belongs to: a condition or a group on a path reveals what it
        reaches. What follows a non-relational field (a date granularity, a property) is
        Odoo's to validate.
        """
        current = model
        allowed = self.fields(model) if described is None else described
        segments = path.split(".")
        for position, name in enumerate(segments):
            if name.startswith("_") or (name != "id" and name not in allowed):
                raise ToolError(f"Cannot {what}: {name!r} is an unknown or not allowed field of {current._name}.")
            field = current._fields.get(name)
            if position == len(segments) - 1 or field is None or not field.relational:
                return field
            current = self.related_model(field.comodel_name, what)
            allowed = self.fields(current)
        return None

    def related_model(self, name, what):
        """A model reached through a relation, if the user and the connection may read it."""
        reason = exposure(name, "read", self.named_models)
        if reason is None and not self.policy.allows_model(name, "read"):
            reason = f"the model {name} is not allowed for this connection (read)."
        if reason is None and not self.env[name].has_access("read"):
            reason = f"you may not read {name}."
        if reason:
            raise ToolError(f"Cannot {what}: {reason}")
        return self.env[name]
