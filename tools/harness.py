"""Test and demo harness: a PostgreSQL cluster under the checkout, and Odoo 18.0/19.0 runners.

Used by the Makefile (``python tools/harness.py <command>``) and imported by the
end-to-end tests. Standard library only, so it runs before any virtualenv exists.

Every server it starts listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import provision

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".run"
ADDONS = ROOT / "odoo_addon"
MODULE = "mcp_connect"
# The example of an addon that declares its own tool: installed beside the addon for its tests.
EXAMPLE_MODULE = "mcp_connect_example"
PG_BIN_CANDIDATES = [
    Path("/usr/lib/postgresql/15/bin"),
    Path("/usr/lib/postgresql/16/bin"),
    Path("/usr/lib/postgresql/17/bin"),
]
DB_USER = "odoo"
VERSIONS = ("18.0", "19.0")
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>\S+): (?P<msg>.*)"
)
REPORT = re.compile(r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<tests>\d+) tests when loading database")


class HarnessError(RuntimeError):
    """A set-up problem with a message that says what to do."""


def say(message: str) -> None:
    print(f"[harness] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_root() -> bool:
    return os.geteuid() == 0


# --- PostgreSQL ---------------------------------------------------------------------


def pg_bin() -> Path:
    configured = os.environ.get("PG_BIN")
    candidates = [Path(configured)] if configured else PG_BIN_CANDIDATES
    for candidate in candidates:
        if (candidate / "initdb").exists():
            return candidate
    raise HarnessError(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found in "
        + ", ".join(str(c) for c in candidates)
        + ". Install Debian's postgresql-15 or set PG_BIN to the directory holding initdb."
    )


class PgCluster:
    """A throw-away cluster in .run/pg, owned by the postgres user when run as root."""

    def __init__(self, base: Path | None = None):
        self.base = base or RUN / "pg"
        self.data = self.base / "data"
        self.socket_dir = self.base / "socket"
        self.port_file = self.base / "port"
        self.log = self.base / "postgres.log"
        self.started_here = False

    def _as_owner(self, argv: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root.
        if is_root():
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv

    def _run(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(self._as_owner(argv), check=True, capture_output=True, text=True, **kwargs)

    @property
    def port(self) -> int:
        return int(self.port_file.read_text())

    def running(self) -> bool:
        if not (self.data / "postmaster.pid").exists() or not self.port_file.exists():
            return False
        result = subprocess.run(
            [str(pg_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"], check=False
        )
        return result.returncode == 0

    def start(self) -> int:
        """Start the cluster unless it already runs (a demo, another make target): then share it."""
        binaries = pg_bin()
        if self.running():
            return self.port
        self.base.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if is_root():
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
            probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(self.base)], check=False)
            if probe.returncode != 0:
                raise HarnessError(
                    f"the postgres user cannot write to {self.base}; every parent directory of the "
                    "checkout must be traversable by it (chmod o+x)."
                )
        if not (self.data / "PG_VERSION").exists():
            say(f"initdb {self.data}")
            self._run(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        port = free_port()
        self.port_file.write_text(str(port))
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {self.socket_dir} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "start",
            ]
        )
        self.started_here = True
        self._ensure_role()
        say(f"PostgreSQL on 127.0.0.1:{port}")
        return port

    def _ensure_role(self) -> None:
        exists = self.psql("SELECT 1 FROM pg_roles WHERE rolname = :'role'", user="postgres", role=DB_USER)
        if exists.strip() != "1":
            # Odoo refuses to connect as 'postgres'; trust authentication is limited to 127.0.0.1.
            self.psql('CREATE ROLE :"role" LOGIN CREATEDB', user="postgres", role=DB_USER)

    def psql(self, sql: str, database: str = "postgres", user: str = DB_USER, **variables: str) -> str:
        """Run one statement; ``:'name'`` and ``:"name"`` in it are quoted by psql from ``variables``."""
        argv = [
            str(pg_bin() / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            user,
            "-d",
            database,
            "-X",
            "-tAq",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        for name, value in variables.items():
            argv += ["-v", f"{name}={value}"]
        result = subprocess.run(argv, input=sql + ";\n", check=True, capture_output=True, text=True)
        return result.stdout

    def drop_database(self, name: str) -> None:
        self.psql('DROP DATABASE IF EXISTS :"name" WITH (FORCE)', name=name)

    def copy_database(self, template: str, name: str) -> None:
        """``name``, a new copy of the database ``template`` and of its files (filestore)."""
        self.drop_database(name)
        self.psql('CREATE DATABASE :"name" TEMPLATE :"template"', name=name, template=template)
        source = RUN / "filestore" / "filestore" / template
        if source.is_dir():
            shutil.copytree(source, RUN / "filestore" / "filestore" / name, dirs_exist_ok=True)

    def database_exists(self, name: str) -> bool:
        return self.psql("SELECT 1 FROM pg_database WHERE datname = :'name'", name=name).strip() == "1"

    def release(self) -> None:
        """Stop the cluster if this process started it; leave a shared one running."""
        if self.started_here:
            self.stop()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
            say("PostgreSQL stopped")


# --- Odoo ---------------------------------------------------------------------------


@dataclass
class OdooInstall:
    version: str
    path: Path
    python: Path

    @property
    def major(self) -> str:
        return self.version.split(".")[0]

    @classmethod
    def locate(cls, version: str) -> OdooInstall:
        major = version.split(".")[0]
        path_var, python_var = f"ODOO{major}_PATH", f"ODOO{major}_PYTHON"
        path = Path(os.environ.get(path_var) or f"/opt/odoo/{version}")
        python = Path(os.environ.get(python_var) or f"/opt/odoo/venv{major}/bin/python")
        # No Odoo configured (no ODOO<major>_PATH, nothing at the default): `make odoo` provisions
        # one under .odoo/, from ODOO_SOURCE_<major> or the official repository. A source named
        # explicitly, or one provisioned before, wins over the default location.
        named = os.environ.get(f"ODOO_SOURCE_{major}") or provision.is_provisioned(version)
        if not os.environ.get(path_var) and (named or not (path / "odoo" / "release.py").exists()):
            try:
                path, provisioned_python = provision.provision(version)
            except provision.ProvisionError as error:
                raise HarnessError(
                    f"Odoo {version} is not configured and could not be provisioned: {error} Set {path_var} and "
                    f"{python_var} to an installed Odoo {version}, or ODOO_SOURCE_{major} to its source "
                    "(see README.rst, Prerequisites)."
                ) from None
            python = Path(os.environ.get(python_var) or provisioned_python)
        release = path / "odoo" / "release.py"
        if not release.exists():
            raise HarnessError(
                f"Odoo {version} was not found: {release} does not exist. Set {path_var} to an Odoo "
                f"{version} source tree (the directory that contains the 'odoo' package) and {python_var} "
                f"to a Python that has its requirements installed (see README.rst, Prerequisites)."
            )
        found = re.search(r"^version_info = \((\d+), (\d+)", release.read_text(), re.M)
        if not found or f"{found.group(1)}.{found.group(2)}" != version:
            raise HarnessError(f"{path} is not Odoo {version} (its odoo/release.py says otherwise); fix {path_var}.")
        if not os.access(python, os.X_OK):
            raise HarnessError(
                f"No Python for Odoo {version} at {python}. Set {python_var} to the interpreter of a "
                f"virtualenv that has Odoo {version}'s requirements installed."
            )
        # setuptools 81 dropped pkg_resources: Odoo's gevent process (started with --workers)
        # then dies at import and is restarted without end, and the tests that need it hang.
        probe = subprocess.run(
            [str(python), "-W", "ignore", "-c", "import pkg_resources"], capture_output=True, text=True, check=False
        )
        if probe.returncode != 0:
            raise HarnessError(
                f"{python} cannot import pkg_resources (setuptools 81 or later, or none): Odoo {version}'s "
                f"gevent process would not start. Run: {python} -m pip install 'setuptools>=70,<81'"
            )
        return cls(version, path, python)

    def launcher(self) -> list[str]:
        odoo_bin = self.path / "odoo-bin"
        if odoo_bin.exists():
            return [str(self.python), str(odoo_bin)]
        # Source distributions (19.0 here) ship setup/odoo, which imports odoo from sys.path.
        return [str(self.python), str(self.path / "setup" / "odoo")]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.path), env.get("PYTHONPATH")]))
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def addons_path(self, extra: tuple[Path, ...] = ()) -> str:
        paths = [self.path / "addons", self.path / "odoo" / "addons", ADDONS, *extra]
        return ",".join(str(p) for p in paths if p.is_dir())

    def demo_flags(self, with_demo: bool) -> list[str]:
        # 18.0 loads demo data unless told not to; 19.0 only when asked.
        if self.major == "18":
            return [] if with_demo else ["--without-demo=all"]
        return ["--with-demo"] if with_demo else []

    def base_args(
        self,
        pg: PgCluster,
        database: str | None,
        http_port: int,
        db_filter: str | None = None,
        extra_addons: tuple[Path, ...] = (),
    ) -> list[str]:
        # One database: --database alone exposes only it. A --db-filter would make Odoo list
        # the cluster's databases (a new PostgreSQL connection) on every request without a
        # session cookie, that is, on every MCP and API call.
        selection = [f"--database={database}"] if database else []
        if db_filter:
            selection = [f"--db-filter={db_filter}"]
        return [
            *self.launcher(),
            f"--addons-path={self.addons_path(extra_addons)}",
            "--db_host=127.0.0.1",
            f"--db_port={pg.port}",
            f"--db_user={DB_USER}",
            *selection,
            "--http-interface=127.0.0.1",
            f"--http-port={http_port}",
            f"--data-dir={RUN / 'filestore'}",
            "--no-database-list",
        ]


def wheel_path() -> Path:
    wheels = sorted((RUN / "wheel").glob("mcp_connect_core-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise HarnessError("no wheel in .run/wheel/: run 'make wheel' first")
    return wheels[-1]


def install_wheel(odoo: OdooInstall) -> None:
    """Install the freshly built wheel into Odoo's Python (skipped when unchanged)."""
    wheel = wheel_path()
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    stamp = RUN / f"wheel-installed-{odoo.version}"
    if stamp.exists() and stamp.read_text() == f"{odoo.python}:{digest}":
        return
    say(f"installing {wheel.name} into {odoo.python}")
    subprocess.run(
        [str(odoo.python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
    )
    RUN.mkdir(exist_ok=True)
    stamp.write_text(f"{odoo.python}:{digest}")


# Odoo's browser tours need these; without them Odoo would skip the tours silently.
TOUR_PYTHON_PACKAGES = ["websocket-client==1.9.0"]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def ensure_tour_dependencies(odoo: OdooInstall) -> None:
    """websocket-client in Odoo's Python, a Chromium and wkhtmltopdf on PATH (Debian's, installed when missing)."""
    probe = subprocess.run([str(odoo.python), "-c", "import websocket"], capture_output=True, check=False)
    if probe.returncode != 0:
        say(f"installing {', '.join(TOUR_PYTHON_PACKAGES)} into {odoo.python} (Odoo's browser tours need it)")
        subprocess.run([str(odoo.python), "-m", "pip", "install", "--quiet", *TOUR_PYTHON_PACKAGES], check=True)
    if not any(shutil.which(name) for name in BROWSERS):
        ensure_debian_package("chromium", "chromium", "Odoo's browser tours need Chromium")
    # print_report's tests render real PDFs.
    ensure_debian_package("wkhtmltopdf", "wkhtmltopdf", "Odoo renders PDF reports with wkhtmltopdf")


def ensure_debian_package(binary: str, package: str, why: str) -> str:
    """The path of ``binary``, installing Debian's ``package`` when missing (as root)."""
    found = shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if Path(p).exists()), None
    )
    if found:
        return found
    if not is_root() or not shutil.which("apt-get"):
        raise HarnessError(f"{why}: install Debian's '{package}' package (apt-get install {package}).")
    say(f"installing Debian's {package} ({why})")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return shutil.which(binary) or f"/usr/sbin/{binary}"


