"""`make bench` and `make profile`: the verdicts, and how time and SQL are attributed to components.

The measurements themselves need live Odoo servers (`make bench`, `make profile`); these tests
are about the decisions, which run in milliseconds.
"""

import importlib.util
import re
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

import bench_odoo  # noqa: E402

# Loaded under another name: as ``profile`` it would stand in for the standard library's.
_spec = importlib.util.spec_from_file_location("profile_tool", TOOLS / "profile.py")
profile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(profile)


def latency(**medians):
    return {name: {"median_ms": value, "p95_ms": value, "samples": 1} for name, value in medians.items()}


def test_goals_pass_and_miss_against_session_json_rpc():
    result = {
        "version": "19.0",
        "latency": latency(
            jsonrpc=10.0, json2=12.0, mcp=11.0, mcp_session_limited=13.0, mcp_server_odoo=40.0, mcp_rules=11.5
        ),
        "throughput": {"jsonrpc": {"calls_per_second": 100.0}, "mcp": {"calls_per_second": 79.0}},
    }
    verdicts = {goal["goal"]: (round(goal["value"], 3), goal["verdict"]) for goal in bench_odoo.summarize(result)}
    assert verdicts == {
        "MCP stateless, no rate limit / session JSON-RPC": (1.1, "PASS"),
        "MCP with session, default rate limit / session JSON-RPC": (1.3, "MISS"),
        "MCP stateless / /json/2 (faster than it)": (0.917, "PASS"),
        "mcp-server-odoo / MCP stateless": (3.636, "PASS"),
        "MCP, 100 model rules / no rules": (1.045, "PASS"),
        "throughput, 16 clients, 4 workers: MCP / session JSON-RPC": (0.79, "MISS"),
    }


def test_a_failed_measurement_has_no_verdict_and_18_has_no_json2_goal():
    result = {"version": "18.0", "latency": latency(jsonrpc=10.0, mcp=11.0)}
    goals = {goal["goal"]: goal["verdict"] for goal in bench_odoo.summarize(result)}
    assert "MCP stateless / /json/2 (faster than it)" not in goals
    assert goals["MCP stateless, no rate limit / session JSON-RPC"] == "PASS"
    assert goals["mcp-server-odoo / MCP stateless"] == "n/a"
    assert goals["throughput, 16 clients, 4 workers: MCP / session JSON-RPC"] == "n/a"


def test_percentile():
    samples = list(range(1, 101))
    assert bench_odoo.percentile(samples, 0.95) == 95
    assert bench_odoo.percentile([3.0], 0.95) == 3.0


def component_of(key):
    return next((name for name, pattern, _split in profile.COMPONENTS if re.search(pattern, key)), None)


def test_component_patterns_name_todays_functions_and_not_their_neighbours():
    addon = "odoo.addons.mcp_connect"
    assert component_of("odoo.addons.base.models.ir_http:IrHttp._authenticate") == profile.COMPONENTS[0][0]
    assert component_of(f"{addon}.models.mcp_rate_counter:McpRateCounter._take") == "rate counter"
    assert component_of(f"{addon}.mcp_backend:OdooBackend.admit") == "rate counter"
    assert component_of(f"{addon}.mcp_backend:OdooBackend.recall_session") == "MCP session (Mcp-Session-Id)"
    assert component_of(f"{addon}.tools.read:search_records") == "tool logic (policy, fields, data scopes)"
    assert component_of("odoo.orm.models:BaseModel.search_fetch") == "ORM search/read/count"
    assert component_of("odoo.models:BaseModel.search_count") == "ORM search/read/count"
    assert component_of("odoo.sql_db:_FlushingSavepoint.__init__") == "savepoint"
    assert component_of(f"{addon}.models.mcp_audit_log:McpAuditLog._record_many") == "audit insert"
    assert component_of("json:dumps") == "JSON encoding and decoding"
    # Neighbours that are none of these.
    assert component_of("odoo.models:BaseModel.search_fetch_more") is None
    assert component_of("odoo.models:BaseModel.browse") is None
    assert component_of(f"{addon}.mcp.transport:Transport.post") is None
    assert component_of(f"{addon}.models.mcp_connection:McpConnection._generate_name") is None
    assert component_of("odoo.addons.web.controllers.dataset:DataSet.call_kw") is None


def test_time_and_sql_go_to_the_innermost_component_that_may_split():
    tracker = profile.Tracker({None, "tool"})
    ticks = iter(range(100))
    tracker.clock = lambda: next(ticks)

    def execute(_cursor, _query):
        return None

    execute = profile._count_sql(execute, tracker)
    orm = profile._wrap(lambda: execute(None, "SELECT 1"), "orm", tracker)
    auth = profile._wrap(lambda: orm(), "auth", tracker)
    tool = profile._wrap(lambda: orm(), "tool", tracker)
    tracker.reset()
    tracker.active = True
    auth()  # an ORM search while authenticating belongs to authentication
    tool()  # one run by the tool belongs to the ORM
    execute(None, "COMMIT")  # the dispatch's own
    tracker.switch(None)
    assert tracker.sql == {"auth": 1, "orm": 1, None: 1}
    assert set(tracker.times) == {None, "auth", "tool", "orm"}
    assert [text for _component, text, _elapsed in tracker.statements] == ["SELECT 1", "SELECT 1", "COMMIT"]


def test_inactive_tracker_counts_nothing():
    tracker = profile.Tracker({None})
    wrapped = profile._wrap(lambda: 42, "orm", tracker)
    assert wrapped() == 42
    assert tracker.times == {}
