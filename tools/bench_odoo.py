"""`make bench` (Odoo part): an MCP call against Odoo's own RPC, fairly, on Odoo 18.0 and 19.0 in one run.

For each Odoo version: one database with 1,000 partners, served by Odoo with 4 prefork workers,
and ``search_records`` of 80 partners x 5 fields against the same ``search_read`` through:

- session JSON-RPC (``/web/dataset/call_kw`` with a session cookie, as the web client and most
  scripts call Odoo): the baseline, every ratio is to it;
- ``/json/2`` with an API key (19.0 only), XML-RPC ``execute_kw`` (a password, as scripts do);
- ``/api/mcp`` with a bearer token, stateless (2026-07-28: no MCP session) and with an MCP
  session (2025-11-25: ``initialize``, then every call with its ``Mcp-Session-Id``), each on a
  connection without a rate limit and on one with the Settings' default limit (120 calls a
  minute, counted exactly: one reservation a call; the rounds stay under it), each rate-limited
  variant on its own connection;
- ``/api/mcp`` on a connection with 100 model rules (data scopes) against one without;
- mcp-server-odoo (PyPI, stdio, XML-RPC to Odoo).

Every variant is called once per round, in an order shuffled each round, so that the machine's load falls
on all alike; the table gives medians and 95th percentiles. Then: throughput of 16 concurrent
clients on the 4 workers (MCP against session JSON-RPC, phases alternated), worker memory before
and after it, and the token endpoint's rates. A measurement or a version that fails is reported
as failed; the others are kept. Results go to .run/results/bench.json.

Environment: ODOO_VERSIONS (default both), BENCH_ROUNDS (100), BENCH_THROUGHPUT_SECONDS (3 per
phase), BENCH_TOKEN_CODES (24).
"""

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import traceback
import xmlrpc.client
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import harness  # noqa: E402
import requests  # noqa: E402
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

from tests.e2e.helpers import Browser, OAuthClient, OdooAdmin, connection_of  # noqa: E402

FIELDS = ["name", "email", "phone", "city", "country_id"]
LIMIT = 80
PARTNERS = 1000
WORKERS = 4
CLIENTS = 16
RULES = 100
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))
WARMUP = 10
THROUGHPUT_SECONDS = float(os.environ.get("BENCH_THROUGHPUT_SECONDS", "3"))
THROUGHPUT_REPEATS = 2
TOKEN_CODES = int(os.environ.get("BENCH_TOKEN_CODES", "24"))
# The latency rounds' rate-limited connections: the Settings' default (120 calls a minute), counted
# exactly, one reservation a call; each connection serves one variant, WARMUP + ROUNDS calls in all
# (more rounds raise it, below the 200 where a worker starts leasing calls in blocks).
RATE_LIMIT_DEFAULT = max(120, WARMUP + ROUNDS)
# The throughput runs' rate-limited connection: thousands of calls a minute, never refused, leased
# 50 at a time (``mcp.rate.counter``).
RATE_LIMIT_ON = 100000
MODERN = "2026-07-28"
LEGACY = "2025-11-25"
RESULTS = harness.RUN / "results" / "bench.json"
SEARCH_ARGUMENTS = {"model": "res.partner", "fields": FIELDS, "limit": LIMIT, "order": "id"}