@dataclass
class TestReport:
    version: str
    tests: int
    failed: int
    errors: int
    error_lines: list[str]
    returncode: int
    log: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failed and not self.errors and not self.error_lines and self.tests > 0


def base_database(odoo: OdooInstall, pg: PgCluster, fresh: bool = True) -> str:
    """The name of a database with Odoo's ``base`` alone, without demo data, which the test
    databases start from: ``base`` is installed once per run and version, not once per database
    (the Odoo tests', the end-to-end template, the database where the addon is not installed).
    ``fresh=False`` keeps one a previous command of the run made."""
    name = f"mcp_base_{odoo.major}"
    if fresh or not pg.database_exists(name):
        pg.drop_database(name)
        server = OdooServer(odoo, pg, name)
        try:
            server._install(["base"], f"odoo-init-{name}.log", odoo.demo_flags(False))
        except HarnessError:
            pg.drop_database(name)
            raise
    return name


def prepare_base_databases(installs: list[OdooInstall], pg: PgCluster) -> None:
    """``base_database`` of each version, made side by side."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(installs)) as pool:
        list(pool.map(lambda odoo: base_database(odoo, pg), installs))


def run_odoo_tests(odoo: OdooInstall, pg: PgCluster, test_tags: str | None = None) -> TestReport:
    """Install the addon in a copy of ``base_database`` with --test-enable and collect the verdict."""
    database = f"mcp_test_{odoo.major}"
    pg.copy_database(base_database(odoo, pg, fresh=False), database)
    (RUN / "logs").mkdir(parents=True, exist_ok=True)
    log_path = RUN / "logs" / f"odoo-test-{odoo.version}.log"
    tags = test_tags or f"/{MODULE},/{EXAMPLE_MODULE}"
    python, launcher, *arguments = odoo.base_args(pg, database, free_port())
    argv = [
        python,
        str(ROOT / "tools" / "odoo_test_launcher.py"),
        launcher,
        *arguments,
        "-i",
        f"{MODULE},{EXAMPLE_MODULE}",
        "--test-enable",
        f"--test-tags={tags}",
        "--stop-after-init",
        "--log-level=test",
        "--max-cron-threads=0",
        *odoo.demo_flags(with_demo=False),
    ]
    say(f"Odoo {odoo.version}: installing {MODULE} and running its tests (log: {log_path.relative_to(ROOT)})")
    error_lines: list[str] = []
    tests = failed = errors = started = 0
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            argv, env=odoo.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=RUN
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            match = LOG_LINE.match(line)
            if match and match.group("level") in ("ERROR", "CRITICAL"):
                error_lines.append(line.rstrip())
                print(line.rstrip(), flush=True)
            elif match and match.group("msg").startswith("Starting ") and ".tests." in match.group("logger"):
                started += 1
                if started % 50 == 0:
                    print(f"  [{odoo.version}] {started} tests started", flush=True)
            elif not match and error_lines and line.strip():
                # continuation of an error (traceback)
                print(line.rstrip(), flush=True)
            report = REPORT.search(line)
            if report:
                tests, failed, errors = (int(report.group(k)) for k in ("tests", "failed", "errors"))
        returncode = proc.wait()
    pg.drop_database(database)
    return TestReport(odoo.version, tests, failed, errors, error_lines, returncode, log_path)


class OdooServer:
    """A running Odoo on 127.0.0.1 with the addon installed in its own database."""

    def __init__(
        self,
        odoo: OdooInstall,
        pg: PgCluster,
        database: str,
        port: int | None = None,
        extra_args: list[str] | None = None,
        with_demo: bool = False,
        db_filter: str | None = None,
        extra_addons: tuple[Path, ...] = (),
        environment: dict[str, str] | None = None,
    ):
        """``extra_addons``: more addons directories (test-only addons); ``environment``: more
        environment variables for the server process."""
        self.odoo = odoo
        self.pg = pg
        self.database = database
        self.port = port or free_port()
        self.extra_args = extra_args or []
        self.with_demo = with_demo
        # With a db_filter the server serves every matching database (multi-database set-ups).
        self.db_filter = db_filter
        self.extra_addons = tuple(extra_addons)
        self.environment = dict(environment or {})
        self.proc: subprocess.Popen | None = None
        self.log_path = RUN / "logs" / f"odoo-{database}-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def init_database(
        self,
        fresh: bool = True,
        config_parameters: dict[str, str] | None = None,
        template: str | None = None,
        base: str | None = None,
    ) -> None:
        """Create the database with the addon installed (no server left running).

        With ``template``, an existing installed database is copied instead (much faster). With
        ``base`` (``base_database``, no demo data), the addon is installed in a copy of it.
        """
        if fresh:
            self.pg.drop_database(self.database)
        elif self.pg.database_exists(self.database):
            return
        if template and self.pg.database_exists(template):
            self.pg.copy_database(template, self.database)
            self._configure(config_parameters)
            return
        if base:
            self.pg.copy_database(base, self.database)
        self._install([MODULE], f"odoo-init-{self.database}.log", self.odoo.demo_flags(self.with_demo))
        self._configure(config_parameters)

    def install_modules(self, modules: list[str]) -> None:
        """Install more modules in the (existing) database, with no server left running."""
        self._install(modules, f"odoo-install-{self.database}.log")

    def _install(self, modules: list[str], log_name: str, extra_args: list[str] | tuple = ()) -> None:
        """Run Odoo once to install ``modules``; fail on a non-zero exit or any logged error."""
        (RUN / "logs").mkdir(parents=True, exist_ok=True)
        argv = [
            *self.odoo.base_args(self.pg, self.database, free_port(), extra_addons=self.extra_addons),
            "-i",
            ",".join(modules),
            "--stop-after-init",
            "--max-cron-threads=0",
            *extra_args,
        ]
        log_path = RUN / "logs" / log_name
        with log_path.open("w") as log:
            result = subprocess.run(
                argv, env=self.odoo.env(), stdout=log, stderr=subprocess.STDOUT, check=False, cwd=RUN
            )
        if result.returncode != 0 or _has_errors(log_path):
            raise HarnessError(f"installing {', '.join(modules)} in {self.database} failed; see {log_path}")

    def _configure(self, config_parameters):
        parameters = {"web.base.url": self.url, "web.base.url.freeze": "True", **(config_parameters or {})}
        for key, value in parameters.items():
            self.set_parameter(key, value)

    def set_parameter(self, key: str, value: str) -> None:
        self.pg.psql(
            "INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date) "
            "VALUES (:'key', :'value', 1, 1, now() at time zone 'UTC', now() at time zone 'UTC') "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            database=self.database,
            key=key,
            value=value,
        )

    def start(self, timeout: float = 120) -> None:
        (RUN / "logs").mkdir(parents=True, exist_ok=True)
        database = None if self.db_filter else self.database
        argv = [
            *self.odoo.base_args(self.pg, database, self.port, self.db_filter, self.extra_addons),
            "--max-cron-threads=0",
            *self.extra_args,
        ]
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            argv,
            env={**self.odoo.env(), **self.environment},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=RUN,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"Odoo exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/web/health", timeout=5) as response:  # noqa: S310 (loopback)
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.stop()
        raise HarnessError(f"Odoo did not answer on {self.url} within {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def error_lines(self) -> list[str]:
        return _error_lines(self.log_path)


def _error_lines(log: Path) -> list[str]:
    if not log.exists():
        return []
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        match = LOG_LINE.match(line)
        if match and match.group("level") in ("ERROR", "CRITICAL"):
            lines.append(line)
    return lines


def _has_errors(log: Path) -> bool:
    return bool(_error_lines(log))


# --- commands -----------------------------------------------------------------------


def selected_versions() -> list[str]:
    chosen = os.environ.get("ODOO_VERSIONS", " ".join(VERSIONS)).split()
    unknown = [v for v in chosen if v not in VERSIONS]
    if unknown:
        raise HarnessError(f"ODOO_VERSIONS may name {', '.join(VERSIONS)}; got {', '.join(unknown)}")
    return chosen


def cmd_check(_args) -> int:
    for version in selected_versions():
        odoo = OdooInstall.locate(version)
        say(f"Odoo {version}: {odoo.path} with {odoo.python}")
    return 0


def cmd_odoo_test(args) -> int:
    installs = [OdooInstall.locate(v) for v in selected_versions()]
    pg = PgCluster()
    reports: list[TestReport] = []
    pg.start()
    try:
        for odoo in installs:
            install_wheel(odoo)
            ensure_tour_dependencies(odoo)
        if not getattr(args, "base_ready", False):
            prepare_base_databases(installs, pg)
        # The versions run side by side: each has its own database, port and log.
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(installs)) as pool:
            reports = list(pool.map(lambda odoo: run_odoo_tests(odoo, pg, args.test_tags), installs))
    finally:
        if not args.keep_pg:
            pg.release()
    RUN.mkdir(exist_ok=True)
    summary = {
        r.version: {
            "tests": r.tests,
            "failed": r.failed,
            "errors": r.errors,
            "error_lines": len(r.error_lines),
            "ok": r.ok,
        }
        for r in reports
    }
    (RUN / "odoo-test-summary.json").write_text(json.dumps(summary, indent=2))
    ok = True
    for report in reports:
        verdict = "ok" if report.ok else "FAILED"
        say(
            f"Odoo {report.version}: {report.tests} tests, {report.failed} failed, {report.errors} errors, "
            f"{len(report.error_lines)} ERROR/CRITICAL log lines: {verdict}"
        )
        if report.tests == 0:
            say(f"Odoo {report.version}: no test ran; see {report.log}")
        ok = ok and report.ok
    return 0 if ok else 1


def cmd_e2e(args) -> int:
    """The end-to-end tests, one pytest process per Odoo version, side by side.

    Each process starts its own servers and databases (named after the version) on the shared
    PostgreSQL cluster, started here first so that neither process owns it. Output goes to
    ``.run/results/e2e-<version>.log``, printed once both are done.
    """
    versions = selected_versions()
    installs = [OdooInstall.locate(version) for version in versions]
    pg = PgCluster()
    pg.start()
    if not getattr(args, "base_ready", False):
        prepare_base_databases(installs, pg)
    results = RUN / "results"
    results.mkdir(parents=True, exist_ok=True)
    for stale in results.glob("e2e-*"):
        stale.unlink()
    runs = []
    try:
        for version in versions:
            log = (results / f"e2e-{version}.log").open("w")
            argv = [sys.executable, "-m", "pytest", "-q", "tests/e2e", f"--junitxml={results / f'e2e-{version}.xml'}"]
            argv += args.pytest_args
            environment = {**os.environ, "ODOO_VERSIONS": version}
            say(f"end-to-end tests on Odoo {version} (log: {log.name})")
            process = subprocess.Popen(argv, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
            runs.append((version, process, log))
        codes = {version: process.wait() for version, process, _log in runs}
    finally:
        for _version, process, log in runs:
            if process.poll() is None:
                process.terminate()
                process.wait()
            log.close()
        pg.release()
    for version, _process, log in runs:
        print(f"\n--- end-to-end, Odoo {version} ---\n" + Path(log.name).read_text()[-6000:], flush=True)
    return 0 if all(code == 0 for code in codes.values()) else 1


def _junit_counts(path: Path) -> tuple[int, int, int] | None:
    if not path.exists():
        return None
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests, failed, skipped


def cmd_summary(_args) -> int:
    """Print what ran, with counts; fail if any suite did not run or ran nothing."""
    results = RUN / "results"
    rows: list[tuple[str, str]] = []
    ok = True
    rust_log = results / "rust.log"
    if rust_log.exists():
        text = rust_log.read_text()
        passed = sum(int(n) for n in re.findall(r"test result: \w+\. (\d+) passed", text))
        failed = sum(int(n) for n in re.findall(r"(\d+) failed", text))
        rows.append(("Rust (cargo test)", f"{passed} passed, {failed} failed"))
        ok = ok and passed > 0 and failed == 0
    else:
        rows.append(("Rust (cargo test)", "did not run"))
        ok = False
    suites = [("Protocol layers", "protocol.xml"), ("Project tools", "tools.xml"), ("Python binding", "binding.xml")]
    suites += [(f"End-to-end {version}", f"e2e-{version}.xml") for version in selected_versions()]
    for label, name in suites:
        counts = _junit_counts(results / name)
        if counts is None:
            rows.append((label, "did not run"))
            ok = False
            continue
        tests, failed, skipped = counts
        rows.append((label, f"{tests - failed - skipped} passed, {failed} failed, {skipped} skipped"))
        ok = ok and tests > 0 and failed == 0 and skipped == 0
    summary_file = RUN / "odoo-test-summary.json"
    odoo = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    for version in selected_versions():
        entry = odoo.get(version)
        if not entry:
            rows.append((f"Odoo {version}", "did not run"))
            ok = False
            continue
        rows.append((f"Odoo {version}", f"{entry['tests']} tests, {entry['failed']} failed, {entry['errors']} errors"))
        ok = ok and entry["ok"]
    width = max(len(label) for label, _ in rows)
    print("\n=== make test summary ===")
    for label, text in rows:
        print(f"  {label:<{width}}  {text}")
    print(f"=== {'all suites passed' if ok else 'FAILED'} ===\n")
    return 0 if ok else 1


def cmd_suites(_args) -> int:
    """The addon's Odoo tests and the end-to-end tests at once (``make test``).

    Each suite alone leaves one of the two cores idle much of the time (the end-to-end tests
    wait on servers and clients); together they take the time of the longer one. The cluster,
    the wheel and the tours' dependencies are made ready here first, so that neither suite
    starts or stops them under the other.
    """
    pg = PgCluster()
    pg.start()
    try:
        installs = [OdooInstall.locate(version) for version in selected_versions()]
        for odoo in installs:
            install_wheel(odoo)
            ensure_tour_dependencies(odoo)
        prepare_base_databases(installs, pg)
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            odoo_tests = pool.submit(cmd_odoo_test, argparse.Namespace(test_tags=None, keep_pg=True, base_ready=True))
            end_to_end = pool.submit(cmd_e2e, argparse.Namespace(pytest_args=[], base_ready=True))
            codes = [odoo_tests.result(), end_to_end.result()]
    finally:
        pg.release()
    return 0 if all(code == 0 for code in codes) else 1


def cmd_pg(args) -> int:
    pg = PgCluster()
    if args.action == "start":
        pg.start()
    elif args.action == "stop":
        pg.stop()
    return 0


# The series whose exporter writes the committed .pot; 19.0 extracts the same terms (the
# addon's test_i18n checks the .pot against the terms of the version it runs on).
POT_VERSION = "18.0"
# Header lines that change on every export: dropped, so that an unchanged code base exports the same file.
POT_VOLATILE = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"\n', re.M)


# Run with Odoo's Python (it has polib): bring each .po in line with the new .pot, like msgmerge.
# A new term gets an empty translation (test_i18n then names it), a term gone from the code goes.
PO_MERGE = """
import sys, polib
pot = polib.pofile(sys.argv[1])
order = {entry.msgid: number for number, entry in enumerate(pot)}
for path in sys.argv[2:]:
    catalog = polib.pofile(path)
    catalog.merge(pot)
    catalog[:] = sorted((e for e in catalog if e.msgid in order), key=lambda e: order[e.msgid])
    catalog.save(path)
