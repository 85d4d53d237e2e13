"""`make profile`: where the time of one /api/mcp search_records goes, against session JSON-RPC's search_read.

For each Odoo version (ODOO_VERSIONS, default both): a database with 1,000 partners and a
connection with a rate limit of 100,000 calls a minute (a worker leases 50 at a time; the
Settings' default of 120 counts each call, which ``make bench`` measures), signed in through the
real OAuth flow by a running Odoo, which is then stopped. A child process in Odoo's own Python then
loads that database and serves real requests in-process, through Odoo's WSGI application (the
whole dispatch: session or bearer authentication, routing, the controller, the commit), and
times each request by component.

Components are found by name, not by a list of today's functions: every function of Odoo, of the
addon and of ``json`` whose ``module:qualname`` matches a component's pattern (``COMPONENTS``) is
wrapped. Time goes to the innermost component on the call stack, except that only "tool logic"
and the dispatch itself are split further: an ORM search run to authenticate a token belongs to
authentication, one run by a tool to the ORM. What no component claims is "the rest of the
dispatch". SQL statements (``Cursor.execute`` of every cursor, and the rate counter's statement on
its autocommit connection) are counted for the component that runs them.

Environment: PROFILE_CALLS (calls of each kind, default 100; the slowest tenth is left out),
PROFILE_VERBOSE=1 (list the functions each component matched and the SQL statements of one call),
PROFILE_FUNCTIONS=N (before the components are timed, run cProfile over the calls of each kind and
print its N functions of most own time, or of most cumulative time with PROFILE_SORT=cumulative:
what to look at when a component is too slow).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file is named like the standard library's ``profile`` (which cProfile imports): keep its
# directory behind the standard library on the path.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "tools"]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "tools"))

CALLS = int(os.environ.get("PROFILE_CALLS", "100"))
FUNCTIONS = int(os.environ.get("PROFILE_FUNCTIONS", "0"))
SORT = os.environ.get("PROFILE_SORT", "tottime")
ADDON = r"odoo\.addons\.mcp_connect\."
# (component, pattern on "module:qualname", whether components nested in it get their own time)
COMPONENTS = [
    (
        "authentication (bearer token / session)",
        r"^odoo\.addons\.base\.models\.ir_http:IrHttp\._authenticate$|^odoo\.service\.security:check_session$",
        False,
    ),
    ("rate counter", rf"^{ADDON}[\w.]*rate[\w.]*:|^{ADDON}[\w.]+:.*(admit|[Rr]ate_?[Ll]imit)", False),
    ("MCP session (Mcp-Session-Id)", rf"^{ADDON}[\w.]+:.*(recall_session|create_session|end_session)$", False),
    (
        "tool logic (policy, fields, data scopes)",
        rf"^{ADDON}tools\.[\w.]+:|^{ADDON}mcp_backend:OdooBackend\.call_tool$",
        True,
    ),
    (
        "ORM search/read/count",
        r"^odoo\.(orm\.)?models:BaseModel\.(search|search_fetch|search_count|_search|_fetch_query|read|search_read"
        rf"|web_search_read|web_read|_read_format)$|^{ADDON}models\.base:Base\._mcp_fetch_page$",
        False,
    ),
    ("savepoint", r"^odoo\.sql_db:(Savepoint|_FlushingSavepoint)\.|^odoo\.sql_db:\w*Cursor\.savepoint$", False),
    ("audit insert", rf"^{ADDON}[\w.]*audit[\w.]*:|^{ADDON}[\w.]+:.*\._audit$", False),
    ("JSON encoding and decoding", r"^json(\.encoder|\.decoder)?:(dumps|loads|JSON(En|De)coder\.\w+)$", False),
]
REST = "rest of the dispatch"
# Odoo's cursors, and the addon's own autocommit connections (``transactions.autocommit_fetchone``).
SQL_COUNTER = rf"^odoo\.sql_db:Cursor\.execute$|^{ADDON}transactions:autocommit_fetchone$"
KINDS = {
    "jsonrpc": "session JSON-RPC",
    "mcp": "/api/mcp stateless",
    "mcp_session": "/api/mcp session",
}


# --- the child, in Odoo's Python ----------------------------------------------------------------


class Tracker:
    """Exclusive wall time and SQL statements by component, for the request being served."""

    def __init__(self, containers):
        import time

        self.clock = time.perf_counter
        self.containers = containers
        self.active = False
        self.current = None
        self.reset()

    def reset(self):
        self.times = {}
        self.sql = {}
        self.statements = []
        self.current = None
        self.last = self.clock()

    def switch(self, component):
        now = self.clock()
        self.times[self.current] = self.times.get(self.current, 0.0) + now - self.last
        self.last = now
        self.current = component


def _wrap(function, component, tracker):
    import functools

    @functools.wraps(function)
    def timed(*args, **kwargs):
        outer = tracker.current
        if not tracker.active or outer == component or (outer is not None and outer not in tracker.containers):
            return function(*args, **kwargs)
        tracker.switch(component)
        try:
            return function(*args, **kwargs)
        finally:
            tracker.switch(outer)

    return timed


def _count_sql(function, tracker):
    import functools

    @functools.wraps(function)
    def counted(*args, **kwargs):
        if not tracker.active:
            return function(*args, **kwargs)
        tracker.sql[tracker.current] = tracker.sql.get(tracker.current, 0) + 1
        query = args[1] if len(args) > 1 else kwargs.get("query")
        text = " ".join(str(getattr(query, "code", query)).split())
        started = tracker.clock()
        try:
            return function(*args, **kwargs)
        finally:
            elapsed = (tracker.clock() - started) * 1000
            tracker.statements.append((tracker.current or REST, text[:140], elapsed))

    return counted


def _candidates():
    """(module name, owner, attribute name, function, key) of every function of Odoo, the addon and json."""
    import inspect

    for module_name, module in list(sys.modules.items()):
        if not module or not (module_name == "json" or module_name.startswith(("json.", "odoo"))):
            continue
        for name, value in list(vars(module).items()):
            if inspect.isfunction(value) and value.__module__ == module_name:
                yield module, name, value, f"{module_name}:{value.__qualname__}"
            elif inspect.isclass(value) and value.__module__ == module_name:
                for attribute, member in list(vars(value).items()):
                    function = member.__func__ if isinstance(member, classmethod | staticmethod) else member
                    if inspect.isfunction(function):
                        yield value, attribute, member, f"{module_name}:{function.__qualname__}"


def instrument(tracker):
    """Wrap every function that a component's pattern names; return the keys wrapped, by component."""
    import inspect

    patterns = [(component, re.compile(pattern)) for component, pattern, _split in COMPONENTS]
    counter = re.compile(SQL_COUNTER)
    replaced, found = {}, {}
    for owner, attribute, member, key in list(_candidates()):
        function = member.__func__ if isinstance(member, classmethod | staticmethod) else member
        if inspect.isgeneratorfunction(function) or inspect.iscoroutinefunction(function):
            continue
        if id(function) in replaced:
            continue
        if counter.search(key):
            wrapper = _count_sql(function, tracker)
        else:
            component = next((c for c, pattern in patterns if pattern.search(key)), None)
            if component is None:
                continue
            wrapper = _wrap(function, component, tracker)
            found.setdefault(component, []).append(key)
        replaced[id(function)] = wrapper
        setattr(owner, attribute, type(member)(wrapper) if isinstance(member, classmethod | staticmethod) else wrapper)
    # Names imported elsewhere (``from json import dumps``) point at the wrappers too.
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not namespace:
            continue
        for name, value in list(namespace.items()):
            if inspect.isfunction(value) and id(value) in replaced:
                namespace[name] = replaced[id(value)]
    return found