# The throughput runs' own labels, where their connection differs from the latency rounds'.
THROUGHPUT_LABELS = {"mcp_limited": f"/api/mcp stateless, limit of {RATE_LIMIT_ON:,} a minute"}
# name -> label; the order of the table.
VARIANTS = {
    "jsonrpc": "session JSON-RPC (/web/dataset/call_kw, cookie)",
    "json2": "/json/2 with an API key",
    "xmlrpc": "XML-RPC execute_kw (/xmlrpc/2/object)",
    "mcp": "/api/mcp stateless, rate limit off",
    "mcp_limited": "/api/mcp stateless, default rate limit",
    "mcp_session": "/api/mcp with a session, rate limit off",
    "mcp_session_limited": "/api/mcp with a session, default rate limit",
    "mcp_rules": f"/api/mcp stateless, {RULES} model rules",
    "mcp_server_odoo": "mcp-server-odoo 0.9.0 (stdio, XML-RPC)",
    "anonymous": "reference: unauthenticated GET (metadata)",
    "userinfo": "reference: bearer-authenticated GET /oauth/userinfo",
    "ping": "reference: /api/mcp ping (session)",
}
# (label, what is compared, bound, how): ratio = median of the first / median of the second.
GOALS = [
    ("MCP stateless, no rate limit / session JSON-RPC", ("mcp", "jsonrpc"), 1.15, "<="),
    ("MCP with session, default rate limit / session JSON-RPC", ("mcp_session_limited", "jsonrpc"), 1.25, "<="),
    ("MCP stateless / /json/2 (faster than it)", ("mcp", "json2"), 1.00, "<"),
    ("mcp-server-odoo / MCP stateless", ("mcp_server_odoo", "mcp"), 3.0, ">="),
    (f"MCP, {RULES} model rules / no rules", ("mcp_rules", "mcp"), 1.10, "<="),
]
THROUGHPUT_GOAL = 0.8


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def check(condition, what):
    if not condition:
        raise AssertionError(what)


# --- the ways to search ---------------------------------------------------------------------


def mcp_headers(token, version, session_id=None, method=None, name=None):
    headers = {
        "Authorization": f"Bearer {token}",
        "MCP-Protocol-Version": version,
        "Accept": "application/json, text/event-stream",
    }
    if session_id:
        headers["Mcp-Session-Id"] = session_id
    if version == MODERN and method:
        headers["Mcp-Method"] = method
        if name:
            headers["Mcp-Name"] = name
    return headers


class Mcp:
    """A client of /api/mcp: stateless (2026-07-28) or in an MCP session opened by initialize (2025-11-25)."""

    def __init__(self, server, token, with_session=False):
        self.http = requests.Session()
        self.url = f"{server.url}/api/mcp"
        self.token = token
        self.session_id = None
        self.version = MODERN
        if with_session:
            self.version = LEGACY
            response = self.http.post(
                self.url,
                json={
                    "jsonrpc": "2.0",
                    "id": 0,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": LEGACY,
                        "capabilities": {},
                        "clientInfo": {"name": "bench", "version": "1"},
                    },
                },
                headers=mcp_headers(token, LEGACY),
                timeout=60,
            )
            response.raise_for_status()
            self.session_id = response.headers["Mcp-Session-Id"]
            notified = self.http.post(
                self.url,
                json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                headers=mcp_headers(token, LEGACY, self.session_id),
                timeout=60,
            )
            check(notified.status_code == 202, f"notifications/initialized: {notified.status_code}")

    def request(self, method, params=None, name=None):
        params = dict(params or {})
        if self.version == MODERN:
            params["_meta"] = {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        response = self.http.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            headers=mcp_headers(self.token, self.version, self.session_id, method, name),
            timeout=60,
        )
        check(response.status_code == 200, f"{method}: HTTP {response.status_code} {response.text[:300]}")
        body = response.json()
        check("result" in body, f"{method}: {response.text[:300]}")
        return body["result"]

    def search(self):
        result = self.request("tools/call", {"name": "search_records", "arguments": SEARCH_ARGUMENTS}, "search_records")
        check(not result.get("isError"), result)
        check(len(result["structuredContent"]["records"]) == LIMIT, "not 80 records")

    def ping(self):
        self.request("ping")


class SessionJsonRpc:
    """Odoo's web JSON-RPC with a session cookie, as the web client calls it."""

    def __init__(self, server, cookies):
        self.http = requests.Session()
        self.http.cookies.update(cookies)
        self.url = f"{server.url}/web/dataset/call_kw/res.partner/search_read"

    def search(self):
        response = self.http.post(
            self.url,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "call",
                "params": {
                    "model": "res.partner",
                    "method": "search_read",
                    "args": [],
                    "kwargs": {"domain": [], "fields": FIELDS, "limit": LIMIT, "order": "id"},
                },
            },
            timeout=60,
        )
        body = response.json()
        check(len(body.get("result") or []) == LIMIT, response.text[:300])


