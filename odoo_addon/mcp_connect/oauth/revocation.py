"""Token revocation, RFC 7009.

The client authenticates; a token that is malformed, unknown or another client's is
answered exactly like a revoked one (200, empty body) so the endpoint reveals
nothing. Revoking a refresh token revokes its whole family, access tokens
included (RFC 7009 §2.1).
"""

import mcp_connect_core as core

from . import client_auth
from .errors import InvalidRequest, UnsupportedTokenType

HINTS = ("access_token", "refresh_token")


def revoke(storage, form, repeated, authorization_header, client_ip):
    if repeated:
        raise InvalidRequest(f"Parameters may appear only once: {', '.join(sorted(repeated))}.")
    client = client_auth.authenticate(storage, form, authorization_header, client_ip)
    token = form.get("token")
    if not token:
        raise InvalidRequest("Missing token.")
    hint = form.get("token_type_hint")
    if hint is not None and hint not in HINTS:
        raise UnsupportedTokenType("token_type_hint must be access_token or refresh_token.")
    try:
        kind, digest = core.parse_token(token)
    except core.TokenError:
        return
    if kind not in ("access", "refresh"):
        return
    record = storage.find_token(digest)
    if record is None or record.client_id != client.client_id:
        return
    if record.kind == "refresh":
        storage.revoke_family(record.family)
    else:
        storage.revoke_token(digest)
