"""`make screenshots`: the images of the README, taken from a live Odoo with headless Chromium.

Starts Odoo with the addon and demo data on 127.0.0.1 in a database of its own, creates a few
connections (one signed in and used, one waiting for its first use, one revoked, one registered again
after its revocation and waiting for approval, one Custom OAuth connection with per-model rules) and a
connection template, then walks through the screens an administrator and a user see
and writes PNG files to docs/screenshots/ (and three of them to the module's static/description/,
where the Apps list shows them). ``ODOO_VERSION=19.0`` takes the same pictures on 19.0 into
docs/screenshots/19.0/; ``make screenshots`` runs both. The README shows 18.0.

Any error the browser logs (a console error, an uncaught exception) fails the run: a screen that
works only in appearance is not a screen to show. The images are saved as indexed PNGs (a palette
of at most 256 colours), which keeps the repository small.
"""

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
import mcp_connect_core as core  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.helpers import Browser, OAuthClient, OdooAdmin, mcp_call  # noqa: E402

VERSION = os.environ.get("ODOO_VERSION", "18.0")
README_VERSION = "18.0"
OUT = ROOT / "docs" / "screenshots" if VERSION == README_VERSION else ROOT / "docs" / "screenshots" / VERSION
DESCRIPTION = ROOT / "odoo_addon" / "mcp_connect" / "static" / "description"
APP_STORE = {"wizard_step1.png": "screenshot_1.png", "connections_list.png": "screenshot_2.png"}
APP_STORE_CONSENT = "screenshot_3.png"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CONNECTIONS = "/odoo/action-mcp_connect.mcp_connection_action"


def prepare(server):
    """Connections in every state, and a Custom OAuth connection with per-model rules."""
    admin = OdooAdmin(server)
    used = OAuthClient(server, name="Claude")
    token = used.sign_in(Browser())["access_token"]
    for name in ("whoami", "search_records"):
        arguments = {"model": "res.partner", "limit": 5} if name == "search_records" else {}
        mcp_call(server, token, "tools/call", {"name": name, "arguments": arguments})
    OAuthClient(server, name="ChatGPT", redirect_uri="https://chatgpt.com/connector/oauth/c-7f3a")
    revoked = OAuthClient(server, name="Old test bot")
    revoked_id = admin.call("mcp.connection", "search", [[("client_id", "=", revoked.client_id)]])
    admin.call("mcp.connection", "action_revoke", [revoked_id])
    # The revoked tool registers again: its new connection waits for a manager.
    waiting = OAuthClient(server, name="Old test bot")
    waiting_id = admin.call("mcp.connection", "search", [[("client_id", "=", waiting.client_id)]])[0]

    # A call that waits for an approval; its requester (admin) may withdraw it, not approve it.
    used_id = admin.call("mcp.connection", "search", [[("client_id", "=", used.client_id)]])
    delete_tool = admin.call("mcp.tool", "search", [[("name", "=", "delete_records")]])
    admin.call("mcp.connection", "write", [used_id, {"approval_tool_ids": [(6, 0, delete_tool)]}])
    doomed = admin.call("res.partner", "create", [{"name": "Duplicate of Azure Interior"}])
    arguments = {"model": "res.partner", "ids": [doomed]}
    mcp_call(server, token, "tools/call", {"name": "delete_records", "arguments": arguments})

    partner = admin.call("ir.model", "search", [[("model", "=", "res.partner")]])[0]
    country = admin.call("ir.model", "search", [[("model", "=", "res.country")]])[0]
    template = admin.call("ir.model", "search", [[("model", "=", "mail.template")]])[0]
    field_ids = admin.call(
        "ir.model.fields",
        "search",
        [[("model", "=", "res.partner"), ("name", "in", ["name", "email", "phone", "city", "country_id"])]],
    )
    cursor = admin.call(
        "mcp.connection",
        "create",
        [
            {
                "name": "Cursor for the developers",
                "connection_type": "custom",
                "client_id": core.mint_token(kind="client_id")[0],
                "client_type": "confidential",
                "redirect_uris": "cursor://anysphere.cursor-mcp/oauth/callback",
                "ip_allowlist": "203.0.113.0/24\n2001:db8:42::/48",
                "rate_limit": 60,
                "allowed_methods": "res.partner.address_get",
                "model_rule_ids": [
                    (
                        0,
                        0,
                        {
                            "model_id": partner,
                            "can_delete": False,
                            "can_call": False,
                            "domain": "[('is_company', '=', True), ('email', '!=', False)]",
                            "field_ids": [(6, 0, field_ids)],
                        },
                    ),
                    (0, 0, {"model_id": country, "can_create": False, "can_write": False, "can_delete": False}),
                    (0, 0, {"model_id": template, "can_create": False, "can_write": False, "can_delete": False}),
                ],
            }
        ],
    )
    tools = admin.call("mcp.tool", "search", [[("name", "in", ["whoami", "search_records", "read_records"])]])
    template = admin.call(
        "mcp.connection.template",
        "create",
        [
            {
                "name": "ChatGPT: companies, read only",
                "match_client_name": "ChatGPT*",
                "match_redirect_host": "chatgpt.com",
                "allowed_scope": "read",
                "allowed_tool_ids": [(6, 0, tools)],
                "rate_limit": 30,
                "model_rule_ids": [
                    (
                        0,
                        0,
                        {
                            "model_id": partner,
                            "can_create": False,
                            "can_write": False,
                            "can_delete": False,
                            "can_call": False,
                            "domain": "[('is_company', '=', True)]",
                            "field_ids": [(6, 0, field_ids)],
                        },
                    )
                ],
            }
        ],
    )
    return cursor, waiting_id, template


