from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier import money


@pytest.mark.parametrize(
    ("currency", "places"), [("JPY", 0), ("EUR", 2), ("GBP", 2), ("BHD", 3), ("KWD", 3), ("CLP", 0)]
)
def test_exponent_is_iso_4217(currency, places):
    assert money.exponent(currency) == places


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("eur", "`eur` is not a currency code (three capital letters, as EUR)"),
        ("EURO", "`EURO` is not a currency code (three capital letters, as EUR)"),
        ("XYZ", "`XYZ` is not an ISO 4217 currency code"),
        ("XAU", "`XAU` is not a currency that invoices can be written in"),
    ],
)
def test_bad_currency_codes_are_named(code, message):
    with pytest.raises(money.CurrencyError) as raised:
        money.exponent(code)
    assert str(raised.value) == message


def test_to_minor_and_back():
    assert money.to_minor(Decimal("1234.50"), "EUR") == 123450
    assert money.to_minor(Decimal(1250000), "JPY") == 1250000
    assert money.to_minor(Decimal("1.234"), "BHD") == 1234
    assert money.to_major(123450, "EUR") == Decimal("1234.50")
    assert str(money.to_major(5, "BHD")) == "0.005"
    assert money.format_plain(1250000, "JPY") == "1250000 JPY"


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("1200.5", "JPY", "1200.5 is finer than JPY allows (no decimal places)"),
        ("10.001", "EUR", "10.001 is finer than EUR allows (at most 2 decimal places)"),
    ],
)
def test_amounts_finer_than_the_currency_are_refused(amount, currency, message):
    with pytest.raises(money.AmountError) as raised:
        money.to_minor(Decimal(amount), currency)
    assert str(raised.value) == message


def test_rounding_is_half_away_from_zero():
    assert money.round_minor(Decimal("2.5")) == 3
    assert money.round_minor(Decimal("-2.5")) == -3
    assert money.round_minor(Decimal("2.4999")) == 2
    assert money.percent_of(1000, Decimal("2.5")) == 25
    assert money.percent_of(333, Decimal(20)) == 67  # 66.6 rounds up


def test_split_puts_the_odd_units_first():
    assert money.split_evenly(1000, 3) == [334, 333, 333]
    assert money.split_evenly(100000, 3) == [33334, 33333, 33333]
    assert money.split_evenly(2, 3) == [1, 1, 0]


def test_allocate_by_largest_remainder_ties_to_the_earlier_part():
    assert money.allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert money.allocate(10, [50, 30, 20]) == [5, 3, 2]
    assert money.allocate(7, [2, 1]) == [5, 2]  # 4.67 and 2.33: the larger remainder wins


totals = st.integers(min_value=-(10**12), max_value=10**12)


@given(totals, st.integers(min_value=1, max_value=60))
def test_even_splits_always_sum_to_the_total(total, parts):
    split = money.split_evenly(total, parts)
    assert sum(split) == total
    assert len(split) == parts
    assert max(split) - min(split) <= 1
    assert split == sorted(split, reverse=total >= 0)


@given(totals, st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30))
def test_allocations_always_sum_to_the_total(total, weights):
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    parts = money.allocate(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(abs(total)) * weight / sum(weights)
        assert abs(abs(part) - exact) < 1


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=3),
    st.sampled_from(["JPY", "EUR", "BHD"]),
)
def test_minor_units_round_trip_exactly(amount, currency):
    places = money.exponent(currency)
    exact = amount.quantize(Decimal(1).scaleb(-places))
    assert money.to_major(money.to_minor(exact, currency), currency) == exact
