"""Deployments as users run them: prefork workers plus a second server on one database, several
databases behind one server, and a TLS-terminating nginx in front of Odoo in proxy mode."""

import subprocess
import tempfile
import threading
import time
from pathlib import Path

import harness
import pytest
import requests

from . import load
from .conftest import fresh_server
from .helpers import Browser, OAuthClient, OdooAdmin, call_tool, connection_of, mcp_call
from .metadata_server import _self_signed


def _stop_and_check(*servers):
    errors = []
    for server in servers:
        server.stop()
        errors += server.error_lines()
    assert not errors, "Odoo logged errors:\n" + "\n".join(errors)


# -- several workers, several servers ------------------------------------------------------


@pytest.fixture(scope="module")
def two_servers(install, pg, template):
    """One database served by a prefork Odoo with 4 workers and by a second, threaded Odoo process."""
    prefork = fresh_server(
        install,
        pg,
        template,
        f"mcp_workers_{install.major}",
        extra_args=["--workers=4", f"--gevent-port={harness.free_port()}"],
    )
    threaded = harness.OdooServer(install, pg, prefork.database)
    prefork.start()
    threaded.start()
    yield prefork, threaded
    _stop_and_check(prefork, threaded)
    pg.drop_database(prefork.database)


def test_revocation_on_one_server_is_enforced_by_the_other(two_servers):
    prefork, threaded = two_servers
    client = OAuthClient(prefork, name="revocation across servers")
    token = client.sign_in()["access_token"]
    assert not call_tool(threaded, token, "whoami", {})["isError"]
    admin = OdooAdmin(prefork)
    admin.call("mcp.connection", "action_revoke", [connection_of(admin, client)])
    for server in (threaded, prefork):
        response = mcp_call(server, token, "tools/list")
        assert response.status_code == 401, server.url


def test_policy_change_on_one_server_applies_on_the_next_request_to_the_other(two_servers):
    prefork, threaded = two_servers
    client = OAuthClient(threaded, name="policy across servers")
    token = client.sign_in()["access_token"]
    for _call in range(8):  # reach several prefork workers, so each compiles and caches the policy
        assert not call_tool(prefork, token, "count_records", {"model": "res.partner"})["isError"]
    admin = OdooAdmin(threaded)
    whoami = admin.call("mcp.tool", "search", [[["name", "=", "whoami"]]])
    admin.call("mcp.connection", "write", [connection_of(admin, client), {"allowed_tool_ids": [[6, 0, whoami]]}])
    for _call in range(8):
        refused = call_tool(prefork, token, "count_records", {"model": "res.partner"})
        assert refused["isError"]
        assert "not allowed" in refused["content"][0]["text"]


def _answers_everywhere(servers, token, status, calls=8):
    """``calls`` requests to each server (several prefork workers), each answered with ``status``."""
    for server in servers:
        for _call in range(calls):
            response = mcp_call(server, token, "tools/list")
            assert response.status_code == status, (server.url, response.text)


def test_revocations_reach_every_worker_through_its_cache(two_servers):
    """Each worker keeps what a token grants once it has seen it: a revocation by a manager or
    at the revocation endpoint still refuses the very next request on every worker."""
    prefork, threaded = two_servers
    client = OAuthClient(prefork, name="revocation through the caches")
    admin = OdooAdmin(threaded)
    connection = connection_of(admin, client)
    by_manager = client.sign_in()["access_token"]
    _answers_everywhere((prefork, threaded), by_manager, 200)
    live = admin.call("mcp.token", "search", [[["connection_id", "in", connection], ["revoked", "=", False]]])
    admin.call("mcp.token", "action_revoke", [live])
    _answers_everywhere((prefork, threaded), by_manager, 401)

    by_client = client.sign_in()["access_token"]
    _answers_everywhere((prefork, threaded), by_client, 200)
    revoked = requests.post(
        f"{threaded.url}/oauth/revoke", data={"token": by_client, "client_id": client.client_id}, timeout=30
    )
    assert revoked.status_code == 200, revoked.text
    _answers_everywhere((prefork, threaded), by_client, 401)


