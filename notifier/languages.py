"""Which language a client reads, and in which locale its amounts and dates are written.

A client's `locale` names a language (`pt_BR`: Portuguese). Its pages are in that language when the
theme has a translation for it, its emails when `content/` has the text in it. Otherwise they are in
the business's language, with the business's formats: words, dates, numbers, the page's `lang` and
an email's `Content-Language` always agree."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from pathlib import Path

from notifier import formatting

# The theme is written in English: it needs no catalogue for it.
SOURCE_LANGUAGE = "en"


def catalogue(site: Path, language: str) -> Path:
    """Where the theme keeps its words in `language` (a gettext catalogue)."""
    return site / "locale" / language / "LC_MESSAGES" / "messages.po"


def theme_languages(site: Path) -> frozenset[str]:
    """The languages the theme in `site` speaks: English and each it has a catalogue for."""
    found = {SOURCE_LANGUAGE}
    locales = site / "locale"
    if locales.is_dir():
        found.update(p.name for p in locales.iterdir() if catalogue(site, p.name).is_file())
    return frozenset(found)


@lru_cache(maxsize=1024)
def reading_locale(locale: str, speaks: Collection[str], business_locale: str) -> str:
    """The locale a client of `locale` reads in, given the languages offered (`speaks`): theirs if
    its language is offered (`pt_BR` reads `pt`), else the business's. `speaks` must be hashable
    (a frozenset)."""
    if formatting.language(locale) in speaks:
        return locale
    return business_locale


def written_in(language: str, locale: str, business_locale: str) -> str:
    """The locale for words found in `language`: the client's `locale` if it is in that language,
    else the business's (the words fell back to it)."""
    return locale if formatting.language(locale) == language else business_locale
