"""The MCP Connect settings: one table of keys, defaults, limits and the labels of their fields.

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
    """One setting: its parameter key, and the ``mcp_<name>`` field of ``res.config.settings``
    generated from it (``label`` its string, ``help`` its tooltip; ``unit`` completes the label in
    error messages)."""

    name: str
    kind: type
    default: object
    minimum: int | None = None
    maximum: int | None = None
    label: str = ""
    help: str = ""
    unit: str | None = None

    @property
    def field_name(self):
        return "mcp_" + self.name

    @property
    def full_label(self):
        return f"{self.label} ({self.unit})" if self.unit else self.label

    @property
    def key(self):
        return PREFIX + self.name


SETTINGS = (
    Setting(
        "paused",
        bool,
        False,
        label="Pause all AI access",
        help="Every AI tool is refused from the next request on, on every Odoo worker: MCP calls answer that "
        "an administrator paused AI access, and no tool can sign in, refresh a token, register or have an "
        "approved call run. Nothing is deleted: resume, and the same connections and tokens work again.",
    ),
    Setting(
        "access_token_minutes",
        int,
        60,
        1,
        24 * 60,
        label="Access token lifetime",
        unit="minutes",
        help="How long an access token works before the AI tool must refresh it, in minutes.",
    ),
    Setting(
        "refresh_token_days",
        int,
        90,
        1,
        3650,
        label="Refresh token lifetime",
        unit="days",
        help="How long an AI tool stays signed in without being used, in days. Some hosted tools rarely "
        "refresh, so a long lifetime avoids surprise sign-outs.",
    ),
    Setting(
        "refresh_grace_seconds",
        int,
        60,
        0,
        3600,
        label="Refresh grace window",
        unit="seconds",
        help="After a refresh token is used, the previous one keeps working for this many seconds, because AI "
        "tools sometimes retry a refresh whose answer they lost. A reuse after the window signs the tool "
        "out everywhere.",
    ),
    Setting(
        "family_max_days",
        int,
        365,
        1,
        3650,
        label="Maximum sign-in lifetime",
        unit="days",
        help="However often a tool refreshes, it must sign in again after this many days.",
    ),
    Setting(
        "code_seconds",
        int,
        300,
        30,
        600,
        label="Authorization code lifetime",
        unit="seconds",
        help="How long the one-time code handed to the tool after consent stays valid (at most 600 seconds).",
    ),
    Setting(
        "registration_enabled",
        bool,
        True,
        label="Let AI tools register themselves",
        help="A tool without a connection creates its own the first time a user allows it: claude.ai, ChatGPT "
        "and Claude Desktop by registering (OAuth dynamic client registration), Claude Code and VS Code by "
        "naming a client metadata document. Off: no tool creates a connection, in either way; Custom OAuth "
        "connections an administrator creates, and connections that exist already, keep working (revoke "
        "those you want gone).",
    ),
    Setting(
        "metadata_documents_enabled",
        bool,
        True,
        label="Accept client metadata documents",
        help="Tools such as Claude Code identify themselves with a web address that describes them (a client "
        "ID metadata document), which Odoo downloads. Off: Odoo downloads no such document and refuses every "
        "tool that identifies itself this way, connections made earlier included: they can no longer sign "
        "in or refresh (a token they already hold works until it expires; revoke the connection to stop it "
        "at once).",
    ),
    Setting(
        "quarantine_new_tools",
        bool,
        False,
        label="Hold new AI tools until a manager approves them",
        help="A tool that registers itself or signs in with a client metadata document for the first time can "
        "sign users in, but its MCP calls are refused until an MCP Connect manager approves its connection. "
        "Managers get an activity for each tool waiting.",
    ),
    Setting(
        "pkce_exempt_hosts",
        str,
        "chatgpt.com",
        label="Hosts that may skip PKCE",
        help="Redirect hosts whose tools are allowed to omit PKCE (ChatGPT connectors do). Separate several "
        "hosts with commas. Leave empty to require PKCE from every tool.",
    ),
    Setting(
        "unused_client_days",
        int,
        30,
        1,
        3650,
        label="Remove unused self-registered tools after",
        unit="days",
        help="Tools that registered themselves but were never used are removed after this many days.",
    ),
    Setting(
        "registrations_per_hour",
        int,
        300,
        0,
        100000,
        label="New registrations per hour from one address",
        help="How many new tools may register themselves from one network address in an hour. Vendor clouds "
        "(claude.ai, ChatGPT) and office networks share one address between many people; a tool "
        "registering again with the same details gets its earlier registration back and is not counted. 0 "
        "means no limit.",
    ),
    Setting(
        "client_auth_failures",
        int,
        10,
        0,
        10000,
        label="Failed client sign-ins per client and address",
        unit="5 minutes",
        help="After this many failed client authentications of one tool from one address in 5 minutes, that "
        "tool is refused from that address until the 5 minutes are over. Other tools, and the same tool "
        "elsewhere, are not affected. 0 means no limit.",
    ),
    Setting(
        "metadata_fetches_per_ip",
        int,
        20,
        0,
        10000,
        label="Client metadata documents fetched for one address",
        unit="10 minutes",
        help="How many client metadata documents requests from one network address may make Odoo download in "
        "10 minutes, before anyone signs in. A document or a failure fetched recently is answered from "
        "memory and not counted. 0 means no limit.",
    ),
    Setting(
        "default_rate_limit",
        int,
        120,
        0,
        100000,
        label="Default rate limit",
        unit="calls per minute",
        help="Calls per minute allowed for each user of each connection unless the connection sets its own "
        "limit. 0 means no limit.",
    ),
    Setting(
        "attachment_max_kb",
        int,
        700,
        1,
        750,
        label="Largest file an AI tool may attach",
        unit="KB",
        help="attach_file refuses larger files. An MCP request is at most 1 MB, and a file travels in it "
        "encoded in base64 (a third larger), so 750 KB is the most a tool can send.",
    ),
    Setting(
        "audit_retention_days",
        int,
        90,
        1,
        3650,
        label="Keep the audit log for",
        unit="days",
        help="Audit log entries older than this many days are deleted every night.",
    ),
    Setting(
        "allowed_origins",
        str,
        "",
        label="Browser origins allowed to call",
        help="Web pages that may call the MCP endpoint from a browser (scheme://host[:port], separated by "
        "commas). Tools that call from a server (claude.ai, ChatGPT) or a desktop application need no "
        "entry.",
    ),
    Setting(
        "trusted_proxies",
        str,
        "127.0.0.1, ::1",
        label="Trusted proxies",
        help="In proxy mode, the client address is taken from X-Forwarded-For only when the request comes from "
        "one of these addresses or networks (your reverse proxy). Separate entries with commas.",
    ),
    Setting(
        "export_max_records",
        int,
        5000,
        1,
        100000,
        label="Most records in one export",
        unit="records",
        help="export_records writes at most this many records into one CSV or XLSX file.",
    ),
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
    # sudo: settings are system parameters, readable by administrators only; every user's request reads them
    return parse(setting, env["ir.config_parameter"].sudo().get_param(setting.key))


def set_value(env, name, value):
    setting = BY_NAME[name]
    # sudo: the settings form writes them for the administrator who saved it (base.group_system checked by Odoo)
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
def _proxy_allowlist(text):
    return core.IpAllowlist(split_networks(text))


def is_trusted_proxy(env, address):
    """Whether forwarded headers from this peer may be believed (proxy mode)."""
    try:
        return _proxy_allowlist(get(env, "trusted_proxies")).contains(address)
    except core.McpCoreError:
        return False