def test_a_model_rule_change_reaches_every_worker_through_its_cache(two_servers):
    prefork, threaded = two_servers
    client = OAuthClient(threaded, name="rule through the caches")
    token = client.sign_in()["access_token"]
    admin = OdooAdmin(threaded)
    admin.call("res.partner", "create", [{"name": "Cache Rule Qzy", "ref": "KEEP"}])
    search = {"model": "res.partner", "domain": [["name", "=", "Cache Rule Qzy"]], "fields": ["name"]}

    def found_everywhere(count):
        for server, calls in ((prefork, 8), (threaded, 1)):
            for _call in range(calls):
                result = call_tool(server, token, "search_records", search)
                assert not result["isError"], result
                assert len(result["structuredContent"]["records"]) == count, (server.url, result)

    found_everywhere(1)
    partner_model = admin.call("ir.model", "search", [[["model", "=", "res.partner"]]])[0]
    rule = admin.call(
        "mcp.connection.model",
        "create",
        [
            {
                "connection_id": connection_of(admin, client)[0],
                "model_id": partner_model,
                "domain": "[('ref', '=', 'NO')]",
            }
        ],
    )
    found_everywhere(0)
    admin.call("mcp.connection.model", "write", [[rule], {"domain": "[('ref', '=', 'KEEP')]"}])
    found_everywhere(1)


def test_a_pause_on_one_server_stops_every_worker_of_the_other_and_resuming_restores_all(two_servers):
    prefork, threaded = two_servers
    client = OAuthClient(prefork, name="pause across servers")
    tokens = client.sign_in()
    code, verifier = client.authorize_code()
    for _call in range(8):  # reach several prefork workers, so each reads and caches the setting
        assert mcp_call(prefork, tokens["access_token"], "tools/list").status_code == 200
    admin = OdooAdmin(threaded)
    admin.call("mcp.connection", "action_pause_ai_access", [[]])
    try:
        for server, calls in ((prefork, 8), (threaded, 1)):
            for _call in range(calls):
                refused = mcp_call(server, tokens["access_token"], "tools/list")
                assert refused.status_code == 503, (server.url, refused.text)
                assert "paused AI access" in refused.json()["error"]["message"]
        for answer in (
            client.exchange(code, verifier),
            client.refresh(tokens["refresh_token"]),
            requests.post(
                f"{prefork.url}/oauth/register",
                json={"client_name": "while paused", "redirect_uris": [client.redirect_uri]},
                timeout=30,
            ),
        ):
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"] == "temporarily_unavailable"
        url, _verifier = client.authorize_url()
        redirected = requests.get(url, allow_redirects=False, timeout=30)
        assert redirected.status_code == 302
        assert "error=temporarily_unavailable" in redirected.headers["Location"]
    finally:
        admin.call("mcp.connection", "action_resume_ai_access", [[]])
    for _call in range(8):
        assert mcp_call(prefork, tokens["access_token"], "tools/list").status_code == 200
    assert mcp_call(threaded, tokens["access_token"], "tools/list").status_code == 200
    assert client.exchange(code, verifier).status_code == 200
    assert client.refresh(tokens["refresh_token"]).status_code == 200


def test_rate_limit_holds_across_servers_and_workers(two_servers):
    prefork, threaded = two_servers
    client = OAuthClient(prefork, name="rate limit across servers")
    token = client.sign_in()["access_token"]
    admin = OdooAdmin(prefork)
    admin.call("mcp.connection", "write", [connection_of(admin, client), {"rate_limit": 10}])
    if time.time() % 60 > 45:  # keep the burst inside one one-minute window
        time.sleep(61 - time.time() % 60)
    statuses = []

    def burst(server):
        for _call in range(6):
            statuses.append(mcp_call(server, token, "tools/list").status_code)

    threads = [threading.Thread(target=burst, args=(server,)) for server in (prefork, threaded)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses).count(200) == 10, statuses
    assert statuses.count(429) == 2, statuses


