"""Replays of the traffic field clients send to /api/mcp after signing in (``traces/*.json``).

Each trace is one client's sequence of HTTP requests, written from its public source code or bug
reports (its ``source`` says which): method, the headers that matter (``Accept``, ``Content-Type``,
``Mcp-Session-Id`` echoed or not, ``MCP-Protocol-Version`` sent or not, ``User-Agent``), the JSON-RPC
body, and the status the client needs. ``"Mcp-Session-Id": "echo"`` stands for the session id of
the last initialize answer; any other value is sent as written (a stale id a client replays);
``"$first_search_result"`` in tool arguments stands for the first id of the last ``search`` answer.

The replay signs in through the real OAuth flow (one registered client per trace, named after
it), adds ``Authorization: Bearer`` to every request, and checks every status, every JSON-RPC
answer, and that every tool call succeeds.
"""

import json
from pathlib import Path

import pytest
import requests

from .conftest import serve
from .helpers import OAuthClient

TRACES = sorted((Path(__file__).parent / "traces").glob("*.json"))
ECHO = "echo"
FIRST_SEARCH_RESULT = "$first_search_result"


@pytest.fixture(scope="module")
def replay_server(install, pg, template):
    """One Odoo per version for every trace: each trace has its own connection and token."""
    yield from serve(install, pg, template, f"mcp_replay_{install.major}", "the replays")


def _fill_arguments(value, state):
    if value == FIRST_SEARCH_RESULT:
        assert state["search"], "the trace fetches before any search found something"
        return state["search"]
    if isinstance(value, dict):
        return {key: _fill_arguments(item, state) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill_arguments(item, state) for item in value]
    return value


def _send(server, token, request, state):
    headers = dict(request.get("headers", {}))
    if headers.get("Mcp-Session-Id") == ECHO:
        assert state["session"], "the trace echoes a session id before any initialize answered"
        headers["Mcp-Session-Id"] = state["session"]
    headers["Authorization"] = f"Bearer {token}"
    body = request.get("body")
    data = None
    if body is not None:
        body = _fill_arguments(body, state)
        data = json.dumps(body)
    response = requests.request(
        request["method"], f"{server.url}/api/mcp", data=data, headers=headers, allow_redirects=False, timeout=60
    )
    return body, response


def _check_answer(label, body, response, state):
    """What a client needs from a 200 answer: its id, a result, a successful tool call."""
    answer = response.json()
    assert answer.get("id") == body["id"], f"{label}: answered id {answer.get('id')!r}"
    assert "error" not in answer, f"{label}: {answer['error']}"
    result = answer["result"]
    method = body["method"]
    if method == "initialize":
        session = response.headers.get("Mcp-Session-Id")
        assert session, f"{label}: the initialize answer carries no Mcp-Session-Id (mcp-remote hangs without one)"
        state["session"] = session
        assert result["protocolVersion"] == body["params"]["protocolVersion"], f"{label}: {result}"
    if method == "tools/call":
        assert result.get("isError") is False, f"{label}: {result['content'][0]['text']}"
        assert json.loads(result["content"][0]["text"]) == result["structuredContent"], label
        if body["params"]["name"] == "search":
            found = result["structuredContent"]["results"]
            assert found, f"{label}: search found nothing"
            state["search"] = found[0]["id"]


@pytest.mark.parametrize("trace_path", TRACES, ids=[path.stem for path in TRACES])
def test_replay(replay_server, trace_path):
    trace = json.loads(trace_path.read_text())
    assert trace["source"], f"{trace_path.name} must say where its shape comes from"
    token = OAuthClient(replay_server, name=trace["client"]).sign_in()["access_token"]
    state = {"session": None, "search": None}
    for step, request in enumerate(trace["requests"], start=1):
        body, response = _send(replay_server, token, request, state)
        what = body["method"] if body else request["method"]
        label = f"{trace['client']}, request {step} ({what})"
        assert response.status_code == request["expect"], (
            f"{label}: HTTP {response.status_code}, expected {request['expect']}: {response.text[:500]}"
        )
        if response.status_code == 200 and body and "id" in body:
            _check_answer(label, body, response, state)
