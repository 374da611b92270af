"""Exact money: integer minor units of an ISO 4217 currency, never float.

Rounding rule (the one place amounts are rounded): a computed amount (a line's amount, tax per rate,
a percentage discount, fees and interest) is rounded once, to the currency's minor unit, half away
from zero. Splits never round: `split_evenly` and `allocate` divide whole minor units and place the
remainder deterministically, so the parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

import iso4217


class CurrencyError(ValueError):
    """A code that is not an ISO 4217 currency usable for money."""


class AmountError(ValueError):
    """An amount that cannot be expressed in its currency."""


@cache
def exponent(currency: str) -> int:
    """The number of decimal places of `currency` (JPY 0, EUR 2, BHD 3) per ISO 4217."""
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise CurrencyError(f"`{currency}` is not a currency code (three capital letters, as EUR)")
    try:
        places = iso4217.Currency(currency).exponent
    except (ValueError, KeyError):
        raise CurrencyError(f"`{currency}` is not an ISO 4217 currency code") from None
    if places is None:  # precious metals, testing codes and funds have no minor unit
        raise CurrencyError(f"`{currency}` is not a currency that invoices can be written in")
    return int(places)


def is_currency(code: str) -> bool:
    try:
        exponent(code)
    except CurrencyError:
        return False
    return True


def to_minor(amount: Decimal | int, currency: str) -> int:
    """`amount` in major units as integer minor units; refuses anything finer than the currency allows."""
    places = exponent(currency)
    try:
        scaled = Decimal(amount).scaleb(places)
    except InvalidOperation:
        raise AmountError(f"`{amount}` is not an amount") from None
    if not scaled.is_finite():
        raise AmountError(f"`{amount}` is not an amount")
    if scaled != scaled.to_integral_value():
        unit = "no decimal places" if places == 0 else f"at most {places} decimal places"
        raise AmountError(f"{amount} is finer than {currency} allows ({unit})")
    return int(scaled)


def to_major(minor: int, currency: str) -> Decimal:
    """Integer minor units as a Decimal in major units, with exactly the currency's places."""
    return Decimal(minor).scaleb(-exponent(currency))


def major_text(minor: int, places: int) -> str:
    """`str(Decimal(minor).scaleb(-places))` (what `to_major` gives, as text) for
    0 <= minor < 10**18, without a Decimal: a large import writes a million amounts."""
    if not places:
        return str(minor)
    whole, part = divmod(minor, 10**places)
    return f"{whole}.{part:0{places}d}"


def format_plain(minor: int, currency: str) -> str:
    """`1234.50 EUR`: unambiguous, locale-free; pages and messages use Babel instead."""
    return f"{to_major(minor, currency)} {currency}"


def round_minor(value: Decimal) -> int:
    """Round a computed quantity of minor units once, half away from zero."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def percent_of(minor: int, percent: Decimal) -> int:
    """`percent` % of an amount in minor units, rounded once."""
    return round_minor(Decimal(minor) * percent / 100)


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` minor units in `parts` near-equal parts; the first parts take the remainder units.

    Putting the odd units first means a client on a plan never pays more later than earlier.
    """
    if parts < 1:
        raise ValueError("a split needs at least one part")
    base, remainder = divmod(abs(total), parts)
    sign = -1 if total < 0 else 1
    return [sign * (base + (1 if i < remainder else 0)) for i in range(parts)]


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """`total` minor units in proportion to `weights` (largest remainder method).

    Each part gets the floor of its exact share; the units left over go one each to the parts with the
    largest fractional remainder, ties to the earlier part. The parts add up to `total` exactly.
    """
    weight_sum = sum(weights)
    if not weights or any(w < 0 for w in weights) or weight_sum == 0:
        raise ValueError("allocation needs non-negative weights with a positive sum")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = [divmod(magnitude * w, weight_sum) for w in weights]
    parts = [share for share, _ in shares]
    left = magnitude - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
    for i in order[:left]:
        parts[i] += 1
    return [sign * p for p in parts]
