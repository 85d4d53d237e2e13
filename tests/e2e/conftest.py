"""Fixtures that start real Odoo servers (18.0 and 19.0) on a real PostgreSQL, on 127.0.0.1."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import harness

from .metadata_server import make_metadata_endpoint

# A test-only addon, installed in the end-to-end database only: it lets the metadata document
# server of these tests (its origin and certificate, named in the server's environment) through
# the client metadata fetcher's address check and TLS verification.
E2E_ADDONS = Path(__file__).resolve().parent / "odoo_addons"
E2E_MODULE = "mcp_connect_e2e"


@pytest.fixture(scope="session")
def pg():
    cluster = harness.PgCluster()
    cluster.start()
    yield cluster
    cluster.release()


@pytest.fixture(scope="session", params=harness.selected_versions(), ids=lambda v: f"odoo{v.split('.')[0]}")
def install(request):
    """An Odoo installation (18.0 or 19.0) with the freshly built core in its Python."""
    odoo_install = harness.OdooInstall.locate(request.param)
    harness.install_wheel(odoo_install)
    return odoo_install


@pytest.fixture(scope="session")
def template(install, pg):
    """A database with the addon installed, copied by the other fixtures (an install costs ~20 s).

    The tests drive tools that register themselves and then write: their default connection
    template is opened here (the product's default holds every write for a manager's approval).
    """
    name = f"mcp_template_{install.major}"
    harness.OdooServer(install, pg, name).init_database(
        fresh=True, base=harness.base_database(install, pg, fresh=False)
    )
    pg.psql(
        "DELETE FROM mcp_connection_template_approval_tool_rel"
        " WHERE mcp_connection_template_id IN (SELECT id FROM mcp_connection_template WHERE is_default)",
        database=name,
    )
    yield name
    pg.drop_database(name)


def fresh_server(install, pg, template, database, config_parameters=None, **options):
    """A new database copied from the template, and an (unstarted) server for it."""
    server = harness.OdooServer(install, pg, database, **options)
    server.init_database(fresh=True, template=template, config_parameters=config_parameters)
    return server


def serve(install, pg, template, database, what, modules=(), **options):
    """Run a fresh server for a fixture; afterwards drop its database and fail on logged errors."""
    server = fresh_server(install, pg, template, database, **options)
    if modules:
        server.install_modules(list(modules))
    server.start()
    yield server
    server.stop()
    errors = server.error_lines()
    pg.drop_database(server.database)
    assert not errors, f"Odoo logged errors during {what}:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def metadata_endpoint(tmp_path_factory):
    """Where the tests serve client metadata documents: a fixed https origin on 127.0.0.1 and its certificate."""
    return make_metadata_endpoint(tmp_path_factory.mktemp("metadata-document"))


@pytest.fixture(scope="session")
def odoo(install, pg, template, metadata_endpoint):
    """A running Odoo with mcp_connect installed in a fresh database, one per Odoo version."""
    yield from serve(
        install,
        pg,
        template,
        f"mcp_e2e_{install.major}",
        "the end-to-end tests",
        modules=[E2E_MODULE],
        extra_addons=(E2E_ADDONS,),
        environment=metadata_endpoint.environment(),
    )
