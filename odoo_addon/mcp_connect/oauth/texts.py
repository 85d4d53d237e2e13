"""Texts the authorization pages show to people, marked for translation without importing Odoo.

Odoo's exporter collects every ``_lt("...")`` literal of the addon into ``i18n/mcp_connect.pot``;
like Odoo's own ``_lt``, the text is translated later, where it is shown: the controller translates
a marked text into the reader's language when it renders the page (``controllers/oauth.py``).
Marking changes nothing else: the text stays the English source.
"""


def _lt(text):
    return text
