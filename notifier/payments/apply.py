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

An export can hold a million rows, so the rows are streamed, and each payment to add is kept as an
`Entry` (a few plain values) rather than a validated record: it becomes one line of payments.yaml,
and a `schema.Payment` only when asked for (`Outcome.applied`).
"""

from __future__ import annotations

import functools
import gc
import operator
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal, NamedTuple

from notifier import money
from notifier.books import schema
from notifier.books.load import IMPORTS_FILE, PAYMENTS_FILE, Books
from notifier.books.records import (
    append_lines,
    append_records,
    implicit_resolvers,
    plain,
    record_line,
)
from notifier.ledger.state import InvoiceState, Moved, ledger
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


Kind = Literal["payment", "refund", "chargeback"]


class Entry(NamedTuple):
    """A payment to add to the books: what its `schema.Payment` would hold (method `stripe`), the
    amount in minor units of `currency`."""

    id: str
    invoice: str
    day: date
    minor: int
    currency: str
    kind: Kind
    plan: str | None = None
    instalment: int | None = None
    reference: str | None = None
    note: str | None = None

    def payment(self) -> schema.Payment:
        """The entry as the books' record, validated."""
        return schema.Payment(
            id=self.id,
            invoice=self.invoice,
            date=self.day,
            amount=money.to_major(self.minor, self.currency),
            currency=self.currency,
            kind=self.kind,
            method="stripe",
            plan=self.plan,
            instalment=self.instalment,
            reference=self.reference,
            note=self.note,
        )


# An Entry from a tuple of all its values: the quickest way to make one, a million times over.
_entry = functools.partial(tuple.__new__, Entry)


@dataclass
class Outcome:
    """What an import found: records to add, rows for review, rows ignored (by reason), and the
    problems that stop anything being written."""

    source: str
    entries: list[Entry] = field(default_factory=list)
    review: list[Review] = field(default_factory=list)
    review_count: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0
    newest: date | None = None
    reviewed: set[str] = field(default_factory=set)
    # The entries' amounts summed per invoice, day, kind, plan and currency (all the ledger reads
    # of them; see `_day_sums`), added up as they come: going over a million entries again later
    # costs seconds. Money in is summed per match (by identity: a large import has a few
    # thousand), then per day; `sums` has the rest, refunds and disputes.
    paid: dict[int, tuple[Match, str, dict[date, int]]] = field(default_factory=dict)
    sums: dict[tuple[str, date, Kind, str | None, str], int] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        """Add `entry` to what the import adds (see also `_money_in`)."""
        self.entries.append(entry)
        key = (entry.invoice, entry.day, entry.kind, entry.plan, entry.currency)
        self.sums[key] = self.sums.get(key, 0) + entry.minor

    @property
    def applied(self) -> list[schema.Payment]:
        """The payments to add, as the books' records; built on each call, so for small imports
        and tests (a large import keeps its `entries` only)."""
        return [entry.payment() for entry in self.entries]

    def import_record(self, at: datetime) -> schema.Import:
        return schema.Import(
            at=at,
            source=self.source,
            newest=self.newest,
            rows=self.rows,
            applied=len(self.entries),
            review=self.review_count,
        )

    def summary(self) -> list[str]:
        """The outcome in a person's words, one line each."""
        lines = [
            f"{self.rows} row{'s' if self.rows != 1 else ''} read from {self.source}: "
            f"{len(self.entries)} applied, {self.review_count} waiting for review, "
            f"{sum(self.ignored.values())} ignored"
        ]
        what = {"payment": "paid", "refund": "refunded", "chargeback": "taken back (dispute)"}
        for entry in self.entries[:SHOWN]:
            plan = f" (plan {entry.plan}, instalment {entry.instalment})" if entry.plan else ""
            amount = money.to_major(entry.minor, entry.currency)
            lines.append(
                f"  applied: {entry.invoice} {what[entry.kind]} {amount} "
                f"{entry.currency} on {entry.day}{plan} [{entry.id}]"
            )
        if len(self.entries) > SHOWN:
            lines.append(f"  applied: ... and {len(self.entries) - SHOWN} more")
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
        # Every id in the books; a payment's own id (no `/`) gives the invoice it paid. One dict,
        # not a set and a dict: a large import adds a million ids.
        self.known: dict[str, Match | None] = {}
        self.refunded: dict[str, int] = {}
        self.plan_of: dict[str, str] = {}
        paid: dict[tuple[str, str | None, int | None], Match] = {}
        for payment in books.payments:
            found = None
            if payment.kind == "payment" and "/" not in payment.id:
                key = (payment.invoice, payment.plan, payment.instalment)
                found = paid.get(key)
                if found is None:
                    found = paid[key] = Match(
                        payment.invoice, payment.plan, payment.instalment, "books"
                    )
            refunded = payment.kind == "refund" and payment.id.partition("/")[2].startswith(
                "refunded-"
            )
            minor = money.to_minor(payment.amount, payment.currency) if refunded else 0
            entry = Entry(
                payment.id,
                payment.invoice,
                payment.date,
                minor,
                payment.currency,
                payment.kind,
                payment.plan,
                payment.instalment,
            )
            self.note(entry, found)

    def note(self, entry: Entry, found: Match | None) -> None:
        """Hold `entry`; `found` is the invoice a payment (not a refund or dispute) pays."""
        if found is not None:
            self.known[entry.id] = found
        else:
            self.known.setdefault(entry.id, None)
            charge, _, rest = entry.id.partition("/")
            if entry.kind == "refund" and rest.startswith("refunded-"):
                self.refunded[charge] = self.refunded.get(charge, 0) + entry.minor
        if entry.plan is not None:
            self.plan_of.setdefault(entry.invoice, entry.plan)