def consent_url(server):
    """An authorization request of a freshly registered tool, as claude.ai would send it."""
    claude = OAuthClient(server, name="Claude", redirect_uri="https://claude.ai/api/mcp/auth_callback")
    return claude.authorize_url(scope="mcp:read mcp:write")[0]


def save_indexed(path):
    """Rewrite a screenshot as an indexed PNG: screens are flat colours, 256 of them keep it sharp."""
    with Image.open(path) as image:
        indexed = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    indexed.save(path, optimize=True)


class ConsoleErrors:
    """Collects what the browser reports as errors: console.error messages and uncaught exceptions."""

    def __init__(self, page):
        self.errors = []
        # Pages a step loads on purpose with an error status (a refused OAuth request): the
        # browser reports their status as a console error, which is then expected.
        self.refused_pages = set()
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught {error}"))

    def console(self, message):
        url = message.location.get("url", "")
        if message.type != "error":
            return
        if url in self.refused_pages and message.text.startswith("Failed to load resource"):
            return
        self.errors.append(f"console.error {message.text} ({url})")

    def check(self, where):
        if self.errors:
            found, self.errors = self.errors, []
            raise harness.HarnessError(f"the browser logged errors before {where}:\n  " + "\n  ".join(found))


class Shooter:
    def __init__(self, page):
        self.page = page
        self.console = ConsoleErrors(page)

    def settle(self):
        # Odoo keeps a bus connection open, so the network is never idle: wait for the page's
        # own load, then for the client to finish rendering.
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(700)

    def shot(self, name, selector=None):
        self.settle()
        self.console.check(name)
        path = OUT / name
        if selector:
            self.page.locator(selector).first.screenshot(path=path)
        else:
            self.page.screenshot(path=path)
        save_indexed(path)
        harness.say(f"screenshot {path.relative_to(ROOT)}")

    def open_wizard(self):
        self.page.goto(self.page.url.split("/odoo")[0] + CONNECTIONS)
        self.page.locator(".o_mcp_connect_new_tool").first.click()
        self.page.wait_for_selector(".modal .o_mcp_choose_custom")