class Json2:
    """Odoo 19's /json/2 with an API key."""

    def __init__(self, server, key):
        self.http = requests.Session()
        self.url = f"{server.url}/json/2/res.partner/search_read"
        self.key = key

    def search(self):
        response = self.http.post(
            self.url,
            json={"domain": [], "fields": FIELDS, "limit": LIMIT, "order": "id"},
            headers={"Authorization": f"bearer {self.key}"},
            timeout=60,
        )
        check(response.status_code == 200 and len(response.json()) == LIMIT, response.text[:300])


class XmlRpc:
    """XML-RPC execute_kw with the password (the same HTTP client as the others: a kept-alive requests session)."""

    def __init__(self, server):
        self.http = requests.Session()
        self.url = f"{server.url}/xmlrpc/2/object"
        self.body = xmlrpc.client.dumps(
            (
                server.database,
                2,
                "admin",
                "res.partner",
                "search_read",
                [[]],
                {"fields": FIELDS, "limit": LIMIT, "order": "id"},
            ),
            "execute_kw",
        ).encode()

    def search(self):
        response = self.http.post(self.url, data=self.body, headers={"Content-Type": "text/xml"}, timeout=60)
        rows = xmlrpc.client.loads(response.content)[0][0]
        check(len(rows) == LIMIT, "not 80 rows")


def _api_key(server, install):
    """An API key for admin, made through Odoo's own shell (the UI asks for the password first)."""
    script = (
        "from datetime import datetime, timedelta\n"
        "key = env['res.users.apikeys'].with_user(env.ref('base.user_admin'))._generate("
        "None, 'bench', datetime.now() + timedelta(days=1))\n"
        "env.cr.commit()\nprint('APIKEY=' + key)\n"
    )
    argv = [
        *install.launcher(),
        "shell",
        *install.base_args(server.pg, server.database, harness.free_port())[2:],
        "--no-http",
    ]
    result = subprocess.run(
        argv, input=script, capture_output=True, text=True, env=install.env(), check=True, cwd=harness.RUN
    )
    return next(line.split("=", 1)[1] for line in result.stdout.splitlines() if line.startswith("APIKEY="))


def mcp_server_odoo_parameters(server):
    env = {
        **os.environ,
        "ODOO_URL": server.url,
        "ODOO_DB": server.database,
        "ODOO_USER": "admin",
        "ODOO_PASSWORD": "admin",
        "ODOO_YOLO": "read",
        "ODOO_MCP_LOG_LEVEL": "WARNING",
    }
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_server_odoo"], env=env)


# --- interleaved latency ----------------------------------------------------------------------


async def _timed(call):
    started = time.perf_counter()
    result = call()
    if hasattr(result, "__await__"):
        await result
    return time.perf_counter() - started


async def _round_robin(calls, failures, rounds):
    """Each round calls every variant once, in an order shuffled for each round (seeded, the same
    for every run): a variant that always followed the same one would carry what that one leaves
    behind (a worker's garbage, the client's). A variant that fails leaves the rounds, noted in
    ``failures``."""
    samples = {name: [] for name in calls}
    shuffle = random.Random(ROUNDS).shuffle  # noqa: S311 (an order of calls, not a secret)
    for number in range(WARMUP + rounds):
        order = list(calls)
        shuffle(order)
        for name in order:
            call = calls.get(name)
            if call is None:
                continue
            try:
                elapsed = await _timed(call)
            except Exception as error:  # noqa: BLE001 (a failed variant is reported, the others go on)
                failures[name] = f"{type(error).__name__}: {str(error)[:300]}"
                del calls[name]
                continue
            if number >= WARMUP:
                samples[name].append(elapsed)
    return samples


