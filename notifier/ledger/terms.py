"""The terms that apply to one invoice: the business's defaults, the client's, then the invoice's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from notifier.books import schema


@dataclass(frozen=True)
class InvoiceTerms:
    currency: str
    due_date: date
    late_payment: schema.LatePayment
    early_payment_discount: schema.EarlyPaymentDiscount | None
    plan_ids: tuple[str, ...]
    policy: str
    due_soon_days: int


def invoice_terms(
    settings: schema.Settings, client: schema.Client, invoice: schema.Invoice
) -> InvoiceTerms:
    """Resolve each term from the most specific place that sets it."""
    base = settings.terms
    own = client.terms
    net_days = base.net_days
    late = base.late_payment
    early = base.early_payment_discount
    plans = base.plans
    if own is not None:
        given = own.model_fields_set
        net_days = own.net_days if own.net_days is not None else net_days
        late = own.late_payment if own.late_payment is not None else late
        early = own.early_payment_discount if "early_payment_discount" in given else early
        plans = own.plans if own.plans is not None else plans
    if invoice.net_days is not None:
        net_days = invoice.net_days
    if "early_payment_discount" in invoice.model_fields_set:
        early = invoice.early_payment_discount
    if invoice.plans is not None:
        plans = invoice.plans
    due = invoice.due_date or invoice.issue_date + timedelta(days=net_days)
    return InvoiceTerms(
        currency=invoice.currency or client.currency or settings.business.currency,
        due_date=due,
        late_payment=late,
        early_payment_discount=early,
        plan_ids=tuple(plans),
        policy=client.policy or settings.reminders.policy,
        due_soon_days=base.due_soon_days,
    )
