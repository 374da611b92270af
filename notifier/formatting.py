"""Amounts and dates as a client reads them, in their locale (Babel and CLDR)."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Literal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency

from notifier import money

DateStyle = Literal["short", "medium", "long", "full"]


@cache
def locale(name: str) -> Locale:
    return Locale.parse(name.replace("-", "_"))


def amount(minor: int, currency: str, locale_name: str) -> str:
    """`1.250,00 €` for de_DE, `€1,250.00` for en_GB, `￥1,250,000` for JPY in ja."""
    return format_currency(money.to_major(minor, currency), currency, locale=locale(locale_name))


def day(value: date, locale_name: str, style: DateStyle = "long") -> str:
    """`23. November 2026` for de_DE, `23 November 2026` for en_GB."""
    return format_date(value, format=style, locale=locale(locale_name))


def language(locale_name: str) -> str:
    """The language part of a locale: `de` for `de_CH`."""
    return locale(locale_name).language