"""


def pot_path() -> Path:
    return ADDONS / MODULE / "i18n" / f"{MODULE}.pot"


def cmd_pot(_args) -> int:
    """Regenerate i18n/<module>.pot with Odoo's own exporter, from a fresh database with the addon."""
    odoo = OdooInstall.locate(POT_VERSION)
    install_wheel(odoo)
    pg = PgCluster()
    pg.start()
    database = f"mcp_pot_{odoo.major}"
    server = OdooServer(odoo, pg, database)
    exported = RUN / f"{MODULE}-{odoo.major}.pot"
    log_path = RUN / "logs" / f"odoo-pot-{odoo.version}.log"
    try:
        say(f"installing {MODULE} in {database} (Odoo {odoo.version}) and exporting its terms")
        server.init_database(fresh=True)
        argv = [
            *odoo.base_args(pg, database, free_port()),
            f"--i18n-export={exported}",
            f"--modules={MODULE}",
            "--stop-after-init",
        ]
        with log_path.open("w") as log:
            result = subprocess.run(argv, env=odoo.env(), stdout=log, stderr=subprocess.STDOUT, check=False, cwd=RUN)
        if result.returncode != 0 or _has_errors(log_path) or not exported.exists():
            raise HarnessError(f"exporting the terms of {MODULE} failed; see {log_path}")
    finally:
        pg.drop_database(database)
        pg.release()
    target = pot_path()
    target.parent.mkdir(exist_ok=True)
    target.write_text(POT_VOLATILE.sub("", exported.read_text()))
    terms = exported.read_text().count("\nmsgid ") - 1
    say(f"{target.relative_to(ROOT)}: {terms} terms")
    translations = sorted(target.parent.glob("*.po"))
    if translations:
        subprocess.run([str(odoo.python), "-c", PO_MERGE, str(target), *map(str, translations)], check=True)
        say(f"merged into {', '.join(path.name for path in translations)}: translate the new terms there")
    return 0


