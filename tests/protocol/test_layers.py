"""The protocol packages import no Odoo, directly or through the addon's other modules.

Read from the sources (``ast``), so an import inside a function or one this suite never
reaches counts too. A relative import must stay inside the protocol packages, ``oauth/`` and
``mcp/``, every module of each: the addon's other modules (``compat``, ``storage``, the Odoo
tools of ``tools/``) are ORM glue.
"""

import ast

import pytest

from .support import ADDON

PROTOCOL_PACKAGES = ("oauth", "mcp")
PROTOCOL = {
    path.relative_to(ADDON).with_suffix("").as_posix()
    for package in PROTOCOL_PACKAGES
    for path in (ADDON / package).glob("*.py")
}


def relative_targets(module, node):
    """The addon modules (``oauth/scopes``) a relative import reaches; None when it climbs out of the addon."""
    package = module.split("/")[:-1]
    up = node.level - 1
    if up > len(package):
        return None
    base = package[: len(package) - up]
    if node.module:
        target = "/".join([*base, *node.module.split(".")])
        if not (ADDON / target).is_dir():
            return [target]
        base = target.split("/")
    return ["/".join([*base, alias.name]) for alias in node.names]


def forbidden_imports(module, source):
    """The imports of ``module`` (``oauth/token``, relative to the addon) that leave the protocol layers."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "odoo"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if (node.module or "").split(".")[0] == "odoo":
                found.append(node.module)
        elif isinstance(node, ast.ImportFrom):
            targets = relative_targets(module, node)
            if targets is None:
                found.append("." * node.level + (node.module or ""))
            else:
                found += [target for target in targets if target not in PROTOCOL]
    return found


def test_the_protocol_modules_exist():
    assert {
        "oauth/token",
        "oauth/authorize",
        "oauth/storage",
        "mcp/__init__",
        "mcp/transport",
        "mcp/registry",
    } <= PROTOCOL
    for module in PROTOCOL:
        assert (ADDON / f"{module}.py").is_file(), module


@pytest.mark.parametrize("module", sorted(PROTOCOL))
def test_no_protocol_module_imports_odoo(module):
    assert forbidden_imports(module, (ADDON / f"{module}.py").read_text()) == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("oauth/token", "import odoo"),
        ("oauth/token", "import odoo.tools as tools"),
        ("oauth/token", "from odoo import fields"),
        ("oauth/token", "def later():\n    from odoo.tools import SQL"),
        ("oauth/token", "from .. import compat"),
        ("oauth/token", "from ..storage import OdooStorage"),
        ("mcp/transport", "from . import runner"),
        ("mcp/transport", "from .values import readable_fields"),
        ("mcp/transport", "from ... import anything"),
        ("mcp/__init__", "from .. import tools"),
        ("mcp/registry", "from ..tools.context import ToolError"),
        ("mcp/registry", "from ..tools import runner"),
        ("mcp/schemas", "from .. import guard"),
    ],
)
def test_the_check_finds_what_leaves_the_protocol_layers(module, source):
    assert forbidden_imports(module, source)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("oauth/token", "from . import client_auth\nfrom .storage import TokenRecord\nimport mcp_connect_core"),
        ("mcp/registry", "from ..oauth import scopes"),
        ("mcp/transport", "from . import headers, jsonrpc"),
        ("mcp/__init__", "from . import jsonrpc, transport"),
    ],
)
def test_the_check_accepts_imports_inside_the_protocol_layers(module, source):
    assert forbidden_imports(module, source) == []
