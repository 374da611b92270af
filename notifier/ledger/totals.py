"""An invoice's amounts: lines, discount, tax and total, in minor units of its currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from notifier import money
from notifier.books import schema


@dataclass(frozen=True)
class TaxLine:
    rate: Decimal
    base: int
    tax: int


@dataclass(frozen=True)
class Totals:
    currency: str
    lines: tuple[int, ...]
    subtotal: int
    discount: int
    taxes: tuple[TaxLine, ...]
    tax: int
    total: int
    deposit: int

    @property
    def to_pay(self) -> int:
        """What the client pays after the deposit: the sum that plans split."""
        return self.total - self.deposit


def invoice_totals(invoice: schema.Invoice, currency: str) -> Totals:
    """Each line is quantity × unit price, rounded once; the discount is shared over the lines in
    proportion to their amounts (so tax is on what is charged); tax is rounded once per rate."""
    scale = Decimal(10) ** money.exponent(currency)
    lines = tuple(
        money.round_minor(line.quantity * line.unit_price * scale) for line in invoice.lines
    )
    subtotal = sum(lines)
    discount = 0
    if invoice.discount is not None:
        if invoice.discount.percent is not None:
            discount = money.percent_of(subtotal, invoice.discount.percent)
        elif invoice.discount.amount is not None:
            discount = money.to_minor(invoice.discount.amount, currency)
    shares = money.allocate(discount, lines) if discount and subtotal else [0] * len(lines)
    bases: dict[Decimal, int] = {}
    for line, net, share in zip(invoice.lines, lines, shares, strict=True):
        bases[line.tax_rate] = bases.get(line.tax_rate, 0) + net - share
    taxes = tuple(
        TaxLine(rate, base, money.percent_of(base, rate)) for rate, base in sorted(bases.items())
    )
    tax = sum(t.tax for t in taxes)
    deposit = money.to_minor(invoice.deposit.amount, currency) if invoice.deposit else 0
    return Totals(
        currency, lines, subtotal, discount, taxes, tax, subtotal - discount + tax, deposit
    )