def child():
    """Serve the requests described on stdin in-process; print the measurements as JSON."""
    import io
    import statistics

    spec = json.load(sys.stdin)
    import odoo
    from odoo import http
    from werkzeug.test import EnvironBuilder

    odoo.tools.config.parse_config(spec["odoo_args"])
    from odoo.service import server

    server.load_server_wide_modules()
    # The token's resource is the address of the server that issued it.
    base = spec["url"]

    def environ(kind):
        headers = {"Content-Type": "application/json"}
        if kind == "jsonrpc":
            headers["Cookie"] = f"session_id={spec['session_id']}"
            path = "/web/dataset/call_kw/res.partner/search_read"
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "call",
                "params": {
                    "model": "res.partner",
                    "method": "search_read",
                    "args": [],
                    "kwargs": {"domain": [], "fields": spec["fields"], "limit": 80, "order": "id"},
                },
            }
        else:
            path = "/api/mcp"
            arguments = {"model": "res.partner", "fields": spec["fields"], "limit": 80, "order": "id"}
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "search_records"}}
            body["params"]["arguments"] = arguments
            headers.update(Authorization=f"Bearer {spec['token']}", Accept="application/json, text/event-stream")
            if kind == "mcp":
                headers.update({"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call"})
                headers["Mcp-Name"] = "search_records"
                body["params"]["_meta"] = {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                }
            else:
                headers.update({"MCP-Protocol-Version": "2025-11-25", "Mcp-Session-Id": session_id})
        builder = EnvironBuilder(
            path=path,
            base_url=base,
            method="POST",
            headers=headers,
            data=json.dumps(body),
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        return builder.get_environ()

    def serve(built):
        status = []
        body = io.BytesIO()
        answer = http.root(built, lambda code, headers, *_: status.append((code, headers)))
        for chunk in answer:
            body.write(chunk)
        if hasattr(answer, "close"):
            answer.close()
        return status[0][0], dict(status[0][1]), body.getvalue()

    def records(kind, raw):
        answer = json.loads(raw)
        if kind == "jsonrpc":
            return len(answer.get("result") or [])
        return len(answer["result"]["structuredContent"]["records"])

    # The MCP session a client opens with initialize, then names in every call.
    opening = EnvironBuilder(
        path="/api/mcp",
        base_url=base,
        method="POST",
        headers={
            "Authorization": f"Bearer {spec['token']}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        },
        data=json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "profile"}},
            }
        ),
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    ).get_environ()
    status, headers, raw = serve(opening)
    session_id = headers.get("Mcp-Session-Id")
    if not status.startswith("200") or not session_id:
        raise SystemExit(f"initialize failed: {status} {raw[:300]!r}")

    for kind in KINDS:  # warm the worker's caches, as a worker serving traffic has them
        for _ in range(5):
            status, _headers, raw = serve(environ(kind))
            if not status.startswith("200") or records(kind, raw) != 80:
                raise SystemExit(f"{kind}: {status} {raw[:300]!r}")

    functions = {}
    if spec["functions"]:
        import cProfile
        import pstats

        for kind in KINDS:
            profiler = cProfile.Profile()
            for _ in range(spec["calls"]):
                built = environ(kind)
                profiler.enable()
                serve(built)
                profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats(spec["sort"]).print_stats(spec["functions"])
            functions[kind] = text.getvalue()

    tracker = Tracker({None} | {component for component, _pattern, split in COMPONENTS if split})
    found = instrument(tracker)
    samples = {kind: [] for kind in KINDS}
    statements = {}
    for _ in range(spec["calls"]):
        for kind in KINDS:
            built = environ(kind)
            tracker.reset()
            tracker.active = True
            started = tracker.clock()
            status, _headers, raw = serve(built)
            total = tracker.clock() - started
            tracker.switch(None)
            tracker.active = False
            if not status.startswith("200") or records(kind, raw) != 80:
                raise SystemExit(f"{kind}: {status} {raw[:300]!r}")
            times = {component or REST: seconds * 1000 for component, seconds in tracker.times.items()}
            sql = {component or REST: count for component, count in tracker.sql.items()}
            samples[kind].append({"total": total * 1000, "times": times, "sql": sql})
            statements[kind] = tracker.statements

    result = {}
    for kind, runs in samples.items():
        cutoff = sorted(run["total"] for run in runs)[max(0, int(len(runs) * 0.9) - 1)]
        kept = [run for run in runs if run["total"] <= cutoff]
        names = [component for component, _pattern, _split in COMPONENTS] + [REST]
        result[kind] = {
            "calls": len(kept),
            "total_ms": statistics.fmean(run["total"] for run in kept),
            "median_total_ms": statistics.median(run["total"] for run in runs),
            "components": {
                name: {
                    "ms": statistics.fmean(run["times"].get(name, 0.0) for run in kept),
                    "sql": statistics.fmean(run["sql"].get(name, 0) for run in kept),
                }
                for name in names
            },
        }
    print(
        "PROFILE=" + json.dumps({"results": result, "wrapped": found, "statements": statements, "functions": functions})
    )