# A row's values by name, taken in one step: a StripeRow is a tuple, and this is quicker than
# reading its fields one by one, a million times over.
_PAYMENT_FIELDS = operator.itemgetter(
    *map(
        StripeRow._fields.index,
        (
            "export",
            "id",
            "status",
            "captured",
            "amount",
            "refunded",
            "disputed",
            "dispute_status",
        ),
    )
)
_MONEY_IN_FIELDS = operator.itemgetter(
    *map(StripeRow._fields.index, ("id", "day", "currency", "payment_intent"))
)


def reconcile(
    books: Books, rows: Iterable[StripeRow | RowProblem], source: str, today: date
) -> Outcome:
    """What importing `rows` into `books` would add, on `today` (the day refunds and disputes
    are dated when the export gives no date). Pure."""
    outcome = Outcome(source)
    matcher = Matcher(books)
    held = _Ledger(books)
    problems = outcome.problems
    with _collector_paused():
        for row in rows:
            if isinstance(row, RowProblem):
                problems.append(row)
                continue
            outcome.rows += 1
            if problems:
                continue  # nothing will be written; keep reading only to list every problem
            # A row of the Payments export, here rather than in a function of its own: this
            # loop runs once a row, a million times for a large export.
            export, ident, status, captured, amount, refunded, disputed, dispute_status = (
                _PAYMENT_FIELDS(row)
            )
            if export == "balance":
                _balance(row, outcome, matcher, held)
                continue
            if not ident or not captured or amount <= 0 or status.lower() not in MONEY_IN:
                _ignore(row, outcome)
                continue
            found = _money_in(row, amount, outcome, matcher, held)
            if found is None:
                continue  # waiting for review: its refunds wait with it
            if refunded > 0:
                _refund(row, found, outcome, held, today)
            if disputed > 0 and dispute_status not in DISPUTE_NO_MONEY:
                _dispute(row, found, outcome, held, today)
    if problems:
        outcome.entries.clear()
        outcome.paid.clear()
        outcome.sums.clear()
    return outcome


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while an import runs: a large one makes a million objects
    that stay (and no cycles), and the collector would go over them again and again."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def _ignore(row: StripeRow, outcome: Outcome) -> None:
    """Count a row of the Payments export that moved no money, by why."""
    status = row.status.lower()
    if not row.id:
        reason = "rows with no id (attempts that never became a payment)"
    elif status not in MONEY_IN:
        reasons = {
            "pending": "Pending (a bank debit still settling; imported once Stripe says Paid)",
            "failed": "Failed (no money moved)",
        }
        reason = reasons.get(status, f"{row.status or 'no status'} (not a payment)")
    elif not row.captured:
        reason = "not captured (authorised only; no money moved)"
    else:
        reason = "an amount of 0 (no money moved)"
    outcome.ignored[reason] += 1


