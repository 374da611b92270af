"""What a build remembers to render pages faster (formatted amounts and dates, Markdown, the
theme's words) gives exactly what working it out afresh gives."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import markdown
import pytest
from babel import localedata
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment
from jinja2.nodes import EvalContext
from markupsafe import Markup

from notifier import formatting, money, sanitize
from notifier.portal import i18n
from notifier.portal.content import render_markdown

ROOT = Path(__file__).resolve().parents[1]
AMOUNTS = [0, -1, 125_099, -123_456_789_012]


@pytest.mark.parametrize("currency", ["EUR", "JPY", "BHD", "INR"])
def test_amounts_are_formatted_as_babel_formats_them_in_every_locale(currency):
    for name in localedata.locale_identifiers():
        locale = formatting.locale(name)
        for minor in AMOUNTS:
            expected = format_currency(money.to_major(minor, currency), currency, locale=locale)
            assert formatting.amount(minor, currency, name) == expected, (name, minor)


@pytest.mark.parametrize("name", ["en", "en_GB", "de_DE", "fr_FR", "ja_JP", "ar_EG", "hi_IN"])
def test_numbers_and_percentages_are_babels(name):
    locale = formatting.locale(name)
    for value in ["0", "-0", "1", "1.0", "1.50", "2.125", "-3.5", "1234567.891", "0.00", "19"]:
        number = Decimal(value)
        assert formatting.number(number, name) == format_decimal(number, locale=locale), value
        expected = format_percent(number / 100, "#,##0.##%", locale=locale)
        assert formatting.percent(number, name) == expected, value


def test_minus_zero_is_not_mistaken_for_zero():
    # Decimal("-0") == Decimal("0") and both hash alike: what is remembered must tell them apart.
    assert formatting.number(Decimal("0"), "en") == format_decimal(Decimal("0"), locale="en")
    assert formatting.number(Decimal("-0"), "en") == format_decimal(Decimal("-0"), locale="en")
    assert formatting.number(Decimal("0"), "en") == format_decimal(Decimal("0"), locale="en")


def fresh_markdown(text: str) -> str:
    html = markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    return sanitize.clean(html)


def test_markdown_rendered_by_one_reused_converter_is_as_rendered_afresh():
    texts = [
        *(p.read_text(encoding="utf-8") for p in sorted((ROOT / "content").rglob("*.md"))),
        "See [the terms][terms].\n\n[terms]: https://example.com/terms",
        "No definition here: [the terms][terms].",  # the one above must not leak into this
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n1. one\n2. two\n\n<script>alert(1)</script>",
        "",
    ]
    for text in texts * 2:
        assert render_markdown(text) == fresh_markdown(text)


WORDS = (
    "{{ _('Invoice %(number)s', number='<b>') }}|{{ _('100%% paid') }}|{{ _('A & B') }}|"
    "{{ ngettext('%(num)d day', '%(num)d days', 2) }}|"
    "{% autoescape false %}{{ _('Invoice %(number)s', number='<b>') }}{% endautoescape %}"
)


def test_the_theme_words_are_filled_and_escaped_as_jinjas_own_gettext_does():
    environment = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    template = environment.from_string(WORDS)
    functions = i18n.template_functions(i18n.load_translations(ROOT / "site")["en"])
    for _ in range(2):  # the second time from what was remembered
        assert template.render(**functions) == template.render()
    assert template.render() == "Invoice &lt;b&gt;|100% paid|A & B|2 days|Invoice <b>"
    escaping, plain = EvalContext(environment), EvalContext(environment)
    plain.autoescape = False
    assert isinstance(functions["_"](escaping, "Paid"), Markup)
    assert type(functions["_"](plain, "Paid")) is str
