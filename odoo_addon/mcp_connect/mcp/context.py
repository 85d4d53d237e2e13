"""What a tool receives: the user's environment and the connection's restrictions.

Tools run through the ORM as the token's user in the token's company: Odoo's access
rights and record rules always apply, and nothing here uses ``sudo()`` with
client-supplied input. The connection policy and the models MCP Connect never
exposes can only narrow that.
"""

from dataclasses import dataclass, field

from .. import compat

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
    connection: dict = field(default_factory=dict)

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

    def records(self, model, ids):
        """Existing records of ``ids`` that the user may see; a ToolError names the missing ones."""
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ToolError("ids must be a non-empty list of integer record ids.")
        records = model.browse(ids).exists()
        missing = sorted(set(ids) - set(records.ids))
        if missing:
            raise ToolError(
                f"No {model._name} record with id {', '.join(map(str, missing[:20]))} "
                "(it does not exist, was deleted, or you cannot see it)."
            )
        return records

    def validate_domain(self, model, domain):
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
        normalized = [tuple(item) if isinstance(item, list) else item for item in domain]
        try:
            compat.validate_domain(model, normalized)
        except Exception as error:
            raise ToolError(f"Invalid domain: {error}") from error
        return normalized
