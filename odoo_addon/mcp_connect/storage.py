"""The OAuth storage protocol (``oauth.storage.Storage``) implemented over the Odoo models.

All access is done with a superuser environment: the protocol layer decides, this
class only stores and loads. Codes and tokens are looked up by digest under a unique
index; rows that must change atomically are locked with ``SELECT ... FOR UPDATE``.
"""

import functools
import hashlib
from datetime import timedelta

from odoo import SUPERUSER_ID, Command, fields
from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.tools import SQL

from . import config, grants
from .client_address import client_ip
from .oauth import client_metadata_document as cimd
from .oauth import events
from .oauth import scopes as scope_rules
from .oauth.errors import InvalidClientMetadata
from .oauth.storage import Client, ClientLookupError, CodeGrant, PendingRequest, Settings, TokenRecord
from .oauth.texts import _lt
from .oauth.urls import ServerUrls
from .transactions import independent_cursor

KINDS = {"browser": "dynamic", "custom": "custom", "metadata": "metadata_document", "personal": "personal"}
METADATA_FETCH_WINDOW_SECONDS = 600


def _registered_scope(registration):
    """The broadest access a self-registered client asked for, kept as the connection's ceiling."""
    return "write" if scope_rules.WRITE in registration.scopes else "read"


def server_urls(env):
    """Issuer and resource from the configured base URL, never from request headers."""
    # sudo: the base URL is a system parameter, read for every request, signed in or not
    return _urls_of(env["ir.config_parameter"].sudo().get_param("web.base.url"))


@functools.lru_cache(maxsize=32)
def _urls_of(base_url):
    """The URLs of one base URL, parsed once per worker (this runs on every request)."""
    return ServerUrls.from_base_url(base_url)


def subject(env, user_id):
    """A stable, opaque ``sub`` per database and user."""
    # sudo: the database UUID is a system parameter, read for every request, signed in or not
    database_uuid = env["ir.config_parameter"].sudo().get_param("database.uuid", "")
    return hashlib.sha256(f"{database_uuid}:{user_id}".encode()).hexdigest()[:32]


def _companies(record):
    """A code's or token's company ids, the main one first."""
    return tuple((record.company_id | record.company_ids).ids)