def latencies(calls, server, failures, rounds=ROUNDS):
    """Interleaved samples (seconds) of every variant, mcp-server-odoo among them when it starts."""

    async def measure():
        samples = None
        try:
            async with (
                stdio_client(mcp_server_odoo_parameters(server)) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()

                async def alternative():
                    result = await session.call_tool("search_records", SEARCH_ARGUMENTS)
                    check(not result.is_error, result.content)

                samples = await _round_robin({**calls, "mcp_server_odoo": alternative}, failures, rounds)
        except Exception as error:  # noqa: BLE001 (mcp-server-odoo did not start or stop: measure without it)
            failures.setdefault("mcp_server_odoo", f"{type(error).__name__}: {str(error)[:300]}")
        if samples is None:
            samples = await _round_robin(dict(calls), failures, rounds)
        return samples

    samples = anyio.run(measure)
    return {
        name: {
            "median_ms": statistics.median(values) * 1000,
            "p95_ms": percentile(values, 0.95) * 1000,
            "samples": len(values),
        }
        for name, values in samples.items()
        if values
    }


# --- throughput ---------------------------------------------------------------------------------


def _run_clients(make_call, clients, seconds):
    """``clients`` threads calling for ``seconds``; returns (calls completed, errors, first error)."""
    done, errors, first = [0] * clients, [0] * clients, []
    stop = time.monotonic() + seconds
    calls = [make_call() for _ in range(clients)]

    def client(index):
        call = calls[index]
        while time.monotonic() < stop:
            try:
                call()
                done[index] += 1
            except Exception as error:  # noqa: BLE001
                errors[index] += 1
                if not first:
                    first.append(f"{type(error).__name__}: {str(error)[:200]}")

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), sum(errors), (first or [None])[0]


def throughput(kinds):
    """Calls per second of ``CLIENTS`` clients for each kind, phases alternated ``THROUGHPUT_REPEATS`` times."""
    totals = {name: [0, 0.0, 0] for name in kinds}
    first_errors = {}
    for _repeat in range(THROUGHPUT_REPEATS):
        for name, make_call in kinds.items():
            done, errors, first = _run_clients(make_call, CLIENTS, THROUGHPUT_SECONDS)
            totals[name][0] += done
            totals[name][1] += THROUGHPUT_SECONDS
            totals[name][2] += errors
            if first:
                first_errors.setdefault(name, first)
    return {
        name: {
            "calls_per_second": done / seconds,
            "calls": done,
            "errors": errors,
            "first_error": first_errors.get(name),
        }
        for name, (done, seconds, errors) in totals.items()
    }


def worker_memory(server):
    """RSS (MiB) of each prefork worker, by pid."""
    children = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True).stdout.split()
    sizes = {}
    for pid in children:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"gevent" in cmdline.split(b"\0"):  # the websocket server Odoo starts beside the workers
            continue
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        sizes[pid] = rss / 1024
    return sizes


# --- the token endpoint -------------------------------------------------------------------------


def _parallel(function, arguments):
    threads = [threading.Thread(target=function, args=(argument,)) for argument in arguments]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def token_endpoint_rates(client):
    """Authorization-code exchanges and refreshes per second, 8 clients at once."""
    browser = Browser()
    codes = [client.authorize_code(browser) for _ in range(TOKEN_CODES)]
    refresh_tokens = []
    lock = threading.Lock()

    def exchange(batch):
        session = requests.Session()
        for code, verifier in batch:
            response = client.exchange(code, verifier, session)
            check(response.status_code == 200, response.text)
            with lock:
                refresh_tokens.append(response.json()["refresh_token"])

    def refresh(token, count=10):
        session = requests.Session()
        for _ in range(count):
            response = client.refresh(token, session)
            check(response.status_code == 200, response.text)
            token = response.json()["refresh_token"]

    exchanges = len(codes) / _parallel(exchange, [codes[i::8] for i in range(8)])
    refreshes = 8 * 10 / _parallel(refresh, refresh_tokens[:8])
    return {"exchanges_per_second": exchanges, "refreshes_per_second": refreshes}


# --- set-up -----------------------------------------------------------------------------------