def _money_in(
    row: StripeRow, amount: int, outcome: Outcome, matcher: Matcher, held: _Ledger
) -> Match | None:
    """Add the money `row` brought in, unless the books hold it already; the invoice its charge
    pays, None if a person must match it (or the books hold its id for something else)."""
    ident, day, currency, intent = _MONEY_IN_FIELDS(row)
    if outcome.newest is None or day > outcome.newest:
        outcome.newest = day
    known = held.known
    if ident in known:
        return known[ident]
    found = matcher.match(row)
    if isinstance(found, str):
        _review(outcome, row, amount, found)
        return None
    invoice, plan, instalment = found.invoice, found.plan, found.instalment
    if plan is not None:
        chosen = held.plan_of.get(invoice)
        if chosen is None:
            held.plan_of[invoice] = plan
        elif chosen != plan:
            _review(
                outcome,
                row,
                amount,
                f"it pays plan `{plan}`, but invoice {invoice} is already on plan `{chosen}`",
            )
            return None
    # As `outcome.add` does, without the call: this is once a row.
    outcome.entries.append(
        _entry(
            (
                ident,
                invoice,
                day,
                amount,
                currency,
                "payment",
                plan,
                instalment,
                intent or None,
                None,
            )
        )
    )
    group = outcome.paid.get(id(found))
    if group is None:
        group = outcome.paid[id(found)] = (found, currency, {})
    group[2][day] = group[2].get(day, 0) + amount
    known[ident] = found
    return found


def _refund(row: StripeRow, found: Match, outcome: Outcome, held: _Ledger, today: date) -> None:
    before = held.refunded.get(row.id, 0)
    if row.refunded <= before:
        return
    total = money.to_major(row.refunded, row.currency)
    _add(
        outcome,
        held,
        Entry(
            f"{row.id}/refunded-{total}",
            found.invoice,
            row.refunded_on or today,
            row.refunded - before,
            row.currency,
            "refund",
        ),
    )


def _dispute(row: StripeRow, found: Match, outcome: Outcome, held: _Ledger, today: date) -> None:
    # A won dispute first took the money and then gave it back: record both, so the books end
    # the same whichever export (before or after the outcome) is imported first.
    steps: list[tuple[str, Kind, date]] = [
        (f"{row.id}/dispute", "chargeback", row.disputed_on or today)
    ]
    if row.dispute_status in DISPUTE_RETURNED:
        steps.append((f"{row.id}/dispute-won", "payment", today))
    for ident, kind, day in steps:
        if ident not in held.known:
            _add(
                outcome,
                held,
                Entry(
                    ident,
                    found.invoice,
                    day,
                    row.disputed,
                    row.currency,
                    kind,
                    note=f"dispute {row.dispute_status}",
                ),
            )


def _balance(row: StripeRow, outcome: Outcome, matcher: Matcher, held: _Ledger) -> None:
    if row.kind in BALANCE_MONEY_IN and row.amount > 0:
        _money_in(row, row.amount, outcome, matcher, held)
    elif row.kind in BALANCE_MONEY_BACK:
        if row.id in held.known:
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


def _add(outcome: Outcome, held: _Ledger, entry: Entry) -> None:
    outcome.add(entry)
    held.note(entry, None)


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
    sums = _day_sums(outcome)
    touched = [books.invoices[number] for number in sorted(sums)]
    with _collector_paused():
        before = ledger(books, today, touched)
        after = ledger(books, today, touched, added=sums)
    return [
        _change(invoice.number, before[invoice.number], after[invoice.number])
        for invoice in touched
    ]


def _change(number: str, was: InvoiceState, now: InvoiceState) -> str:
    owed = f", {money.format_plain(now.balance, now.currency)} owed" if now.balance else ""
    over = f", overpaid by {money.format_plain(now.overpaid, now.currency)}" if now.overpaid else ""
    return f"  {number}: {was.status.value} → {now.status.value}{owed}{over}"


