"""Which redirect URIs of a list may not be registered: the one loop over the Rust rules.

Used by every place that registers redirect URIs: dynamic registration, client metadata
documents, the connection's constraint and the Connect wizard. Each caller words the
problems for its audience; the rules themselves are ``validate_redirect_uri`` (per kind of
client) and ``validate_redirect_prefix`` (administrator prefixes, written ``https://…/*``).
"""

from dataclasses import dataclass

import mcp_connect_core as core

PREFIX_MARK = "*"


@dataclass(frozen=True)
class Problem:
    """One entry that may not be registered."""

    position: int
    """1-based position of the entry in the list."""
    entry: str
    """The entry as given (a prefix with its ``*``)."""
    prefix: bool
    error: core.InvalidRedirectUriError


def problems(entries, *, client_kind, prefixes=False):
    """The entries that break a redirect URI rule, in order.

    With ``prefixes``, an entry ending in ``*`` is a prefix (only an administrator sets one);
    without, it is an exact URI like any other, which the wildcard rule refuses.
    """
    found = []
    for position, entry in enumerate(entries, start=1):
        prefix = prefixes and entry.endswith(PREFIX_MARK)
        try:
            if prefix:
                core.validate_redirect_prefix(entry[: -len(PREFIX_MARK)])
            else:
                core.validate_redirect_uri(entry, client_kind=client_kind)
        except core.InvalidRedirectUriError as error:
            found.append(Problem(position, entry, prefix, error))
    return found
