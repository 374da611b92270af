"""What lowers what is owed on an invoice other than money paid for it: the credit notes the
business wrote, a write-off, and credit the client holds from paying another invoice beyond it.

A credit note reduces the invoice from its date, as a payment would (interest stops on what it
covers); a write-off gives up what it covers; a credit is the client's money, moved from the
invoice it overpaid (see `notifier.ledger.credit`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from notifier import money
from notifier.books import schema

ReductionKind = Literal["credit note", "write-off", "credit"]


@dataclass(frozen=True)
class Reduction:
    """One thing that lowered the invoice, by `amount` minor units, on `on`. `reference`: the
    credit note's number; for a credit, the invoice it came from; for a write-off, empty."""

    on: date
    kind: ReductionKind
    reference: str
    amount: int
    reason: str | None = None


@dataclass(frozen=True)
class CreditUse:
    """Credit from invoice `source` (paid beyond what it asked) used on `invoice`, from `on`."""

    on: date
    source: str
    invoice: str
    amount: int


def credit_note_amount(note: schema.CreditNote, currency: str) -> int:
    """What `note` takes off its invoice, tax included, in minor units of `currency`: its `amount`,
    or its lines rounded as an invoice's are (each line once, the tax once per rate)."""
    # Rounded, not refused, as an invoice's lines are: `check` says an amount finer than the
    # currency allows, and the ledger must not fail before it has.
    scale = Decimal(10) ** money.exponent(currency)
    if note.amount is not None:
        return money.round_minor(note.amount * scale)
    assert note.lines is not None
    bases: dict[Decimal, int] = {}
    for line in note.lines:
        net = money.round_minor(line.quantity * line.unit_price * scale)
        bases[line.tax_rate] = bases.get(line.tax_rate, 0) + net
    return sum(base + money.percent_of(base, rate) for rate, base in bases.items())


def credit_notes(invoice: schema.Invoice, currency: str, as_of: date) -> list[Reduction]:
    """The invoice's credit notes dated up to `as_of`, by date."""
    found = [
        Reduction(
            note.date, "credit note", note.number, credit_note_amount(note, currency), note.reason
        )
        for note in invoice.credit_notes
        if note.date <= as_of
    ]
    return sorted(found, key=lambda r: (r.on, r.reference))


def credits_in(uses: Iterable[CreditUse]) -> list[Reduction]:
    return [Reduction(use.on, "credit", use.source, use.amount) for use in uses]


def write_off(
    invoice: schema.Invoice, currency: str, as_of: date, unsettled: int
) -> Reduction | None:
    """The invoice's write-off if dated up to `as_of`: its amount, or for `rest` `unsettled` (what
    remained of the invoice amount that day), never more than that (a write-off gives up a debt,
    it does not make one)."""
    given = invoice.write_off
    if given is None or given.date > as_of:
        return None
    scale = Decimal(10) ** money.exponent(currency)
    wanted = unsettled if given.amount == "rest" else money.round_minor(given.amount * scale)
    amount = max(0, min(wanted, unsettled))
    return Reduction(given.date, "write-off", "", amount, given.reason) if amount else None
