"""What a tool receives: the user's environment and the connection's restrictions.

Tools run through the ORM as the token's user in the token's company: Odoo's access
rights and record rules always apply, and nothing here uses ``sudo()`` with
client-supplied input. The connection policy and the models MCP Connect never
exposes can only narrow that.
"""

from dataclasses import dataclass
from functools import cached_property

from .. import compat
from .values import naive_utc, readable_fields

# Never reachable through MCP, whatever the user's rights: MCP Connect's own
# records (an AI tool must not loosen its own restrictions or approve its own
# calls), credentials, and models that run code or change security.
BLOCKED_MODELS = frozenset(
    {
        "ir.config_parameter",
        "ir.actions.server",
        "ir.cron",
        "ir.rule",
        "ir.model.access",
        "ir.module.module",
        "ir.ui.view",
        "ir.model.data",
        "base.automation",
        "res.users.apikeys",
        "res.users.apikeys.description",
        "res.users.identitycheck",
        "res.users.deletion",
        "change.password.wizard",
        "change.password.user",
        "auth_totp.wizard",
    }
)
BLOCKED_PREFIXES = ("mcp.",)
# Readable but never changed through MCP: access control and technical configuration.
READ_ONLY_MODELS = frozenset({"res.users", "res.groups", "res.company"})
READ_ONLY_PREFIXES = ("ir.",)


class ToolError(Exception):
    """A validation or business error, answered as an ``isError`` result the model can act on."""


@dataclass(frozen=True)
class DataScope:
    """A connection's rule for one model: a record filter and, optionally, a field allow-list."""

    domain: list
    fields: frozenset | None = None


def exposure(model_name, operation):
    """None if MCP Connect exposes ``operation`` on the model, otherwise the reason."""
    if model_name in BLOCKED_MODELS or model_name.startswith(BLOCKED_PREFIXES):
        return f"MCP Connect never exposes the model {model_name} (credentials, security or code execution)."
    if operation != "read" and (model_name in READ_ONLY_MODELS or model_name.startswith(READ_ONLY_PREFIXES)):
        return f"MCP Connect only reads the model {model_name}; it never changes access control or configuration."
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

    def model(self, name, operation="read"):
        """The model ``name`` for ``operation``, or a ``ToolError`` saying why not."""
        if not isinstance(name, str) or not name or name not in self.env:
            raise ToolError(f"Unknown model {str(name)[:100]!r}. Use list_models to find model names.")
        reason = exposure(name, operation)
        if reason:
            raise ToolError(reason)
        model = self.env[name]
        if model._abstract:
            raise ToolError(f"{name} is an abstract model and holds no records.")
        if not self.policy.allows_model(name, operation):
            raise ToolError(f"The model {name} is not allowed for this connection ({operation}).")
        return model

    # -- the connection's record filters and field allow-lists -------------------------

    def scope(self, model):
        return self.data_scopes.get(model._name)

    def fields(self, model):
        """Field descriptions the user may read and the connection allows (``fields_get``)."""
        described = readable_fields(model)
        scope = self.scope(model)
        if scope is None or scope.fields is None:
            return described
        return {name: info for name, info in described.items() if name in scope.fields or name == "id"}

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

    def restrict(self, model, domain):
        """The caller's domain within the connection's record filter (never wider)."""
        scope = self.scope(model)
        if scope is None or not scope.domain:
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

    @staticmethod
    def _condition(item, described):
        """A condition as a tuple; a datetime value as results show it (``Z``) becomes Odoo's naive UTC."""
        name, operator, value = item
        if described is not None and described.get(name, {}).get("type") == "datetime":
            value = [naive_utc(v) for v in value] if isinstance(value, list) else naive_utc(value)
        return (name, operator, value)

    def validate_domain(self, model, domain, described=None):
        if domain is None:
            return []
        if not isinstance(domain, list):
            raise ToolError('domain must be a list, e.g. [["name", "ilike", "acme"]].')
        for item in domain:
            if isinstance(item, str):
                if item not in ("&", "|", "!"):
                    raise ToolError(f"Unknown domain operator {item!r}; use '&', '|' or '!'.")
            elif not (
                isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and isinstance(item[1], str)
            ):
                raise ToolError('Each domain condition must be [field, operator, value], e.g. ["state", "=", "draft"].')
            elif item[0].startswith("_") or any(part.startswith("_") for part in item[0].split(".")):
                raise ToolError(f"Unknown field {item[0]!r}.")
            elif described is not None and item[0].split(".")[0] not in described:
                # Conditions on fields outside the allow-list would reveal their values.
                raise ToolError(f"Cannot filter {model._name} on {item[0]!r}: unknown or not allowed field.")
        normalized = [self._condition(item, described) if isinstance(item, list) else item for item in domain]
        try:
            compat.validate_domain(model, normalized)
        except Exception as error:
            raise ToolError(f"Invalid domain: {error}") from error
        return normalized