def test_a_large_rate_limit_leased_by_four_workers_is_never_exceeded(two_servers):
    """At 1,000 calls a minute each worker reserves hits 10 at a time (one statement per 10 calls):
    the 4 prefork workers together admit no more than the limit and refuse at most 4 x 9 early."""
    prefork, _threaded = two_servers
    limit, block, workers = 1000, 10, 4
    burst = load.rate_limit_burst(prefork, limit, calls=1100)
    assert not burst.crossed_a_window
    assert len(burst.statuses) == 1100
    assert burst.held(workers, block), (burst.admitted, sorted(set(burst.statuses)))
    assert all(value and 1 <= int(value) <= 60 for value in burst.retry_after), burst.retry_after


# -- several databases on one server ---------------------------------------------------------


@pytest.fixture(scope="module")
def two_databases(install, pg, template):
    """Two databases served by one Odoo that picks the database from the host name (dbfilter ^%d$)."""
    port = harness.free_port()
    names = [f"mcpa{install.major}", f"mcpb{install.major}"]
    hosts = {}
    for name in names:
        hosts[name] = f"{name}.test:{port}"
        fresh_server(
            install, pg, template, name, port=port, config_parameters={"web.base.url": f"http://{hosts[name]}"}
        )
    server = harness.OdooServer(install, pg, names[0], port=port, db_filter="^%d$")
    server.start()
    yield server, hosts
    _stop_and_check(server)
    for name in names:
        pg.drop_database(name)


def test_each_database_has_its_own_issuer(two_databases):
    server, hosts = two_databases
    for host in hosts.values():
        document = requests.get(
            f"{server.url}/.well-known/oauth-authorization-server", headers={"Host": host}, timeout=30
        ).json()
        assert document["issuer"] == f"http://{host}"
        resource = requests.get(
            f"{server.url}/.well-known/oauth-protected-resource/api/mcp", headers={"Host": host}, timeout=30
        ).json()
        assert resource["resource"] == f"http://{host}/api/mcp"


def test_a_token_of_one_database_is_refused_by_the_other(two_databases):
    server, hosts = two_databases
    (_name_a, host_a), (_name_b, host_b) = hosts.items()
    client = OAuthClient(server, host=host_a, name="database A client")
    token = client.sign_in(Browser(host=host_a))["access_token"]
    assert not call_tool(server, token, "whoami", {}, host=host_a)["isError"]
    refused = mcp_call(server, token, "tools/list", host=host_b)
    assert refused.status_code == 401
    assert f'resource_metadata="http://{host_b}/' in refused.headers["WWW-Authenticate"]


