"""Personal access tokens for tools that only take a fixed `Authorization` header (MCP Inspector
CLI, the conformance suite through its proxy).

The addon creates them through a wizard that asks for the password again (check_identity) and
the token model has no create right, so the test stores one the way the wizard does: a
`personal` connection through the ORM as admin, then the token row (its SHA-256 digest only),
written in SQL.
"""

import secrets

import mcp_connect_core as core
import requests

from .helpers import OdooAdmin

ADMIN_UID = 2
SCOPES = "mcp:read mcp:write"


def personal_token(server, name="e2e personal token", days=1, **connection_values):
    """A new personal access token of admin (read and write), valid for ``days`` days.

    ``connection_values`` are more fields of its connection, such as ``rate_limit``.
    """
    resource = requests.get(f"{server.url}/.well-known/oauth-protected-resource/api/mcp", timeout=30).json()["resource"]
    admin = OdooAdmin(server)
    client_id = f"mcpci_e2e_{secrets.token_hex(8)}"
    connection = admin.call(
        "mcp.connection",
        "create",
        [
            {
                "name": name,
                "connection_type": "personal",
                "client_id": client_id,
                "client_type": "public",
                **connection_values,
            }
        ],
    )
    company = admin.call("res.users", "read", [[ADMIN_UID], ["company_id"]])[0]["company_id"][0]
    token, digest = core.mint_token(kind="personal")
    server.pg.psql(
        "INSERT INTO mcp_token (name, digest, hint, kind, connection_id, user_id, company_id, scopes, resource,"
        " expires_at, family, family_expires_at, revoked, create_uid, write_uid, create_date, write_date)"
        " VALUES (:'name', :'digest', :'hint', 'personal', :'connection', :'uid', :'company', :'scopes',"
        " :'resource', (now() at time zone 'UTC') + make_interval(days => :'days'), :'family',"
        " (now() at time zone 'UTC') + make_interval(days => :'days'), false, 1, 1,"
        " now() at time zone 'UTC', now() at time zone 'UTC')",
        database=server.database,
        name=name,
        digest=digest,
        hint=token[-4:],
        connection=str(connection),
        uid=str(ADMIN_UID),
        company=str(company),
        scopes=SCOPES,
        resource=resource,
        days=str(days),
        family=secrets.token_hex(16),
    )
    return token
