import mcp_connect_core as core
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import config
from ..storage import server_urls

FIELD_TYPES = {int: fields.Integer, bool: fields.Boolean, str: fields.Char}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mcp_endpoint_url = fields.Char(
        string="MCP endpoint URL",
        readonly=True,
        help="The address to paste into an AI tool. It follows the web.base.url system parameter.",
    )
    # One field per setting of config.SETTINGS, with its label and help from there.
    for _setting in config.SETTINGS:
        vars()[_setting.field_name] = FIELD_TYPES[_setting.kind](string=_setting.label, help=_setting.help)
    del _setting

    @api.model
    def _mcp_fields(self):
        return {setting.field_name: setting for setting in config.SETTINGS}

    @api.constrains(*[s.field_name for s in config.SETTINGS])
    def _check_mcp_settings(self):
        for record in self:
            for field_name, setting in record._mcp_fields().items():
                if setting.kind is int:
                    value = record[field_name]
                    if value < setting.minimum or value > setting.maximum:
                        label = setting.full_label
                        if setting.minimum > 0 and value <= 0:
                            raise ValidationError(self.env._("%(label)s must be greater than zero.", label=label))
                        raise ValidationError(
                            self.env._(
                                "%(label)s must be between %(minimum)s and %(maximum)s.",
                                label=label,
                                minimum=setting.minimum,
                                maximum=setting.maximum,
                            )
                        )
            bad_hosts = config.invalid_hosts(config.split_hosts(record.mcp_pkce_exempt_hosts))
            if bad_hosts:
                raise ValidationError(
                    self.env._(
                        "Hosts that may skip PKCE must be host names such as chatgpt.com; these are not: %(hosts)s",
                        hosts=", ".join(bad_hosts),
                    )
                )
            bad_origins = config.invalid_origins(config.split_origins(record.mcp_allowed_origins))
            if bad_origins:
                raise ValidationError(
                    self.env._(
                        "Allowed origins must look like https://app.example.com; these do not: %(origins)s",
                        origins=", ".join(bad_origins),
                    )
                )

            try:
                core.parse_ip_allowlist(config.split_networks(record.mcp_trusted_proxies))
            except core.InvalidCidrError as error:
                raise ValidationError(
                    self.env._("Trusted proxies: %(entry)r is not an address or a network.", entry=error.entry)
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
        result = super().set_values()
        for field_name, setting in self._mcp_fields().items():
            value = self[field_name]
            if setting.name == "paused":
                self.env["mcp.connection"]._set_ai_paused(value)
                continue
            if setting.name == "pkce_exempt_hosts":
                value = ", ".join(config.split_hosts(value))
            elif setting.name == "allowed_origins":
                value = ", ".join(config.split_origins(value))
            elif setting.name == "trusted_proxies":
                value = ", ".join(config.split_networks(value))
            config.set_value(self.env, setting.name, value)
        return result
