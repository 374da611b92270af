"""Apply bank statements to the books: each transaction exactly once, nothing guessed.

A credit is recorded under the bank's own id of the transaction (or the digest its reader made,
see `statements.credit.digest_id`), made safe for the books (`payment_id`): one payment line,
or, spread over several invoices, one line each as `ID#1`, `ID#2`. A credit whose id the books
hold already, or that this import met before (statements that overlap), adds nothing.

Credits are taken by value date, then id: each is matched against the account of its value
date, with the payments recorded before it (`bank_matching`)."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from notifier import money
from notifier.account import ClientAccount, account_of
from notifier.books import schema
from notifier.books.load import IMPORTS_FILE, PAYMENTS_FILE, Books
from notifier.books.records import append_records
from notifier.payments.apply import Review
from notifier.payments.bank_matching import BankMatcher, Decision
from notifier.payments.statements import BankCredit, Statement, StatementProblem

_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]")


def payment_id(credit: BankCredit) -> str:
    """The id of a credit's payment in the books: the bank's, with anything but letters,
    digits, `.`, `_`, `:` and `-` made `-` (a `/` or `#` means something there)."""
    return _UNSAFE.sub("-", credit.bank_id)[:240]


def where(credit: BankCredit) -> str:
    """`path:line`, or `path: /Document/...` for an XML element."""
    if credit.where.isdigit():
        return f"{credit.source}:{credit.where}"
    return f"{credit.source}: {credit.where}"


@dataclass
class BankOutcome:
    """What importing statements found: payments to add, credits for review, what was ignored."""

    source: str
    payments: list[schema.Payment] = field(default_factory=list)
    review: list[tuple[str, Review]] = field(default_factory=list)  # with where each was
    ignored: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    credits: int = 0
    applied: int = 0
    already: int = 0
    newest: date | None = None

    def import_record(self, at: datetime) -> schema.Import:
        rows = self.credits + sum(self.ignored.values())
        return schema.Import(
            at=at,
            source=self.source,
            via="bank",
            newest=self.newest,
            rows=rows,
            applied=len(self.payments),
            review=len(self.review),
        )

    def summary(self) -> list[str]:
        """The outcome in a person's words, one line each."""
        count = self.credits + sum(self.ignored.values())
        lines = [
            f"{count} transaction{'s' if count != 1 else ''} read from {self.source}: "
            f"{self.applied} applied, {len(self.review)} waiting for review, "
            f"{sum(self.ignored.values())} ignored, {self.already} already recorded"
        ]
        lines += self.notes
        for place, item in self.review:
            maybe = f"; perhaps {', '.join(item.candidates)}" if item.candidates else ""
            lines.append(f"  review: {place}: {item.id} {item.amount}: {item.reason}{maybe}")
        for reason, number in sorted(self.ignored.items()):
            lines.append(f"  ignored: {number} × {reason}")
        return lines


def currency_problems(books: Books, statement: Statement) -> list[StatementProblem]:
    """A credit in another currency than business.yaml keeps its account in: a statement of the
    wrong account, or read wrongly."""
    assert books.settings is not None
    kept = {
        _compact(a.iban): a.currency
        for a in books.settings.business.bank_accounts
        if a.iban and a.currency
    }
    problems = []
    for credit in statement.credits:
        currency = kept.get(_compact(credit.account))
        if currency is not None and credit.currency != currency:
            problems.append(
                StatementProblem(
                    statement.path,
                    int(credit.where) if credit.where.isdigit() else credit.where,
                    f"a credit in {credit.currency} on account {credit.account}, which "
                    f"business.yaml keeps in {currency}: a statement in the wrong currency",
                )
            )
    return problems


def _compact(account: str) -> str:
    return re.sub(r"\s", "", account).upper()


def reconcile_statements(books: Books, statements: list[Statement]) -> BankOutcome:
    """What importing `statements` (read without problems) into `books` would add. Pure."""
    outcome = BankOutcome(", ".join(s.path for s in statements))
    for statement in statements:
        outcome.ignored.update(statement.ignored)
    held = {p.id.partition("#")[0] for p in books.payments if p.method == "bank"}
    matcher = BankMatcher(books)
    credits = sorted(
        (c for s in statements for c in s.credits), key=lambda c: (c.value, payment_id(c))
    )
    current = books
    for credit in credits:
        outcome.credits += 1
        ident = payment_id(credit)
        if ident in held:
            outcome.already += 1
            continue
        held.add(ident)
        if outcome.newest is None or credit.booked > outcome.newest:
            outcome.newest = credit.booked
        decision = matcher.decide(credit, _accounts(current))
        if not decision.allocations:
            amount = f"{credit.amount} {credit.currency}"
            item = Review(
                credit.source, _line(credit), ident, amount, decision.reason, decision.candidates
            )
            outcome.review.append((where(credit), item))
            continue
        added = _payments(credit, ident, decision)
        outcome.payments += added
        outcome.applied += 1
        outcome.notes += _applied_lines(added, decision)
        current = dataclasses.replace(current, payments=[*current.payments, *added])
    return outcome


def _accounts(books: Books) -> AccountOfBooks:
    return AccountOfBooks(books)


class AccountOfBooks:
    """The account of one client on a day, each worked out once."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self.known: dict[tuple[str, date], ClientAccount] = {}

    def __call__(self, client: str, day: date) -> ClientAccount:
        found = self.known.get((client, day))
        if found is None:
            found = account_of(self.books, day, [client]).clients[client]
            self.known[(client, day)] = found
        return found


def _line(credit: BankCredit) -> int:
    return int(credit.where) if credit.where.isdigit() else 0


def _payments(credit: BankCredit, ident: str, decision: Decision) -> list[schema.Payment]:
    several = len(decision.allocations) > 1
    what = decision.how + (f"; {decision.note}" if decision.note else "")
    return [
        schema.Payment(
            id=f"{ident}#{n}" if several else ident,
            invoice=part.invoice,
            date=credit.value,
            amount=money.to_major(part.minor, credit.currency),
            currency=credit.currency,
            method="bank",
            plan=part.plan,
            instalment=part.instalment,
            reference=decision.reference or None,
            note=f"bank transfer from {credit.counterparty or 'an unnamed payer'}, matched by {what}",
        )
        for n, part in enumerate(decision.allocations, 1)
    ]


def _applied_lines(added: list[schema.Payment], decision: Decision) -> list[str]:
    lines = []
    for payment in added:
        plan = f" (plan {payment.plan}, instalment {payment.instalment})" if payment.plan else ""
        lines.append(
            f"  applied: {payment.invoice} paid {payment.amount} {payment.currency} on "
            f"{payment.date}{plan} [{payment.id}], by {decision.how}"
        )
    if decision.note:
        lines[-1] += f": {decision.note}"
    return lines


def write_outcome(root: Path, outcome: BankOutcome, at: datetime) -> None:
    """Add the outcome's payments, then its import record, each file replaced atomically."""
    append_records(root / PAYMENTS_FILE, outcome.payments)
    append_records(root / IMPORTS_FILE, [outcome.import_record(at)])
