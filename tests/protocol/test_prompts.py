"""prompts/list and prompts/get (mcp/prompts.py) over the fake ``Backend``'s templates."""

import pytest

from .test_transport import FakeBackend, Transport, modern

SUMMARY = {
    "name": "summarize_customer",
    "title": "Summarize a customer",
    "description": "A short account of one customer.",
    "arguments": [
        {"name": "customer", "description": "The customer's name", "required": True},
        {"name": "focus", "description": "What to stress", "required": False},
    ],
    "text": "Summarize {customer}. Focus: {focus}. Keep {braces} and {0} as written.",
}


@pytest.fixture
def mcp():
    backend = FakeBackend()
    backend.prompt_templates = [SUMMARY]
    return Transport(backend)


def test_prompts_are_listed_without_their_text(mcp):
    (listed,) = modern(mcp, "prompts/list").body["result"]["prompts"]
    assert listed == {key: SUMMARY[key] for key in ("name", "title", "description", "arguments")}


def test_a_prompt_is_rendered_with_its_declared_arguments_only(mcp):
    result = modern(mcp, "prompts/get", {"name": "summarize_customer", "arguments": {"customer": "Acme {focus}"}})
    result = result.body["result"]
    assert result["description"] == SUMMARY["description"]
    assert result["messages"] == [
        {
            "role": "user",
            "content": {"type": "text", "text": "Summarize Acme {focus}. Focus: . Keep {braces} and {0} as written."},
        }
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"name": "summarize_customer"}, "Missing required argument for summarize_customer: customer"),
        ({"name": "summarize_customer", "arguments": {"customer": ""}}, "Missing required argument"),
        ({"name": "summarize_customer", "arguments": {"customer": "A", "other": "x"}}, "Unknown argument"),
        ({"name": "summarize_customer", "arguments": {"customer": 7}}, "object of strings"),
        ({"name": "summarize_customer", "arguments": ["x"]}, "object of strings"),
        ({"name": "summarize_customer", "arguments": {"customer": "x" * 2001}}, "too long"),
        ({"name": "nope"}, "Unknown prompt: nope"),
    ],
)
def test_bad_prompt_requests_are_invalid_params(mcp, params, message):
    reply = modern(mcp, "prompts/get", params, headers={"Mcp-Name": str(params["name"])})
    error = reply.body["error"]
    assert error["code"] == -32602
    assert message in error["message"]
