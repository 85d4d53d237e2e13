"""Installing the addon from Apps where its native core is missing or of another version: Odoo's dialog
says so in one sentence with the pip command to run (a UserError, no traceback) and the addon stays
uninstalled. The core is hidden from Odoo's Python by a directory put first on its PYTHONPATH."""

import ast
import os
from pathlib import Path

import harness
import pytest
import requests

from .helpers import OdooAdmin

NATIVE = Path(__file__).resolve().parents[2] / "odoo_addon" / "mcp_connect" / "native.py"

# Raises for the core as Python does for a module that is not installed.
HIDE_CORE = """\
import sys


class HideCore:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "mcp_connect_core":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, HideCore())
"""


def core_version():
    """CORE_VERSION of native.py, read without importing it (it needs Odoo)."""
    for node in ast.parse(NATIVE.read_text()).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "CORE_VERSION":
            return node.value.value
    raise AssertionError(f"no CORE_VERSION in {NATIVE}")


@pytest.fixture(scope="module")
def bare_database(install, pg):
    """A database with base only, where the addon is listed in Apps, not installed."""
    server = harness.OdooServer(install, pg, f"mcp_bare_{install.major}")
    pg.copy_database(harness.base_database(install, pg, fresh=False), server.database)
    yield server.database
    pg.drop_database(server.database)


def install_from_apps(install, pg, database, shadow):
    """Start Odoo with ``shadow`` first on its PYTHONPATH, click Install on MCP Connect as the admin
    (the web client's call), and return the JSON-RPC error and the addon's state afterwards."""
    environment = {"PYTHONPATH": os.pathsep.join([str(shadow), install.env()["PYTHONPATH"]])}
    server = harness.OdooServer(install, pg, database, environment=environment)
    server.start()
    try:
        admin = OdooAdmin(server)
        [module] = admin.call("ir.module.module", "search", [[("name", "=", "mcp_connect")]])
        response = requests.post(
            f"{server.url}/web/dataset/call_kw/ir.module.module/button_immediate_install",
            json={
                "jsonrpc": "2.0",
                "params": {
                    "model": "ir.module.module",
                    "method": "button_immediate_install",
                    "args": [[module]],
                    "kwargs": {},
                },
            },
            cookies=admin.session.cookies,
            timeout=300,
        )
        [state] = admin.call("ir.module.module", "read", [[module], ["state"]])
    finally:
        server.stop()
    return response.json().get("error"), state["state"], server.log_path.read_text()


def expect_refusal(error, state, log, sentence):
    assert error, "the install went through"
    assert error["data"]["name"] == "odoo.exceptions.UserError", error["data"]["name"]
    assert error["data"]["message"] == sentence
    assert state == "uninstalled"
    assert sentence in log


def test_missing_core_names_the_pip_command(install, pg, bare_database, tmp_path):
    (tmp_path / "sitecustomize.py").write_text(HIDE_CORE)
    error, state, log = install_from_apps(install, pg, bare_database, tmp_path)
    version = core_version()
    expect_refusal(
        error,
        state,
        log,
        f"MCP Connect needs its native module mcp-connect-core {version}, which the Python running Odoo cannot "
        f"import (No module named 'mcp_connect_core'): install it with "
        f"`{install.python} -m pip install mcp-connect-core=={version}` and restart Odoo.",
    )


def test_core_of_another_version_names_the_pip_command(install, pg, bare_database, tmp_path):
    package = tmp_path / "mcp_connect_core"
    package.mkdir()
    (package / "__init__.py").write_text('__version__ = "0.0.1"\n')
    error, state, log = install_from_apps(install, pg, bare_database, tmp_path)
    version = core_version()
    expect_refusal(
        error,
        state,
        log,
        f"MCP Connect needs its native module mcp-connect-core {version}, but version 0.0.1 is installed in "
        f"the Python running Odoo: install the right one with "
        f"`{install.python} -m pip install mcp-connect-core=={version}` and restart Odoo.",
    )