def add_model_rules(admin, connection_id, count):
    """``count`` model rules on the connection: res.partner without a filter, then other models with a
    record filter that depends on the user (evaluated as the user, as data scopes are)."""
    partner = admin.call("ir.model", "search", [[("model", "=", "res.partner")]])[0]
    admin.call(
        "mcp.connection.model", "create", [{"connection_id": connection_id, "model_id": partner, "domain": "[]"}]
    )
    candidates = admin.call(
        "ir.model",
        "search_read",
        [[("transient", "=", False), ("model", "!=", "res.partner"), ("model", "not like", "mcp.%")]],
        {"fields": ["model"], "order": "model"},
    )
    made = 1
    for candidate in candidates:
        if made >= count:
            break
        try:
            admin.call(
                "mcp.connection.model",
                "create",
                [
                    {
                        "connection_id": connection_id,
                        "model_id": candidate["id"],
                        "domain": "[('id', 'not in', [-user.id, -company_ids[0]])]",
                        "can_create": False,
                        "can_write": False,
                        "can_delete": False,
                        "can_call": False,
                    }
                ],
            )
            made += 1
        except AssertionError:
            continue  # a model no connection may name (credentials, security)
    check(made == count, f"only {made} model rules could be made")
    return made


def attempt(result, failures, name, function, *args):
    """Run one measurement; its failure is noted and the run goes on."""
    try:
        result[name] = function(*args)
    except Exception as error:  # noqa: BLE001
        failures[name] = f"{type(error).__name__}: {str(error)[:300]}"
        traceback.print_exc()


def bench_version(version, pg):
    result = {"version": version, "failures": {}}
    failures = result["failures"]
    install = harness.OdooInstall.locate(version)
    harness.install_wheel(install)
    server = harness.OdooServer(
        install,
        pg,
        f"mcp_bench_{install.major}",
        extra_args=[
            f"--workers={WORKERS}",
            f"--gevent-port={harness.free_port()}",
            "--limit-memory-soft=4294967296",
            "--limit-memory-hard=5368709120",
        ],
    )
    harness.say(f"bench: Odoo {version}: installing the addon in {server.database}")
    server.init_database(fresh=True, config_parameters={"mcp_connect.default_rate_limit": "0"})
    server.start()
    try:
        admin = OdooAdmin(server)
        admin.call(
            "res.partner",
            "create",
            [
                [
                    {
                        "name": f"Bench partner {n:04d}",
                        "email": f"p{n}@example.com",
                        "phone": f"+32 2 555 {n:04d}",
                        "city": "Brussels",
                    }
                    for n in range(PARTNERS)
                ]
            ],
        )
        plain = OAuthClient(server, name="bench")
        limited = OAuthClient(server, name="bench, default rate limit")
        session_limited = OAuthClient(server, name="bench, default rate limit, session")
        leased = OAuthClient(server, name=f"bench, rate limit of {RATE_LIMIT_ON}")
        ruled = OAuthClient(server, name=f"bench, {RULES} model rules")
        clients = (plain, limited, session_limited, leased, ruled)
        tokens = {client: client.sign_in(Browser())["access_token"] for client in clients}
        limits = {limited: RATE_LIMIT_DEFAULT, session_limited: RATE_LIMIT_DEFAULT, leased: RATE_LIMIT_ON}
        for client, limit in limits.items():
            admin.call("mcp.connection", "write", [connection_of(admin, client), {"rate_limit": limit}])
        result["model_rules"] = add_model_rules(admin, connection_of(admin, ruled)[0], RULES)

        calls = {}
        makers = {
            "jsonrpc": lambda: SessionJsonRpc(server, admin.session.cookies).search,
            "xmlrpc": lambda: XmlRpc(server).search,
            "mcp": lambda: Mcp(server, tokens[plain]).search,
            "mcp_limited": lambda: Mcp(server, tokens[limited]).search,
            "mcp_session": lambda: Mcp(server, tokens[plain], with_session=True).search,
            "mcp_session_limited": lambda: Mcp(server, tokens[session_limited], with_session=True).search,
            "mcp_rules": lambda: Mcp(server, tokens[ruled]).search,
            "ping": lambda: Mcp(server, tokens[plain], with_session=True).ping,
        }
        if install.major != "18":
            makers["json2"] = lambda: Json2(server, _api_key(server, install)).search
        for name in sorted(makers, key=list(VARIANTS).index):
            try:
                calls[name] = makers[name]()
            except Exception as error:  # noqa: BLE001
                failures[name] = f"{type(error).__name__}: {str(error)[:300]}"
        anonymous_http, userinfo_http = requests.Session(), requests.Session()
        calls["anonymous"] = lambda: anonymous_http.get(
            f"{server.url}/.well-known/oauth-protected-resource", timeout=60
        ).raise_for_status()
        calls["userinfo"] = lambda: userinfo_http.get(
            f"{server.url}/oauth/userinfo", headers={"Authorization": f"Bearer {tokens[plain]}"}, timeout=60
        ).raise_for_status()

        harness.say(f"bench: Odoo {version}: {ROUNDS} interleaved rounds of {len(calls) + 1} variants")
        attempt(result, failures, "latency", latencies, calls, server, failures)

        harness.say(f"bench: Odoo {version}: {CLIENTS} clients, {THROUGHPUT_SECONDS:g} s phases")
        result["memory_before"] = worker_memory(server)
        attempt(
            result,
            failures,
            "throughput",
            throughput,
            {
                "jsonrpc": makers["jsonrpc"],
                "mcp": makers["mcp"],
                "mcp_limited": lambda: Mcp(server, tokens[leased]).search,
            },
        )
        result["memory_after"] = worker_memory(server)

        harness.say(f"bench: Odoo {version}: token endpoint")
        attempt(result, failures, "token_endpoint", token_endpoint_rates, plain)
    except Exception as error:  # noqa: BLE001
        failures["set-up"] = f"{type(error).__name__}: {str(error)[:300]}"
        traceback.print_exc()
    finally:
        server.stop()
        result["odoo_errors"] = server.error_lines()[:5]
        pg.drop_database(server.database)
    return result


