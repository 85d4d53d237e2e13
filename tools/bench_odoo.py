"""`make bench` (Odoo part): MCP Connect against Odoo's own RPC and against mcp-server-odoo, in one run.

For each Odoo version: one database with 1,000 partners, served by Odoo with 4 prefork
workers. Every figure below is measured in this run on this machine:

- ``search_records`` on res.partner (80 records, 5 fields) through /api/mcp with a bearer
  token, against the same search_read through Odoo's own RPC (/json/2 with an API key on
  19.0, /web/dataset/call_kw with a session on 18.0), and through mcp-server-odoo (PyPI,
  XML-RPC to Odoo): ratios of medians, calls interleaved to cancel drift;
- the token endpoint: authorization-code exchanges and refreshes per second (8 clients);
- the cost of bearer validation and of the audit row per request;
- the memory of each worker before and after 10,000 MCP calls.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import harness  # noqa: E402
import requests  # noqa: E402
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

from tests.e2e.helpers import Browser, OAuthClient, OdooAdmin  # noqa: E402

FIELDS = ["name", "email", "phone", "city", "country_id"]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
MEMORY_CALLS = int(os.environ.get("BENCH_MEMORY_CALLS", "10000"))


def median_ms(samples):
    return statistics.median(samples) * 1000


def timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


class McpEndpoint:
    def __init__(self, server, token):
        self.session = requests.Session()
        self.url = f"{server.url}/api/mcp"
        self.token = token

    def call(self, method, params, name=None):
        params = {
            **params,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        }
        headers = {"Authorization": f"Bearer {self.token}", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method}
        if name:
            headers["Mcp-Name"] = name
        response = self.session.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, headers=headers, timeout=60
        )
        response.raise_for_status()
        result = response.json()["result"]
        assert not result.get("isError"), result
        return result

    def search(self):
        result = self.call(
            "tools/call",
            {
                "name": "search_records",
                "arguments": {"model": "res.partner", "fields": FIELDS, "limit": 80, "order": "id"},
            },
            name="search_records",
        )
        assert len(result["structuredContent"]["records"]) == 80


class NativeRpc:
    """Odoo's own RPC as a script would use it."""

    def __init__(self, server, install, admin):
        self.session = requests.Session()
        self.server = server
        if install.major == "19":
            self.kind = "/json/2 with an API key"
            self.key = _api_key(server, install)
            self.url = f"{server.url}/json/2/res.partner/search_read"
        else:
            self.kind = "/web/dataset/call_kw with a session"
            self.session.cookies.update(admin.session.cookies)
            self.url = f"{server.url}/web/dataset/call_kw/res.partner/search_read"

    def search(self):
        if hasattr(self, "key"):
            response = self.session.post(
                self.url,
                json={"domain": [], "fields": FIELDS, "limit": 80, "order": "id"},
                headers={"Authorization": f"bearer {self.key}"},
                timeout=60,
            )
            rows = response.json()
        else:
            response = self.session.post(
                self.url,
                json={
                    "jsonrpc": "2.0",
                    "params": {
                        "model": "res.partner",
                        "method": "search_read",
                        "args": [],
                        "kwargs": {"domain": [], "fields": FIELDS, "limit": 80, "order": "id"},
                    },
                },
                timeout=60,
            )
            rows = response.json()["result"]
        assert len(rows) == 80, response.text[:300]


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


def compare(first, second, rounds=ROUNDS):
    """Interleaved medians of two callables (seconds)."""
    for _ in range(20):
        first()
        second()
    a, b = [], []
    for _ in range(rounds):
        a.append(timed(first))
        b.append(timed(second))
    return median_ms(a), median_ms(b)


def mcp_server_odoo_median(server, rounds):
    """The same search through mcp-server-odoo (stdio, its own XML-RPC calls to Odoo)."""
    env = {
        **os.environ,
        "ODOO_URL": server.url,
        "ODOO_DB": server.database,
        "ODOO_USER": "admin",
        "ODOO_PASSWORD": "admin",
        "ODOO_YOLO": "read",
        "ODOO_MCP_LOG_LEVEL": "WARNING",
    }
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server_odoo"], env=env)

    async def measure():
        async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            arguments = {"model": "res.partner", "fields": FIELDS, "limit": 80, "order": "id"}
            samples = []
            for number in range(rounds + 20):
                started = time.perf_counter()
                result = await session.call_tool("search_records", arguments)
                elapsed = time.perf_counter() - started
                assert not result.is_error, result.content
                if number >= 20:
                    samples.append(elapsed)
            return median_ms(samples)

    return anyio.run(measure)


def token_endpoint_rates(server, client):
    """Exchanges and refreshes per second, 8 clients at once."""
    codes = []
    browser = Browser()
    for _ in range(160):
        codes.append(client.authorize_code(browser))
    refresh_tokens = []
    lock = threading.Lock()

    def exchange(batch):
        session = requests.Session()
        for code, verifier in batch:
            response = client.exchange(code, verifier, session)
            assert response.status_code == 200, response.text
            with lock:
                refresh_tokens.append(response.json()["refresh_token"])

    def refresh(token, count=20):
        session = requests.Session()
        for _ in range(count):
            response = client.refresh(token, session)
            assert response.status_code == 200, response.text
            token = response.json()["refresh_token"]

    exchanges_per_second = len(codes) / _parallel(exchange, [codes[i::8] for i in range(8)])
    refreshes_per_second = 8 * 20 / _parallel(refresh, refresh_tokens[:8])
    return exchanges_per_second, refreshes_per_second


