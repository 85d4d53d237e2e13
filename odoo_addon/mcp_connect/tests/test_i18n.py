"""Translations: the .pot holds every term of the code, French, German and Spanish translate all
of it, and the authorization pages speak the reader's language."""

import re
from pathlib import Path

import polib
from lxml import html
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

from .common import McpHttpCase

I18N = Path(__file__).resolve().parent.parent / "i18n"
POT = I18N / "mcp_connect.pot"
LANGUAGES = ("fr", "de", "es")
# What a translation must keep from its source: Python's %-placeholders, format fields and the
# markup of a view's text (tags with their attributes, QWeb's t-out and t-att- included).
PLACEHOLDER = re.compile(r"%\(\w+\)[sdfr]|%[sdfr]|\{\w*\}|<[^>]+>")


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


@tagged("post_install", "-at_install")
class TestPot(TransactionCase):
    def test_pot_has_every_term_of_the_code(self):
        """Run ``make pot`` after adding or changing a translatable text."""
        terms = {source for _module, _type, _name, _res_id, source, _value, _comments in self.reader()}
        committed = {entry.msgid for entry in polib.pofile(str(POT))}
        self.assertFalse(sorted(terms - committed), "missing from i18n/mcp_connect.pot: run make pot")
        self.assertFalse(sorted(committed - terms), "gone from the code, still in i18n/mcp_connect.pot: run make pot")

    def reader(self):
        return TranslationModuleReader(self.env.cr, modules=["mcp_connect"])

    def test_every_language_translates_every_term_and_keeps_its_placeholders(self):
        sources = [entry.msgid for entry in polib.pofile(str(POT))]
        self.assertGreater(len(sources), 100)
        for language in LANGUAGES:
            with self.subTest(language=language):
                catalog = polib.pofile(str(I18N / f"{language}.po"))
                translations = {entry.msgid: entry for entry in catalog if not entry.obsolete}
                self.assertEqual(catalog.metadata.get("Language"), language)
                self.assertFalse([s for s in sources if s not in translations], f"{language}.po misses terms")
                self.assertFalse(sorted(set(translations) - set(sources)), f"{language}.po has terms the .pot has not")
                untranslated = [s for s in sources if not translations[s].msgstr or "fuzzy" in translations[s].flags]
                self.assertFalse(untranslated, f"{language}.po leaves terms untranslated")
                broken = [
                    (source, translations[source].msgstr)
                    for source in sources
                    if placeholders(source) != placeholders(translations[source].msgstr)
                ]
                self.assertFalse(broken, f"{language}.po changes placeholders or markup")


@tagged("post_install", "-at_install")
class TestPageLanguage(McpHttpCase):
    """The consent and error pages: the signed-in user's language, the browser's before sign-in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["mcp_connect"], ["fr_FR"], overwrite=True)

    def unknown_client_page(self, accept_language):
        _verifier, params = self.authorize_params(self.confidential, client_id="mcpci_unknown")
        headers = {} if accept_language is None else {"Accept-Language": accept_language}
        response = self.get("/oauth/authorize", params, headers=headers)
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertIn("o_mcp_error", response.text)
        return html.fromstring(response.text).text_content()

    def test_error_page_before_sign_in_speaks_the_browsers_first_installed_language(self):
        # German is not installed here: the browser's next choice, French, is.
        text = self.unknown_client_page("de-CH,de;q=0.9,fr;q=0.8,en;q=0.5")
        self.assertIn("Application inconnue", text)
        self.assertIn("Cette application n'est pas enregistrée", text)
        self.assertIn("Aller sur Odoo", text)
        self.assertNotIn("Unknown application", text)

    def test_error_page_of_an_english_browser_stays_english(self):
        text = self.unknown_client_page("en-GB,en;q=0.9")
        self.assertIn("Unknown application", text)
        self.assertIn("Go to Odoo", text)

    def test_error_page_of_a_browser_without_a_usable_language_is_in_odoo_s_language(self):
        # No header at all (most programs), a wildcard, and tags no installed language matches.
        for accept_language in (None, "*", "xx-YY;q=abc, ;q=0, *;q=0.1"):
            with self.subTest(accept_language=accept_language):
                text = self.unknown_client_page(accept_language)
                self.assertIn("Unknown application", text)
                self.assertNotIn("Application inconnue", text)

    def test_error_page_after_sign_in_speaks_the_users_language(self):
        self.user.lang = "fr_FR"
        self.authenticate(self.user.login, self.password)
        text = self.unknown_client_page("en-US,en;q=0.9")
        self.assertIn("Application inconnue", text)

    def test_consent_page_speaks_the_users_language(self):
        self.user.lang = "fr_FR"
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        response, _handle, _csrf = self.consent_page(params)
        page = html.fromstring(response.text)
        self.assertIn("Autoriser", page.xpath("//button[@value='allow']")[0].text_content())
        self.assertIn("Refuser", page.xpath("//button[@value='deny']")[0].text_content())
        scopes = page.xpath("//ul[hasclass('o_mcp_scopes')]")[0].text_content()
        self.assertIn("Lecture et écriture (mcp:write)", scopes)
        self.assertIn("Autoriser l'accès à Odoo", page.xpath("//title")[0].text_content())

    def test_consent_page_of_an_english_user_stays_english_in_a_french_browser(self):
        self.authenticate(self.user.login, self.password)
        _verifier, params = self.authorize_params(self.confidential)
        response = self.get("/oauth/authorize", params, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertIn("Read and write (mcp:write)", response.text)
        self.assertIn(">Allow<", response.text)
