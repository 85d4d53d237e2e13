import importlib.metadata
import ipaddress
import logging
import time
from collections import namedtuple
from urllib.parse import urlsplit

import mcp_connect_core as core
import requests
from odoo import api, fields, models
from odoo.http import db_list, request
from odoo.tools import SQL
from odoo.tools import config as odoo_config

from .. import config
from ..oauth.urls import ServerUrls

_logger = logging.getLogger(__name__)

# The native core's series this addon is written against: a core of another minor version may
# lack a function or answer differently. The workspace version in Cargo.toml, to major.minor
# (tests/protocol/test_core_series.py keeps them in step: the addon ships without Cargo.toml).
CORE_SERIES = "0.1"
DISCOVERY_TIMEOUT = 3
CLOCK_WARNING_SECONDS = 5
CLOCK_PROBLEM_SECONDS = 30
FORWARDED_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto")
# Host names that never resolve on the internet (RFC 6761, RFC 8375) or only inside a company.
LOCAL_SUFFIXES = (".localhost", ".local", ".lan", ".internal", ".intranet", ".corp", ".home.arpa")

Verdict = namedtuple("Verdict", ["verdict", "message", "fix"], defaults=[""])


def _host_reach(host):
    """``"loopback"`` for this computer only, ``"private"`` for a local network, ``"public"`` otherwise."""
    host = (host or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "private" if "." not in host or host.endswith(LOCAL_SUFFIXES) else "public"
    if address.is_loopback:
        return "loopback"
    return "public" if address.is_global else "private"


def _origin(url):
    """Scheme, host and port of ``url`` only: a base URL may carry credentials, which are never shown."""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}"


