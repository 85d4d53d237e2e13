"""`make load`: 16 and 64 concurrent AI-tool sessions against Odoo in prefork mode.

Each session signs in with OAuth, makes 200 tool calls (searches, whoami, creates) and, halfway,
refreshes its token twice at once. Prints throughput and latency, and fails on any 5xx, lost or
duplicated write, surfaced serialization error or failed concurrent refresh.

Then one user fires 1,100 calls from 8 threads at a connection limited to 1,000 a minute, which
the workers lease 10 at a time: fails if they admit more than the limit, or fewer than
``1,000 - workers x 9``.

Odoo's prefork server listens with a backlog of 8 connections per worker; connections beyond it
are dropped by the kernel and the client waits for TCP retransmissions (seconds, then a minute).
Each run therefore has at least one worker per 4 tools (each tool has up to two requests in
flight when it races its refreshes), and never fewer than 4.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402

from tests.e2e import load  # noqa: E402

SIZES = [int(n) for n in os.environ.get("LOAD_CLIENTS", "16 64").split()]
CALLS = int(os.environ.get("LOAD_CALLS", "200"))
RATE_LIMIT, RATE_BLOCK, RATE_CALLS = 1000, 10, 1100


def workers_for(clients):
    return max(4, -(-2 * clients // 8))


def main():
    version = os.environ.get("ODOO_VERSION", "18.0")
    install = harness.OdooInstall.locate(version)
    harness.install_wheel(install)
    pg = harness.PgCluster()
    pg.start()
    server = harness.OdooServer(install, pg, f"mcp_load_{install.major}")
    failures = []
    rows = []
    try:
        server.init_database(fresh=True)
        for clients in SIZES:
            workers = workers_for(clients)
            server.extra_args = [f"--workers={workers}", f"--gevent-port={harness.free_port()}"]
            server.start()
            try:
                harness.say(f"load: {clients} clients x {CALLS} calls on Odoo {version} ({workers} workers)")
                stats, wrong = load.run(server, clients, CALLS)
                burst = load.rate_limit_burst(server, RATE_LIMIT, RATE_CALLS)
            finally:
                server.stop()
            admitted = "crossed a minute" if burst.crossed_a_window else burst.admitted
            rows.append({"workers": workers, **stats.summary(), "admitted_of_1100_at_1000": admitted})
            failures += [f"{clients} clients: {problem}" for problem in load.require_clean(stats, wrong)]
            if not burst.crossed_a_window and not burst.held(workers, RATE_BLOCK):
                failures.append(f"{clients} clients: {burst.admitted} of {RATE_CALLS} calls admitted at {RATE_LIMIT}")
            errors = server.error_lines()
            if errors:
                failures.append(f"{clients} clients: Odoo logged {len(errors)} errors, first: {errors[0]}")
    finally:
        server.stop()
        pg.drop_database(server.database)
        pg.release()
    columns = [
        "clients",
        "workers",
        "calls",
        "seconds",
        "calls_per_second",
        "p50_ms",
        "p95_ms",
        "http_5xx",
        "internal_errors",
        "refresh_failures",
        "admitted_of_1100_at_1000",
    ]
    print("\n" + " | ".join(columns))
    for row in rows:
        print(" | ".join(str(row[c]) for c in columns))
    if not failures:
        print(f"\nOdoo {version}, {os.cpu_count()} CPU cores: no 5xx, no error reaching a client, no lost write")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