# --- report -----------------------------------------------------------------------------------


def ratio(latency, first, second):
    if first in latency and second in latency:
        return latency[first]["median_ms"] / latency[second]["median_ms"]
    return None


def verdict(value, bound, how):
    if value is None:
        return "n/a"
    met = {"<=": value <= bound, "<": value < bound, ">=": value >= bound}[how]
    return "PASS" if met else "MISS"


def summarize(result):
    """The goals with their verdicts, from a version's measurements."""
    latency = result.get("latency") or {}
    goals = []
    for label, (first, second), bound, how in GOALS:
        if second == "json2" and result["version"].startswith("18"):
            continue
        value = ratio(latency, first, second)
        bound_text = f"{how} {bound:g}"
        goals.append({"goal": label, "value": value, "bound": bound_text, "verdict": verdict(value, bound, how)})
    rates = result.get("throughput") or {}
    value = None
    if rates.get("jsonrpc", {}).get("calls_per_second") and "mcp" in rates:
        value = rates["mcp"]["calls_per_second"] / rates["jsonrpc"]["calls_per_second"]
    goals.append(
        {
            "goal": f"throughput, {CLIENTS} clients, {WORKERS} workers: MCP / session JSON-RPC",
            "value": value,
            "bound": f">= {THROUGHPUT_GOAL:g}",
            "verdict": verdict(value, THROUGHPUT_GOAL, ">="),
        }
    )
    return goals


