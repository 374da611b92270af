"""Apply Stripe payments to the books: exactly once, nothing guessed.

Each record is keyed by Stripe's id, so importing the same export twice, or exports that overlap,
changes nothing the second time:
- money in is recorded under the charge's id (`ch_...`, `py_...`);
- refunds under `ID/refunded-AMOUNT`, AMOUNT being the charge's total refunded so far: an export
  that shows more refunded than the books hold adds the difference, one that shows less adds
  nothing (the Payments export states refunds per charge, cumulatively);
- a dispute that took money back under `ID/dispute`, and, once won, the money returned under
  `ID/dispute-won`.

`reconcile` is pure: it reads rows and the books and says what to write. `write_outcome` writes it,
each file atomically: the payments first, then the import record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from notifier import money
from notifier.books import schema
from notifier.books.load import IMPORTS_FILE, PAYMENTS_FILE, Books
from notifier.books.records import append_records
from notifier.ledger.state import ledger
from notifier.payments.exports import RowProblem, StripeRow
from notifier.payments.matching import Match, Matcher

MONEY_IN = {"paid", "refunded", "succeeded"}
BALANCE_MONEY_IN = {"charge", "payment"}
BALANCE_MONEY_BACK = {
    "refund",
    "payment_refund",
    "refund_failure",
    "adjustment",
    "dispute",
    "payment_failure_refund",
}
DISPUTE_RETURNED = {"won"}
# An inquiry (`warning_*`) moves no money; every other dispute status has taken the amount back.
DISPUTE_NO_MONEY = {"", "warning_needs_response", "warning_under_review", "warning_closed"}
REVIEW_SHOWN = 1000  # more than this many rows for review are counted, not each kept
SHOWN = 200  # payments listed one by one in the summary; the rest are counted


@dataclass(frozen=True)
class Review:
    """A row a person must match by hand, and why."""

    source: str
    line: int
    id: str
    amount: str
    reason: str

    def __str__(self) -> str:
        what = f"{self.id} {self.amount}".strip()
        return f"{self.source}:{self.line}: {what}: {self.reason}"


@dataclass
class Outcome:
    """What an import found: records to add, rows for review, rows ignored (by reason), and the
    problems that stop anything being written."""

    source: str
    applied: list[schema.Payment] = field(default_factory=list)
    review: list[Review] = field(default_factory=list)
    review_count: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0
    newest: date | None = None
    reviewed: set[str] = field(default_factory=set)

    def import_record(self, at: datetime) -> schema.Import:
        return schema.Import(
            at=at,
            source=self.source,
            newest=self.newest,
            rows=self.rows,
            applied=len(self.applied),
            review=self.review_count,
        )

    def summary(self) -> list[str]:
        """The outcome in a person's words, one line each."""
        lines = [
            f"{self.rows} row{'s' if self.rows != 1 else ''} read from {self.source}: "
            f"{len(self.applied)} applied, {self.review_count} waiting for review, "
            f"{sum(self.ignored.values())} ignored"
        ]
        for payment in self.applied[:SHOWN]:
            what = {"payment": "paid", "refund": "refunded", "chargeback": "taken back (dispute)"}
            plan = (
                f" (plan {payment.plan}, instalment {payment.instalment})" if payment.plan else ""
            )
            lines.append(
                f"  applied: {payment.invoice} {what[payment.kind]} {payment.amount} "
                f"{payment.currency} on {payment.date}{plan} [{payment.id}]"
            )
        if len(self.applied) > SHOWN:
            lines.append(f"  applied: ... and {len(self.applied) - SHOWN} more")
        for item in self.review:
            lines.append(f"  review: {item}")
        if self.review_count > len(self.review):
            lines.append(f"  review: ... and {self.review_count - len(self.review)} more")
        for reason, count in sorted(self.ignored.items()):
            lines.append(f"  ignored: {count} × {reason}")
        return lines