def walk(page, server, cursor, waiting, template):
    shooter = Shooter(page)
    page.goto(f"{server.url}/web/login")
    page.fill("input[name=login]", "admin")
    page.fill("input[name=password]", "admin")
    page.click("button[type=submit]")
    page.wait_for_selector(".o_main_navbar")

    page.goto(f"{server.url}{CONNECTIONS}")
    page.wait_for_selector(".o_list_view .o_data_row")
    shooter.shot("connections_list.png")

    shooter.open_wizard()
    shooter.shot("wizard_step1.png", ".modal-content")
    page.locator(".modal .o_mcp_choose_browser").click()
    page.wait_for_selector(".modal .o_mcp_done_browser")
    shooter.shot("wizard_oauth_done.png", ".modal-content")
    page.locator(".modal .o_mcp_finish").click()

    shooter.open_wizard()
    page.locator(".modal .o_mcp_choose_custom").click()
    page.locator(".modal div[name=client_name] input").fill("Cursor for the sales team")
    page.locator(".modal div[name=redirect_uris] textarea").fill("cursor://anysphere.cursor-mcp/oauth/callback")
    shooter.shot("wizard_custom_oauth.png", ".modal-content")
    page.locator(".modal .o_mcp_custom_next").click()
    page.locator(".modal div[name=password] input").fill("admin")
    page.locator(".modal #password_confirm").click()
    page.wait_for_selector(".modal .o_mcp_done_custom div[name=client_secret]")
    shooter.shot("wizard_custom_oauth_done.png", ".modal-content")
    page.locator(".modal .o_mcp_show_done").click()
    page.wait_for_selector(".o_list_view .o_data_row:has-text('Cursor for the sales team')")

    shooter.open_wizard()
    page.locator(".modal .o_mcp_choose_personal").click()
    page.locator(".modal div[name=token_name] input").fill("n8n workflows")
    page.locator(".modal .o_mcp_personal_next").click()
    page.wait_for_selector(".modal .o_mcp_done_personal div[name=personal_token]")
    shooter.shot("wizard_personal_token_done.png", ".modal-content")
    page.locator(".modal .o_mcp_show_done").click()

    page.goto(f"{server.url}{CONNECTIONS}/{cursor}")
    page.wait_for_selector(".o_form_view div[name=model_rule_ids] .o_data_row")
    shooter.shot("connection_form.png")
    page.locator("div[name=model_rule_ids] .o_data_row").first.locator("td.o_data_cell").first.click()
    page.wait_for_selector(".modal .o_field_domain")
    page.locator(".modal .modal-title").click()  # leave the model field, which takes the focus
    shooter.shot("connection_data_scopes.png", ".modal-content")
    page.locator(".modal .o_form_button_cancel, .modal .btn-close").first.click()
    page.wait_for_timeout(300)
    page.locator("div[name=model_rule_ids] .o_data_row").last.locator("td.o_data_cell").first.click()
    page.wait_for_selector(".modal .alert-warning")
    page.locator(".modal .modal-title").click()
    shooter.shot("connection_configuration_model.png", ".modal-content")
    page.locator(".modal .o_form_button_cancel, .modal .btn-close").first.click()
    page.wait_for_timeout(300)
    page.locator("div[name=allowed_methods]").scroll_into_view_if_needed()
    shooter.shot("connection_methods.png")

    page.locator("button[name=action_rotate_secret]").click()
    page.wait_for_selector(".modal .modal-footer .btn-primary")
    shooter.shot("rotate_secret_confirm.png", ".modal-content")
    page.locator(".modal .modal-footer .btn-primary").first.click()
    page.wait_for_selector(".modal .o_mcp_rotation div[name=client_secret]")
    shooter.shot("rotate_secret.png", ".modal-content")
    page.locator(".modal .o_mcp_show_done").click()

    page.goto(f"{server.url}{CONNECTIONS}/{waiting}")
    page.wait_for_selector(".o_form_view button[name=action_approve]")
    shooter.shot("connection_waiting.png")

    page.goto(f"{server.url}/odoo/action-mcp_connect.mcp_connection_template_action/{template}")
    page.wait_for_selector(".o_form_view div[name=model_rule_ids] .o_data_row")
    shooter.shot("template_form.png")

    page.goto(f"{server.url}/odoo/action-mcp_connect.mcp_approval_request_action")
    page.wait_for_selector(".o_list_view .o_data_row")
    page.locator(".o_list_view .o_data_row").first.click()
    page.wait_for_selector(".o_form_view button[name=action_reject]")
    shooter.shot("approval_request_own.png")

    page.goto(f"{server.url}/odoo/action-mcp_connect.mcp_usage_action")
    page.wait_for_selector(".o_graph_view .o_graph_canvas_container canvas")
    shooter.shot("usage_graph.png")
    page.locator(".o_switch_view.o_pivot").click()
    page.wait_for_selector(".o_pivot table .o_pivot_cell_value")
    shooter.shot("usage_pivot.png")

    page.goto(f"{server.url}/odoo/action-mcp_connect.mcp_consent_action_my_connections")
    page.wait_for_selector(".o_mcp_my_connections div[name=mcp_endpoint_url] .o_clipboard_button")
    shooter.shot("my_ai_connections.png")

    page.goto(f"{server.url}/odoo/settings#mcp_connect")
    page.wait_for_selector("div[name=mcp_endpoint], #mcp_endpoint, [data-key=mcp_connect]")
    page.locator(".settings_tab [data-key=mcp_connect], .settings_tab div:has-text('MCP Connect')").first.click()
    page.wait_for_timeout(600)
    shooter.shot("settings.png")
    page.locator(".o_mcp_setup_check_button").first.click()
    page.wait_for_selector(".modal .o_mcp_setup_check_lines .o_data_row")
    shooter.shot("setup_check.png", ".modal-content")
    page.locator(".modal .modal-footer .btn-secondary").first.click()

    page.goto(f"{server.url}{CONNECTIONS}")
    page.wait_for_selector(".o_list_view .o_data_row")
    page.locator("button[name=action_pause_ai_access]").first.click()
    page.locator(".modal .modal-footer .btn-primary").first.click()
    page.wait_for_selector("button[name=action_resume_ai_access]")
    page.wait_for_selector(".o_list_view .o_data_row")
    shooter.shot("connections_paused.png")
    page.locator("button[name=action_resume_ai_access]").first.click()
    page.wait_for_selector("button[name=action_pause_ai_access]")

    page.goto(consent_url(server))
    page.wait_for_selector("form button")
    shooter.shot("consent_page.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("form button")
    shooter.shot("consent_page_phone.png")

    # My AI Connections on a phone: a card per AI tool, Revoke access in its header.
    page.goto(f"{server.url}/odoo/action-mcp_connect.mcp_consent_action_my_connections")
    page.wait_for_selector(".o_mcp_my_connections_kanban .o_mcp_revoke_access")
    shooter.shot("my_ai_connections_phone.png")
    page.set_viewport_size({"width": 1440, "height": 900})

    # A redirect address the application did not register: the page names both, and leads back to Odoo.
    refused = consent_url(server).replace("https%3A%2F%2Fclaude.ai%2F", "https%3A%2F%2Fclaude.example%2F")
    shooter.console.refused_pages.add(refused)
    page.goto(refused)
    page.wait_for_selector(".o_mcp_error_redirect")
    shooter.shot("oauth_error_page.png")
    shooter.console.check("the end of the walk")


def main():
    if not Path(CHROMIUM).exists():
        raise harness.HarnessError(f"Chromium not found at {CHROMIUM}: install Debian's chromium or set CHROMIUM")
    install = harness.OdooInstall.locate(VERSION)
    harness.install_wheel(install)
    pg = harness.PgCluster()
    pg.start()
    server = harness.OdooServer(install, pg, "mcp_screenshots", with_demo=True)
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        server.init_database(fresh=True)
        server.start()
        prepared = prepare(server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
            try:
                walk(page, server, *prepared)
            finally:
                browser.close()
    finally:
        server.stop()
        pg.drop_database(server.database)
        pg.release()
    if VERSION != README_VERSION:
        return 0
    for source, target in APP_STORE.items():
        shutil.copyfile(OUT / source, DESCRIPTION / target)
    shutil.copyfile(OUT / "consent_page.png", DESCRIPTION / APP_STORE_CONSENT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
