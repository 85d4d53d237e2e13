from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval, time

from .. import compat, guard
from ..tools.context import exposure

OPERATIONS = ("read", "create", "write", "delete", "call")


def evaluate_domain(text, user):
    """A rule's record filter with ``user`` and ``company_ids`` as in ir.rule (safe_eval).

    ``user`` is a record of ``env.user``, which reads as superuser like ir.rule's own: a filter
    evaluated while a tool call runs under the guard reads no record through it.
    """
    text = (text or "").strip() or "[]"
    if text == "[]":
        return []
    context = {
        # The context ir.rule evaluates its domains in: the user without any context keys.
        "user": user.with_context({}),  # pylint: disable=context-overridden
        "uid": user.id,
        "company_ids": user.env.companies.ids,
        "company_id": user.env.company.id,
        "time": time,
    }
    return safe_eval(text, context)


class McpConnectionModel(models.Model):
    """A model a connection may use: which operations, which records, which fields.

    These rules narrow Odoo's access rights and record rules; they never grant more.
    """

    _name = "mcp.connection.model"
    _description = "Model allowed to an AI tool connection"
    _inherit = ["mcp.grant.source"]
    _order = "model_id"

    connection_id = fields.Many2one("mcp.connection", ondelete="cascade", index=True)
    template_id = fields.Many2one("mcp.connection.template", ondelete="cascade", index=True)
    model_id = fields.Many2one("ir.model", required=True, ondelete="cascade", domain=[("transient", "=", False)])
    model_name = fields.Char(related="model_id.model", string="Technical name")
    can_read = fields.Boolean(string="Read", default=True)
    can_create = fields.Boolean(string="Create", default=True)
    can_write = fields.Boolean(string="Update", default=True)
    can_delete = fields.Boolean(string="Delete", default=True)
    can_call = fields.Boolean(string="Call methods", default=True)
    domain = fields.Char(
        string="Records",
        default="[]",
        help="Only records matching this filter, evaluated as the signed-in user (user and company_ids are "
        "available, as in record rules). Empty: every record the user can access.",
    )
    field_ids = fields.Many2many(
        "ir.model.fields",
        string="Fields",
        domain="[('model_id', '=', model_id)]",
        help="Only these fields can be read or written. Empty: every field the user can read.",
    )

    configures_odoo = fields.Boolean(
        compute="_compute_configures_odoo",
        help="The model configures Odoo, runs code or holds credentials: listing it lets the AI tool reach it.",
    )

    @api.depends("model_id")
    def _compute_configures_odoo(self):
        for rule in self:
            name = rule.model_id.model or ""
            rule.configures_odoo = bool(name) and (guard.is_technical(name) or guard.is_secret(name))

    @api.constrains("connection_id", "template_id")
    def _check_owner(self):
        if any(bool(rule.connection_id) == bool(rule.template_id) for rule in self):
            raise ValidationError(self.env._("A model rule belongs to one connection or to one template."))

    @api.constrains("model_id")
    def _check_model_exposed(self):
        for rule in self:
            reason = exposure(rule.model_id.model, "read", named={rule.model_id.model})
            if reason:
                raise ValidationError(reason)

    @api.constrains("domain", "model_id")
    def _check_domain(self):
        for rule in self:
            if rule.model_id.model not in self.env:
                continue
            try:
                domain = rule._evaluated_domain(self.env.user)
                if not isinstance(domain, list):
                    raise TypeError("not a list")
                # sudo: only the domain's syntax is checked here; no record is read through it
                compat.validate_domain(self.env[rule.model_id.model].sudo(), domain)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "The record filter of %(model)s is not a valid domain: %(error)s",
                        model=rule.model_id.model,
                        error=error,
                    )
                ) from error

    @api.constrains("field_ids", "model_id")
    def _check_fields(self):
        for rule in self:
            foreign = rule.field_ids.filtered(lambda f, r=rule: f.model_id != r.model_id)
            if foreign:
                raise ValidationError(
                    self.env._(
                        "These fields do not belong to %(model)s: %(fields)s",
                        model=rule.model_id.model,
                        fields=", ".join(foreign.mapped("name")),
                    )
                )

    def _copy_values(self):
        """This rule's values, for the same rule on another connection."""
        self.ensure_one()
        values = {f"can_{operation}": self[f"can_{operation}"] for operation in OPERATIONS}
        values.update(model_id=self.model_id.id, domain=self.domain, field_ids=[Command.set(self.field_ids.ids)])
        return values

    def _operations(self):
        self.ensure_one()
        return [op for op in OPERATIONS if self[f"can_{op}"]]

    def _evaluated_domain(self, user):
        """The record filter with ``user`` and ``company_ids`` as in ir.rule (safe_eval)."""
        self.ensure_one()
        return evaluate_domain(self.domain, user)
