from odoo.tests import TransactionCase, new_test_user, tagged

from .. import compat


@tagged("post_install", "-at_install")
class TestGroups(TransactionCase):
    def test_groups_and_implications(self):
        user_group = self.env.ref("mcp_connect.group_mcp_user")
        manager_group = self.env.ref("mcp_connect.group_mcp_manager")
        self.assertIn(user_group, manager_group.implied_ids)
        self.assertIn(self.env.ref("base.group_user"), user_group.implied_ids)
        self.assertIn(manager_group, self.env.ref("base.group_system").implied_ids)

    def test_administrator_is_manager(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("mcp_connect.group_mcp_manager"))
        self.assertTrue(admin.has_group("mcp_connect.group_mcp_user"))

    def test_plain_employee_has_neither_group(self):
        employee = new_test_user(self.env, login="mcp_plain_employee", groups="base.group_user")
        self.assertFalse(employee.has_group("mcp_connect.group_mcp_user"))
        self.assertFalse(employee.has_group("mcp_connect.group_mcp_manager"))

    def test_mcp_user_is_an_internal_user(self):
        user = new_test_user(self.env, login="mcp_user_only", groups="mcp_connect.group_mcp_user")
        self.assertTrue(user.has_group("base.group_user"))
        self.assertFalse(user.has_group("mcp_connect.group_mcp_manager"))
        self.assertIn(self.env.ref("mcp_connect.group_mcp_user"), user[compat.user_groups_field(self.env)])

    def test_groups_are_listed_under_mcp_connect(self):
        category = self.env.ref("mcp_connect.module_category_mcp_connect")
        productivity = self.env.ref("base.module_category_productivity")
        for xmlid in ("mcp_connect.group_mcp_user", "mcp_connect.group_mcp_manager"):
            group = self.env.ref(xmlid)
            if "privilege_id" in group._fields:
                # 19.0: the privilege "MCP Connect" under its category's heading.
                self.assertEqual(group.privilege_id, self.env.ref("mcp_connect.res_groups_privilege_mcp_connect"))
                self.assertEqual(group.privilege_id.name, "MCP Connect")
                self.assertEqual(group.privilege_id.category_id, productivity)
            else:
                self.assertEqual(group.category_id, category)

    def test_groups_are_not_under_other(self):
        """18.0 shows a category without a parent under "Other" in the user form."""
        groups = self.env["res.groups"]
        if not hasattr(groups, "get_groups_by_application"):
            self.skipTest("19.0 shows privileges under their category, tested above")
        sections = {app: section for app, _kind, _groups, section in groups.get_groups_by_application()}
        category = self.env.ref("mcp_connect.module_category_mcp_connect")
        self.assertEqual(sections[category][1], "Productivity")
