"""Scopes: ``mcp:read`` and ``mcp:write`` (which includes reading) for the MCP resource, and
``email`` for the user's address at the userinfo endpoint.

Pinned behaviour for what clients send (README.rst, *Tested with*, *Clients*):
- no scope, or only unknown scopes: the default, everything the client may have;
- unknown scopes (``claudeai``, ``mcp:tools``...) are ignored;
- ``offline_access`` is accepted and only means "may get a refresh token";
- a known scope this client may not have: ``invalid_scope``.
"""

from .errors import InvalidScope
from .texts import _lt

READ = "mcp:read"
WRITE = "mcp:write"
EMAIL = "email"
OFFLINE_ACCESS = "offline_access"
RESOURCE = (READ, WRITE)
KNOWN = (READ, WRITE, EMAIL)
# Granted only when asked for; a request without known scopes gets the resource scopes.
OPT_IN = (EMAIL,)
# A broader scope implies the narrower ones (MCP authorization, scope hierarchies).
IMPLIED = {WRITE: (READ,), READ: (), EMAIL: ()}
# The one wording of the resource scopes on every page: the consent page, the wizard, the connection.
# Marked for translation: Odoo translates them where it shows them.
LABELS = {
    READ: _lt("Read only (mcp:read)"),
    WRITE: _lt("Read and write (mcp:write)"),
    EMAIL: _lt("Email address (email)"),
}
DESCRIPTIONS = {
    READ: _lt("Read only (mcp:read): see your Odoo data"),
    WRITE: _lt("Read and write (mcp:write): see, create, change and delete your Odoo data"),
    EMAIL: _lt("See your email address"),
}
MAX_SCOPE_LENGTH = 1000


def split(scope_string):
    """RFC 6749 §3.3: space-delimited, case-sensitive, order irrelevant."""
    if not scope_string:
        return []
    if len(scope_string) > MAX_SCOPE_LENGTH:
        raise InvalidScope("The scope parameter is too long.")
    return [s for s in scope_string.split(" ") if s]


def expand(scopes):
    """The scopes with everything they imply, in canonical order."""
    result = set()
    for scope in scopes:
        if scope in IMPLIED:
            result.add(scope)
            result.update(IMPLIED[scope])
    return [s for s in KNOWN if s in result]


def join(scopes):
    return " ".join(expand(scopes))


def resolve(requested, allowed):
    """Scopes to grant for a request, given what the client may have.

    ``requested`` is the raw scope parameter (or None); ``allowed`` the client's
    scopes. Returns ``(granted, offline_access_requested)``.
    """
    names = split(requested)
    known = [name for name in names if name in KNOWN]
    allowed_set = set(expand([*allowed, *OPT_IN]))
    if not known:
        return [s for s in expand(allowed_set) if s not in OPT_IN], OFFLINE_ACCESS in names
    refused = [name for name in known if name not in allowed_set]
    if refused:
        raise InvalidScope(f"This client may not request {' '.join(refused)}.")
    return expand(known), OFFLINE_ACCESS in names


def narrow(requested, previously_granted):
    """A refresh may narrow the scope but never widen it (RFC 6749 §6)."""
    names = [name for name in split(requested) if name in KNOWN]
    if not names:
        return expand(previously_granted)
    wanted = expand(names)
    if not set(wanted) <= set(expand(previously_granted)):
        raise InvalidScope("A refresh cannot widen the scope of the original grant.")
    return wanted


def covers(granted, required):
    """Whether the granted scopes include ``required`` (directly or by implication)."""
    return required in expand(granted)


def covers_all(granted, wanted):
    """Whether scopes ``granted`` earlier include everything ``wanted`` now."""
    return set(expand(wanted)) <= set(expand(granted))


def describe(scopes, words=None):
    """Plain words for the consent page (``LABELS`` for a list): the broadest resource scope says it all."""
    words = DESCRIPTIONS if words is None else words
    expanded = expand(scopes)
    shown = [s for s in expanded if s != READ] if WRITE in expanded else expanded
    return [words[s] for s in shown]
