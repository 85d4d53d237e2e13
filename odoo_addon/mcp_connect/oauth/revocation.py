"""Token revocation, RFC 7009.

The client authenticates; a token that is malformed, unknown or another client's is
answered exactly like a revoked one (200, empty body) so the endpoint reveals
nothing. Revoking a refresh token revokes its whole family, access tokens
included (RFC 7009 §2.1). Revoking a live token is a security event of the audit trail.
"""

from . import events, presented_token
from .errors import UnsupportedTokenType

HINTS = ("access_token", "refresh_token")


def revoke(storage, form, repeated, authorization_header, client_ip):
    client, token = presented_token.authenticate(storage, form, repeated, authorization_header, client_ip)
    hint = form.get("token_type_hint")
    if hint is not None and hint not in HINTS:
        raise UnsupportedTokenType("token_type_hint must be access_token or refresh_token.")
    record = presented_token.own_token(storage, client, token)
    if record is None:
        return
    if record.kind == "refresh":
        storage.revoke_family(record.family)
        summary = "The client revoked a refresh token, and with it every token of its family."
    else:
        storage.revoke_token(record.digest)
        summary = "The client revoked an access token."
    if not record.revoked:
        storage.record_event(events.TOKEN_REVOKED, client_id=client.client_id, user_id=record.user_id, summary=summary)
