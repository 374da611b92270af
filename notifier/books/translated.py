"""Words the books give in one language or in several: a plan's name, as text or as a mapping by
language (`{en: 3 monthly instalments, de: 3 Monatsraten}`). Which of them a reader sees is chosen
where they are shown (`notifier.formatting.name`), by the reader's language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError

LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
EXAMPLE = "{en: 3 monthly instalments, de: 3 Monatsraten}"


@dataclass(frozen=True)
class Translated:
    """(language, words) pairs in the order written; words written without a language (plain
    text) have the language `""`, so they are what every reader sees."""

    texts: tuple[tuple[str, str], ...]

    @classmethod
    def plain(cls, words: str) -> Translated:
        return cls((("", words),))

    def get(self, language: str) -> str | None:
        """The words in `language`, if given."""
        return next((words for code, words in self.texts if code == language), None)

    @property
    def first(self) -> str:
        return self.texts[0][1]


def translated(value: Any) -> Translated:
    """A name as the books write it, read: text, or a mapping of language codes to text. Raises
    ValueError saying what is wrong (the schema's field error)."""
    if isinstance(value, Translated):
        return value
    if isinstance(value, dict):
        if not value:
            raise ValueError(
                f"expected text, or text per language ({EXAMPLE}), got an empty mapping"
            )
        return Translated(tuple(_pair(str(code).strip(), words) for code, words in value.items()))
    return Translated.plain(_words(value, None))


def _pair(code: str, words: Any) -> tuple[str, str]:
    if not LANGUAGE_CODE.fullmatch(code) or not _known(code):
        raise ValueError(
            f"`{code}` is not a language code (two or three lower-case letters: en, de, fr, es, it)"
        )
    return code, _words(words, code)


def _words(value: Any, code: str | None) -> str:
    where = f"{code}: " if code else ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{where}expected text, got nothing")
    if not isinstance(value, str):
        shape = (
            "a mapping"
            if isinstance(value, dict)
            else "a list"
            if isinstance(value, list)
            else f"`{value}`"
        )
        raise ValueError(f"{where}expected text, got {shape}")
    return value.strip()


def _known(code: str) -> bool:
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return False
    return True
