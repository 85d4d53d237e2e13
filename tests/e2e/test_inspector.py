"""The MCP Inspector's command line (the official debugging client, @modelcontextprotocol/inspector)
against a live Odoo, with a personal access token in an Authorization header, in both eras of the
protocol: `legacy` (initialize and a session), `auto` (server/discover first) and `modern`
(stateless 2026-07-28 requests only)."""

import json

import pytest

from . import node_tools
from .personal_tokens import personal_token

ERAS = ["legacy", "auto", "modern"]


@pytest.fixture(scope="module")
def token(odoo):
    return personal_token(odoo, name="MCP Inspector e2e")


def inspector(odoo, token, home, era, *args):
    """Run one `mcp-inspector --cli` command and return its JSON result."""
    result = run_inspector(odoo, token, home, era, *args)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return json.loads(result.stdout)["result"]


def run_inspector(odoo, token, home, era, *args):
    return node_tools.run(
        node_tools.inspector_cli(),
        "--cli",
        "--transport",
        "http",
        "--server-url",
        f"{odoo.url}/api/mcp",
        "--header",
        f"Authorization: Bearer {token}",
        "--protocol-era",
        era,
        "--format",
        "json",
        *args,
        home=home,
        env={"MCP_INSPECTOR_SECRET_STORE": "memory"},
        timeout=60,
    )


@pytest.mark.parametrize("era", ERAS)
def test_inspector_lists_tools(odoo, token, tmp_path, era):
    result = inspector(odoo, token, tmp_path, era, "--method", "tools/list")
    tools = {tool["name"]: tool for tool in result["tools"]}
    assert {"search_records", "whoami", "read_records", "list_models"} <= set(tools)
    assert all(tool.get("description") and tool["inputSchema"]["type"] == "object" for tool in tools.values())


def test_inspector_strict_finds_no_schema_portability_problem(odoo, token, tmp_path):
    # --strict lints every tool's input and output schema: type lists (refused by Gemini's function
    # declarations), schemas that accept anything, remote $refs. Errors exit 6; warnings only print.
    result = run_inspector(odoo, token, tmp_path, "auto", "--method", "tools/list", "--strict")
    assert result.returncode == 0, f"exit {result.returncode}\nstderr: {result.stderr}"
    envelope = json.loads(result.stdout)
    assert "schemaFindings" not in envelope, envelope.get("schemaFindings")
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    assert {"create_records", "whoami"} <= {tool["name"] for tool in envelope["result"]["tools"]}


@pytest.mark.parametrize("era", ERAS)
def test_inspector_calls_search_records(odoo, token, tmp_path, era):
    arguments = {"model": "res.partner", "fields": ["name"], "limit": 3, "order": "id"}
    result = inspector(
        odoo,
        token,
        tmp_path,
        era,
        "--method",
        "tools/call",
        "--tool-name",
        "search_records",
        "--tool-args-json",
        json.dumps(arguments),
    )
    assert result["isError"] is False
    found = result["structuredContent"]
    assert found["model"] == "res.partner"
    assert 1 <= len(found["records"]) <= 3
    assert all(set(record) == {"id", "name"} for record in found["records"])
    assert json.loads(result["content"][0]["text"]) == found
    # Results of the stateless revision name the server in _meta; initialize-era results do not.
    server_info = result.get("_meta", {}).get("io.modelcontextprotocol/serverInfo")
    if era == "legacy":
        assert server_info is None
    else:
        assert server_info["name"] == "odoo-mcp-connect"


def test_inspector_calls_whoami_and_reads_resources(odoo, token, tmp_path):
    result = inspector(odoo, token, tmp_path, "auto", "--method", "tools/call", "--tool-name", "whoami")
    assert result["structuredContent"]["user"]["login"] == "admin"
    resources = inspector(odoo, token, tmp_path, "legacy", "--method", "resources/list")["resources"]
    assert resources and all(resource["uri"] and resource["name"] for resource in resources)
    user = next(resource for resource in resources if resource["uri"] == "odoo://res.users/2")
    read = inspector(odoo, token, tmp_path, "modern", "--method", "resources/read", "--uri", user["uri"])
    [content] = read["contents"]
    assert content["uri"] == user["uri"]
    assert content["mimeType"] == "application/json"
    assert json.loads(content["text"])
