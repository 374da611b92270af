"""Late-payment fees and interest: contractual, or the UK and EU statutory regimes.

Interest is simple, per day, on the amount overdue that day: (rate / 100) / 365 of it, summed over
the days and rounded once. It is claimed once a month (see `interest_claimed_through`): between two
claim days what is owed holds, so every way to pay that a page or an email offers asks the same. A day counts when an instalment (or the invoice) fell due before it and
the payments made before it do not cover what was due. The UK Late Payment of Commercial Debts
(Interest) Act 1998 and the EU Late Payment Directive 2011/7/EU both set the rate at the reference
rate plus 8 points and add a fixed sum: 40/70/100 GBP by the size of the debt, or 40 EUR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from notifier import money
from notifier.books import schema
from notifier.ledger.plans import Instalment, add_months

STATUTORY_MARGIN = Decimal(8)
DAYS_A_YEAR = 365


@dataclass(frozen=True)
class LateCharges:
    fee: int
    interest: int
    annual_rate: Decimal


NO_CHARGES = LateCharges(0, 0, Decimal(0))


def annual_rate(late: schema.LatePayment) -> Decimal:
    if late.regime in ("uk_statutory", "eu_statutory"):
        return max(Decimal(0), (late.reference_rate or Decimal(0)) + STATUTORY_MARGIN)
    return late.annual_interest or Decimal(0)


def fixed_fee(late: schema.LatePayment, currency: str, debt: int) -> int:
    """The one-off sum for a late invoice, in minor units of `currency` (0 if none applies);
    `debt` is what was unpaid when it first became late (the UK's bands depend on it)."""
    if late.regime == "contractual":
        amount = late.fee.get(currency)
        return money.to_minor(amount, currency) if amount is not None else 0
    if late.regime == "uk_statutory" and currency == "GBP":
        pounds = 40 if debt < 100_000 else 70 if debt < 1_000_000 else 100
        return pounds * 100
    if late.regime == "eu_statutory" and currency == "EUR":
        return 40_00
    return 0


def interest_claimed_through(late: schema.LatePayment, due_date: date, as_of: date) -> date | None:
    """The last day whose interest is claimed on `as_of`: interest is claimed on the same day each
    month as the first day it could count (the due date, after any grace days), for the days up to
    and including it; None before the first such day. The amount owed then holds for a month, so
    a card link, a PDF and an email made on any day of that month ask the same."""
    start = due_date + timedelta(days=late.grace_days)
    months = (as_of.year - start.year) * 12 + as_of.month - start.month
    claimed = add_months(start, months)
    if claimed > as_of:
        months -= 1
        claimed = add_months(start, months)
    return claimed if months >= 1 else None


def next_interest_day(late: schema.LatePayment, due_date: date, as_of: date) -> date:
    """The next day after `as_of` on which interest is claimed (see `interest_claimed_through`)."""
    start = due_date + timedelta(days=late.grace_days)
    claimed = interest_claimed_through(late, due_date, as_of)
    if claimed is None:
        return add_months(start, 1)
    months = (claimed.year - start.year) * 12 + claimed.month - start.month
    return add_months(start, months + 1)


def late_charges(
    late: schema.LatePayment,
    currency: str,
    schedule: Sequence[Instalment],
    payments: Sequence[tuple[date, int]],
    as_of: date,
    due_date: date,
) -> LateCharges:
    """Fees and interest claimed on `as_of` on `schedule`, given net `payments`: the fee from the
    first late day, the interest through the last claim day of the invoice's own `due_date` (see
    `interest_claimed_through`)."""
    if late.regime == "none":
        return NO_CHARGES
    through = interest_claimed_through(late, due_date, as_of)
    grace = timedelta(days=late.grace_days)
    # (first day it counts, change in the overdue amount)
    changes = [(i.due_date + grace + timedelta(days=1), i.amount) for i in schedule]
    changes += [(day + timedelta(days=1), -amount) for day, amount in payments]
    changes.sort()
    rate = annual_rate(late)
    owed = 0
    weighted = 0  # sum over days of the overdue amount (minor unit-days)
    debt = 0  # what was overdue on the first late day
    for index, (start, change) in enumerate(changes):
        if start > as_of:
            break
        owed += change
        end = changes[index + 1][0] if index + 1 < len(changes) else as_of + timedelta(days=1)
        end = min(end, as_of + timedelta(days=1))
        if owed > 0 and end > start:
            debt = debt or owed
            if through is not None:
                days = (min(end, through + timedelta(days=1)) - start).days
                weighted += owed * max(days, 0)
    interest = money.round_minor(Decimal(weighted) * rate / 100 / DAYS_A_YEAR)
    fee = fixed_fee(late, currency, debt) if debt else 0
    return LateCharges(fee, interest, rate)
