"""Load: N concurrent AI-tool sessions against one Odoo, each signing in with OAuth and making tool calls.

Checked, not just measured: no 5xx, no lost or duplicated write (every create_records lands
exactly once), no serialization failure surfacing to a client (Odoo retries them), and
concurrent refreshes of one refresh token inside the grace window all succeed.
"""

import secrets
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from .helpers import Browser, OAuthClient, OdooAdmin, connection_of, mcp_call


@dataclass
class Stats:
    clients: int
    calls_per_client: int
    latencies: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    tool_errors: int = 0
    internal_errors: int = 0
    refresh_failures: int = 0
    creates: int = 0
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, latency, status):
        with self.lock:
            self.latencies.append(latency)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def server_errors(self):
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def percentile(self, fraction):
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def summary(self):
        total = len(self.latencies)
        return {
            "clients": self.clients,
            "calls": total,
            "seconds": round(self.elapsed, 1),
            "calls_per_second": round(total / self.elapsed, 1) if self.elapsed else 0,
            "p50_ms": round(statistics.median(self.latencies) * 1000, 1),
            "p95_ms": round(self.percentile(0.95), 1),
            "http_5xx": self.server_errors,
            "tool_errors": self.tool_errors,
            "internal_errors": self.internal_errors,
            "refresh_failures": self.refresh_failures,
        }


def _session(server, client, stats, calls, tag, tokens):
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    for number in range(calls):
        if number == calls // 2:
            # A client that lost a refresh answer retries concurrently: both must succeed in the grace window.
            results = []

            def race(token=refresh, answers=results):
                answers.append(client.refresh(token))

            racers = [threading.Thread(target=race) for _ in range(2)]
            for racer in racers:
                racer.start()
            for racer in racers:
                racer.join()
            if any(r.status_code != 200 for r in results):
                with stats.lock:
                    stats.refresh_failures += 1
            access, refresh = results[0].json()["access_token"], results[0].json()["refresh_token"]
        if number % 10 == 0:
            name, arguments = "create_records", {"model": "res.partner", "values": {"name": f"{tag}-{number}"}}
        elif number % 3 == 0:
            name, arguments = "whoami", {}
        else:
            name, arguments = "search_records", {"model": "res.partner", "limit": 20, "fields": ["name", "email"]}
        started = time.perf_counter()
        response = mcp_call(server, access, "tools/call", {"name": name, "arguments": arguments})
        stats.record(time.perf_counter() - started, response.status_code)
        if response.status_code != 200:
            continue
        body = response.json()
        if "error" in body:
            with stats.lock:
                stats.internal_errors += 1
        elif body["result"].get("isError"):
            with stats.lock:
                stats.tool_errors += 1
        elif name == "create_records":
            # A write held for a manager's approval is not a write: only the ids of created records count.
            created = "ids" in (body["result"].get("structuredContent") or {})
            with stats.lock:
                if created:
                    stats.creates += 1
                else:
                    stats.tool_errors += 1


def run(server, clients, calls):
    """Run the load and check the writes; returns ``(stats, lost_or_duplicated)``."""
    admin = OdooAdmin(server)
    admin.set_param("mcp_connect.default_rate_limit", "0")
    client = OAuthClient(server, name=f"load {clients}x{calls}")
    stats = Stats(clients, calls)
    run_tag = f"load-{secrets.token_hex(4)}"
    with ThreadPoolExecutor(max_workers=clients) as pool:
        # Every session signs in at once (the same user consenting to the same tool concurrently),
        # then all make their calls. A failing thread raises here instead of hanging the run.
        signed_in = list(pool.map(lambda _: client.sign_in(Browser()), range(clients)))
        # The product's default template holds every write for a manager's approval: the load's
        # tool is one an administrator trusts with writes, as the end-to-end template does.
        admin.call("mcp.connection", "write", [connection_of(admin, client), {"approval_tool_ids": [(5, 0, 0)]}])
        started = time.perf_counter()
        futures = [
            pool.submit(_session, server, client, stats, calls, f"{run_tag}-{n}", tokens)
            for n, tokens in enumerate(signed_in)
        ]
        for future in futures:
            future.result()
        stats.elapsed = time.perf_counter() - started
    names = admin.call("res.partner", "search_read", [[["name", "=like", f"{run_tag}-%"]], ["name"]])
    expected = {f"{run_tag}-{n}-{i}" for n in range(clients) for i in range(0, calls, 10)}
    found = [row["name"] for row in names]
    wrong = len(expected.symmetric_difference(found)) + (len(found) - len(set(found)))
    return stats, wrong


def require_clean(stats, wrong):
    summary = stats.summary()
    problems = []
    if summary["http_5xx"]:
        problems.append(f"{summary['http_5xx']} responses were 5xx")
    if summary["internal_errors"] or summary["tool_errors"]:
        problems.append(f"{summary['internal_errors']} JSON-RPC errors and {summary['tool_errors']} failed tools")
    if summary["refresh_failures"]:
        problems.append(f"{summary['refresh_failures']} concurrent refreshes failed inside the grace window")
    if wrong:
        problems.append(f"{wrong} writes were lost or duplicated")
    non_ok = {status: count for status, count in stats.statuses.items() if status != 200}
    if non_ok:
        problems.append(f"unexpected statuses {non_ok}")
    return problems


@dataclass
class Burst:
    limit: int
    calls: int
    statuses: list = field(default_factory=list)
    retry_after: list = field(default_factory=list)
    crossed_a_window: bool = False

    @property
    def admitted(self):
        return self.statuses.count(200)

    @property
    def refused(self):
        return self.statuses.count(429)

    def held(self, workers, block):
        """Whether every call was admitted or refused, the workers admitted no more than the limit,
        and refused at most ``workers x (block - 1)`` calls early (what each may hold leased)."""
        return (
            self.admitted + self.refused == self.calls
            and self.limit - workers * (block - 1) <= self.admitted <= self.limit
        )


def rate_limit_burst(server, limit, calls, threads=8):
    """``calls`` tools/list from ``threads`` client threads, inside one one-minute window, by one
    user of a connection limited to ``limit`` calls a minute: how many the workers together admit."""
    admin = OdooAdmin(server)
    client = OAuthClient(server, name=f"rate limit {limit}")
    token = client.sign_in(Browser())["access_token"]
    admin.call("mcp.connection", "write", [connection_of(admin, client), {"rate_limit": limit}])
    burst = Burst(limit, calls)
    lock = threading.Lock()

    def fire(count):
        with requests.Session() as session:
            for _call in range(count):
                response = mcp_call(server, token, "tools/list", session=session)
                with lock:
                    burst.statuses.append(response.status_code)
                    if response.status_code == 429:
                        burst.retry_after.append(response.headers.get("Retry-After"))

    if time.time() % 60 > 40:
        time.sleep(61 - time.time() % 60)
    window = time.time() // 60
    with ThreadPoolExecutor(max_workers=threads) as pool:
        shares = [calls // threads + (n < calls % threads) for n in range(threads)]
        for future in [pool.submit(fire, share) for share in shares]:
            future.result()
    burst.crossed_a_window = time.time() // 60 != window
    return burst
