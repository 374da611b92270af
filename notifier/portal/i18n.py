"""The theme's words in the client's language: gettext catalogues kept as .po files in the theme.

The catalogues are compiled in memory when a build starts, so no binary .mo file lives in git and a
business can edit a translation and rebuild."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

DOMAIN = "messages"


def catalogue_path(theme: Path, language: str) -> Path:
    return theme / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_translations(theme: Path) -> dict[str, NullTranslations]:
    """Every language the theme has a catalogue for, compiled; English is the source text."""
    found: dict[str, NullTranslations] = {"en": NullTranslations()}
    locales = theme / "locale"
    if not locales.is_dir():
        return found
    for folder in sorted(p for p in locales.iterdir() if p.is_dir()):
        path = catalogue_path(theme, folder.name)
        if not path.is_file():
            continue
        with path.open("rb") as source:
            catalogue = read_po(source, locale=folder.name)
        compiled = BytesIO()
        write_mo(compiled, catalogue, use_fuzzy=False)
        compiled.seek(0)
        found[folder.name] = Translations(compiled, domain=DOMAIN)
    return found


def for_language(translations: dict[str, NullTranslations], language: str) -> NullTranslations:
    """The catalogue for `language`, or English where the theme has none."""
    return translations.get(language, translations["en"])


def template_functions(words: NullTranslations) -> dict[str, Any]:
    """`gettext`, `ngettext` and `_` for rendering in one language, with Jinja's new-style
    behaviour: keyword arguments fill `%(name)s` placeholders, and are escaped when the template
    autoescapes. Each message is looked up once; one without placeholders is filled once.

    They need only whether the template autoescapes (the evaluation context), not the template's
    variables: asking Jinja for the whole context would have it copy the context on every call."""
    found: dict[tuple[str, bool], str] = {}
    filled: dict[tuple[str, bool], str] = {}

    def translated(text: str, autoescape: bool) -> str:
        key = (text, autoescape)
        message = found.get(key)
        if message is None:
            message = words.gettext(text)
            if autoescape:
                message = Markup(message)
            found[key] = message
        return message

    @pass_eval_context
    def gettext(context: EvalContext, text: str, **variables: Any) -> str:
        if variables:
            return translated(text, context.autoescape) % variables
        key = (text, context.autoescape)
        done = filled.get(key)
        if done is None:
            done = filled[key] = translated(text, context.autoescape) % variables
        return done

    @pass_eval_context
    def ngettext(
        context: EvalContext, singular: str, plural: str, num: int, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        translated = words.ngettext(singular, plural, num)
        if context.autoescape:
            translated = Markup(translated)
        return translated % variables

    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}
