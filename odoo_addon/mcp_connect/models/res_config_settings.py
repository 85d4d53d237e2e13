import mcp_connect_core as core
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import config
from ..storage import server_urls

LIMIT_LABELS = {
    "access_token_minutes": "Access token lifetime (minutes)",
    "refresh_token_days": "Refresh token lifetime (days)",
    "refresh_grace_seconds": "Refresh grace window (seconds)",
    "family_max_days": "Maximum sign-in lifetime (days)",
    "code_seconds": "Authorization code lifetime (seconds)",
    "unused_client_days": "Remove unused self-registered tools after (days)",
    "registrations_per_hour": "New registrations per hour from one address",
    "client_auth_failures": "Failed client sign-ins per client and address (5 minutes)",
    "metadata_fetches_per_ip": "Client metadata documents fetched for one address (10 minutes)",
    "default_rate_limit": "Default rate limit (calls per minute)",
    "audit_retention_days": "Keep the audit log for (days)",
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mcp_endpoint_url = fields.Char(
        string="MCP Endpoint URL",
        readonly=True,
        help="The address to paste into an AI tool. It follows the web.base.url system parameter.",
    )
    mcp_access_token_minutes = fields.Integer(
        string="Access token lifetime",
        help="How long an access token works before the AI tool must refresh it, in minutes.",
    )
    mcp_refresh_token_days = fields.Integer(
        string="Refresh token lifetime",
        help="How long an AI tool stays signed in without being used, in days. "
        "Some hosted tools rarely refresh, so a long lifetime avoids surprise sign-outs.",
    )
    mcp_refresh_grace_seconds = fields.Integer(
        string="Refresh grace window",
        help="After a refresh token is used, the previous one keeps working for this many seconds, "
        "because AI tools sometimes retry a refresh whose answer they lost. "
        "A reuse after the window signs the tool out everywhere.",
    )
    mcp_family_max_days = fields.Integer(
        string="Maximum sign-in lifetime",
        help="However often a tool refreshes, it must sign in again after this many days.",
    )
    mcp_code_seconds = fields.Integer(
        string="Authorization code lifetime",
        help="How long the one-time code handed to the tool after consent stays valid (at most 600 seconds).",
    )
    mcp_registration_enabled = fields.Boolean(
        string="Let AI tools register themselves",
        help="Tools such as claude.ai and ChatGPT register themselves the first time a user connects them "
        "(OAuth dynamic client registration). Turn this off to allow only connections an administrator "
        "created with Custom OAuth.",
    )
    mcp_metadata_documents_enabled = fields.Boolean(
        string="Accept client metadata documents",
        help="Tools such as Claude Code identify themselves with a web address that describes them "
        "(a client ID metadata document) instead of registering.",
    )
    mcp_pkce_exempt_hosts = fields.Char(
        string="Hosts that may skip PKCE",
        help="Redirect hosts whose tools are allowed to omit PKCE (ChatGPT connectors do). "
        "Separate several hosts with commas. Leave empty to require PKCE from every tool.",
    )
    mcp_unused_client_days = fields.Integer(
        string="Remove unused self-registered tools after",
        help="Tools that registered themselves but were never used are removed after this many days.",
    )
    mcp_registrations_per_hour = fields.Integer(
        string="New registrations per hour from one address",
        help="How many new tools may register themselves from one network address in an hour. Vendor clouds "
        "(claude.ai, ChatGPT) and office networks share one address between many people; a tool registering "
        "again with the same details gets its earlier registration back and is not counted. 0 means no limit.",
    )
    mcp_client_auth_failures = fields.Integer(
        string="Failed client sign-ins per client and address",
        help="After this many failed client authentications of one tool from one address in 5 minutes, that "
        "tool is refused from that address until the 5 minutes are over. Other tools, and the same tool "
        "elsewhere, are not affected. 0 means no limit.",
    )
    mcp_metadata_fetches_per_ip = fields.Integer(
        string="Client metadata documents fetched for one address",
        help="How many client metadata documents requests from one network address may make Odoo download "
        "in 10 minutes, before anyone signs in. A document or a failure fetched recently is answered from "
        "memory and not counted. 0 means no limit.",
    )
    mcp_default_rate_limit = fields.Integer(
        string="Default rate limit",
        help="Calls per minute allowed for each user of each connection unless the connection sets its own limit. "
        "0 means no limit.",
    )
    mcp_allowed_origins = fields.Char(
        string="Browser origins allowed to call",
        help="Web pages that may call the MCP endpoint from a browser (scheme://host[:port], separated by commas). "
        "Tools that call from a server (claude.ai, ChatGPT) or a desktop application need no entry.",
    )
    mcp_trusted_proxies = fields.Char(
        string="Trusted proxies",
        help="In proxy mode, the client address is taken from X-Forwarded-For only when the request comes from "
        "one of these addresses or networks (your reverse proxy). Separate entries with commas.",
    )
    mcp_audit_retention_days = fields.Integer(
        string="Keep the audit log for",
        help="Audit log entries older than this many days are deleted every night.",
    )

    @api.model
    def _mcp_fields(self):
        return {f"mcp_{setting.name}": setting for setting in config.SETTINGS}

    @api.constrains(*[f"mcp_{s.name}" for s in config.SETTINGS])
    def _check_mcp_settings(self):
        for record in self:
            for field_name, setting in record._mcp_fields().items():
                if setting.kind is int:
                    value = record[field_name]
                    if value < setting.minimum or value > setting.maximum:
                        label = LIMIT_LABELS[setting.name]
                        if setting.minimum > 0 and value <= 0:
                            raise ValidationError(_("%(label)s must be greater than zero.", label=label))
                        raise ValidationError(
                            _(
                                "%(label)s must be between %(minimum)s and %(maximum)s.",
                                label=label,
                                minimum=setting.minimum,
                                maximum=setting.maximum,
                            )
                        )
            bad_hosts = config.invalid_hosts(config.split_hosts(record.mcp_pkce_exempt_hosts))
            if bad_hosts:
                raise ValidationError(
                    _(
                        "Hosts that may skip PKCE must be host names such as chatgpt.com; these are not: %(hosts)s",
                        hosts=", ".join(bad_hosts),
                    )
                )
            bad_origins = config.invalid_origins(config.split_origins(record.mcp_allowed_origins))
            if bad_origins:
                raise ValidationError(
                    _(
                        "Allowed origins must look like https://app.example.com; these do not: %(origins)s",
                        origins=", ".join(bad_origins),
                    )
                )

            try:
                core.parse_ip_allowlist(config.split_networks(record.mcp_trusted_proxies))
            except core.InvalidCidrError as error:
                raise ValidationError(
                    _("Trusted proxies: %(entry)r is not an address or a network.", entry=error.entry)
                ) from error

    @api.model
    def get_values(self):
        values = super().get_values()
        # A plain field filled here: the settings form is a new record, which shows values
        # from get_values but not a computed field without dependencies.
        values["mcp_endpoint_url"] = server_urls(self.env).resource
        for field_name, setting in self._mcp_fields().items():
            values[field_name] = config.get(self.env, setting.name)
        return values

    def set_values(self):
        super().set_values()
        for field_name, setting in self._mcp_fields().items():
            value = self[field_name]
            if setting.name == "pkce_exempt_hosts":
                value = ", ".join(config.split_hosts(value))
            elif setting.name == "allowed_origins":
                value = ", ".join(config.split_origins(value))
            elif setting.name == "trusted_proxies":
                value = ", ".join(config.split_networks(value))
            config.set_value(self.env, setting.name, value)
