"""The setup check's core series is the workspace's version: a release that bumps one bumps both.

The addon is deployed without the Rust sources, so ``CORE_SERIES`` cannot be read from
``Cargo.toml`` at run time; this test keeps the two in step. Read from the sources (``ast``):
the wizard module imports Odoo.
"""

import ast
import re

from .support import ADDON

ROOT = ADDON.parents[1]


def core_series_constant():
    tree = ast.parse((ADDON / "wizards" / "mcp_setup_check.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ["CORE_SERIES"]:
            return ast.literal_eval(node.value)
    raise AssertionError("wizards/mcp_setup_check.py defines no CORE_SERIES")


def test_setup_check_core_series_is_the_workspace_version():
    # A regular expression, not tomllib: the project supports Python 3.10.
    package = (ROOT / "Cargo.toml").read_text().split("[workspace.package]", 1)[1]
    version = re.search(r'^version = "([^"]+)"', package, re.MULTILINE).group(1)
    assert core_series_constant() == ".".join(version.split(".")[:2])
