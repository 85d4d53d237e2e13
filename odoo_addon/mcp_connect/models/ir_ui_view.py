from odoo import api, models, tools

from .. import compat

HIDDEN = ("1", "True", "true")


class IrUiView(models.Model):
    _inherit = "ir.ui.view"

    @api.model
    @tools.ormcache("model_name", cache="templates")
    def _mcp_button_methods(self, model_name):
        """The methods the views of ``model_name`` offer as ``type="object"`` buttons.

        A tuple of ``(method, groups)`` pairs, one per button, where ``groups`` holds the
        group specifications (``groups`` attributes of the button, its ancestors and its
        view) that a user must all satisfy to see it. Every primary view counts, combined
        with its inheriting views; buttons inside a field's sub-view belong to the
        sub-view's model and are left out. Views are metadata: they are read as superuser,
        and the result is kept until a view changes (the views' ``templates`` cache).
        """
        # sudo: views are metadata read whoever asks; the groups of each button are applied to the user afterwards
        views = self.sudo().search(
            [("model", "=", model_name), ("mode", "=", "primary"), ("type", "!=", "qweb"), ("active", "=", True)]
        )
        buttons = []
        for view in views:
            view_groups = compat.view_group_spec(view)
            if view_groups is None:
                continue
            for node in view._get_combined_arch().iter("button", "a"):
                if node.get("type") != "object" or not node.get("name") or node.get("invisible") in HIDDEN:
                    continue
                ancestors = list(node.iterancestors())
                if any(ancestor.tag == "field" for ancestor in ancestors):
                    continue
                groups = [element.get("groups") for element in (node, *ancestors) if element.get("groups")]
                if view_groups:
                    groups.append(view_groups)
                buttons.append((node.get("name"), tuple(groups)))
        return tuple(buttons)