# --- the orchestrator, in the project's virtualenv --------------------------------------------------


def prepare(version, pg):
    """A database with the data and the credentials the child needs; returns (server, spec)."""
    import bench_odoo
    import harness

    from tests.e2e.helpers import Browser, OAuthClient, OdooAdmin, connection_of

    install = harness.OdooInstall.locate(version)
    harness.install_wheel(install)
    server = harness.OdooServer(install, pg, f"mcp_profile_{install.major}")
    harness.say(f"profile: Odoo {version}: installing the addon in {server.database}")
    server.init_database(fresh=True, config_parameters={"mcp_connect.default_rate_limit": "0"})
    server.start()
    try:
        admin = OdooAdmin(server)
        partners = [
            {"name": f"Bench partner {n:04d}", "email": f"p{n}@example.com", "city": "Brussels"}
            for n in range(bench_odoo.PARTNERS)
        ]
        admin.call("res.partner", "create", [partners])
        client = OAuthClient(server, name="profile, rate limit on")
        token = client.sign_in(Browser())["access_token"]
        admin.call("mcp.connection", "write", [connection_of(admin, client), {"rate_limit": bench_odoo.RATE_LIMIT_ON}])
        session_id = admin.session.cookies.get("session_id")
    finally:
        server.stop()
    spec = {
        "odoo_args": [
            *install.base_args(pg, server.database, server.port)[2:],
            "--max-cron-threads=0",
            "--log-level=warn",
        ],
        "url": server.url,
        "token": token,
        "session_id": session_id,
        "fields": bench_odoo.FIELDS,
        "calls": CALLS,
        "functions": FUNCTIONS,
        "sort": SORT,
    }
    return install, server, spec