class McpSetupCheck(models.TransientModel):
    """Check my setup: the settings a failed connection usually comes down to, each with a verdict and the fix.

    Each check is a pair: a ``_facts_*`` method reads the configuration (system parameters, Odoo's
    options, the current request, the databases, the native core, the clocks) and a ``_check_*``
    method judges those facts alone, so that a test can hand it any configuration. A check that
    raises shows "Could not check" instead of a traceback.
    """

    _name = "mcp.setup.check"
    _description = "Setup check"

    line_ids = fields.One2many("mcp.setup.check.line", "check_id", string="Checks", readonly=True)
    problem_count = fields.Integer(compute="_compute_counts")
    warning_count = fields.Integer(compute="_compute_counts")

    @api.depends("line_ids.verdict")
    def _compute_counts(self):
        for record in self:
            record.problem_count = len(record.line_ids.filtered(lambda line: line.verdict == "problem"))
            record.warning_count = len(record.line_ids.filtered(lambda line: line.verdict == "warning"))

    @api.model
    def action_check(self):
        """Run every check and show the verdicts in a dialog."""
        # Before anything runs: the checks fetch URLs and read the server's configuration.
        self.check_access("create")
        record = self.create({"line_ids": [fields.Command.create(values) for values in self._run_checks()]})
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": record.id,
            "name": self.env._("Check my setup"),
            "views": [(self.env.ref("mcp_connect.mcp_setup_check_view_form").id, "form")],
            "target": "new",
            "context": {"dialog_size": "extra-large"},
        }

    def action_check_again(self):
        return self.action_check()

    @api.model
    def _setup_checks(self):
        """(name, facts, check) for every check, in the order shown."""
        return [
            (self.env._("Base URL"), self._facts_base_url, self._check_base_url),
            (self.env._("Discovery documents"), self._facts_discovery, self._check_discovery),
            (self.env._("Reverse proxy"), self._facts_proxy, self._check_proxy),
            (self.env._("Workers"), self._facts_workers, self._check_workers),
            (self.env._("Databases"), self._facts_databases, self._check_databases),
            (self.env._("Native core"), self._facts_core, self._check_core),
            (self.env._("Clocks"), self._facts_clock, self._check_clock),
        ]

    @api.model
    def _run_checks(self):
        """The line values of every check's verdicts."""
        lines = []
        for name, facts, check in self._setup_checks():
            try:
                # A savepoint: a check whose query fails must not abort the transaction the others use.
                with self.env.cr.savepoint():
                    verdicts = check(**facts())
            except Exception:
                # A check must never stop the others nor show a traceback; the log keeps the cause.
                _logger.exception("Setup check %r could not run", name)
                verdicts = [
                    Verdict(
                        "unknown",
                        self.env._("This check could not run; the server log says why."),
                        self.env._("Run it again; if it fails again, send the server log to whoever runs this Odoo."),
                    )
                ]
            for verdict in verdicts:
                lines.append({"sequence": len(lines) + 1, "name": name, **verdict._asdict()})
        return lines

    # Base URL -----------------------------------------------------------------------------------

    @api.model
    def _facts_base_url(self):
        # sudo: the setup check reads the system parameters it reports on
        parameters = self.env["ir.config_parameter"].sudo()
        return {
            "base_url": parameters.get_param("web.base.url") or "",
            # Odoo rewrites web.base.url at an administrator's login unless this parameter is set at all.
            "frozen": bool(parameters.get_param("web.base.url.freeze")),
        }

    @api.model
    def _check_base_url(self, base_url, frozen):
        try:
            issuer = ServerUrls.from_base_url(base_url).issuer
        except ValueError:
            return [
                Verdict(
                    "problem",
                    self.env._(
                        "web.base.url is not a web address Odoo can be reached at; tools cannot find this Odoo."
                    ),
                    self.env._(
                        "In Settings > Technical > System Parameters (developer mode), set web.base.url to the "
                        "address people type to reach Odoo, such as https://erp.example.com."
                    ),
                )
            ]
        parts = urlsplit(issuer)
        reach = _host_reach(parts.hostname)
        verdicts = []
        if reach == "loopback":
            verdicts.append(
                Verdict(
                    "warning",
                    self.env._(
                        "Odoo's address is %(url)s: tools on this computer (Claude Code, Cursor) can connect, but "
                        "claude.ai and ChatGPT connect from the internet and need a public https address.",
                        url=issuer,
                    ),
                    self.env._(
                        "To connect hosted tools, serve Odoo on a public https address (behind a reverse proxy) and "
                        "set web.base.url to it."
                    ),
                )
            )
        elif reach == "private":
            verdicts.append(
                Verdict(
                    "warning",
                    self.env._(
                        "Odoo's address is %(url)s, which only your own network can reach: claude.ai and ChatGPT "
                        "connect from the internet and cannot reach it.",
                        url=issuer,
                    ),
                    self.env._(
                        "To connect hosted tools, serve Odoo on a public https address (behind a reverse proxy) and "
                        "set web.base.url to it."
                    ),
                )
            )
        elif parts.scheme != "https":
            verdicts.append(
                Verdict(
                    "problem",
                    self.env._(
                        "Odoo's address is %(url)s, plain http: claude.ai, ChatGPT and most tools refuse to sign in "
                        "over it, and tokens would cross the internet unencrypted.",
                        url=issuer,
                    ),
                    self.env._(
                        "Terminate TLS in front of Odoo (a reverse proxy with a certificate) and set web.base.url to "
                        "the https address."
                    ),
                )
            )
        if not frozen:
            verdicts.append(
                Verdict(
                    "warning" if reach == "loopback" else "problem",
                    self.env._(
                        "web.base.url is not frozen: the next time an administrator signs in through another "
                        "address (an IP address, localhost, a second host name), Odoo rewrites it, the sign-in "
                        "addresses change and every connected tool fails until it is set back."
                    ),
                    self.env._(
                        "In Settings > Technical > System Parameters (developer mode), add web.base.url.freeze = True."
                    ),
                )
            )
        return verdicts or [
            Verdict("ok", self.env._("Odoo's address is %(url)s: public, https, and frozen.", url=issuer)),
        ]

    # Discovery documents ------------------------------------------------------------------------

    @api.model
    def _facts_discovery(self):
        # sudo: the setup check reads the system parameters it reports on
        return {"base_url": self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""}

    @api.model
    def _check_discovery(self, base_url):
        """Fetch the two discovery documents as a tool would: no cookie, no redirect followed."""
        try:
            urls = ServerUrls.from_base_url(base_url)
        except ValueError:
            return [
                Verdict(
                    "unknown",
                    self.env._("web.base.url is not a web address, so there is nothing to fetch."),
                    self.env._("Fix the base URL first (above)."),
                )
            ]
        documents = (
            (urls.protected_resource_metadata, "resource", urls.resource),
            (urls.endpoint("/.well-known/oauth-authorization-server"), "issuer", urls.issuer),
        )
        for url, key, expected in documents:
            problem = self._fetch_discovery_document(url, key, expected)
            if problem:
                return [problem]
        return [
            Verdict(
                "ok",
                self.env._(
                    "%(url)s answers without a login and names this Odoo: tools find how to sign in there.",
                    url=urls.protected_resource_metadata,
                ),
            )
        ]

    @api.model
    def _fetch_discovery_document(self, url, key, expected):
        """None if ``url`` answers a JSON document whose ``key`` is ``expected``, else the problem."""
        unreachable_fix = self.env._(
            "Check that this address leads to this Odoo from the Odoo server itself (name resolution, firewall, "
            "reverse proxy). An Odoo with a single worker cannot answer this check while it runs it: start it "
            "with --workers 2 or more."
        )
        try:
            response = requests.get(
                url,
                headers={"Accept": "application/json"},
                timeout=DISCOVERY_TIMEOUT,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError:
            return Verdict(
                "problem",
                self.env._("%(url)s: its TLS certificate is not trusted, so tools will refuse it too.", url=url),
                self.env._(
                    "Install a certificate for this host name from a public authority (Let's Encrypt, for example)."
                ),
            )
        except requests.exceptions.Timeout:
            return Verdict(
                "problem",
                self.env._("%(url)s did not answer within %(seconds)s seconds.", url=url, seconds=DISCOVERY_TIMEOUT),
                unreachable_fix,
            )
        except requests.exceptions.RequestException:
            return Verdict("problem", self.env._("Odoo could not connect to %(url)s.", url=url), unreachable_fix)
        if response.is_redirect:
            return Verdict(
                "problem",
                self.env._(
                    "%(url)s answers with a redirect to %(location)s; tools look for this document at the "
                    "address itself and do not follow it.",
                    url=url,
                    location=_origin(response.headers.get("Location", "")),
                ),
                self.env._(
                    "Set web.base.url to the address the redirect leads to, or make the reverse proxy serve this "
                    "address without redirecting."
                ),
            )
        if response.status_code != 200:
            return Verdict(
                "problem",
                self.env._(
                    "%(url)s answers HTTP %(status)s: this address does not lead to this database (another Odoo, "
                    "several databases without a dbfilter, or a reverse proxy rule).",
                    url=url,
                    status=response.status_code,
                ),
                self.env._(
                    "Make this address reach this database; the Databases check below tells whether Odoo can pick it."
                ),
            )
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            return Verdict(
                "problem",
                self.env._(
                    "%(url)s does not answer a JSON document: something in front of Odoo (a login page, a proxy "
                    "error page) answers in its place.",
                    url=url,
                ),
                self.env._("Let the reverse proxy pass /.well-known/ to Odoo unchanged and without a login."),
            )
        if document.get(key) != expected:
            return Verdict(
                "problem",
                self.env._(
                    "%(url)s names another server than this Odoo (%(expected)s): the address leads to another Odoo "
                    "or another database.",
                    url=url,
                    expected=expected,
                ),
                self.env._("Make web.base.url and the reverse proxy lead to this database."),
            )
        return None

    # Reverse proxy ------------------------------------------------------------------------------

    @api.model
    def _facts_proxy(self):
        # sudo: the setup check reads the system parameters it reports on
        facts = {
            "proxy_mode": bool(odoo_config["proxy_mode"]),
            "base_url": self.env["ir.config_parameter"].sudo().get_param("web.base.url") or "",
            "forwarded": None,
            "peer": None,
            "peer_trusted": False,
        }
        if request:
            httprequest = request.httprequest
            facts["forwarded"] = {name for name in FORWARDED_HEADERS if httprequest.headers.get(name)}
            # In proxy mode Odoo replaces the peer by X-Forwarded-For and keeps the original here.
            peer = httprequest.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR") or httprequest.remote_addr
            facts["peer"] = peer
            facts["peer_trusted"] = bool(peer) and config.is_trusted_proxy(self.env, peer)
        return facts

    @api.model
    def _check_proxy(self, proxy_mode, base_url, forwarded, peer, peer_trusted):
        if forwarded is None:
            return [
                Verdict(
                    "unknown",
                    self.env._("This check reads the request your browser sent; it ran outside one."),
                    self.env._("Run it from Settings."),
                )
            ]
        headers = ", ".join(sorted(forwarded))
        if forwarded and not proxy_mode:
            return [
                Verdict(
                    "problem",
                    self.env._(
                        "Your request came through a reverse proxy (it carries %(headers)s), but Odoo is not in "
                        "proxy mode: it sees every tool at the proxy's address (IP allowlists, rate limits, the audit "
                        "log) and builds its redirects with the proxy's inner address.",
                        headers=headers,
                    ),
                    self.env._("Start Odoo with --proxy-mode (proxy_mode = True in its configuration file)."),
                )
            ]
        if forwarded and "X-Forwarded-Host" not in forwarded:
            return [
                Verdict(
                    "warning",
                    self.env._(
                        "Odoo is in proxy mode, but the proxy does not send X-Forwarded-Host, without which Odoo "
                        "ignores the other forwarded headers (%(headers)s).",
                        headers=headers,
                    ),
                    self.env._("In the proxy, add X-Forwarded-Host (nginx: proxy_set_header X-Forwarded-Host $host;)."),
                )
            ]
        if forwarded and not peer_trusted:
            return [
                Verdict(
                    "warning",
                    self.env._(
                        "The reverse proxy connects from %(address)s, which is not in Trusted proxies: MCP Connect "
                        "does not believe its X-Forwarded-For and records every tool at the proxy's address.",
                        address=peer,
                    ),
                    self.env._("Add %(address)s to Settings > MCP Connect > Trusted proxies.", address=peer),
                )
            ]
        if forwarded:
            return [
                Verdict("ok", self.env._("A reverse proxy forwards requests and Odoo is in proxy mode: consistent."))
            ]
        if proxy_mode and _host_reach(urlsplit(base_url).hostname) != "loopback":
            return [
                Verdict(
                    "warning",
                    self.env._(
                        "Odoo is in proxy mode, but your request reached it without X-Forwarded-* headers: either "
                        "you bypassed the proxy, or the proxy does not send them. Whoever reaches Odoo directly can "
                        "then claim any host name."
                    ),
                    self.env._(
                        "Let Odoo listen only to the proxy (--http-interface 127.0.0.1 or a firewall), and have the "
                        "proxy send X-Forwarded-Host, X-Forwarded-For and X-Forwarded-Proto."
                    ),
                )
            ]
        if proxy_mode:
            return [
                Verdict(
                    "ok", self.env._("Proxy mode is on; your request came directly, which is fine on this computer.")
                )
            ]
        return [Verdict("ok", self.env._("No reverse proxy in front of Odoo and proxy mode is off: consistent."))]

    # Workers ------------------------------------------------------------------------------------

    @api.model
    def _facts_workers(self):
        # sudo: the setup check reads the system parameters it reports on
        return {
            "workers": int(odoo_config["workers"] or 0),
            "base_url": self.env["ir.config_parameter"].sudo().get_param("web.base.url") or "",
        }

    @api.model
    def _check_workers(self, workers, base_url):
        if workers == 1:
            return [
                Verdict(
                    "problem",
                    self.env._(
                        "Odoo runs one worker, which serves one request at a time: while a tool waits for a long "
                        "call, every other tool and user waits, and requests beyond the queue are refused."
                    ),
                    self.env._("Start Odoo with --workers 2 or more (about two per CPU core)."),
                )
            ]
        if workers == 0 and _host_reach(urlsplit(base_url).hostname) != "loopback":
            return [
                Verdict(
                    "warning",
                    self.env._(
                        "Odoo runs as one process with threads (workers = 0), made for development: one slow call "
                        "or a crash affects every tool and user at once."
                    ),
                    self.env._(
                        "For production start Odoo with --workers 2 or more, and let the reverse proxy send "
                        "/websocket to the gevent port (%(port)s).",
                        port=odoo_config["gevent_port"],
                    ),
                )
            ]
        if workers == 0:
            return [
                Verdict("ok", self.env._("Odoo runs threaded (workers = 0): fine for development on this computer."))
            ]
        return [
            Verdict("ok", self.env._("Odoo runs %(workers)s workers: tools are served in parallel.", workers=workers))
        ]

    # Databases ----------------------------------------------------------------------------------

    @api.model
    def _facts_databases(self):
        # sudo: the setup check reads the system parameters it reports on
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        netloc = urlsplit(base_url).netloc.rpartition("@")[2]
        return {
            "database": self.env.cr.dbname,
            "host": urlsplit(base_url).hostname or "",
            # The databases Odoo offers a request for web.base.url's host, after dbfilter and --database.
            "reachable": db_list(force=True, host=netloc),
        }

    @api.model
    def _check_databases(self, database, host, reachable):
        if list(reachable) == [database]:
            return [
                Verdict(
                    "ok",
                    self.env._("Requests for %(host)s reach this database and no other.", host=host),
                )
            ]
        fix = self.env._(
            "In Odoo's configuration file, set dbfilter (for example ^%d$, one host name per database) or "
            "db_name to this database."
        )
        if database not in reachable:
            return [
                Verdict(
                    "problem",
                    self.env._(
                        "Requests for %(host)s cannot reach this database: dbfilter or db_name leaves it out, so "
                        "tools land in another database or in none.",
                        host=host,
                    ),
                    fix,
                )
            ]
        return [
            Verdict(
                "problem",
                self.env._(
                    "Requests for %(host)s can reach %(count)s databases: a tool's sign-in, token and MCP requests "
                    "carry no session, so Odoo cannot tell which database they are for and answers 404.",
                    host=host,
                    count=len(reachable),
                ),
                fix,
            )
        ]

    # Native core --------------------------------------------------------------------------------

    @api.model
    def _facts_core(self):
        try:
            installed = importlib.metadata.version("mcp-connect-core")
        except importlib.metadata.PackageNotFoundError:
            installed = None
        return {"loaded": core.__version__, "installed": installed, "series": CORE_SERIES}

    @api.model
    def _check_core(self, loaded, installed, series):
        if loaded.split(".")[:2] != series.split("."):
            return [
                Verdict(
                    "problem",
                    self.env._(
                        "The native core is version %(loaded)s; this MCP Connect needs version %(series)s.x: some "
                        "sign-ins or calls may fail.",
                        loaded=loaded,
                        series=series,
                    ),
                    self.env._(
                        "Install the mcp-connect-core wheel built with this MCP Connect into Odoo's Python "
                        "environment, then restart Odoo."
                    ),
                )
            ]
        if installed and installed != loaded:
            return [
                Verdict(
                    "problem",
                    self.env._(
                        "mcp-connect-core %(installed)s is installed, but Odoo still runs version %(loaded)s, "
                        "loaded when it started.",
                        installed=installed,
                        loaded=loaded,
                    ),
                    self.env._("Restart Odoo (every server, if several share the database)."),
                )
            ]
        return [Verdict("ok", self.env._("Native core %(loaded)s, as this MCP Connect expects.", loaded=loaded))]

    # Clocks -------------------------------------------------------------------------------------

    @api.model
    def _facts_clock(self):
        # clock_timestamp(), not now(): now() is the start of the transaction.
        self.env.cr.execute(SQL("SELECT EXTRACT(EPOCH FROM clock_timestamp())"))
        database_now = float(self.env.cr.fetchone()[0])
        return {"database_now": database_now, "server_now": time.time()}

    @api.model
    def _check_clock(self, database_now, server_now):
        skew = abs(database_now - server_now)
        if skew <= CLOCK_WARNING_SECONDS:
            return [Verdict("ok", self.env._("The database's clock and Odoo's agree."))]
        return [
            Verdict(
                "problem" if skew > CLOCK_PROBLEM_SECONDS else "warning",
                self.env._(
                    "The database's clock and Odoo's differ by %(seconds)s seconds: sign-in codes and tokens are "
                    "timed by both, so they expire too early or too late, and tools are signed out at random.",
                    seconds=round(skew),
                ),
                self.env._("Synchronise both machines' clocks with NTP (chrony or systemd-timesyncd)."),
            )
        ]
