"""Fixtures that start real Odoo servers (18.0 and 19.0) on a real PostgreSQL, on 127.0.0.1."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import harness


@pytest.fixture(scope="session")
def pg():
    cluster = harness.PgCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session", params=harness.selected_versions(), ids=lambda v: f"odoo{v.split('.')[0]}")
def odoo(request, pg):
    """A running Odoo with mcp_connect installed in a fresh database, one per Odoo version."""
    install = harness.OdooInstall.locate(request.param)
    harness.install_wheel(install)
    server = harness.OdooServer(install, pg, f"mcp_e2e_{install.major}")
    server.init_database(fresh=True)
    server.start()
    yield server
    server.stop()
    errors = server.error_lines()
    pg.drop_database(server.database)
    assert not errors, "Odoo logged errors during the end-to-end tests:\n" + "\n".join(errors)
