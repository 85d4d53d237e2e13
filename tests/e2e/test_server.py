"""The addon is installed and Odoo serves on loopback."""

import requests


def test_login_page_is_served_on_loopback(odoo):
    assert odoo.url.startswith("http://127.0.0.1:")
    response = requests.get(f"{odoo.url}/web/login", timeout=30)
    assert response.status_code == 200
    assert 'name="login"' in response.text


def test_addon_is_installed(odoo):
    state = odoo.pg.psql("SELECT state FROM ir_module_module WHERE name = 'mcp_connect'", database=odoo.database)
    assert state.strip() == "installed"