# -- behind a reverse proxy ------------------------------------------------------------------


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {run}/access.log;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen 127.0.0.1:{public_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass http://127.0.0.1:{odoo_port};
            # Odoo sees the proxy as 127.0.0.2: the only address it trusts for forwarded headers.
            proxy_bind 127.0.0.2;
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-Host $host:$server_port;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


@pytest.fixture(scope="module")
def proxied(install, pg, template):
    """Odoo in proxy mode behind nginx terminating TLS on 127.0.0.1; web.base.url is the public URL."""
    nginx = harness.ensure_debian_package("nginx", "nginx", "the reverse-proxy tests run nginx")
    public_port, odoo_port = harness.free_port(), harness.free_port()
    public_url = f"https://127.0.0.1:{public_port}"
    with tempfile.TemporaryDirectory(prefix="mcp-nginx-") as run:
        run_dir = Path(run)
        run_dir.chmod(0o755)
        cert, key = _self_signed(run_dir)
        config = run_dir / "nginx.conf"
        config.write_text(
            NGINX_CONF.format(run=run_dir, public_port=public_port, odoo_port=odoo_port, cert=cert, key=key)
        )
        server = fresh_server(
            install,
            pg,
            template,
            f"mcp_proxy_{install.major}",
            port=odoo_port,
            extra_args=["--proxy-mode"],
            config_parameters={"web.base.url": public_url, "mcp_connect.trusted_proxies": '"127.0.0.2"'},
        )
        server.start()
        proxy = subprocess.Popen(
            [nginx, "-c", str(config), "-p", str(run_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        try:
            for _attempt in range(50):
                try:
                    requests.get(f"{public_url}/web/health", verify=str(cert), timeout=5)
                    break
                except requests.ConnectionError:
                    time.sleep(0.2)
            yield server, public_url, str(cert)
        finally:
            proxy.terminate()
            proxy.wait(timeout=30)
            _stop_and_check(server)
            pg.drop_database(server.database)


def test_issuer_and_resource_are_the_public_urls(proxied):
    server, public_url, cert = proxied
    document = requests.get(f"{public_url}/.well-known/oauth-authorization-server", verify=cert, timeout=30).json()
    assert document["issuer"] == public_url
    assert document["token_endpoint"] == f"{public_url}/oauth/token"
    resource = requests.get(
        f"{public_url}/.well-known/oauth-protected-resource/api/mcp", verify=cert, timeout=30
    ).json()
    assert resource == {**resource, "resource": f"{public_url}/api/mcp", "authorization_servers": [public_url]}
    challenge = requests.post(f"{public_url}/api/mcp", json={}, verify=cert, timeout=30)
    assert challenge.status_code == 401
    assert (
        f'resource_metadata="{public_url}/.well-known/oauth-protected-resource/api/mcp"'
        in (challenge.headers["WWW-Authenticate"])
    )
    # Asked directly, Odoo still names the public URLs: they come from configuration, not from headers.
    direct = requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=30).json()
    assert direct["issuer"] == public_url


def test_forwarded_addresses_are_trusted_only_from_the_proxy(proxied):
    server, public_url, cert = proxied
    admin = OdooAdmin(server)
    client_id = "mcpci_proxy_personal"
    connection = admin.call(
        "mcp.connection",
        "create",
        [
            {
                "name": "Behind the proxy",
                "connection_type": "custom",
                "client_id": client_id,
                "client_type": "public",
                "redirect_uris": "http://127.0.0.1/callback",
            }
        ],
    )
    browser = Browser(verify=cert)
    token = _sign_in_through_proxy(public_url, cert, client_id, browser)

    def status(url, headers=None, verify=True):
        return requests.post(
            f"{url}/api/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={"Authorization": f"Bearer {token}", "MCP-Protocol-Version": "2025-11-25", **(headers or {})},
            verify=verify,
            timeout=30,
        ).status_code

    admin.call("mcp.connection", "write", [[connection], {"ip_allowlist": "127.0.0.1/32"}])
    assert status(public_url, verify=cert) == 200  # allowed (a session is never required)
    admin.call("mcp.connection", "write", [[connection], {"ip_allowlist": "10.0.0.0/8"}])
    spoofed = {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Host": f"127.0.0.1:{public_url.rsplit(':', 1)[1]}"}
    assert status(public_url, spoofed, verify=cert) == 403, "nginx replaces the client's X-Forwarded-For"
    assert status(server.url, spoofed) == 403, "forwarded headers from a peer that is not the proxy are ignored"
    rows = admin.call("mcp.audit.log", "search_read", [[["connection_id", "=", connection]], ["client_ip"]])
    assert {row["client_ip"] for row in rows} == {"127.0.0.1"}


def _sign_in_through_proxy(public_url, cert, client_id, browser):
    from urllib.parse import urlencode

    from .helpers import pkce_pair

    verifier, challenge = pkce_pair()
    redirect_uri = "http://127.0.0.1/callback"
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": "p",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": f"{public_url}/api/mcp",
    }
    answer = browser.authorize(f"{public_url}/oauth/authorize?{urlencode(params)}", redirect_uri)
    assert answer["iss"] == public_url
    response = requests.post(
        f"{public_url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": client_id,
        },
        verify=cert,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_concurrent_redemptions_of_one_code_give_exactly_one_token(two_servers):
    prefork, threaded = two_servers
    client = OAuthClient(prefork, name="concurrent redemption")
    for _attempt in range(3):
        code, verifier = client.authorize_code(Browser())
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": verifier,
            "client_id": client.client_id,
        }
        answers = []
        barrier = threading.Barrier(2)

        def redeem(server, answers=answers, barrier=barrier, data=data):
            barrier.wait()
            answers.append(requests.post(f"{server.url}/oauth/token", data=data, timeout=30))

        racers = [threading.Thread(target=redeem, args=(server,)) for server in (prefork, threaded)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        assert sorted(answer.status_code for answer in answers) == [200, 400]
        assert [a.json()["error"] for a in answers if a.status_code == 400] == ["invalid_grant"]
