"""Pure-Python tests of the protocol layers (``oauth/`` and ``mcp/``).

The addon's ``__init__.py`` imports Odoo (its Odoo tools are in ``tools/``). It is not run
here: ``mcp_connect`` and ``mcp_connect.mcp`` are registered as
empty packages over the addon's directories, so ``mcp_connect.oauth.token`` or
``mcp_connect.mcp.transport`` import with their relative imports intact, and anything that
reaches for Odoo fails to import (Odoo is not installed in the project's virtualenv).
``test_layers.py`` checks the same from the sources.

The protocol code then runs against ``FakeStorage`` (the whole ``Storage`` protocol in
dicts, on a clock the test sets) and the fake MCP ``Backend`` of ``test_transport.py``.
"""

import importlib.machinery
import importlib.util
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

ADDON = Path(__file__).resolve().parents[2] / "odoo_addon" / "mcp_connect"


def _empty_package(name, directory):
    """Register ``directory`` as the package ``name`` without running its ``__init__.py``."""
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [str(directory)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    return package


if "mcp_connect" not in sys.modules:
    _empty_package("mcp_connect", ADDON)
    _empty_package("mcp_connect.mcp", ADDON / "mcp")

from mcp_connect.oauth import authorize  # noqa: E402
from mcp_connect.oauth import scopes as scope_rules  # noqa: E402
from mcp_connect.oauth import token as token_endpoint  # noqa: E402
from mcp_connect.oauth.storage import CUSTOM, DYNAMIC, Client, Settings, epoch  # noqa: E402
from mcp_connect.oauth.urls import ServerUrls  # noqa: E402

__all__ = [
    "ADDON",
    "CALLBACK",
    "COMPANY_ID",
    "CUSTOM",
    "DYNAMIC",
    "PUBLIC_CALLBACK",
    "SECRET",
    "USER_ID",
    "WEAK_HASH",
    "WEAK_SECRET",
    "Client",
    "FakeStorage",
    "ServerUrls",
    "authorize",
]

CALLBACK = "https://client.example.com/callback"
PUBLIC_CALLBACK = "http://127.0.0.1/callback"
SECRET = "mcpcs_secret-of-the-confidential-test-client"
# argon2id of WEAK_SECRET with m=8192, t=1 (the vector of the addon's test_oauth_hardening.py):
# below the core's current parameters, and cheap to verify.
WEAK_SECRET = "secret hashed with older parameters"
WEAK_HASH = "$argon2id$v=19$m=8192,t=1,p=1$Jgu3sJd4j9AvHThgmXQXcw$76SMpuBagTca4W3qrPcJcqxKTgJ9IylH2nG8mjVNWec"
USER_ID = 7
COMPANY_ID = 1
# The PKCE verifier of the authorization requests the tests make.
VERIFIER = "v" * 43

# The defaults of config.SETTINGS.
DEFAULT_SETTINGS = {
    "access_token_seconds": 3600,
    "refresh_token_seconds": 90 * 86400,
    "refresh_grace_seconds": 60,
    "family_max_seconds": 365 * 86400,
    "code_seconds": 300,
    "registration_enabled": True,
    "metadata_documents_enabled": True,
    "pkce_exempt_hosts": ("chatgpt.com",),
    "registrations_per_hour": 300,
    "client_auth_failures": 10,
    "paused": False,
}


def _registered_metadata(registration):
    """What ``OdooStorage.find_registrations`` compares: everything but the redirect URIs, the
    scope as the ceiling it becomes."""
    ceiling = scope_rules.WRITE if scope_rules.WRITE in registration.scopes else scope_rules.READ
    return replace(registration, redirect_uris=(), scopes=(ceiling,))


class FakeStorage:
    """The ``Storage`` protocol in dicts, as ``OdooStorage`` behaves, on a settable clock ``now``.

    ``rate_limited`` counts in fixed windows of that clock, like ``mcp.rate.counter``.
    """

    def __init__(self, **settings):
        self.clock = datetime(2030, 1, 1, 12, 0, 0)
        self._settings = Settings(**{**DEFAULT_SETTINGS, **settings})
        self.clients = {}
        self.codes = {}
        self.tokens = {}
        self.counters = {}
        self.registrations = []
        self.rehashed = []
        self.consents = {}
        self.consent_companies = {}
        self.pending = {}
        # Clients ``find_client`` describes from their metadata document, not stored yet.
        self.documents = {}
        # The security events recorded, oldest first (``record_event``'s arguments).
        self.events = []

    # -- test helpers -----------------------------------------------------------------

    def advance(self, seconds):
        self.clock += timedelta(seconds=seconds)

    def configure(self, **changes):
        self._settings = replace(self._settings, **changes)

    def add_client(self, client):
        self.clients[client.client_id] = client
        return client

    def add_document_client(self, client):
        """A client known only by its metadata document: stored on the user's first consent."""
        self.documents[client.client_id] = client
        return client

    def deactivate(self, client_id):
        self.clients[client_id] = replace(self.clients[client_id], active=False)

    def event_names(self):
        return [event["event"] for event in self.events]

    def family(self, family):
        return [token for token in self.tokens.values() if token.family == family]

    # -- Storage ----------------------------------------------------------------------

    def now(self):
        return self.clock

    def settings(self):
        return self._settings

    def find_client(self, client_id):
        if client_id in self.documents:
            if not self._settings.metadata_documents_enabled:
                return None
            if client_id not in self.clients:
                return self.documents[client_id] if self._settings.registration_enabled else None
        return self.clients.get(client_id)

    def rate_limited(self, key, limit, window_seconds, *, count=True):
        seconds = epoch(self.clock)
        start = seconds - seconds % window_seconds
        current = self.counters.get((key, start), 0)
        if count:
            current += 1
            self.counters[key, start] = current
            over = current > limit
        else:
            over = current >= limit
        return max(1, start + window_seconds - seconds) if over else None

    def ensure_client(self, client):
        if client.client_id not in self.clients:
            self.add_client(self.documents[client.client_id])
        return self.clients[client.client_id]

    def find_consent(self, client_id, user_id):
        if client_id not in self.clients:
            return None
        return self.consents.get((client_id, user_id))

    def remember_consent(self, client_id, user_id, scopes, companies=()):
        earlier = self.consents.get((client_id, user_id), ())
        self.consents[client_id, user_id] = tuple(scope_rules.expand([*earlier, *scopes]))
        if companies:
            self.consent_companies[client_id, user_id] = tuple(companies)

    def find_consent_companies(self, client_id, user_id):
        return self.consent_companies.get((client_id, user_id), ())

    def save_pending(self, pending):
        self.pending[pending.handle] = pending

    def find_pending(self, handle, user_id):
        pending = self.pending.get(handle)
        return pending if pending is not None and pending.user_id == user_id else None

    def claim_pending(self, handle):
        self.pending[handle] = replace(self.pending[handle], used=True)

    def save_code(self, code):
        self.codes[code.digest] = code

    def find_code(self, digest):
        return self.codes.get(digest)

    def claim_code(self, digest, client_id, family):
        code = self.codes.get(digest)
        if code is None or code.client_id != client_id:
            return False, None
        if code.consumed:
            return False, code.family
        self.codes[digest] = replace(code, consumed=True, family=code.family or family)
        return True, family

    def save_token(self, token):
        self.tokens[token.digest] = token

    def find_token(self, digest):
        token = self.tokens.get(digest)
        if token is None:
            return None
        client = self.clients.get(token.client_id)
        return replace(token, revoked=token.revoked or client is None or not client.active)

    def claim_rotation(self, digest, when):
        token = self.tokens[digest]
        if token.rotated_at is not None:
            return token.rotated_at
        self.tokens[digest] = replace(token, rotated_at=when)
        return None

    def revoke_token(self, digest):
        self.tokens[digest] = replace(self.tokens[digest], revoked=True)

    def revoke_family(self, family):
        if not family:
            return
        for digest, token in list(self.tokens.items()):
            if token.family == family:
                self.tokens[digest] = replace(token, revoked=True)

    def find_registrations(self, registration, address):
        wanted = _registered_metadata(registration)
        return [
            (self.clients[client_id], registered_at)
            for client_id, metadata, registered_address, registered_at in reversed(self.registrations)
            if registered_address == address and metadata == wanted and self.clients[client_id].active
        ]

    def register_client(self, registration, client_id, secret_hash, address):
        ceiling = scope_rules.WRITE if scope_rules.WRITE in registration.scopes else scope_rules.READ
        client = self.add_client(
            Client(
                client_id=client_id,
                name=registration.client_name,
                kind=DYNAMIC,
                confidential=registration.confidential,
                active=True,
                redirect_uris=registration.redirect_uris,
                grant_types=registration.grant_types,
                allowed_scopes=tuple(scope_rules.expand([ceiling])),
                secret_hash=secret_hash,
                auth_method=registration.token_endpoint_auth_method,
            )
        )
        self.registrations.append((client_id, _registered_metadata(registration), address, self.clock))
        return client

    def rehash_client_secret(self, client_id, secret_hash):
        self.rehashed.append(client_id)
        self.clients[client_id] = replace(self.clients[client_id], secret_hash=secret_hash)

    def token_subject(self, token):
        return {"sub": f"subject-{token.user_id}", "username": f"user{token.user_id}"}

    def record_event(self, event, *, client_id=None, user_id=None, summary="", outcome="ok"):
        self.events.append(
            {"event": event, "client_id": client_id, "user_id": user_id, "summary": summary, "outcome": outcome}
        )


def redeem(storage, urls, client, code):
    """The client exchanges ``code`` at the token endpoint, with the verifier of ``VERIFIER``."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "code_verifier": VERIFIER,
    }
    return token_endpoint.handle(storage, urls, form, set(), None, "192.0.2.1")