class OdooStorage:
    def __init__(self, env):
        self.env = env(user=SUPERUSER_ID, su=True)
        self._settings = None

    # -- settings and time ------------------------------------------------------------

    def now(self):
        return fields.Datetime.now()

    def settings(self):
        if self._settings is None:
            get = config.get
            self._settings = Settings(
                access_token_seconds=get(self.env, "access_token_minutes") * 60,
                refresh_token_seconds=get(self.env, "refresh_token_days") * 86400,
                refresh_grace_seconds=get(self.env, "refresh_grace_seconds"),
                family_max_seconds=get(self.env, "family_max_days") * 86400,
                code_seconds=get(self.env, "code_seconds"),
                registration_enabled=get(self.env, "registration_enabled"),
                metadata_documents_enabled=get(self.env, "metadata_documents_enabled"),
                pkce_exempt_hosts=tuple(config.pkce_exempt_hosts(self.env)),
                registrations_per_hour=get(self.env, "registrations_per_hour"),
                client_auth_failures=get(self.env, "client_auth_failures"),
                paused=get(self.env, "paused"),
            )
        return self._settings

    def rate_limited(self, key, limit, window_seconds, *, count=True):
        return self.env["mcp.rate.counter"]._hit(key, limit, window_seconds, self.now(), count=count)

    # -- clients ------------------------------------------------------------------------

    def connection_for(self, client_id):
        return self.env["mcp.connection"].search([("client_id", "=", client_id)], limit=1)

    def find_client(self, client_id):
        if not isinstance(client_id, str) or not client_id or len(client_id) > 500:
            return None
        connection = self.connection_for(client_id)
        if cimd.is_document_url(client_id):
            if not self.settings().metadata_documents_enabled:
                return None
            if not connection and not self.settings().registration_enabled:
                # Its first sign-in would create a connection of its own: that is self-registration.
                return None
            if not connection or not connection.metadata_expires_at or connection.metadata_expires_at <= self.now():
                document = self._fetch_document(client_id)
                if connection:
                    self._refresh_connection(connection, document)
                else:
                    return self._document_client(document)
        if not connection or connection.connection_type == "personal":
            return None
        return self.client_from_connection(connection)

    def _fetch_document(self, url):
        """The document at ``url``: from this worker's cache, else downloaded within the address's budget.

        Anyone can make the server download a URL by naming it as a client_id, before signing
        in; each address gets ``metadata_fetches_per_ip`` downloads per 10 minutes, counted
        across workers, and a cached document or failure costs nothing.
        """
        try:
            cimd.check_url(url)
            document = cimd.CACHE.get(url)
            if document is not None:
                return document
            address = self._requester_address()
            budget = config.get(self.env, "metadata_fetches_per_ip")
            key = f"metadata-fetch:ip:{address}"
            retry_after = address and budget and self.rate_limited(key, budget, METADATA_FETCH_WINDOW_SECONDS)
            if retry_after:
                self.record_event(
                    events.REGISTRATION_REFUSED,
                    summary="Client metadata document not downloaded: too many were requested from this address.",
                    outcome=events.RATE_LIMITED,
                )
                raise ClientLookupError(
                    "Too many client metadata documents were requested from this network address. "
                    f"Try again in {retry_after} seconds."
                )
            try:
                document = cimd.fetch(url)
            except cimd.MetadataDocumentError as error:
                cimd.CACHE.put(url, error)
                raise
            cimd.CACHE.put(url, document)
            return document
        except cimd.MetadataDocumentError as error:
            raise ClientLookupError(str(error)) from error

    @staticmethod
    def _requester_address():
        """The client address of the HTTP request being served, or None outside one (cron, shell)."""
        return client_ip()

    def _document_client(self, document):
        return Client(
            client_id=document.client_id,
            name=document.client_name,
            kind="metadata_document",
            confidential=False,
            active=True,
            redirect_uris=document.redirect_uris,
            grant_types=document.grant_types,
            allowed_scopes=scope_rules.KNOWN,
        )

    def _refresh_connection(self, connection, document):
        connection.with_context(mcp_registration_update=True).write(
            {
                "name": document.client_name,
                "redirect_uris": "\n".join(document.redirect_uris),
                "grant_types": " ".join(document.grant_types),
                "client_uri": document.client_uri,
                "logo_uri": document.logo_uri,
                "metadata_expires_at": self.now() + timedelta(seconds=document.max_age),
            }
        )

    def ensure_client(self, client):
        connection = self.connection_for(client.client_id)
        if connection:
            return self.client_from_connection(connection)
        settings = self.settings()
        if not settings.registration_enabled or not settings.metadata_documents_enabled:
            raise ClientLookupError(
                _lt(
                    "This Odoo database does not let AI tools register themselves. Ask an administrator to create "
                    "a Custom OAuth connection for this tool."
                )
            )
        document = self._fetch_document(client.client_id)
        connection = self.env["mcp.connection"]._create_self_registered(
            {
                "name": document.client_name,
                "connection_type": "metadata",
                "client_id": document.client_id,
                "client_type": "public",
                "redirect_uris": "\n".join(document.redirect_uris),
                "grant_types": " ".join(document.grant_types),
                "client_uri": document.client_uri,
                "logo_uri": document.logo_uri,
                "owner_user_id": False,
                "company_id": self._default_company().id,
                "metadata_expires_at": self.now() + timedelta(seconds=document.max_age),
            },
            "write",
            metadata_url=document.client_id,
        )
        self.record_event(
            events.CLIENT_REGISTERED,
            client_id=connection.client_id,
            summary=f"{connection.name[:80]} connected through its client metadata document.",
        )
        return self.client_from_connection(connection)

    @staticmethod
    def client_from_connection(connection):
        registered, prefixes = connection._redirect_rules()
        return Client(
            client_id=connection.client_id,
            name=connection.name,
            kind=KINDS[connection.connection_type],
            confidential=connection.client_type == "confidential",
            # A connection waiting for approval signs users in; the MCP endpoint refuses its calls.
            active=connection.state != "revoked",
            redirect_uris=tuple(registered),
            redirect_prefixes=tuple(prefixes),
            grant_types=tuple((connection.grant_types or "").split()),
            allowed_scopes=connection._allowed_scopes(),
            secret_hash=connection.secret_hash or None,
            auth_method=connection.token_endpoint_auth_method or None,
            skip_consent=connection.skip_consent,
            owner_user_id=connection.owner_user_id.id or None,
            owner_company_id=connection._owner_company().id,
            record_id=connection.id,
            registered_at=connection.create_date,
            company_ids=tuple(connection.company_ids.ids),
            max_session_seconds=connection.session_days * 86400 or None,
        )

    def _default_company(self):
        return self.env["res.company"].search([], order="id", limit=1)

    def find_registrations(self, registration, address):
        connections = self.env["mcp.connection"].search(
            [
                ("connection_type", "=", "browser"),
                ("state", "in", ("active", "pending")),
                ("registration_address", "=", address),
                ("name", "=", registration.client_name),
                ("client_type", "=", "confidential" if registration.confidential else "public"),
                ("grant_types", "=", " ".join(registration.grant_types)),
                ("application_type", "=", registration.application_type),
                ("registered_scope", "=", _registered_scope(registration)),
                ("client_uri", "=", registration.client_uri or False),
                ("logo_uri", "=", registration.logo_uri or False),
                ("software_id", "=", registration.software_id or False),
                ("software_version", "=", registration.software_version or False),
            ],
            order="id desc",
            limit=20,
        )
        return [(self.client_from_connection(connection), connection.create_date) for connection in connections]

    def register_client(self, registration, client_id, secret_hash, address):
        try:
            with self.env.cr.savepoint():
                connection = self._create_registered(registration, client_id, secret_hash, address)
        except ValidationError as error:
            raise InvalidClientMetadata(str(error.args[0]) if error.args else None) from error
        return self.client_from_connection(connection)

    def _create_registered(self, registration, client_id, secret_hash, address):
        return self.env["mcp.connection"]._create_self_registered(
            {
                "registration_address": address,
                "name": registration.client_name,
                "connection_type": "browser",
                "client_id": client_id,
                "client_type": "confidential" if registration.confidential else "public",
                "secret_hash": secret_hash,
                "token_endpoint_auth_method": registration.token_endpoint_auth_method,
                "redirect_uris": "\n".join(registration.redirect_uris),
                "grant_types": " ".join(registration.grant_types),
                "application_type": registration.application_type,
                "client_uri": registration.client_uri,
                "logo_uri": registration.logo_uri,
                "software_id": registration.software_id,
                "software_version": registration.software_version,
                "owner_user_id": False,
                "company_id": self._default_company().id,
            },
            _registered_scope(registration),
        )

    def rehash_client_secret(self, client_id, secret_hash):
        self.connection_for(client_id).secret_hash = secret_hash

    # -- consent and pending requests -----------------------------------------------

    def _as_user(self, model, user_id):
        """``model`` as superuser on behalf of the user, so the rows record who made them."""
        # sudo: OAuth rows are system rows no user may write; with_user stamps who they are for
        return self.env[model].with_user(user_id).sudo()

    def find_consent(self, client_id, user_id):
        connection = self.connection_for(client_id)
        if not connection:
            return None
        consent = self.env["mcp.consent"].search(
            [("user_id", "=", user_id), ("connection_id", "=", connection.id)], limit=1
        )
        return tuple(consent.scopes.split()) if consent else None

    def remember_consent(self, client_id, user_id, scopes, companies=()):
        user = self.env["res.users"].browse(user_id)
        self._as_user("mcp.consent", user_id)._remember(user, self.connection_for(client_id), scopes, companies)

    def find_consent_companies(self, client_id, user_id):
        connection = self.connection_for(client_id)
        if not connection:
            return ()
        consent = self.env["mcp.consent"].search(
            [("user_id", "=", user_id), ("connection_id", "=", connection.id)], limit=1
        )
        return tuple(consent._companies().ids) if consent else ()

    def save_pending(self, pending):
        self._as_user("mcp.authorization.request", pending.user_id).create(
            {
                "handle": pending.handle,
                "user_id": pending.user_id,
                "client_id": pending.client_id,
                "redirect_uri": pending.redirect_uri,
                "redirect_uri_sent": pending.redirect_uri_sent,
                "state": pending.state,
                "scopes": " ".join(pending.scopes),
                "code_challenge": pending.code_challenge,
                "code_challenge_method": pending.code_challenge_method,
                "resource": pending.resource,
                "expires_at": pending.expires_at,
            }
        )

    def _pending(self, handle, user_id=None):
        domain = [("handle", "=", handle)]
        if user_id is not None:
            domain.append(("user_id", "=", user_id))
        return self.env["mcp.authorization.request"].search(domain, limit=1)

    def find_pending(self, handle, user_id):
        pending = self._pending(handle, user_id)
        if not pending:
            return None
        return PendingRequest(
            handle=pending.handle,
            user_id=pending.user_id.id,
            client_id=pending.client_id,
            redirect_uri=pending.redirect_uri,
            redirect_uri_sent=pending.redirect_uri_sent,
            state=pending.state or None,
            scopes=tuple(pending.scopes.split()),
            code_challenge=pending.code_challenge or None,
            code_challenge_method=pending.code_challenge_method or None,
            resource=pending.resource,
            expires_at=pending.expires_at,
            used=pending.used,
        )

    def claim_pending(self, handle):
        self._pending(handle).used = True

    # -- codes ------------------------------------------------------------------------

    def save_code(self, code):
        connection = self.connection_for(code.client_id)
        self.env["mcp.authorization.code"].create(
            {
                "digest": code.digest,
                "connection_id": connection.id,
                "user_id": code.user_id,
                "company_id": code.company_id,
                "company_ids": [Command.set(list(code.company_ids or (code.company_id,)))],
                "redirect_uri": code.redirect_uri,
                "code_challenge": code.code_challenge,
                "code_challenge_method": code.code_challenge_method,
                "scopes": " ".join(code.scopes),
                "resource": code.resource,
                "expires_at": code.expires_at,
            }
        )

    def find_code(self, digest):
        code = self.env["mcp.authorization.code"].search([("digest", "=", digest)], limit=1)
        if not code:
            return None
        return CodeGrant(
            digest=digest,
            client_id=code.connection_id.client_id,
            user_id=code.user_id.id,
            company_id=code.company_id.id,
            company_ids=_companies(code),
            redirect_uri=code.redirect_uri or "",
            scopes=tuple(code.scopes.split()),
            resource=code.resource,
            expires_at=code.expires_at,
            code_challenge=code.code_challenge or None,
            code_challenge_method=code.code_challenge_method or None,
            family=code.family or None,
            consumed=code.consumed,
        )

    def claim_code(self, digest, client_id, family):
        """In its own READ COMMITTED transaction: a concurrent claim waits, then sees the code taken.

        Returns ``(claimed, family)``: whether this call consumed the code, and the token
        family recorded by whichever call did.
        """
        query = SQL(
            "WITH target AS ("
            "  SELECT code.id, code.consumed, code.family FROM mcp_authorization_code code"
            "  JOIN mcp_connection connection ON connection.id = code.connection_id"
            "  WHERE code.digest = %(digest)s AND connection.client_id = %(client_id)s"
            "  FOR NO KEY UPDATE OF code"
            ") UPDATE mcp_authorization_code code"
            "  SET consumed = true, consumed_at = %(now)s, family = COALESCE(target.family, %(family)s)"
            "  FROM target WHERE code.id = target.id"
            "  RETURNING target.consumed IS NOT TRUE, COALESCE(target.family, %(family)s)",
            digest=digest,
            client_id=client_id,
            now=self.now(),
            family=family,
        )
        with independent_cursor(self.env) as cr:
            cr.execute(query)
            row = cr.fetchone()
        self.env["mcp.authorization.code"].invalidate_model()
        if row is None:
            return False, None
        claimed, recorded = row
        return claimed, (family if claimed else recorded)

    # -- tokens -------------------------------------------------------------------------

    def save_token(self, token):
        connection = self.connection_for(token.client_id)
        parent = (
            self.env["mcp.token"].search([("digest", "=", token.parent_digest)], limit=1)
            if token.parent_digest
            else self.env["mcp.token"]
        )
        self.env["mcp.token"].create(
            {
                "digest": token.digest,
                "kind": token.kind,
                "connection_id": connection.id,
                "user_id": token.user_id,
                "company_id": token.company_id,
                "company_ids": [Command.set(list(token.company_ids or (token.company_id,)))],
                "scopes": " ".join(token.scopes),
                "resource": token.resource,
                "expires_at": token.expires_at,
                "family": token.family,
                "family_expires_at": token.family_expires_at,
                "parent_id": parent.id,
            }
        )
        connection._touch()

    def _token_record(self, token, digest):
        user_usable = token.user_id.active
        return TokenRecord(
            digest=digest,
            kind=token.kind,
            client_id=token.connection_id.client_id,
            user_id=token.user_id.id,
            company_id=token.company_id.id,
            company_ids=_companies(token),
            scopes=tuple(token.scopes.split()),
            resource=token.resource,
            expires_at=token.expires_at,
            family=token.family,
            family_expires_at=token.family_expires_at,
            parent_digest=token.parent_id.digest or None,
            rotated_at=token.rotated_at or None,
            revoked=token.revoked or not user_usable or token.connection_id.state == "revoked",
            issued_at=token.create_date,
        )

    def find_token(self, digest):
        token = self.env["mcp.token"].search([("digest", "=", digest)], limit=1)
        return self._token_record(token, digest) if token else None

    def claim_rotation(self, digest, when):
        """In its own READ COMMITTED transaction: concurrent refreshes wait for each other and
        all learn when the token was first rotated (None for the call that rotated it)."""
        # Only the first call writes the row, and as a plain (no key) update: the request's own
        # transaction then still inserts the rotated token referencing it without a
        # serialization failure (a FOR UPDATE lock would count as a key change for that check).
        rotate = SQL(
            "UPDATE mcp_token SET rotated_at = %(when)s WHERE digest = %(digest)s AND rotated_at IS NULL RETURNING id",
            digest=digest,
            when=when,
        )
        with independent_cursor(self.env) as cr:
            cr.execute(rotate)
            if cr.fetchone():
                earlier = None
            else:
                cr.execute(SQL("SELECT rotated_at FROM mcp_token WHERE digest = %s", digest))
                row = cr.fetchone()
                earlier = row[0] if row else None
        self.env["mcp.token"].invalidate_model(["rotated_at"])
        return earlier

    def revoke_token(self, digest):
        self.env["mcp.token"].search([("digest", "=", digest)])._revoke()

    def revoke_family(self, family):
        """In its own transaction, so it holds even when the request then fails."""
        if not family:
            return
        query = SQL(
            "UPDATE mcp_token SET revoked = true, revoked_at = %(now)s"
            " WHERE family = %(family)s AND revoked IS NOT TRUE",
            now=self.now(),
            family=family,
        )
        with independent_cursor(self.env) as cr:
            cr.execute(query)
        self.env["mcp.token"].invalidate_model(["revoked", "revoked_at"])
        grants.forget(self.env)

    def token_subject(self, token):
        user = self.env["res.users"].browse(token.user_id)
        return {"sub": subject(self.env, user.id), "username": user.login}

    # -- audit --------------------------------------------------------------------------

    def record_event(self, event, *, client_id=None, user_id=None, summary="", outcome=events.OK):
        """The connection is the stored one ``client_id`` names; a client_id that names none is not
        kept (it is whatever the requester sent). The endpoint is the request's path."""
        connection = self.env["mcp.connection"]
        if isinstance(client_id, str) and 0 < len(client_id) <= 500:
            connection = self.connection_for(client_id)
        self.env["mcp.audit.log"]._record_event(
            event,
            connection=connection,
            user=self.env["res.users"].browse(user_id),
            summary=summary,
            outcome=outcome,
            method=request.httprequest.path if request else None,
        )
