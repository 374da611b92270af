"""Which invoice a Stripe payment is for, with certainty or not at all.

In order: the metadata keys the Payment Links set (`invoice`, and `instalment` for a plan), the
Payment Link id recorded in the books, the Client Reference ID, and an invoice number in the
description. Anything less than certain is a reason for review, never a guess: a payment is never
matched by its amount or the payer's email.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notifier.books.load import Books
from notifier.books.payment_links import Link, links_by_id, parse_target
from notifier.ledger.plans import plan_options
from notifier.ledger.terms import invoice_terms
from notifier.ledger.totals import invoice_totals
from notifier.payments.exports import StripeRow

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REFERENCE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_INSTALMENT = re.compile(r"([a-z0-9][a-z0-9_-]*)#([1-9][0-9]?)")


@dataclass(frozen=True)
class Match:
    """The invoice a payment is for, the plan instalment it pays (if any), and how we know."""

    invoice: str
    plan: str | None
    instalment: int | None
    how: str


class Matcher:
    """Matches rows against one set of books; built once per import."""

    def __init__(self, books: Books) -> None:
        assert books.settings is not None
        self.currencies: dict[str, str] = {}
        self.instalments: dict[str, dict[str, int]] = {}
        plans = {plan.id: plan for plan in books.settings.plans}
        for number, invoice in books.invoices.items():
            client = books.clients.get(invoice.client)
            if client is None:
                continue
            terms = invoice_terms(books.settings, client, invoice)
            self.currencies[number] = terms.currency
            totals = invoice_totals(invoice, terms.currency)
            options = plan_options(
                invoice, plans, terms.plan_ids, terms.due_date, totals.to_pay, terms.currency
            )
            self.instalments[number] = {o.id: len(o.instalments) for o in options}
        self.links: dict[str, Link] = links_by_id(books)
        # The portal writes an invoice number as a Client Reference ID with anything but letters,
        # digits, `-` and `_` made `_` (Stripe drops the rest); two numbers that come out alike
        # cannot be told apart, so neither is matched that way.
        references: dict[str, list[str]] = {}
        for number in self.currencies:
            references.setdefault(_REFERENCE_UNSAFE.sub("_", number)[:200], []).append(number)
        self.references = {ref: found[0] for ref, found in references.items() if len(found) == 1}

    def match(self, row: StripeRow) -> Match | str:
        """The invoice `row` pays, or why a person must look at it."""
        found: list[tuple[str, Match]] = []
        named = row.metadata.get("invoice", "")
        if named:
            if named not in self.currencies:
                return f"its metadata names invoice `{named}`, which the books do not have"
            target = row.metadata.get("instalment", "")
            plan, number = None, None
            if target:
                checked = self._instalment(named, target)
                if isinstance(checked, str):
                    return checked
                plan, number = checked
            found.append(("its metadata", Match(named, plan, number, "metadata")))
        link = self.links.get(row.payment_link) if row.payment_link else None
        if link is not None:
            plan, number = parse_target(link.target)
            found.append(("its Payment Link", Match(link.invoice, plan, number, "payment link")))
        referenced = self.references.get(row.client_reference) if row.client_reference else None
        if referenced is not None:
            found.append(
                ("its Client Reference ID", Match(referenced, None, None, "client reference"))
            )
        if found:
            (first_how, first), *others = found
            for how, other in others:
                if other.invoice != first.invoice:
                    return (
                        f"{first_how} says invoice {first.invoice} but {how} says {other.invoice}"
                    )
            # The first, most specific source decides; a later one may only name the plan.
            if first.plan is None:
                planned = next((m for _, m in others if m.plan is not None), None)
                if planned is not None:
                    first = Match(first.invoice, planned.plan, planned.instalment, first.how)
            return self._in_currency(row, first)
        numbers = sorted(
            {
                token.rstrip("._-")
                for token in _TOKEN.findall(row.description)
                if token.rstrip("._-") in self.currencies
            }
        )
        if len(numbers) == 1:
            return self._in_currency(row, Match(numbers[0], None, None, "description"))
        if numbers:
            return f"its description names several invoices ({', '.join(numbers)})"
        return "nothing names an invoice (no metadata, known Payment Link, Client Reference ID or invoice number in the description)"

    def _instalment(self, invoice: str, target: str) -> tuple[str, int] | str:
        shape = _INSTALMENT.fullmatch(target)
        if shape is None:
            return f"its metadata names instalment `{target}`, not PLAN#N"
        plan, number = shape[1], int(shape[2])
        count = self.instalments.get(invoice, {}).get(plan)
        if count is None:
            return f"its metadata names plan `{plan}`, which invoice {invoice} does not offer"
        if not 1 <= number <= count:
            return f"plan `{plan}` has {count} instalments, not {number}"
        return plan, number

    def _in_currency(self, row: StripeRow, found: Match) -> Match | str:
        wanted = self.currencies[found.invoice]
        if row.currency != wanted:
            return f"paid in {row.currency}, but invoice {found.invoice} is in {wanted}"
        return found