def profile_version(version, pg):
    import harness

    install, server, spec = prepare(version, pg)
    try:
        harness.say(f"profile: Odoo {version}: {CALLS} calls of each kind, in-process")
        result = subprocess.run(
            [str(install.python), str(Path(__file__).resolve()), "--child"],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env=install.env(),
            cwd=harness.RUN,
            check=False,
        )
        line = next((line for line in result.stdout.splitlines() if line.startswith("PROFILE=")), None)
        if result.returncode != 0 or line is None:
            raise RuntimeError(f"the profiling process failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return json.loads(line.split("=", 1)[1])
    finally:
        pg.drop_database(server.database)


def report(version, profile):
    results = profile["results"]
    names = [component for component, _pattern, _split in COMPONENTS] + [REST]
    kept = results["jsonrpc"]["calls"]
    print(
        f"\n== Odoo {version}: one search_records / search_read (80 partners x 5 fields), in-process; "
        f"mean of the fastest {kept} of {CALLS} calls each =="
    )
    header = "".join(f"{KINDS[kind]:>22}" for kind in KINDS)
    print(f"{'component':<42}{header}")
    for name in [*names, "total"]:
        cells = []
        for kind in KINDS:
            if name == "total":
                row = {
                    "ms": results[kind]["total_ms"],
                    "sql": sum(c["sql"] for c in results[kind]["components"].values()),
                }
            else:
                row = results[kind]["components"][name]
            cells.append(f"{row['ms']:>8.2f} ms {row['sql']:>4.1f} SQL" if row["ms"] or row["sql"] else f"{'-':>22}")
        print(f"{name:<42}" + "".join(f"{cell:>22}" for cell in cells))
    baseline = results["jsonrpc"]["total_ms"]
    ratios = ", ".join(f"{KINDS[kind]} {results[kind]['total_ms'] / baseline:.2f}x" for kind in ("mcp", "mcp_session"))
    print(f"ratio to session JSON-RPC: {ratios}")
    if os.environ.get("PROFILE_VERBOSE"):
        print("functions each component matched:")
        for name, keys in profile["wrapped"].items():
            print(f"  {name}: {', '.join(sorted(keys))}")
        for kind, statements in profile["statements"].items():
            print(f"SQL statements of the last {KINDS[kind]} call:")
            for component, text, elapsed in statements:
                print(f"  [{component}] {elapsed:.2f} ms  {text}")
    for kind, text in profile.get("functions", {}).items():
        print(f"cProfile of {CALLS} {KINDS[kind]} calls, by {SORT}:")
        print(text.split("\n", 1)[1] if text.startswith("\n") else text)
    missing = [name for name in names[:-1] if name not in profile["wrapped"]]
    if missing:
        print(f"no function matched the pattern of: {', '.join(missing)} (see COMPONENTS in tools/profile.py)")


def main():
    import harness

    pg = harness.PgCluster()
    pg.start()
    profiles, failed = {}, False
    try:
        for version in harness.selected_versions():
            try:
                profiles[version] = profile_version(version, pg)
            except Exception as error:  # noqa: BLE001 (one version failing leaves the other's profile)
                print(f"\nOdoo {version}: FAILED: {error}", file=sys.stderr)
                failed = True
    finally:
        pg.release()
    for version, profile in profiles.items():
        report(version, profile)
    results = harness.RUN / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "profile.json").write_text(json.dumps(profiles, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(child() if sys.argv[1:] == ["--child"] else main())
