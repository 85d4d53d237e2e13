"""What the OAuth protocol code needs from storage, and the records it exchanges.

The protocol modules of this package never import the ORM: they work on these
plain records and call a ``Storage`` (implemented over Odoo models by
``mcp_connect.storage.OdooStorage``). Secrets never cross this boundary in clear:
codes and tokens are passed as their SHA-256 digests, client secrets as argon2id
PHC strings.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

# Client kinds, as the Rust redirect rules name them, plus personal-token connections.
CUSTOM = "custom"
DYNAMIC = "dynamic"
METADATA_DOCUMENT = "metadata_document"
PERSONAL = "personal"


class ClientLookupError(Exception):
    """A client that exists only as a URL whose document cannot be used; the message is safe to show.

    Raised by ``Storage.find_client`` and ``Storage.ensure_client``.
    """


def epoch(moment):
    """Seconds since the epoch of a naive UTC datetime (as Odoo stores them)."""
    return int(moment.replace(tzinfo=timezone.utc).timestamp())


@dataclass(frozen=True)
class Client:
    """An OAuth client as the protocol sees it (one ``mcp.connection``)."""

    client_id: str
    name: str
    kind: str
    confidential: bool
    active: bool
    redirect_uris: tuple[str, ...] = ()
    redirect_prefixes: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    allowed_scopes: tuple[str, ...] = ("mcp:read", "mcp:write")
    secret_hash: str | None = field(default=None, repr=False)
    # The one secret method a self-registered confidential client declared; None accepts either.
    auth_method: str | None = None
    skip_consent: bool = False
    owner_user_id: int | None = None
    owner_company_id: int | None = None
    record_id: int | None = None
    # When the client was registered, as its registration answers say (client_id_issued_at).
    registered_at: datetime | None = None
    # The companies this connection's tokens may work in (a cap set by a manager); empty: no cap.
    company_ids: tuple[int, ...] = ()
    # The longest a sign-in (a refresh family) may last for this connection; None: the Settings' maximum.
    # It only ever shortens the Settings' maximum.
    max_session_seconds: int | None = None

    @property
    def verified(self):
        """Created by an administrator, as opposed to registered by the tool itself."""
        return self.kind == CUSTOM


@dataclass(frozen=True)
class CodeGrant:
    """An authorization code (RFC 6749 §4.1.2), stored by digest."""

    digest: str
    client_id: str
    user_id: int
    company_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    resource: str
    expires_at: datetime
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    family: str | None = None
    consumed: bool = False
    # The companies the user chose on the consent page, the main one (``company_id``) first.
    company_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class TokenRecord:
    """An access, refresh or personal token, stored by digest."""

    digest: str
    kind: str
    client_id: str
    user_id: int
    company_id: int
    scopes: tuple[str, ...]
    resource: str
    expires_at: datetime
    family: str
    family_expires_at: datetime
    parent_digest: str | None = None
    rotated_at: datetime | None = None
    revoked: bool = False
    issued_at: datetime | None = None
    # The companies the token works in, the main one (``company_id``) first; a refresh keeps them.
    company_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PendingRequest:
    """An authorization request waiting for the user's decision on the consent page, named by ``handle``."""

    handle: str
    user_id: int
    client_id: str
    redirect_uri: str
    redirect_uri_sent: bool
    state: str | None
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    resource: str
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True)
class Settings:
    access_token_seconds: int
    refresh_token_seconds: int
    refresh_grace_seconds: int
    family_max_seconds: int
    code_seconds: int
    registration_enabled: bool
    metadata_documents_enabled: bool
    pkce_exempt_hosts: tuple[str, ...]
    registrations_per_hour: int
    client_auth_failures: int
    # Pause all AI access: every grant is refused (503), nothing is revoked.
    paused: bool = False


@dataclass(frozen=True)
class Registration:
    """A validated RFC 7591 registration request."""

    client_name: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    confidential: bool
    token_endpoint_auth_method: str
    application_type: str
    scopes: tuple[str, ...]
    client_uri: str | None = None
    logo_uri: str | None = None
    software_id: str | None = None
    software_version: str | None = None


class Storage(Protocol):
    """Implemented by ``mcp_connect.storage.OdooStorage``."""

    def now(self) -> datetime: ...

    def settings(self) -> Settings: ...

    def find_client(self, client_id: str) -> Client | None: ...

    def rate_limited(self, key: str, limit: int, window_seconds: int, *, count: bool = True) -> int | None:
        """Count one event for ``key``; return seconds to wait if over ``limit`` in the window, else None."""

    def ensure_client(self, client: Client) -> Client:
        """The client as a stored connection, created on first consent for a metadata-document client
        (which ``find_client`` only describes from its document)."""

    def find_consent(self, client_id: str, user_id: int) -> tuple[str, ...] | None:
        """The scopes the user allowed this client, or None if they never did."""

    def remember_consent(
        self, client_id: str, user_id: int, scopes: tuple[str, ...], companies: tuple[int, ...] = ()
    ) -> None:
        """Record the user's consent to ``scopes`` for a stored client, widening an earlier one; the
        ``companies`` chosen replace the earlier choice (none given keeps it)."""

    def find_consent_companies(self, client_id: str, user_id: int) -> tuple[int, ...]:
        """The companies the user last chose for this client, the main one first; () if none."""

    def save_pending(self, pending: PendingRequest) -> None: ...

    def find_pending(self, handle: str, user_id: int) -> PendingRequest | None:
        """The pending request ``handle`` of this user; another user's is None."""

    def claim_pending(self, handle: str) -> None:
        """Mark the pending request used: it is answered once."""

    def save_code(self, code: CodeGrant) -> None: ...

    def find_code(self, digest: str) -> CodeGrant | None: ...

    def claim_code(self, digest: str, client_id: str, family: str) -> tuple[bool, str | None]:
        """Atomically mark the client's unused code consumed, recording the token ``family`` it
        will issue. Returns whether this call claimed it, and the family recorded by the call
        that did (so a replay can revoke what the first redemption issued)."""

    def save_token(self, token: TokenRecord) -> None: ...

    def find_token(self, digest: str) -> TokenRecord | None: ...

    def claim_rotation(self, digest: str, when: datetime) -> datetime | None:
        """Atomically stamp a refresh token as rotated at ``when`` unless it already was;
        return the earlier rotation time, or None if this call rotated it."""

    def revoke_token(self, digest: str) -> None: ...

    def revoke_family(self, family: str) -> None: ...

    def find_registrations(self, registration: Registration, address: str) -> list[tuple[Client, datetime]]:
        """Active self-registered clients that ``address`` registered with the same metadata, redirect
        URIs aside, newest first, each with the time it was registered."""

    def register_client(
        self, registration: Registration, client_id: str, secret_hash: str | None, address: str
    ) -> Client: ...

    def rehash_client_secret(self, client_id: str, secret_hash: str) -> None:
        """Replace the stored hash of a client secret just verified (stronger hashing parameters)."""

    def token_subject(self, token: TokenRecord) -> dict:
        """``sub`` and ``username`` of the token's user, for introspection."""

    def record_event(
        self,
        event: str,
        *,
        client_id: str | None = None,
        user_id: int | None = None,
        summary: str = "",
        outcome: str = "ok",
    ) -> None:
        """Add a security event (``oauth.events``) to the audit trail, with the requester's address.

        ``client_id`` is the one presented and may name no client; ``summary`` is words, never a
        secret. A refusal (an ``outcome`` other than ok) is kept even if the request's own
        transaction is rolled back.
        """
