"""An invoice's terms, totals and plan options, worked out once per invoice record.

The cross-checks and the ledger both need them for every invoice, and at 10,000 invoices they were
about half of what each cost. None of them depends on payments, messages or the date: only on the
settings, the client and the invoice, which are frozen records. So they are kept by the identity of
those records (each entry holds them, so an identity is never reused while it is kept), for one
settings record at a time: books loaded again, with new records, start afresh."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from notifier.books import schema
from notifier.ledger.plans import PlanOption, plan_options
from notifier.ledger.terms import InvoiceTerms, invoice_terms
from notifier.ledger.totals import Totals, invoice_totals

T = TypeVar("T")


@dataclass(frozen=True)
class Figures:
    terms: InvoiceTerms
    totals: Totals
    invoice: schema.Invoice
    plans: dict[str, schema.Plan] = field(compare=False)  # the business's, by id

    @cached_property
    def options(self) -> tuple[PlanOption, ...]:
        """Pay in full first, then each plan offered. Worked out when first asked for: `check`
        needs them only for invoices with payment links or paid on a plan, and the ledger only
        for invoices that may be open."""
        terms = self.terms
        return plan_options(
            self.invoice,
            self.plans,
            terms.plan_ids,
            terms.due_date,
            self.totals.to_pay,
            terms.currency,
        )


@dataclass
class _Kept:
    """What was worked out for the records of one settings record, by the identities of the
    client and invoice records (each entry holds them, so an identity is never reused)."""

    settings: schema.Settings | None = None
    plans: dict[str, schema.Plan] = field(default_factory=dict)
    terms: dict[tuple[int, int], tuple[schema.Client, schema.Invoice, InvoiceTerms]] = field(
        default_factory=dict
    )
    figures: dict[tuple[int, int], tuple[schema.Client, schema.Invoice, Figures]] = field(
        default_factory=dict
    )


_KEPT = _Kept()


def _kept(settings: schema.Settings) -> _Kept:
    global _KEPT
    if _KEPT.settings is not settings:
        _KEPT = _Kept(settings, {plan.id: plan for plan in settings.plans})
    return _KEPT


def _remembered(
    table: dict[tuple[int, int], tuple[schema.Client, schema.Invoice, T]],
    client: schema.Client,
    invoice: schema.Invoice,
    work_out: Callable[[], T],
) -> T:
    """What `table` holds for the records `client` and `invoice`, else `work_out()`, kept there."""
    key = (id(client), id(invoice))
    found = table.get(key)
    if found is not None and found[0] is client and found[1] is invoice:
        return found[2]
    value = work_out()
    table[key] = (client, invoice, value)
    return value


def terms_of(
    settings: schema.Settings, client: schema.Client, invoice: schema.Invoice
) -> InvoiceTerms:
    """`invoice_terms`, remembered."""
    return _remembered(
        _kept(settings).terms, client, invoice, lambda: invoice_terms(settings, client, invoice)
    )


def figures_of(
    settings: schema.Settings, client: schema.Client, invoice: schema.Invoice
) -> Figures:
    """The invoice's terms, totals and plan options, remembered. Raises `money.AmountError` (here,
    or on asking for the options) for an amount finer than the currency allows (which `check`
    reports)."""
    kept = _kept(settings)

    def work_out() -> Figures:
        terms = terms_of(settings, client, invoice)
        return Figures(terms, invoice_totals(invoice, terms.currency), invoice, kept.plans)

    return _remembered(kept.figures, client, invoice, work_out)