def _day_sums(outcome: Outcome) -> dict[str, list[Moved]]:
    """The outcome's entries summed per invoice, day, kind and plan, as the ledger takes them
    (`ledger(..., added=...)`).

    The ledger reads a payment's invoice, day, signed amount and plan only, and within a day
    only the day's sum counts (the day's changes to what is overdue add up before interest is
    counted), so the sums give the ledger exactly what the entries would: a few per invoice and
    day instead of a million records. (Their order matters only to which plan an invoice is on,
    and an import never adds payments to one invoice on two plans.)"""
    sums: dict[str, list[Moved]] = {}
    for found, currency, days in outcome.paid.values():
        by_day = sums.setdefault(found.invoice, [])
        by_day.extend((day, "payment", found.plan, currency, minor) for day, minor in days.items())
    for (invoice, day, kind, plan, currency), minor in outcome.sums.items():
        sums.setdefault(invoice, []).append((day, kind, plan, currency, minor))
    return sums


def write_outcome(root: Path, outcome: Outcome, at: datetime) -> None:
    """Add the outcome's payments, then its import record, to the books under `root`; each file
    is replaced atomically. Writes nothing if the outcome has problems."""
    if outcome.problems:
        return
    with _collector_paused():
        append_lines(root / PAYMENTS_FILE, payment_lines(outcome.entries))
    append_records(root / IMPORTS_FILE, [outcome.import_record(at)])


def payment_lines(entries: Iterable[Entry]) -> Iterator[str]:
    """Each entry as its line in payments.yaml, exactly as `record_line` writes its
    `schema.Payment`, several times faster: what repeats (an invoice number, a day, an amount, a
    currency and plan) is made into text once, and an entry with a value that would need quoting
    goes the long way, through `record_line`."""
    heads: dict[str, str] = {}  # invoice number: `, invoice: ..., date: `, or "" to quote
    tails: dict[tuple[str, str, str | None, int | None], _Tail] = {}
    days: dict[date, str] = {}
    # An ASCII identifier (ch_3Mt...) that PyYAML reads as text is written as it is (`plain`).
    resolvers = implicit_resolvers()
    quick_ids = None not in resolvers
    for entry in entries:
        ident, invoice, day, minor, currency, kind, plan, instalment, reference, note = entry
        head = heads.get(invoice)
        if head is None:
            text = plain(invoice)
            head = heads[invoice] = "" if text is None else f", invoice: {text}, date: "
        tail = tails.get((currency, kind, plan, instalment))
        if tail is None:
            tail = tails[(currency, kind, plan, instalment)] = _Tail(
                currency, kind, plan, instalment
            )
        amount = tail.amounts.get(minor)
        if amount is None:
            amount = tail.amount(minor)
        if quick_ids and ident.isascii() and ident.isidentifier() and ident[0] not in resolvers:
            written = True
        else:
            written = plain(ident) is not None
        if not (head and tail.text and amount and written) or note is not None:
            yield record_line(entry.payment())
            continue
        day_text = days.get(day)
        if day_text is None:
            day_text = days[day] = day.isoformat()
        if reference is None:
            yield f"- {{id: {ident}{head}{day_text}, amount: {amount}{tail.text}}}\n"
        elif (text := plain(reference)) is not None:
            yield f"- {{id: {ident}{head}{day_text}, amount: {amount}{tail.text}, reference: {text}}}\n"
        else:
            yield record_line(entry.payment())


class _Tail:
    """What follows the amount on a payment's line (`text`, "" if a value would need quoting),
    and the amounts in its currency as text, as `str(money.to_major(...))` writes them."""

    def __init__(self, currency: str, kind: str, plan: str | None, instalment: int | None):
        texts = [plain(currency), plain(kind), plain(plan) if plan is not None else ""]
        self.text = ""
        if None not in texts:
            self.text = f", currency: {texts[0]}, kind: {texts[1]}, method: stripe"
            if plan is not None:
                self.text += f", plan: {texts[2]}"
            if instalment is not None:
                self.text += f", instalment: {instalment}"
        self.places = money.exponent(currency)
        self.amounts: dict[int, str] = {}

    def amount(self, minor: int) -> str:
        """`minor` in major units, or "" if `record_line` is to write it."""
        if not 0 < minor < _LARGE:
            return ""
        if self.places:
            whole, part = divmod(minor, 10**self.places)
            text = f"{whole}.{part:0{self.places}d}"
        else:
            text = str(minor)
        if len(self.amounts) < _REMEMBERED:
            self.amounts[minor] = text
        return text


_LARGE = 10**18  # an amount beyond this is written by `record_line`, as Decimal prints it
_REMEMBERED = 100_000  # amounts remembered as text per currency: memory stays flat
