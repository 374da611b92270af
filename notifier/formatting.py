"""Amounts, dates and the books' names as a client reads them, in their locale (Babel and CLDR).

A build formats the same amounts and dates many times (each page, then its PDF's HTML), so
results are remembered for a while, and each locale's currency patterns are prepared once."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from typing import Literal

from babel import Locale
from babel.dates import format_date
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
    get_currency_symbol,
    parse_pattern,
)

from notifier import money
from notifier.books.translated import Translated

DateStyle = Literal["short", "medium", "long", "full"]

# Enough for every amount and date of a client's pages, printed twice, to be formatted once.
REMEMBERED = 4096
PERCENT = parse_pattern("#,##0.##%")


@cache
def locale(name: str) -> Locale:
    return Locale.parse(name.replace("-", "_"))


@lru_cache(maxsize=REMEMBERED)
def amount(minor: int, currency: str, locale_name: str) -> str:
    """`1.250,00 €` for de_DE, `€1,250.00` for en_GB, `￥1,250,000` for JPY in ja."""
    value = money.to_major(minor, currency)
    pattern = _currency_pattern(locale_name, currency)
    if pattern is None:
        return format_currency(value, currency, locale=locale(locale_name))
    formatted: str = pattern.apply(value, locale(locale_name))
    return formatted


@cache
def _currency_pattern(locale_name: str, currency: str) -> NumberPattern | None:
    """The locale's currency pattern with `currency`'s symbol and precision already in place, so
    formatting an amount is only the number (what `format_currency` gives, without looking the
    symbol and the name up each time). None where the pattern names the currency in words, which
    depend on the amount: Babel then does it all."""
    found = locale(locale_name)
    pattern: NumberPattern = copy.copy(found.currency_formats["standard"])
    if any("¤¤¤" in part for part in (*pattern.prefix, *pattern.suffix)):
        return None
    symbol = get_currency_symbol(currency, found)

    def filled(part: str) -> str:
        return part.replace("¤¤", currency.upper()).replace("¤", symbol)

    pattern.prefix = (filled(pattern.prefix[0]), filled(pattern.prefix[1]))
    pattern.suffix = (filled(pattern.suffix[0]), filled(pattern.suffix[1]))
    places = get_currency_precision(currency)
    pattern.frac_prec = (places, places)
    return pattern


@lru_cache(maxsize=REMEMBERED)
def day(value: date, locale_name: str, style: DateStyle = "long") -> str:
    """`23. November 2026` for de_DE, `23 November 2026` for en_GB."""
    return format_date(value, format=style, locale=locale(locale_name))


@lru_cache(maxsize=REMEMBERED)
def month(value: date, locale_name: str) -> str:
    """`Nov` for en, `Nov.` for de: the short name of `value`'s month."""
    return format_date(value, "MMM", locale=locale(locale_name))


def number(value: Decimal, locale_name: str) -> str:
    """`1.234,5` for de_DE: a quantity, with as many places as it has (up to three)."""
    # The sign is in the key: -0 equals 0 (and hashes alike) but is written with its sign.
    return _number(value, value.is_signed(), locale_name)


@lru_cache(maxsize=REMEMBERED, typed=True)
def _number(value: Decimal, signed: bool, locale_name: str) -> str:
    return str(format_decimal(value, locale=locale(locale_name)))


def percent(value: Decimal, locale_name: str) -> str:
    """`19 %` for de_DE, `19%` for en: `value` is in percent, shown with up to two places."""
    return _percent(value, value.is_signed(), locale_name)


@lru_cache(maxsize=REMEMBERED, typed=True)
def _percent(value: Decimal, signed: bool, locale_name: str) -> str:
    return str(format_percent(value / 100, PERCENT, locale=locale(locale_name)))


@cache
def language(locale_name: str) -> str:
    """The language part of a locale: `de` for `de_CH`."""
    return locale(locale_name).language


def name(words: Translated, locale_name: str, business_locale: str) -> str:
    """A name the books give in one language or several (a plan's), as a reader of `locale_name`
    reads it: in their language, else in the business's, else as first given."""
    found = words.get(language(locale_name)) or words.get(language(business_locale))
    return found or words.first
