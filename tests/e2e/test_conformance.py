"""The official MCP conformance suite (@modelcontextprotocol/conformance) against a live Odoo.

Server scenarios: the stable release (initialize era, 2025-11-25) and the pre-release that
knows revision 2026-07-28, at each revision MCP Connect serves. The suite's client cannot send
an Authorization header, so it talks to a local proxy that adds a personal access token.
Every scenario that applies to MCP Connect must pass; those that need the SDKs' fixture tools
or features it does not offer are listed with a reason in conformance-expected-failures.yml,
and the suite fails the run on any other failure, and on a listed one that starts passing.

Authorization server: the pre-release's `conformance authorization` checks the metadata
document and a full authorization code grant, with a pre-registered public client; the login
and consent pages are filled in as a person would.
"""

import json
import re
import socket
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from . import node_tools
from .auth_proxy import AuthProxy
from .helpers import Browser, OdooAdmin
from .personal_tokens import personal_token

EXPECTED_FAILURES = Path(__file__).with_name("conformance-expected-failures.yml")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ENTRY = re.compile(r"^  - ([a-z0-9-]+(?::[a-z0-9-]+)?)(?:\s+#.*)?$")

# (id, pre-release?, arguments): the scenarios each revision defines.
RUNS = [
    ("stable-2025-11-25", False, ["--suite", "all"]),
    ("next-2025-03-26", True, ["--spec-version", "2025-03-26"]),
    ("next-2025-06-18", True, ["--spec-version", "2025-06-18"]),
    ("next-2025-11-25", True, ["--suite", "active", "--spec-version", "2025-11-25"]),
    # Exactly what revision 2026-07-28 requires; its pending and extension scenarios run too
    # but are reported as "not scored" and do not change the exit code.
    ("next-2026-07-28", True, ["--requirements", "2026-07-28"]),
]


def expected_failure_entries():
    """The entries of the expected-failures file, checked to be in the one shape we write."""
    entries = []
    lines = EXPECTED_FAILURES.read_text().splitlines()
    assert "server:" in lines, "conformance-expected-failures.yml must list entries under 'server:'"
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#") or line == "server:":
            continue
        match = ENTRY.match(line)
        assert match, f"unexpected line in {EXPECTED_FAILURES.name}: {line!r}"
        entries.append(match.group(1))
    return entries


def baseline_for(pre_release, tmp_path):
    """The pre-release reads the file as it is; the stable release knows whole scenarios only."""
    if pre_release:
        return EXPECTED_FAILURES
    scenarios = dict.fromkeys(entry.split(":")[0] for entry in expected_failure_entries())
    path = tmp_path / "expected-failures-stable.yml"
    path.write_text("server:\n" + "".join(f"  - {scenario}\n" for scenario in scenarios))
    return path


def failed_checks(results):
    """Scenario, check id, status, message and details of every check that did not pass."""
    failures = []
    for checks_file in sorted(results.glob("*/checks.json")):
        scenario = re.sub(r"^server-|-\d{4}-\d\d-\d\dT.*$", "", checks_file.parent.name)
        for check in json.loads(checks_file.read_text()):
            if check["status"] in ("FAILURE", "WARNING"):
                details = json.dumps(check.get("details"), default=str)[:1500]
                failures.append(
                    f"{scenario}:{check['id']} {check['status']}: {check.get('errorMessage')}\n    {details}"
                )
    return failures


def summary(output):
    return output[output.find("=== SUMMARY ===") :] if "=== SUMMARY ===" in output else output


@pytest.fixture(scope="module")
def proxy(odoo):
    # The suite makes a few hundred calls in seconds: lift the connection's rate limit.
    token = personal_token(odoo, name="MCP conformance suite", rate_limit=100000)
    with AuthProxy(odoo.url, token) as running:
        yield running


@pytest.mark.parametrize(("pre_release", "arguments"), [run[1:] for run in RUNS], ids=[run[0] for run in RUNS])
def test_conformance_server(proxy, tmp_path, pre_release, arguments):
    results = tmp_path / "results"
    completed = node_tools.run(
        node_tools.conformance(next_version=pre_release),
        "server",
        "--url",
        f"{proxy.url}/api/mcp",
        *arguments,
        "--expected-failures",
        baseline_for(pre_release, tmp_path),
        "-o",
        results,
        timeout=600,
        cwd=tmp_path,
    )
    output = ANSI.sub("", completed.stdout + completed.stderr)
    print(summary(output))
    assert "=== SUMMARY ===" in output, output[-3000:]
    assert completed.returncode == 0, (
        f"conformance exited {completed.returncode}\n{summary(output)}\n\nChecks that did not pass:\n"
        + "\n".join(failed_checks(results))
    )


def test_expected_failures_file_is_well_formed():
    entries = expected_failure_entries()
    assert len(entries) == len(set(entries)), "duplicate entries"
    whole = {entry for entry in entries if ":" not in entry}
    assert not [entry for entry in entries if entry.split(":")[0] in whole and ":" in entry]
    lines = EXPECTED_FAILURES.read_text().splitlines()
    assert all("#" in line for line in lines if ENTRY.match(line)), "every entry needs a one-line reason"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_conformance_authorization_server(odoo, tmp_path):
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    client_id = f"mcpci_conformance_{port}"
    OdooAdmin(odoo).call(
        "mcp.connection",
        "create",
        [
            {
                "name": "Conformance suite (authorization)",
                "connection_type": "custom",
                "client_id": client_id,
                "client_type": "public",
                "redirect_uris": redirect_uri,
            }
        ],
    )
    resource = requests.get(f"{odoo.url}/.well-known/oauth-protected-resource/api/mcp", timeout=30).json()["resource"]
    argv = [
        str(node_tools.node()),
        str(node_tools.conformance(next_version=True)),
        "authorization",
        "--url",
        odoo.url,
        "--client-id",
        client_id,
        "--resource",
        resource,
        "--port",
        str(port),
        "-o",
        str(tmp_path / "results"),
    ]
    lines, answers = [], []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path) as process:
        # The suite waits up to 5 minutes for the callback: never let it hang the test run that long.
        watchdog = threading.Timer(120, process.kill)
        watchdog.start()
        try:
            for line in process.stdout:
                lines.append(ANSI.sub("", line))
                if line.startswith(f"{odoo.url}/oauth/authorize?"):
                    # The person at the browser: Odoo's login page, then the consent page.
                    answer = Browser().authorize(line.strip(), redirect_uri)
                    answers.append(answer)
                    delivered = requests.get(f"{redirect_uri}?{urlencode(answer)}", timeout=30)
                    assert delivered.status_code == 200, delivered.text
            returncode = process.wait(timeout=30)
        finally:
            watchdog.cancel()
            process.kill()
    output = "".join(lines)
    print(summary(output))
    assert answers and "code" in answers[0], output
    assert answers[0]["iss"] == odoo.url
    assert "Total: 3 passed, 0 failed" in output, output
    assert returncode == 0, output
