"""The tool registry takes the MCP tool-name rule from the core, the rule policy documents are checked by."""

import json

import mcp_connect_core as core
import pytest
from mcp_connect.mcp import registry

OBJECT = {"type": "object"}


def declare(name):
    return registry.tool(name, title="T", description="D", input_schema=OBJECT, output_schema=OBJECT)


@pytest.mark.parametrize("name", ["", "bad name", "search\n", "tool/x", "outil_é", "x" * 129])
def test_a_name_a_policy_would_refuse_cannot_be_declared(name):
    with pytest.raises(ValueError, match="invalid tool name"):
        declare(name)
    with pytest.raises(core.InvalidPolicyError):
        core.Policy(json.dumps({"allowed_tools": [name]}))


@pytest.mark.parametrize("name", ["search_records", "vendor.tool-2", "x" * 128])
def test_valid_names_are_declared(name):
    declare(name)
    core.Policy(json.dumps({"allowed_tools": [name]}))
