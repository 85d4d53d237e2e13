import re

import mcp_connect_core as core
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import compat

ARGUMENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class McpPrompt(models.Model):
    """A prompt template managers offer to every connection (``prompts/list``, ``prompts/get``)."""

    _name = "mcp.prompt"
    _description = "MCP prompt"
    _order = "sequence, name"

    name = fields.Char(required=True, help="The prompt's name for AI tools: letters, digits, _ . and -.")
    title = fields.Char(help="The name people see in the AI tool's prompt menu.")
    description = fields.Text()
    text = fields.Text(
        required=True,
        help="The message the AI tool receives. Write {argument} where an argument's value goes, e.g. {customer}.",
    )
    argument_ids = fields.One2many("mcp.prompt.argument", "prompt_id", string="Arguments", copy=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    def init(self):
        compat.ensure_unique_index(self.env.cr, "mcp_prompt_name_uniq", self._table, ["name"])

    @api.constrains("name")
    def _check_name(self):
        for prompt in self:
            if not core.is_tool_name(prompt.name or ""):
                raise ValidationError(self.env._("A prompt name is 1 to 128 letters, digits, _ . or -."))

    @api.constrains("argument_ids")
    def _check_arguments(self):
        for prompt in self:
            names = prompt.argument_ids.mapped("name")
            if len(names) != len(set(names)):
                raise ValidationError(self.env._("The arguments of a prompt must have different names."))

    def _definition(self):
        self.ensure_one()
        return {
            "name": self.name,
            "title": self.title or None,
            "description": self.description or None,
            "arguments": [
                {"name": argument.name, "description": argument.description or "", "required": argument.required}
                for argument in self.argument_ids
            ],
            "text": self.text,
        }


class McpPromptArgument(models.Model):
    _name = "mcp.prompt.argument"
    _description = "MCP prompt argument"
    _order = "sequence, id"

    prompt_id = fields.Many2one("mcp.prompt", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, help="Written {name} in the prompt's text.")
    description = fields.Char()
    required = fields.Boolean(default=True)

    @api.constrains("name")
    def _check_name(self):
        for argument in self:
            if not ARGUMENT_NAME.match(argument.name or ""):
                raise ValidationError(
                    self.env._("An argument name is a letter or _ followed by letters, digits or _ (at most 64).")
                )
