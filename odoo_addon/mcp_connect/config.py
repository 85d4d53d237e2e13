"""The MCP Connect settings: one table of keys, defaults and limits.

Values live in ``ir.config_parameter`` under ``mcp_connect.*`` as JSON (``60``,
``false``, ``""``), so that a zero, an unchecked box or an empty list is stored as
such: Odoo deletes a parameter set to a falsy value, which would read back as the
default.
"""

import functools
import json
import re
from dataclasses import dataclass

import mcp_connect_core as core

PREFIX = "mcp_connect."
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


@dataclass(frozen=True)
class Setting:
    """One setting: its field on ``res.config.settings`` and its parameter key."""

    name: str
    kind: type
    default: object
    minimum: int | None = None
    maximum: int | None = None

    @property
    def key(self):
        return PREFIX + self.name


SETTINGS = (
    Setting("access_token_minutes", int, 60, 1, 24 * 60),
    Setting("refresh_token_days", int, 90, 1, 3650),
    Setting("refresh_grace_seconds", int, 60, 0, 3600),
    Setting("family_max_days", int, 365, 1, 3650),
    Setting("code_seconds", int, 300, 30, 600),
    Setting("registration_enabled", bool, True),
    Setting("metadata_documents_enabled", bool, True),
    Setting("pkce_exempt_hosts", str, "chatgpt.com"),
    Setting("unused_client_days", int, 30, 1, 3650),
    Setting("registrations_per_hour", int, 300, 0, 100000),
    Setting("client_auth_failures", int, 10, 0, 10000),
    Setting("metadata_fetches_per_ip", int, 20, 0, 10000),
    Setting("default_rate_limit", int, 120, 0, 100000),
    Setting("audit_retention_days", int, 90, 1, 3650),
    Setting("allowed_origins", str, ""),
    Setting("trusted_proxies", str, "127.0.0.1, ::1"),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def parse(setting, raw):
    """Turn a stored text into a value, falling back to the default for missing or damaged values."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if setting.kind is int and type(value) is int:
        in_range = setting.minimum <= value <= setting.maximum
        return value if in_range else setting.default
    if setting.kind is bool and type(value) is bool:
        return value
    if setting.kind is str and type(value) is str:
        return value
    return setting.default


def serialize(setting, value):
    if setting.kind is str:
        return json.dumps(value or "")
    return json.dumps(setting.kind(value))


def get(env, name):
    """Read one setting (get_param is cached per worker; Odoo invalidates the cache in every worker)."""
    setting = BY_NAME[name]
    return parse(setting, env["ir.config_parameter"].sudo().get_param(setting.key))


def set_value(env, name, value):
    setting = BY_NAME[name]
    env["ir.config_parameter"].sudo().set_param(setting.key, serialize(setting, value))


def split_hosts(text):
    """Normalise a list of host names typed one per line or separated by commas or spaces."""
    return [host.strip().lower().rstrip(".") for host in re.split(r"[\s,]+", text or "") if host.strip()]


def invalid_hosts(hosts):
    """Hosts that are not fully qualified names (``chatgpt.com``: letters, digits, dots, hyphens)."""
    return [host for host in hosts if "." not in host or not HOSTNAME.match(host)]


def pkce_exempt_hosts(env):
    return split_hosts(get(env, "pkce_exempt_hosts"))


ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$|^https?://\[[0-9a-f:]+\](:\d{1,5})?$")


def split_origins(text):
    return [origin.strip().lower().rstrip("/") for origin in re.split(r"[\s,]+", text or "") if origin.strip()]


def invalid_origins(origins):
    """Origins that are not ``scheme://host[:port]``."""
    return [origin for origin in origins if not ORIGIN.match(origin)]


def allowed_origins(env):
    return split_origins(get(env, "allowed_origins"))


def origin_allowed(env, issuer, origin):
    """Whether a browser ``Origin`` may call the MCP endpoint: this server or one listed in Settings."""
    return origin.strip().lower().rstrip("/") in (issuer.lower(), *allowed_origins(env))


def split_networks(text):
    return [entry for entry in re.split(r"[\s,]+", text or "") if entry]


@functools.lru_cache(maxsize=16)
def _proxy_policy(text):
    return core.Policy(json.dumps({"ip_allowlist": split_networks(text)}))


def is_trusted_proxy(env, address):
    """Whether forwarded headers from this peer may be believed (proxy mode)."""
    text = get(env, "trusted_proxies")
    if not split_networks(text):
        return False
    try:
        return _proxy_policy(text).allows_ip(address)
    except core.McpCoreError:
        return False