def _parallel(function, arguments):
    threads = [threading.Thread(target=function, args=(argument,)) for argument in arguments]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def validation_costs(server, token, rounds=ROUNDS):
    """Median latency: an unauthenticated route, the same with bearer validation, and an MCP request
    (bearer validation plus its audit row)."""
    session = requests.Session()
    bearer = {"Authorization": f"Bearer {token}"}
    session_id = session.post(
        f"{server.url}/api/mcp",
        headers=bearer,
        json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}},
        timeout=60,
    ).headers["Mcp-Session-Id"]

    def anonymous():
        session.get(f"{server.url}/.well-known/oauth-protected-resource", timeout=60).raise_for_status()

    def userinfo():
        session.get(f"{server.url}/oauth/userinfo", headers=bearer, timeout=60).raise_for_status()

    def ping():
        session.post(
            f"{server.url}/api/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={**bearer, "Mcp-Session-Id": session_id, "MCP-Protocol-Version": "2025-11-25"},
            timeout=60,
        ).raise_for_status()

    samples = {name: [] for name in ("anonymous", "userinfo", "ping")}
    for _ in range(20):
        anonymous(), userinfo(), ping()
    for _ in range(rounds):
        samples["anonymous"].append(timed(anonymous))
        samples["userinfo"].append(timed(userinfo))
        samples["ping"].append(timed(ping))
    return {name: median_ms(values) for name, values in samples.items()}


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


def memory_growth(server, endpoint, calls=MEMORY_CALLS):
    for _ in range(400):
        endpoint.search()
    before = worker_memory(server)

    def hammer(count):
        mine = McpEndpoint(server, endpoint.token)
        for _ in range(count):
            mine.search()

    _parallel(hammer, [calls // 8] * 8)
    after = worker_memory(server)
    return before, after


def bench_version(version, pg):
    install = harness.OdooInstall.locate(version)
    harness.install_wheel(install)
    server = harness.OdooServer(
        install,
        pg,
        f"mcp_bench_{install.major}",
        extra_args=[
            "--workers=4",
            f"--gevent-port={harness.free_port()}",
            "--limit-memory-soft=4294967296",
            "--limit-memory-hard=5368709120",
        ],
    )
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
                    for n in range(1000)
                ]
            ],
        )
        client = OAuthClient(server, name="bench")
        token = client.sign_in(Browser())["access_token"]
        endpoint = McpEndpoint(server, token)
        native = NativeRpc(server, install, admin)
        ours, theirs = compare(endpoint.search, native.search)
        alternative = mcp_server_odoo_median(server, rounds=min(ROUNDS, 100))
        exchanges, refreshes = token_endpoint_rates(server, client)
        costs = validation_costs(server, token)
        before, after = memory_growth(server, endpoint)
        errors = server.error_lines()
        return {
            "version": version,
            "native_kind": native.kind,
            "mcp_ms": ours,
            "native_ms": theirs,
            "alternative_ms": alternative,
            "exchanges": exchanges,
            "refreshes": refreshes,
            "costs": costs,
            "memory_before": before,
            "memory_after": after,
            "errors": errors,
        }
    finally:
        server.stop()
        pg.drop_database(server.database)


def report(result):
    costs = result["costs"]
    print(f"\n== Odoo {result['version']}: 1,000 partners, 4 workers, {os.cpu_count()} CPU cores ==")
    print(f"{'measure':<62} {'value':>12}")
    rows = [
        ("search_records via /api/mcp, median (80 records, 5 fields)", f"{result['mcp_ms']:.2f} ms"),
        (f"same search_read via {result['native_kind']}", f"{result['native_ms']:.2f} ms"),
        ("  ratio MCP Connect / Odoo RPC (goal <= 1.15)", f"{result['mcp_ms'] / result['native_ms']:.2f}"),
        ("same search through mcp-server-odoo 0.9.0 (stdio, XML-RPC)", f"{result['alternative_ms']:.2f} ms"),
        ("  ratio mcp-server-odoo / MCP Connect", f"{result['alternative_ms'] / result['mcp_ms']:.2f}"),
        ("authorization-code exchanges per second (8 clients)", f"{result['exchanges']:.0f}/s"),
        ("refreshes per second (8 clients)", f"{result['refreshes']:.0f}/s"),
        ("unauthenticated metadata request, median", f"{costs['anonymous']:.2f} ms"),
        ("bearer-authenticated userinfo, median", f"{costs['userinfo']:.2f} ms"),
        ("  bearer validation cost", f"{costs['userinfo'] - costs['anonymous']:.2f} ms"),
        ("MCP ping (bearer + session + audit row), median", f"{costs['ping']:.2f} ms"),
        ("  audit row and JSON-RPC framing", f"{costs['ping'] - costs['userinfo']:.2f} ms"),
    ]
    for label, value in rows:
        print(f"{label:<62} {value:>12}")
    before, after = result["memory_before"], result["memory_after"]
    for pid in sorted(set(before) & set(after)):
        print(
            f"worker {pid}: {before[pid]:.0f} MiB before, {after[pid]:.0f} MiB after {MEMORY_CALLS // len(before)}"
            f"+ calls ({after[pid] - before[pid]:+.1f} MiB)"
        )
    if result["errors"]:
        print(f"Odoo logged {len(result['errors'])} errors; first: {result['errors'][0]}")


def main():
    versions = os.environ.get("ODOO_VERSIONS", " ".join(harness.VERSIONS)).split()
    pg = harness.PgCluster()
    pg.start()
    failed = False
    try:
        for version in versions:
            result = bench_version(version, pg)
            report(result)
            failed = failed or bool(result["errors"])
    finally:
        pg.release()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