class _Ledger:
    """What the books (and this import so far) already hold, by Stripe id."""

    def __init__(self, books: Books) -> None:
        self.ids: set[str] = set()
        self.invoice_of: dict[str, Match] = {}
        self.refunded: dict[str, int] = {}
        self.plan_of: dict[str, str] = {}
        for payment in books.payments:
            self.note(payment)

    def note(self, payment: schema.Payment) -> None:
        self.ids.add(payment.id)
        charge, _, rest = payment.id.partition("/")
        if payment.kind == "payment" and not rest:
            self.invoice_of[charge] = Match(
                payment.invoice, payment.plan, payment.instalment, "books"
            )
        if payment.kind == "refund" and rest.startswith("refunded-"):
            minor = money.to_minor(payment.amount, payment.currency)
            self.refunded[charge] = self.refunded.get(charge, 0) + minor
        if payment.plan is not None:
            self.plan_of.setdefault(payment.invoice, payment.plan)


def reconcile(
    books: Books, rows: Iterable[StripeRow | RowProblem], source: str, today: date
) -> Outcome:
    """What importing `rows` into `books` would add, on `today` (the day refunds and disputes
    are dated when the export gives no date). Pure."""
    outcome = Outcome(source)
    matcher = Matcher(books)
    held = _Ledger(books)
    for row in rows:
        if isinstance(row, RowProblem):
            outcome.problems.append(row)
            continue
        outcome.rows += 1
        if outcome.problems:
            continue  # nothing will be written; keep reading only to list every problem
        if row.export == "balance":
            _balance(row, outcome, matcher, held)
        else:
            _payment(row, outcome, matcher, held, today)
    if outcome.problems:
        outcome.applied.clear()
    return outcome


def _payment(
    row: StripeRow, outcome: Outcome, matcher: Matcher, held: _Ledger, today: date
) -> None:
    if not row.id:
        outcome.ignored["rows with no id (attempts that never became a payment)"] += 1
        return
    status = row.status.lower()
    if status not in MONEY_IN:
        reasons = {
            "pending": "Pending (a bank debit still settling; imported once Stripe says Paid)",
            "failed": "Failed (no money moved)",
        }
        outcome.ignored[reasons.get(status, f"{row.status or 'no status'} (not a payment)")] += 1
        return
    if not row.captured:
        outcome.ignored["not captured (authorised only; no money moved)"] += 1
        return
    _money_in(row, row.amount, outcome, matcher, held)
    found = held.invoice_of.get(row.id)
    if found is None:
        return  # waiting for review: its refunds wait with it
    _refund(row, found, outcome, held, today)
    _dispute(row, found, outcome, held, today)


def _money_in(
    row: StripeRow, amount: int, outcome: Outcome, matcher: Matcher, held: _Ledger
) -> None:
    if outcome.newest is None or row.day > outcome.newest:
        outcome.newest = row.day
    if row.id in held.ids:
        return
    found = held.invoice_of.get(row.id) or matcher.match(row)
    if isinstance(found, str):
        _review(outcome, row, amount, found)
        return
    chosen = held.plan_of.get(found.invoice)
    if found.plan is not None and chosen is not None and chosen != found.plan:
        _review(
            outcome,
            row,
            amount,
            f"it pays plan `{found.plan}`, but invoice {found.invoice} is already on plan `{chosen}`",
        )
        return
    _add(
        outcome,
        held,
        schema.Payment(
            id=row.id,
            invoice=found.invoice,
            date=row.day,
            amount=money.to_major(amount, row.currency),
            currency=row.currency,
            kind="payment",
            method="stripe",
            plan=found.plan,
            instalment=found.instalment,
            reference=row.payment_intent or None,
        ),
    )


