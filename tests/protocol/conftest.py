"""Fixtures of the protocol tests; ``support`` loads the protocol packages without Odoo."""

import mcp_connect_core as core
import pytest

from .support import (
    CALLBACK,
    COMPANY_ID,
    CUSTOM,
    DYNAMIC,
    PUBLIC_CALLBACK,
    SECRET,
    USER_ID,
    Client,
    FakeStorage,
    ServerUrls,
    authorize,
)


@pytest.fixture
def storage():
    return FakeStorage()


@pytest.fixture
def urls():
    return ServerUrls.from_base_url("https://odoo.example.com")


@pytest.fixture(scope="session")
def secret_hash():
    return core.hash_secret(SECRET)


@pytest.fixture
def public(storage):
    """A tool that registered itself as a public client on a loopback redirect URI."""
    return storage.add_client(
        Client(
            client_id="mcpci_public",
            name="Public tool",
            kind=DYNAMIC,
            confidential=False,
            active=True,
            redirect_uris=(PUBLIC_CALLBACK,),
            auth_method="none",
        )
    )


@pytest.fixture
def confidential(storage, secret_hash):
    """A Custom OAuth connection an administrator created, acting as its owner for client_credentials."""
    return storage.add_client(
        Client(
            client_id="mcpci_confidential",
            name="Confidential tool",
            kind=CUSTOM,
            confidential=True,
            active=True,
            redirect_uris=(CALLBACK,),
            grant_types=("authorization_code", "refresh_token", "client_credentials"),
            secret_hash=secret_hash,
            owner_user_id=USER_ID,
            owner_company_id=COMPANY_ID,
        )
    )


@pytest.fixture
def obtain_code(storage, urls):
    """Run the authorization request of ``client`` through ``authorize`` and issue its code, as the
    consent page does; return ``(code, verifier, request)``."""

    def obtain(client, *, scope=None, redirect_uri=None, challenge=True, **extra):
        verifier = "v" * 43 + client.client_id
        params = {"response_type": "code", "client_id": client.client_id, **extra}
        if redirect_uri is not False:
            params["redirect_uri"] = redirect_uri or client.redirect_uris[0]
        if scope is not None:
            params["scope"] = scope
        if challenge:
            params.update(code_challenge=core.s256_challenge(verifier), code_challenge_method="S256")
        values, repeated = authorize.single_values(params.items())
        found, matched = authorize.resolve_client(values, repeated, storage.find_client)
        request = authorize.validate(values, repeated, found, matched, urls, storage.settings())
        return authorize.issue_code(storage, request, USER_ID, (COMPANY_ID,)), verifier, request

    return obtain
