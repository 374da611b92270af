"""The theme's words: the catalogue template matches the templates, and German and French are
complete, so a client never meets an English sentence on a page in their language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from notifier.portal.i18n import catalogue_path

ROOT = Path(__file__).resolve().parents[1]
THEME = ROOT / "site"
COMPLETE = ["de", "fr", "es", "it"]


def extracted() -> set[str]:
    """Every message the templates, the portal's and the documents' code ask for, as `make
    translations` finds it."""
    found: set[str] = set()
    methods = [("**.html", "jinja2")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    for _file, _line, message, _comments, _context in extract_from_dir(
        THEME / "templates", methods, keywords=keywords, options_map=options
    ):
        found.add(message if isinstance(message, str) else message[0])
    for package in ("portal", "documents"):  # as babel.cfg names them
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "notifier" / package, [("**.py", "python")], keywords=keywords
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_catalogue_template_is_up_to_date():
    with (THEME / "locale" / "messages.pot").open("rb") as source:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}
    assert template == extracted(), "run `make translations` and translate what is new"


@pytest.mark.parametrize("language", COMPLETE)
def test_each_language_translates_every_message(language):
    with catalogue_path(THEME, language).open("rb") as source:
        catalogue = read_po(source, locale=language)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}
    assert ids == extracted()
    untranslated = [
        m.id
        for m in catalogue
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    ]
    assert untranslated == []