def _refund(row: StripeRow, found: Match, outcome: Outcome, held: _Ledger, today: date) -> None:
    before = held.refunded.get(row.id, 0)
    if row.refunded <= before:
        return
    total = money.to_major(row.refunded, row.currency)
    _add(
        outcome,
        held,
        schema.Payment(
            id=f"{row.id}/refunded-{total}",
            invoice=found.invoice,
            date=row.refunded_on or today,
            amount=money.to_major(row.refunded - before, row.currency),
            currency=row.currency,
            kind="refund",
            method="stripe",
        ),
    )


def _dispute(row: StripeRow, found: Match, outcome: Outcome, held: _Ledger, today: date) -> None:
    if row.disputed <= 0 or row.dispute_status in DISPUTE_NO_MONEY:
        return
    amount = money.to_major(row.disputed, row.currency)
    # A won dispute first took the money and then gave it back: record both, so the books end
    # the same whichever export (before or after the outcome) is imported first.
    steps: list[tuple[str, str, date]] = [
        (f"{row.id}/dispute", "chargeback", row.disputed_on or today)
    ]
    if row.dispute_status in DISPUTE_RETURNED:
        steps.append((f"{row.id}/dispute-won", "payment", today))
    for ident, kind, day in steps:
        if ident not in held.ids:
            _add(
                outcome,
                held,
                schema.Payment(
                    id=ident,
                    invoice=found.invoice,
                    date=day,
                    amount=amount,
                    currency=row.currency,
                    kind="chargeback" if kind == "chargeback" else "payment",
                    method="stripe",
                    note=f"dispute {row.dispute_status}",
                ),
            )


def _balance(row: StripeRow, outcome: Outcome, matcher: Matcher, held: _Ledger) -> None:
    if row.kind in BALANCE_MONEY_IN and row.amount > 0:
        _money_in(row, row.amount, outcome, matcher, held)
    elif row.kind in BALANCE_MONEY_BACK:
        if row.id in held.ids:
            return
        _review(
            outcome,
            row,
            abs(row.amount),
            f"a {row.kind} in Balance history does not say which payment it reverses; "
            "import the Payments export, which records refunds and disputes per payment",
        )
    else:
        outcome.ignored[f"Balance history `{row.kind}` entries (not a client's payment)"] += 1


def _add(outcome: Outcome, held: _Ledger, payment: schema.Payment) -> None:
    outcome.applied.append(payment)
    held.note(payment)


def _review(outcome: Outcome, row: StripeRow, amount: int, reason: str) -> None:
    if row.id in outcome.reviewed:
        return  # the same payment in two overlapping exports is one row to look at
    outcome.reviewed.add(row.id)
    outcome.review_count += 1
    if len(outcome.review) < REVIEW_SHOWN:
        shown = f"{money.to_major(amount, row.currency)} {row.currency}"
        outcome.review.append(Review(row.source, row.line, row.id, shown, reason))


def invoice_changes(books: Books, outcome: Outcome, today: date) -> list[str]:
    """How each invoice the import touched stands now, against before: `HP-1: overdue → paid`."""
    touched = sorted({payment.invoice for payment in outcome.applied})
    if not touched:
        return []
    before = ledger(books, today)
    after = ledger(replace(books, payments=[*books.payments, *outcome.applied]), today)
    lines = []
    for number in touched:
        was, now = before[number], after[number]
        owed = f", {money.format_plain(now.balance, now.currency)} owed" if now.balance else ""
        over = (
            f", overpaid by {money.format_plain(now.overpaid, now.currency)}"
            if now.overpaid
            else ""
        )
        lines.append(f"  {number}: {was.status.value} → {now.status.value}{owed}{over}")
    return lines


def write_outcome(root: Path, outcome: Outcome, at: datetime) -> None:
    """Add the outcome's payments, then its import record, to the books under `root`; each file
    is replaced atomically. Writes nothing if the outcome has problems."""
    if outcome.problems:
        return
    append_records(root / PAYMENTS_FILE, outcome.applied)
    append_records(root / IMPORTS_FILE, [outcome.import_record(at)])
