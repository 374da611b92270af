"""Which invoice a Stripe payment is for, with certainty or not at all.

In order: the metadata keys the Payment Links set (`invoice`, and `instalment` for a plan), the
Payment Link id recorded in the books, the Client Reference ID, and an invoice number in the
description. Anything less than certain is a reason for review, never a guess: a payment is never
matched by its amount or the payer's email.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from notifier.books.checks import payment_warning
from notifier.books.load import Books
from notifier.books.payment_links import links_by_id, parse_target, statement_of
from notifier.ledger.plans import plan_options
from notifier.ledger.terms import InvoiceTerms, invoice_terms
from notifier.ledger.totals import invoice_totals
from notifier.payments.exports import StripeRow

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REFERENCE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_INSTALMENT = re.compile(r"([a-z0-9][a-z0-9_-]*)#([1-9][0-9]?)")
_REMEMBERED = 100_000  # answers remembered: memory stays flat
# What an answer depends on, taken from a row in one step (see `Matcher.match`).
_MATCH_FIELDS = operator.itemgetter(
    *map(
        StripeRow._fields.index,
        ("currency", "payment_link", "client_reference", "description", "metadata"),
    )
)


@dataclass(frozen=True)
class Match:
    """The invoice a payment is for, the plan instalment it pays (if any), and how we know."""

    invoice: str
    plan: str | None
    instalment: int | None
    how: str


class Matcher:
    """Matches rows against one set of books; built once per import.

    A large export pays the same few thousand invoices a million times over, so an invoice's
    currency and plans are worked out the first time a row names it, and each answer is
    remembered by what it depends on."""

    def __init__(self, books: Books) -> None:
        assert books.settings is not None
        self.books = books
        self.settings = books.settings
        self.plans = {plan.id: plan for plan in books.settings.plans}
        # The invoices a payment can be for: those whose client the books have.
        self.numbers = {
            number for number, invoice in books.invoices.items() if invoice.client in books.clients
        }
        self.currencies: dict[str, str] = {}
        self.instalments: dict[str, dict[str, int]] = {}
        self.by_link: dict[str, Match] = {}
        self.statements: dict[str, str] = {}  # a statement's link id: its client
        for ident, link in links_by_id(books).items():
            whose = statement_of(link.target)
            if whose is not None:
                self.statements[ident] = whose[0]
                continue
            plan, instalment = parse_target(link.target)
            self.by_link[ident] = Match(link.invoice, plan, instalment, "payment link")
        # The portal writes an invoice number as a Client Reference ID with anything but letters,
        # digits, `-` and `_` made `_` (Stripe drops the rest); two numbers that come out alike
        # cannot be told apart, so neither is matched that way.
        references: dict[str, list[str]] = {}
        for number in books.invoices:
            if number in self.numbers:
                references.setdefault(_REFERENCE_UNSAFE.sub("_", number)[:200], []).append(number)
        self.by_reference = {
            ref: Match(found[0], None, None, "client reference")
            for ref, found in references.items()
            if len(found) == 1
        }
        self.known: dict[tuple[str, ...], Match | str] = {}
        # A payment of a void or draft invoice is recorded all the same, with the warning that
        # `check` gives of it.
        self.warnings = {
            number: warning
            for number, invoice in books.invoices.items()
            if (warning := payment_warning(invoice)) is not None
        }

    def match(self, row: StripeRow) -> Match | str:
        """The invoice `row` pays, or why a person must look at it."""
        # The answer is remembered by what it depends on: a large export asks the same question
        # many times over.
        currency, link, reference, description, metadata = _MATCH_FIELDS(row)
        named = metadata.get("invoice", "") if metadata else ""
        if named:
            key: tuple[str, ...] = (
                currency,
                link,
                reference,
                named,
                metadata.get("instalment", ""),
            )
        else:
            statement = metadata.get("statement", "") if metadata else ""
            key = (currency, link, reference, description, statement)
        found = self.known.get(key)
        if found is None:
            found = self._match(row)
            if len(self.known) < _REMEMBERED:
                self.known[key] = found
        return found

    def _match(self, row: StripeRow) -> Match | str:
        statement = row.metadata.get("statement", "") if row.metadata else ""
        statement = statement or self.statements.get(row.payment_link, "")
        if statement:
            # Not yet spread over the invoices here (a bank transfer of the statement is).
            return (
                f"it pays client {statement}'s statement (every open invoice at once): "
                "record its share of each invoice by hand"
            )
        found: list[tuple[str, Match]] = []
        named = row.metadata.get("invoice", "") if row.metadata else ""
        if named:
            named_match = self._metadata(named, row.metadata.get("instalment", ""))
            if isinstance(named_match, str):
                return named_match
            found.append(("its metadata", named_match))
        link = self.by_link.get(row.payment_link) if row.payment_link else None
        if link is not None:
            found.append(("its Payment Link", link))
        referenced = self.by_reference.get(row.client_reference) if row.client_reference else None
        if referenced is not None:
            found.append(("its Client Reference ID", referenced))
        if len(found) == 1:
            return self._in_currency(row, found[0][1])
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
        described = self._description(row.description)
        if isinstance(described, str):
            return described
        return self._in_currency(row, described)

    def _metadata(self, named: str, target: str) -> Match | str:
        if named not in self.numbers:
            return f"its metadata names invoice `{named}`, which the books do not have"
        plan, number = None, None
        if target:
            checked = self._instalment(named, target)
            if isinstance(checked, str):
                return checked
            plan, number = checked
        return Match(named, plan, number, "metadata")

    def _description(self, description: str) -> Match | str:
        numbers = sorted(
            {
                token.rstrip("._-")
                for token in _TOKEN.findall(description)
                if token.rstrip("._-") in self.numbers
            }
        )
        if len(numbers) == 1:
            return Match(numbers[0], None, None, "description")
        if numbers:
            return f"its description names several invoices ({', '.join(numbers)})"
        return "nothing names an invoice (no metadata, known Payment Link, Client Reference ID or invoice number in the description)"

    def _instalment(self, invoice: str, target: str) -> tuple[str, int] | str:
        shape = _INSTALMENT.fullmatch(target)
        if shape is None:
            return f"its metadata names instalment `{target}`, not PLAN#N"
        plan, number = shape[1], int(shape[2])
        count = self._plans_of(invoice).get(plan)
        if count is None:
            return f"its metadata names plan `{plan}`, which invoice {invoice} does not offer"
        if not 1 <= number <= count:
            return f"plan `{plan}` has {count} instalments, not {number}"
        return plan, number

    def currency(self, invoice: str) -> str:
        """The currency `invoice` is to be paid in."""
        found = self.currencies.get(invoice)
        if found is None:
            found = self._terms(invoice).currency
            self.currencies[invoice] = found
        return found

    def _plans_of(self, invoice: str) -> dict[str, int]:
        """How many instalments each plan `invoice` offers has."""
        found = self.instalments.get(invoice)
        if found is None:
            terms = self._terms(invoice)
            record = self.books.invoices[invoice]
            totals = invoice_totals(record, terms.currency)
            options = plan_options(
                record, self.plans, terms.plan_ids, terms.due_date, totals.to_pay, terms.currency
            )
            found = self.instalments[invoice] = {o.id: len(o.instalments) for o in options}
        return found

    def _terms(self, invoice: str) -> InvoiceTerms:
        record = self.books.invoices[invoice]
        return invoice_terms(self.settings, self.books.clients[record.client], record)

    def _in_currency(self, row: StripeRow, found: Match) -> Match | str:
        wanted = self.currency(found.invoice)
        if row.currency != wanted:
            return f"paid in {row.currency}, but invoice {found.invoice} is in {wanted}"
        return found