def report(result):
    version = result["version"]
    latency = result.get("latency") or {}
    if not latency and not result.get("throughput"):
        print(f"\n== Odoo {version}: nothing measured ==")
        for name, error in result["failures"].items():
            print(f"FAILED {name}: {error}")
        return
    print(
        f"\n== Odoo {version}: search_records, {LIMIT} partners x {len(FIELDS)} fields (of {PARTNERS:,}), "
        f"{WORKERS} workers, {os.cpu_count()} CPU cores, {ROUNDS} interleaved rounds =="
    )
    print(f"{'variant':<52} {'median':>9} {'p95':>9} {'x session JSON-RPC':>19}")
    for name, label in VARIANTS.items():
        if name == "json2" and version.startswith("18"):
            continue
        if name in latency:
            row = latency[name]
            relative = ratio(latency, name, "jsonrpc")
            shown = f"{relative:.2f}x" if relative is not None else "n/a"
            print(f"{label:<52} {row['median_ms']:>6.2f} ms {row['p95_ms']:>6.2f} ms {shown:>19}")
        else:
            print(f"{label:<52} {'FAILED: ' + result['failures'].get(name, 'not measured')}")
    print(f"\n{'goal':<70} {'value':>7} {'goal':>7}  verdict")
    for goal in result["goals"]:
        value = f"{goal['value']:.2f}" if goal["value"] is not None else "n/a"
        print(f"{goal['goal']:<70} {value:>7} {goal['bound']:>7}  {goal['verdict']}")
    rates = result.get("throughput") or {}
    if rates:
        phases = f"{THROUGHPUT_REPEATS} x {THROUGHPUT_SECONDS:g} s each"
        print(f"\nthroughput, {CLIENTS} clients on {WORKERS} workers ({phases}):")
        for name, row in rates.items():
            errors = f", {row['errors']} errors ({row['first_error']})" if row["errors"] else ""
            label = THROUGHPUT_LABELS.get(name, VARIANTS[name])
            print(f"  {label:<50} {row['calls_per_second']:>7.0f} calls/s{errors}")
    tokens = result.get("token_endpoint")
    if tokens:
        print(
            f"token endpoint, 8 clients: {tokens['exchanges_per_second']:.0f} code exchanges/s, "
            f"{tokens['refreshes_per_second']:.0f} refreshes/s"
        )
    before, after = result.get("memory_before") or {}, result.get("memory_after") or {}
    for pid in sorted(set(before) & set(after)):
        print(f"worker {pid}: {before[pid]:.0f} MiB before the throughput runs, {after[pid]:.0f} MiB after")
    print(f"Odoo {version} measured in {result.get('seconds', 0)} s")
    for name, error in result["failures"].items():
        print(f"FAILED {name}: {error}")
    if result.get("odoo_errors"):
        print(f"Odoo logged errors; first: {result['odoo_errors'][0]}")


def git_commit():
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "odoo_addon") else "")


def write_results(results):
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "cpu_cores": os.cpu_count(),
        "settings": {
            "partners": PARTNERS,
            "limit": LIMIT,
            "fields": FIELDS,
            "workers": WORKERS,
            "rounds": ROUNDS,
            "clients": CLIENTS,
            "throughput_seconds": THROUGHPUT_SECONDS,
            "throughput_repeats": THROUGHPUT_REPEATS,
            "rate_limit_default": RATE_LIMIT_DEFAULT,
            "rate_limit_on": RATE_LIMIT_ON,
            "model_rules": RULES,
        },
        "labels": VARIANTS,
        "versions": results,
    }
    RESULTS.write_text(json.dumps(document, indent=2, default=str))


def main():
    versions = harness.selected_versions()
    pg = harness.PgCluster()
    pg.start()
    results = {}
    try:
        for version in versions:
            started = time.monotonic()
            try:
                result = bench_version(version, pg)
            except Exception as error:  # noqa: BLE001 (a version that cannot run leaves the others' results)
                traceback.print_exc()
                result = {"version": version, "failures": {"version": f"{type(error).__name__}: {str(error)[:300]}"}}
            result["seconds"] = round(time.monotonic() - started)
            result["goals"] = summarize(result)
            results[version] = result
            write_results(results)
    finally:
        pg.release()
    for result in results.values():
        report(result)
    print(f"\nResults: {RESULTS.relative_to(ROOT)} (commit {git_commit()})")
    return 1 if any(result["failures"] or result.get("odoo_errors") for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
