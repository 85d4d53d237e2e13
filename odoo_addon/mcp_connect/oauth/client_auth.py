"""Client authentication at the token, revocation and introspection endpoints.

RFC 6749 §2.3.1 (``client_secret_basic``, ``client_secret_post``), OAuth 2.1 §2.4
(``none`` for public clients). A request uses exactly one method. Secrets are
verified by the Rust core (argon2id, constant time), at most once per request, and
rehashed when the hashing parameters have grown since. A self-registered client uses
the method it registered (RFC 7591 §2), no other.

Repeated failures are throttled before any hashing so the endpoint cannot be used to
burn CPU. Failures count per client and address together: an office NAT or a vendor's
cloud is many people behind one address, and a client_id is no secret, so neither
alone may lock out the valid clients that share it. One address also has a budget of
failed secret verifications across all clients (each one costs an argon2 hash), larger
than one client's; it never applies to public clients, which have no secret to hash.

Every failure and every throttled attempt is a security event of the audit trail.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass
from urllib.parse import unquote_plus

import mcp_connect_core as core

from . import events
from .errors import InvalidClient, InvalidRequest, SlowDown

FAILURE_WINDOW_SECONDS = 300
# Failed secret verifications one address may cause across all clients, in budgets of one client.
ADDRESS_BUDGET_FACTOR = 5
BASIC = "client_secret_basic"
POST = "client_secret_post"
NONE = "none"


@dataclass(frozen=True)
class Credentials:
    client_id: str
    secret: str | None
    method: str


def parse_credentials(form, authorization_header):
    """Find the client id, the secret and the method used; refuse ambiguous requests."""
    body_id = form.get("client_id")
    body_secret = form.get("client_secret")
    basic = _parse_basic(authorization_header)
    if basic is not None:
        if body_secret is not None:
            raise InvalidRequest("Use exactly one client authentication method.")
        client_id, secret = basic
        if body_id is not None and body_id != client_id:
            raise InvalidClient("The client_id does not match the authenticated client.", headers=_basic_challenge())
        return Credentials(client_id, secret, BASIC)
    if not body_id:
        raise InvalidClient("Missing client_id.")
    if body_secret is not None:
        return Credentials(body_id, body_secret, POST)
    return Credentials(body_id, None, NONE)


def _parse_basic(header):
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise InvalidClient("Malformed Basic authorization header.", headers=_basic_challenge()) from error
    client_id, separator, secret = decoded.partition(":")
    if not separator or not client_id:
        raise InvalidClient("Malformed Basic authorization header.", headers=_basic_challenge())
    # RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    return unquote_plus(client_id), unquote_plus(secret)


def _basic_challenge():
    return {"WWW-Authenticate": 'Basic realm="mcp_connect"'}


def authenticate(storage, form, authorization_header, client_ip, *, confidential_only=False):
    """Return the authenticated ``Client`` or raise ``InvalidClient`` / ``SlowDown``."""
    try:
        credentials = parse_credentials(form, authorization_header)
    except InvalidClient as error:
        _failed(storage, None, error.description)
        raise
    challenge = _basic_challenge() if credentials.method == BASIC else None
    budget = storage.settings().client_auth_failures
    client_digest = hashlib.sha256(credentials.client_id.encode()).hexdigest()[:32]
    key = f"client-auth-failure:{client_ip}:{client_digest}"
    address_key = f"client-auth-failure:{client_ip}"
    address_budget = budget * ADDRESS_BUDGET_FACTOR
    retry_after = budget and storage.rate_limited(key, budget, FAILURE_WINDOW_SECONDS, count=False)
    if retry_after:
        _throttled(storage, credentials.client_id, "too many failures of this client from this address")
        raise SlowDown(retry_after, "Too many failed client authentications; retry later.")
    client = storage.find_client(credentials.client_id)

    def fail(description, detail, *, hashed=False):
        if budget:
            storage.rate_limited(key, budget, FAILURE_WINDOW_SECONDS)
            if hashed:
                storage.rate_limited(address_key, address_budget, FAILURE_WINDOW_SECONDS)
        _failed(storage, credentials.client_id, detail)
        return InvalidClient(description, log_detail=detail, headers=challenge)

    if client is None or not client.active:
        raise fail(None, "unknown or revoked client")
    if not client.confidential:
        if confidential_only:
            raise fail("Only confidential clients may use this endpoint.", "public client")
        if credentials.method != NONE:
            raise fail("This public client has no secret; send only its client_id.", "secret sent by public client")
        return client
    if credentials.method == NONE or not client.secret_hash:
        raise fail("This client must authenticate with its client secret.", "missing secret")
    if client.auth_method in (BASIC, POST) and credentials.method != client.auth_method:
        raise fail(
            f"This client registered token_endpoint_auth_method {client.auth_method}; authenticate with it.",
            f"{credentials.method} used by a {client.auth_method} client",
        )
    retry_after = budget and storage.rate_limited(address_key, address_budget, FAILURE_WINDOW_SECONDS, count=False)
    if retry_after:
        _throttled(storage, credentials.client_id, "too many failed secrets from this address")
        raise SlowDown(retry_after, "Too many failed client authentications from this address; retry later.")
    try:
        core.verify_secret(secret=credentials.secret, phc=client.secret_hash)
    except core.SecretError as error:
        raise fail(None, f"secret verification failed: {type(error).__name__}", hashed=True) from error
    if core.secret_needs_rehash(client.secret_hash):
        storage.rehash_client_secret(client.client_id, core.hash_secret(credentials.secret))
    return client


def _failed(storage, client_id, reason):
    # ``reason`` is one of this module's fixed texts, never anything the client sent.
    storage.record_event(
        events.CLIENT_AUTH_FAILED,
        client_id=client_id,
        summary=f"Client authentication failed: {reason}",
        outcome=events.DENIED,
    )


def _throttled(storage, client_id, reason):
    storage.record_event(
        events.CLIENT_AUTH_THROTTLED,
        client_id=client_id,
        summary=f"Client authentication refused before checking: {reason}",
        outcome=events.RATE_LIMITED,
    )