def cmd_demo(args) -> int:
    version = os.environ.get("ODOO_VERSION", "18.0")
    if version not in VERSIONS:
        raise HarnessError(f"ODOO_VERSION must be one of {', '.join(VERSIONS)}")
    odoo = OdooInstall.locate(version)
    install_wheel(odoo)
    pg = PgCluster()
    pg.start()
    port = int(os.environ.get("PORT", "8069"))
    # One database per version: an 18.0 database is not one 19.0 can open, nor the reverse.
    database = f"mcp_demo_{odoo.major}"
    server = OdooServer(odoo, pg, database, port=port, with_demo=True)
    pid_file = RUN / "demo.pid"
    try:
        if not pg.database_exists(database):
            say(f"creating database {database} with {MODULE} and demo data (Odoo {version})")
            server.init_database(fresh=True)
        else:
            say(f"updating {MODULE} in {database}")
            server.extra_args = ["-u", MODULE]
        server.set_parameter("web.base.url", server.url)
        server.set_parameter("web.base.url.freeze", "True")
        server.start()
        pid_file.write_text(str(server.proc.pid))
        print(flush=True)
        print(f"  Odoo {version} with MCP Connect is running at {server.url}  (login admin / admin)", flush=True)
        print(f"  MCP endpoint URL: {server.url}/api/mcp", flush=True)
        print("  Stop with Ctrl-C or 'make demo-stop'.", flush=True)
        print(flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.proc.wait()
    finally:
        server.stop()
        pid_file.unlink(missing_ok=True)
        pg.release()
    return 0


def cmd_demo_stop(_args) -> int:
    pid_file = RUN / "demo.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid_file.read_text()), signal.SIGTERM)
        say("demo stopped")
    else:
        PgCluster().stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="locate the Odoo installations").set_defaults(func=cmd_check)
    test = sub.add_parser("odoo-test", help="run the addon's Odoo test suite on each Odoo version")
    test.add_argument("--test-tags", help="override Odoo's --test-tags")
    test.add_argument("--keep-pg", action="store_true", help="leave PostgreSQL running afterwards")
    test.set_defaults(func=cmd_odoo_test)
    pg = sub.add_parser("pg", help="start or stop the project's PostgreSQL cluster")
    pg.add_argument("action", choices=["start", "stop"])
    pg.set_defaults(func=cmd_pg)
    e2e = sub.add_parser("e2e", help="run the end-to-end tests, one process per Odoo version, side by side")
    e2e.add_argument("pytest_args", nargs="*", help="more pytest arguments (such as -k)")
    e2e.set_defaults(func=cmd_e2e)
    sub.add_parser("pot", help="regenerate the addon's .pot from the code (Odoo 18.0's exporter)").set_defaults(
        func=cmd_pot
    )
    sub.add_parser("suites", help="the Odoo tests and the end-to-end tests at once (make test)").set_defaults(
        func=cmd_suites
    )
    sub.add_parser("demo", help="run Odoo with the addon on 127.0.0.1:$PORT").set_defaults(func=cmd_demo)
    sub.add_parser("demo-stop", help="stop a running demo").set_defaults(func=cmd_demo_stop)
    sub.add_parser("summary", help="print the counts of every suite make test ran").set_defaults(func=cmd_summary)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HarnessError as error:
        print(f"\nERROR: {error}\n", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
