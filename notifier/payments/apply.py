"""Apply Stripe payments to the books: exactly once, nothing guessed.

Each record is keyed by Stripe's id, so importing the same export twice, or exports that overlap,
changes nothing the second time:
- money in is recorded under the charge's id (`ch_...`, `py_...`);
- refunds under `ID/refunded-AMOUNT`, AMOUNT being the charge's total refunded so far: an export
  that shows more refunded than the books hold adds the difference, one that shows less adds
  nothing (the Payments export states refunds per charge, cumulatively);
- a dispute that took money back under `ID/dispute`, and, once won, the money returned under
  `ID/dispute-won`;
- a refund or dispute in Balance history under `ID/TXN`, TXN being the balance entry's own id
  (`txn_...`) and ID the payment its `Source` names: each entry is one movement of money, so it
  is recorded once, whatever exports it is seen in again. One recorded from a Payments export is
  not recorded again from Balance history (nor the other way round), and money back that is more
  than the payment brought in waits for review instead: the books never hold more refunded than
  paid.

The summary counts each row read once: applied (it added to the books), waiting for review,
ignored (it moved no money), or already recorded.

`reconcile` reads rows and the books and says what to write; `write_outcome` writes it, each file
atomically: the payments first, then the import record.

An export can hold a million rows, so the rows are streamed, and each payment to add is an `Entry`
(a few plain values) rather than a validated record: it becomes one line of payments.yaml, and a
`schema.Payment` only when asked for (`Outcome.applied`). Given the payments file as
`PendingLines`, `reconcile` writes each line there as it goes (to a temporary file, put in place
by `write_outcome`) and keeps neither the entries nor their ids: memory does not grow with the
export, but for a fingerprint of each id (`_Fingerprints`). Most rows of a large export come in
`PaidRows` batches (`exports.read_compact`), taken a batch at a time (`_PaidTaker`): the ids of
a batch are looked up at once (none held: none needs a look each), and its lines are made, its
sums by invoice and day added up, by polars; only the rows that take money back, wait for review
or are met again go a row at a time.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal, NamedTuple, cast

import polars as pl
import yaml

from notifier import money, speed
from notifier.books import schema
from notifier.books.load import IMPORTS_FILE, PAYMENTS_FILE, Books
from notifier.books.records import (
    PendingLines,
    append_lines,
    append_records,
    implicit_resolvers,
    plain,
    record_line,
)
from notifier.ledger.state import InvoiceState, Moved, history, ledger
from notifier.payments.exports import (
    DISPUTE_NO_MONEY,
    MONEY_IN,
    NO_METADATA,
    PaidRows,
    RowProblem,
    StripeRow,
)
from notifier.payments.matching import Match, Matcher

BALANCE_MONEY_IN = {"charge", "payment"}
# Balance history entries that take a payment's money back (their `Source` is the payment), as a
# refund, or as a dispute (`adjustment`: a chargeback, or its reversal once the dispute is won).
BALANCE_REFUNDS = {"refund", "payment_refund", "payment_failure_refund"}
BALANCE_DISPUTES = {"adjustment", "dispute"}
BALANCE_MONEY_BACK = {*BALANCE_REFUNDS, *BALANCE_DISPUTES, "refund_failure"}
DISPUTE_RETURNED = {"won"}
DISPUTE_KEPT = DISPUTE_NO_MONEY | DISPUTE_RETURNED  # no money taken back, or all given back
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
    candidates: tuple[str, ...] = ()  # invoice numbers a person might match it to, best first

    def __str__(self) -> str:
        what = f"{self.id} {self.amount}".strip()
        return f"{self.source}:{self.line}: {what}: {self.reason}"


Kind = Literal["payment", "refund", "chargeback"]
Amount = tuple[int, str]  # minor units, and the currency


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
    problems that stop anything being written.

    The records to add are `entries`, all of them; or, when the import writes them as it goes
    (`pending`), the first `SHOWN` only, `count` saying how many there are."""

    source: str
    entries: list[Entry] = field(default_factory=list)
    review: list[Review] = field(default_factory=list)
    review_count: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0
    newest: date | None = None
    reviewed: set[str] = field(default_factory=set)
    # Each row read counts once (`summary`): ignored (by reason, `ignored`), or one of these.
    applied_rows: int = 0
    review_rows: int = 0
    already: int = 0
    reviews: int = 0  # rows sent to review so far, the same payment twice included
    warnings: list[str] = field(default_factory=list)  # payments of a void or draft invoice
    warning_count: int = 0
    # The entries' amounts summed per invoice, day, kind, plan and currency (all the ledger reads
    # of them; see `_day_sums`), added up as they come: going over a million entries again later
    # costs seconds. Money in is summed per match (by identity: a large import has a few
    # thousand), then per day (as text in `paid_rows`, for the rows of `PaidRows`); `sums` has
    # the rest, refunds and disputes.
    paid: dict[int, tuple[Match, str, dict[date, int]]] = field(default_factory=dict)
    paid_rows: dict[int, tuple[Match, str, dict[str, int]]] = field(default_factory=dict)
    # The sums of the paid rows taken a batch at a time (`_PaidTaker`): a table each of the
    # group in `paid_rows`, the day as text and the sum of minor units.
    paid_sums: list[pl.DataFrame] = field(default_factory=list, repr=False, compare=False)
    sums: dict[tuple[str, date, Kind, str | None, str], int] = field(default_factory=dict)
    count: int = 0
    pending: PendingLines | None = field(default=None, repr=False, compare=False)
    lines: _Lines = field(default_factory=lambda: _Lines(), repr=False, compare=False)
    aside: list[str] | None = field(default=None, repr=False, compare=False)  # see `_at_once`
    money_back: list[StripeRow] = field(default_factory=list, repr=False, compare=False)

    def add(self, entry: Entry) -> str | None:
        """Add `entry` to what the import adds (see also `_money_in`); the line written, if it
        was."""
        key = (entry.invoice, entry.day, entry.kind, entry.plan, entry.currency)
        self.sums[key] = self.sums.get(key, 0) + entry.minor
        return self.keep(entry)

    def keep(self, entry: Entry) -> str | None:
        """Count `entry`, and write it (returning the line) or keep it."""
        self.count += 1
        if self.pending is None:
            self.entries.append(entry)
            return None
        line = self.lines.line(entry)
        if self.aside is not None:
            self.aside.append(line)
        else:
            self.pending.write(line)
        if self.count <= SHOWN:
            self.entries.append(entry)
        return line

    @property
    def applied(self) -> list[schema.Payment]:
        """The payments to add, as the books' records; built on each call, so for small imports
        and tests (a large import keeps its `entries` only, or writes them as it goes)."""
        assert self.pending is None, "the entries were written as they came, not kept"
        return [entry.payment() for entry in self.entries]

    def import_record(self, at: datetime) -> schema.Import:
        return schema.Import(
            at=at,
            source=self.source,
            newest=self.newest,
            rows=self.rows,
            applied=self.count,
            review=self.review_count,
        )

    def summary(self) -> list[str]:
        """The outcome in a person's words, one line each."""
        lines = [
            f"{self.rows} row{'s' if self.rows != 1 else ''} read from {self.source}: "
            f"{self.applied_rows} applied, {self.review_rows} waiting for review, "
            f"{sum(self.ignored.values())} ignored, {self.already} already recorded"
        ]
        what = {"payment": "paid", "refund": "refunded", "chargeback": "taken back (dispute)"}
        for entry in self.entries[:SHOWN]:
            plan = f" (plan {entry.plan}, instalment {entry.instalment})" if entry.plan else ""
            amount = money.to_major(entry.minor, entry.currency)
            lines.append(
                f"  applied: {entry.invoice} {what[entry.kind]} {amount} "
                f"{entry.currency} on {entry.day}{plan} [{entry.id}]"
            )
        if self.count > SHOWN:
            lines.append(f"  applied: ... and {self.count - SHOWN} more")
        for item in self.review:
            lines.append(f"  review: {item}")
        if self.review_count > len(self.review):
            lines.append(f"  review: ... and {self.review_count - len(self.review)} more")
        for reason, count in sorted(self.ignored.items()):
            lines.append(f"  ignored: {count} × {reason}")
        return lines

    def compact_sums(self) -> None:
        """Add up `paid_sums` into one table when there are many: it then has a row per invoice
        and day at most, whatever the size of the export."""
        if len(self.paid_sums) >= _SUMS_KEPT:
            both = pl.concat(self.paid_sums)
            self.paid_sums = [both.group_by("group", "day").agg(pl.col("minor").sum())]

    def warn(self, source: str, line: int, ident: str, message: str) -> None:
        """Warn of a payment applied to `ident`'s invoice (void or draft), at `source:line`."""
        self.warning_count += 1
        if len(self.warnings) < REVIEW_SHOWN:
            self.warnings.append(f"{source}:{line}: warning: {ident}: {message}")

    def warning_lines(self) -> list[str]:
        """The warnings, one line each (for stderr)."""
        more = self.warning_count - len(self.warnings)
        return self.warnings + ([f"... and {more} more warnings"] if more else [])


class _Ledger:
    """What the books (and this import so far) already hold, by Stripe id."""

    def __init__(self, books: Books, pending: PendingLines | None) -> None:
        # Every id in the books; a payment's own id (no `/`) gives the invoice it paid. The ids
        # this import adds are here too, unless it writes them as it goes: then they are kept as
        # fingerprints (`added`), and read back from what was written when one is met again.
        self.known: dict[str, Match | None] = {}
        self.pending = pending
        self.added = _Fingerprints() if pending is not None else None
        self.read_back = 0  # how many times
        self.aside: Callable[[], list[str]] = list
        self.books = books
        # The amount of each payment (`amount_of`): this import's, unless held as fingerprints;
        # the books' by their records, found the first time one is asked for (an id met again).
        self.amounts: dict[str, Amount] = {}
        self.books_payments: dict[str, schema.Payment] | None = None
        # Per payment id, what was taken back from it (`ID/...` records): `refunded` (all
        # refunds), `cumulative` (the refunds a Payments export states, `ID/refunded-...`), and
        # `back` (refunds and chargebacks, less the money a won dispute returned); and the
        # payments that Balance history recorded a chargeback (`charged_back`) or its reversal
        # (`returned`) of.
        self.refunded: dict[str, int] = {}
        self.cumulative: dict[str, int] = {}
        self.back: dict[str, int] = {}
        self.charged_back: set[str] = set()
        self.returned: set[str] = set()
        self.plan_of: dict[str, str] = {}
        paid: dict[tuple[str, str | None, int | None], Match] = {}
        for payment in books.payments:
            if payment.plan is not None:
                self.plan_of.setdefault(payment.invoice, payment.plan)
            if "/" in payment.id:
                minor = money.to_minor(payment.amount, payment.currency)
                self._linked(payment.id, payment.kind, minor)
            elif payment.kind == "payment":
                key = (payment.invoice, payment.plan, payment.instalment)
                found = paid.get(key)
                if found is None:
                    found = paid[key] = Match(
                        payment.invoice, payment.plan, payment.instalment, "books"
                    )
                self.known[payment.id] = found
                continue
            self.known.setdefault(payment.id, None)

    def get(self, ident: str) -> Match | None:
        """What holding `ident` says: the invoice its payment pays, None for an id that is not a
        payment's own (a refund's, say), or `NOT_HELD`."""
        found = self.known.get(ident, NOT_HELD)
        if found is NOT_HELD and self.added is not None and self.added.may_hold(ident):
            written = self._written(ident)
            found = NOT_HELD if written is None else written[0]
        return found

    def amount_of(self, ident: str) -> Amount | None:
        """The amount of the payment `ident` held (None if it is not a payment's own id)."""
        found = self.amounts.get(ident)
        if found is None:
            if self.books_payments is None:
                self.books_payments = {
                    p.id: p for p in self.books.payments if p.kind == "payment" and "/" not in p.id
                }
            record = self.books_payments.get(ident)
            if record is not None:
                found = (money.to_minor(record.amount, record.currency), record.currency)
        if found is None and self.added is not None and self.added.may_hold(ident):
            written = self._written(ident)
            found = None if written is None else written[1]
        return found

    def holds(self, ident: str) -> bool:
        return self.get(ident) is not NOT_HELD

    def may_hold_any(self, ids: list[str], hashes: list[int]) -> bool:
        """Whether any of `ids` (whose `hash`es are `hashes`) may be held already, or one is
        there twice (False: none is)."""
        if not self.known.keys().isdisjoint(ids):
            return True
        if self.added is None:
            return len(set(ids)) < len(ids)
        return self.added.may_hold_any(hashes)

    def note(self, entry: Entry, found: Match | None, line: str | None) -> None:
        """Hold `entry`, written as `line` if this import wrote it; `found` is the invoice a
        payment (not a refund or dispute) pays."""
        if self.added is not None and line is not None and line.startswith(f"- {{id: {entry.id}, "):
            self.added.add(entry.id)  # a fingerprint, the line being there to read back
        elif found is not None:
            self.known[entry.id] = found
            self.amounts[entry.id] = (entry.minor, entry.currency)
        else:
            self.known.setdefault(entry.id, None)
        if "/" in entry.id:
            self._linked(entry.id, entry.kind, entry.minor)
        if entry.plan is not None:
            self.plan_of.setdefault(entry.invoice, entry.plan)

    def _linked(self, ident: str, kind: Kind, minor: int) -> None:
        """Count a record `ID/...` of money taken back from (or returned to) payment ID."""
        charge, _, rest = ident.partition("/")
        if kind == "refund":
            self.refunded[charge] = self.refunded.get(charge, 0) + minor
            if rest.startswith("refunded-"):
                self.cumulative[charge] = self.cumulative.get(charge, 0) + minor
        elif kind == "chargeback" and rest != "dispute":
            self.charged_back.add(charge)
        elif kind == "payment" and rest != "dispute-won":
            self.returned.add(charge)
        taken = -minor if kind == "payment" else minor
        self.back[charge] = self.back.get(charge, 0) + taken

    def note_paid(
        self, ids: list[str], hashes: list[int], keys: list[_Key], minors: list[int]
    ) -> None:
        """Hold the payments of `PaidRows` written as they are (`_PaidTaker`), by their keys
        (needed only when this import's ids are held as they are, not as fingerprints)."""
        if self.added is not None:
            self.added.add_all(hashes)
        else:
            self.known.update(zip(ids, map(_RESULT, keys), strict=True))
            amounts = zip(minors, map(_CURRENCY, keys), strict=True)
            self.amounts.update(zip(ids, amounts, strict=True))

    def note_written(self, ident: str, found: Match, amount: Amount) -> None:
        """Hold a payment of `PaidRows` written as it is (`_PaidTaker`), paying `found`."""
        if self.added is not None:
            self.added.add(ident)
        else:
            self.known[ident] = found
            self.amounts[ident] = amount

    def _written(self, ident: str) -> tuple[Match | None, Amount | None] | None:
        """What the line this import wrote for `ident` says: the invoice its payment pays and
        the amount (None: not a payment's own id); None if there is no line (another id had the
        same fingerprint). Reading back goes over all that was written, so an import that meets
        its own ids again and again (exports that overlap) holds its ids as they are from then
        on, at the cost of the memory they take."""
        assert self.pending is not None
        aside = self.aside()  # written, but not yet in the file (see `_PaidTaker._at_once`)
        self.read_back += 1
        if self.read_back > _READ_BACK:
            for held, found, amount in map(_held_by, itertools.chain(self.pending.added(), aside)):
                self.known.setdefault(held, found)
                if found is not None and amount is not None:
                    self.amounts.setdefault(held, amount)
            self.added = None
            if ident not in self.known:
                return None
            return self.known[ident], self.amounts.get(ident)
        start = f"- {{id: {ident}, "
        line = self.pending.find(start)
        if line is None:
            line = next((line for line in aside if line.startswith(start)), None)
        return None if line is None else _held_by(line)[1:]


NOT_HELD: Final = Match("", None, None, "not held")
_READ_BACK = 32  # ids met again, after which this import's ids are held as they are
_RESULT = operator.attrgetter("result")
_CURRENCY = operator.attrgetter("currency")
_WRITTEN = re.compile(
    r"- \{id: ([^,]+), invoice: ([^,]+), date: [^,]+, amount: ([^,]+), currency: ([A-Z]{3}), "
    r"kind: ([a-z]+), method: stripe(?:, plan: ([^,]+), instalment: ([0-9]+))?"
    r"(?:, reference: [^,}]+)?\}\n"
)


def _held_by(line: str) -> tuple[str, Match | None, Amount | None]:
    """The id of the payment written as `line`, the invoice it pays and its amount (None, None
    for a refund or dispute); as `_Ledger.note` held it."""
    quick = _WRITTEN.fullmatch(line)
    if quick is not None:  # as `_Lines` writes most lines: every value plain, no note
        ident, invoice, amount, currency, kind, plan, instalment = quick.groups()
        if kind != "payment" or "/" in ident:
            return ident, None, None
        number = int(instalment) if instalment is not None else None
        minor = money.to_minor(Decimal(amount), currency)
        return ident, Match(invoice, plan, number, "this import"), (minor, currency)
    (record,) = yaml.load(line, Loader=yaml.BaseLoader)  # every value as written, as text
    ident = record["id"]
    if record["kind"] != "payment" or "note" in record or "/" in ident:
        return ident, None, None
    number = int(record["instalment"]) if "instalment" in record else None
    found = Match(record["invoice"], record.get("plan"), number, "")
    currency = record["currency"]
    return ident, found, (money.to_minor(Decimal(record["amount"]), currency), currency)


class _Fingerprints:
    """The ids of the payments an import added, as fingerprints: each id's `hash` (64 bits), in
    a set (some 70 bytes an id; the ids themselves would take more). A fingerprint says an id may
    be held, never that it is: two ids can share one (for a million ids, about one chance in
    10**7), and the line written is read back to see. A batch is looked up and added by its ids'
    `hashes` at once."""

    def __init__(self) -> None:
        self.hashes: set[int] = set()

    def add(self, ident: str) -> None:
        self.hashes.add(hash(ident))

    def may_hold(self, ident: str) -> bool:
        return hash(ident) in self.hashes

    def add_all(self, hashes: list[int]) -> None:
        self.hashes.update(hashes)

    def may_hold_any(self, hashes: list[int]) -> bool:
        """Whether any of the ids of `hashes` may be held, or one is there twice."""
        if len(set(hashes)) < len(hashes):
            return True
        return not self.hashes.isdisjoint(hashes)


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
    books: Books,
    rows: Iterable[StripeRow | RowProblem | PaidRows],
    source: str,
    today: date,
    pending: PendingLines | None = None,
) -> Outcome:
    """What importing `rows` into `books` would add, on `today` (the day refunds and disputes
    are dated when the export gives no date).

    Pure, unless given the payments file as `pending`: then each line to add is written there as
    it comes (for `write_outcome` to put in place, or for the caller to discard), and the outcome
    keeps only the first entries, for its summary."""
    outcome = Outcome(source, pending=pending)
    matcher = Matcher(books)
    held = _Ledger(books, pending)
    held.aside = lambda: outcome.aside or []
    paid_rows = _PaidTaker(outcome, matcher, held, today)
    problems = outcome.problems
    with speed.collector_paused():
        for row in rows:
            if isinstance(row, PaidRows):
                paid_rows.take(row)
                continue
            if isinstance(row, RowProblem):
                problems.append(row)
                continue
            outcome.rows += 1
            if problems:
                continue  # nothing will be written; keep reading only to list every problem
            _take(row, outcome, matcher, held, today)
        if not problems:
            # Balance history's money back last, once every payment it may name is held: an
            # export lists its newest entries first, a refund before the payment it refunds.
            for row in outcome.money_back:
                counted = _Counted(outcome)
                _balance_back(row, outcome, matcher, held)
                counted.row()
    if problems:
        outcome.entries.clear()
        outcome.count = 0
        outcome.paid.clear()
        outcome.paid_rows.clear()
        outcome.paid_sums.clear()
        outcome.sums.clear()
    return outcome


def _take(row: StripeRow, outcome: Outcome, matcher: Matcher, held: _Ledger, today: date) -> None:
    """Add what one row brought in or took back, and count the row."""
    export, ident, status, captured, amount, refunded, disputed, dispute_status = _PAYMENT_FIELDS(
        row
    )
    if export == "balance":
        _balance(row, outcome, matcher, held)
        return
    if not ident or not captured or amount <= 0 or status.lower() not in MONEY_IN:
        outcome.ignored[_unmoved(bool(ident), row.status, captured)] += 1
        return
    counted = _Counted(outcome)
    taken = disputed if dispute_status not in DISPUTE_KEPT else 0
    if refunded + taken > amount:  # the row itself says more came back than was paid
        if outcome.newest is None or row.day > outcome.newest:
            outcome.newest = row.day
        reason = _more_than_paid(ident, refunded + taken, amount, row.currency)
        _review(outcome, row.source, row.line, ident, refunded + taken, row.currency, reason)
    else:
        found = _money_in(row, amount, outcome, matcher, held)
        if found is not None:  # else waiting for review: its refunds wait with it
            _money_back(row, found, outcome, held, today)
    counted.row()


class _Counted:
    """Counts one row that moved money as applied (it added a record), waiting for review
    (something of it went to review), or already recorded (neither)."""

    __slots__ = ("count", "outcome", "reviews")

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.count = outcome.count
        self.reviews = outcome.reviews

    def row(self) -> None:
        outcome = self.outcome
        if outcome.reviews != self.reviews:
            outcome.review_rows += 1
        elif outcome.count != self.count:
            outcome.applied_rows += 1
        else:
            outcome.already += 1


class _Key:
    """A match key of `PaidRows` (one reader's number for it), and what it comes to: `result`
    (None until a row with it is first taken), and if that is an invoice whose payments are
    written as they are, the text of a payment's line before the day and after the amount, and
    the sums by day."""

    __slots__ = ("currency", "days", "head", "number", "result", "row", "tail")

    def __init__(self, row: StripeRow, number: int = -1) -> None:
        self.row = row
        self.number = number
        self.currency = row.currency
        self.result: Match | str | None = None
        self.head: str | None = None
        self.tail = ""
        self.days: dict[str, int] = {}


_HEAD = operator.attrgetter("head")
_TAIL = operator.attrgetter("tail")


class _Columns:
    """The paid rows of a batch as lists, a column each (see `PAID_COLUMNS`), for the batches
    not taken at once: read a row at a time, lists are quicker than the table."""

    def __init__(self, batch: PaidRows) -> None:
        self.source = batch.source
        columns = batch.paid.to_dict(as_series=False)
        self.id: list[str] = columns["id"]
        self.line: list[int] = columns["line"]
        self.day: list[str] = columns["day"]
        self.minor: list[int] = columns["minor"]
        self.amount: list[str] = columns["amount"]
        self.reference: list[str] = columns["reference"]
        self.key: list[int] = columns["key"]


class _PaidTaker:
    """Takes `PaidRows` as `reconcile` takes the rows they stand for, one at a time, in order.

    Each paid row only brings money in, so what it adds depends only on whether its id is held
    already and on its match key, whose answer (with the plan check of `_money_in`) is the same
    for every row after the first that asks: `plan_of` is set once per invoice. A run of paid
    rows whose ids are all new and whose keys are all answered with an invoice is written at once
    (`_at_once`); any other goes a row at a time (`_one_by_one`). The other rows are taken where
    they stand, between them."""

    def __init__(self, outcome: Outcome, matcher: Matcher, held: _Ledger, today: date) -> None:
        self.outcome = outcome
        self.matcher = matcher
        self.held = held
        self.today = today
        self.reader = ""
        self.keys: dict[int, _Key] = {}
        # The keys not answered yet, and those whose payments are not written as they are
        # (unanswered, for review, of a void or draft invoice): the batches these are not in
        # are taken at once.
        self.unanswered: set[int] = set()
        self.blocked: set[int] = set()
        # The keys whose payments are written as they are: the text of their lines and the
        # group of their sums (`written`), made again when one is added.
        self.table: pl.DataFrame | None = None

    def take(self, batch: PaidRows) -> None:
        outcome = self.outcome
        outcome.rows += batch.size
        if outcome.problems:
            return
        if batch.reader != self.reader or batch.forget:
            self.keys.clear()
            self.unanswered.clear()
            self.blocked.clear()
            self.table = None
            self.reader = batch.reader
        for number, currency, link, reference, description, metadata in batch.new_keys:
            self.unanswered.add(number)
            self.blocked.add(number)
            self.keys[number] = _Key(
                StripeRow(
                    batch.source,
                    0,
                    "payments",
                    "",
                    date.min,
                    "",
                    currency,
                    0,
                    description=description,
                    metadata=metadata or NO_METADATA,
                    payment_link=link,
                    client_reference=reference,
                ),
                number,
            )
        for (has_id, status, captured), count in batch.unmoved.items():
            outcome.ignored[_unmoved(has_id, status, captured)] += count
        if batch.paid.height:
            newest = date.fromisoformat(cast(str, batch.paid.get_column("day").max()))
            if outcome.newest is None or newest > outcome.newest:
                outcome.newest = newest
        self._answer(batch.paid)
        if self._at_once(batch):
            return
        columns = _Columns(batch)
        start = 0
        for before, row in batch.others:
            self._paid(columns, start, before)
            _take(row, outcome, self.matcher, self.held, self.today)
            start = before
        self._paid(columns, start, batch.paid.height)

    def _at_once(self, batch: PaidRows) -> bool:
        """Take the whole batch, the paid rows at once, if that adds what taking the rows in
        order would, and say so.

        It does when the paid rows' keys are all answered already with an invoice (so the other
        rows, taken in order, cannot change what they add), their ids are all new, and none of
        them is one of the other rows' (nor is an id there twice among those): then only the
        order of the lines in payments.yaml depends on the order the rows are taken in, and the
        other rows' lines are put where they stand."""
        outcome, held = self.outcome, self.held
        paid = batch.paid
        if outcome.pending is None or outcome.count < SHOWN or not self._answered(paid):
            return False
        ids = paid.get_column("id").to_list()
        if batch.others:
            others = {row.id for _, row in batch.others}
            if len(others) < len(batch.others) or not others.isdisjoint(ids):
                return False
        hashes = list(map(hash, ids))
        if held.may_hold_any(ids, hashes):
            return False
        paid = paid.join(self._written(), on="key", how="left", maintain_order="left")
        lines = self._lines(paid)
        if batch.others:
            # The other rows' lines are kept aside, then put between the paid rows' lines.
            placed: list[tuple[int, int, str]] = []
            outcome.aside = []
            try:
                for before, row in batch.others:
                    start = len(outcome.aside)
                    _take(row, outcome, self.matcher, held, self.today)
                    placed.extend((before, 0, line) for line in outcome.aside[start:])
            finally:
                aside = len(outcome.aside)
                outcome.aside = None
            if placed:
                # A paid row's line goes after the other rows' placed before it (see `PaidRows`).
                where = pl.DataFrame(placed, schema=["place", "kind", "line"], orient="row")
                mine = pl.DataFrame({"place": pl.int_range(0, paid.height, eager=True)})
                mine = mine.with_columns(pl.lit(1).alias("kind"), line=lines)
                both = pl.concat([where, mine], how="vertical_relaxed")
                lines = both.sort(["place", "kind"], maintain_order=True).get_column("line")
        else:
            aside = 0
        self._taken(paid, ids, hashes)
        assert outcome.pending is not None
        outcome.pending.write(cast(str, lines.str.join("").item()), paid.height + aside)
        outcome.count += paid.height
        outcome.applied_rows += paid.height
        return True

    def _answer(self, paid: pl.DataFrame) -> None:
        """Answer now the keys of the rows of `paid` whose answer does not depend on when they
        are asked: all but those of a plan's instalment of an invoice not yet on that plan (the
        first payment of a plan puts the invoice on it, see `_result`)."""
        if not self.unanswered:
            return
        keys = paid.get_column("key")
        waiting = keys.filter(keys.is_in(list(self.unanswered))).unique().sort().to_list()
        for number in waiting:
            key = self.keys[number]
            found = self.matcher.match(key.row)
            if (
                isinstance(found, str)
                or found.plan is None
                or self.held.plan_of.get(found.invoice) == found.plan
            ):
                self._result(key)

    def _answered(self, paid: pl.DataFrame) -> bool:
        """Whether the key of each row of `paid` is answered with an invoice whose payments are
        written as they are."""
        return not self.blocked or not paid.get_column("key").is_in(list(self.blocked)).any()

    def _written(self) -> pl.DataFrame:
        """The keys whose payments are written as they are: `key`, the `head` and `tail` of
        their lines, and the `group` of their sums (in `Outcome.paid_rows`)."""
        if self.table is None:
            keys = [key for key in self.keys.values() if key.head is not None]
            self.table = pl.DataFrame(
                {
                    "key": [key.number for key in keys],
                    "head": [key.head for key in keys],
                    "tail": [key.tail for key in keys],
                    "group": [id(key.result) for key in keys],
                },
                schema={"key": pl.Int64, "head": pl.String, "tail": pl.String, "group": pl.Int64},
            )
        return self.table

    def _lines(self, paid: pl.DataFrame) -> pl.Series:
        """The lines of payments.yaml of the rows of `paid`, whose keys are `_answered`, joined
        with their keys' `_written` text."""
        reference = pl.col("reference")
        return paid.select(
            pl.concat_str(
                pl.lit("- {id: "),
                pl.col("id"),
                pl.col("head"),
                pl.col("day"),
                pl.lit(", amount: "),
                pl.col("amount"),
                pl.col("tail"),
                pl.when(reference != "").then(", reference: " + reference).otherwise(pl.lit("")),
                pl.lit("}\n"),
            )
        ).to_series()

    def _taken(self, paid: pl.DataFrame, ids: list[str], hashes: list[int]) -> None:
        """Hold the rows of `paid` (their `ids` and their `hashes`), written as they are, and add
        their sums by day to their invoices' (`paid` is joined with its keys' `_written`)."""
        sums = paid.group_by("group", "day").agg(pl.col("minor").sum())
        self.outcome.paid_sums.append(sums)
        self.outcome.compact_sums()
        keys = []
        if self.held.added is None:
            keys = list(map(self.keys.__getitem__, paid.get_column("key").to_list()))
        self.held.note_paid(ids, hashes, keys, paid.get_column("minor").to_list())

    def _paid(self, batch: _Columns, start: int, end: int) -> None:
        """The paid rows from `start` to `end` of a batch not taken at once: written at once if
        their keys are answered and their ids new, else one by one."""
        if start == end:
            return
        outcome = self.outcome
        if outcome.pending is None or outcome.count < SHOWN:
            self._one_by_one(batch, start, end)
            return
        ids = batch.id[start:end]
        keys = list(map(self.keys.__getitem__, batch.key[start:end]))
        heads = list(map(_HEAD, keys))
        hashes = list(map(hash, ids))
        if None in heads or self.held.may_hold_any(ids, hashes):
            self._one_by_one(batch, start, end)
            return
        days = batch.day[start:end]
        references = batch.reference[start:end]
        outcome.pending.write(
            "".join(
                itertools.chain.from_iterable(
                    zip(
                        itertools.repeat("- {id: "),
                        ids,
                        heads,
                        days,
                        itertools.repeat(", amount: "),
                        batch.amount[start:end],
                        map(_TAIL, keys),
                        map(_reference, references),
                        itertools.repeat("}\n"),
                    )
                )
            ),
            end - start,
        )
        outcome.count += end - start
        outcome.applied_rows += end - start
        minors = batch.minor[start:end]
        for key, day, minor in zip(keys, days, minors, strict=True):
            sums = key.days
            sums[day] = sums.get(day, 0) + minor
        self.held.note_paid(ids, hashes, keys, minors)

    def _one_by_one(self, batch: _Columns, start: int, end: int) -> None:
        """The paid rows from `start` to `end`, as `_money_in` takes each."""
        outcome, held = self.outcome, self.held
        for index in range(start, end):
            ident = batch.id[index]
            key = self.keys[batch.key[index]]
            minor = batch.minor[index]
            found: Match | str
            if held.get(ident) is not NOT_HELD:  # a paid row adds nothing else
                other = _other_amount(held, ident, minor, key.currency)
                if other is None:
                    outcome.already += 1
                    continue
                found = other
            else:
                found = self._result(key)
            if isinstance(found, str):
                _review(outcome, batch.source, batch.line[index], ident, minor, key.currency, found)
                outcome.review_rows += 1
                continue
            outcome.applied_rows += 1
            day = batch.day[index]
            key.days[day] = key.days.get(day, 0) + minor
            if key.head is not None and outcome.pending is not None and outcome.count >= SHOWN:
                line = (
                    f"- {{id: {ident}{key.head}{day}, amount: {batch.amount[index]}"
                    f"{key.tail}{_reference(batch.reference[index])}}}\n"
                )
                outcome.pending.write(line)
                outcome.count += 1
                held.note_written(ident, found, (minor, key.currency))
                continue
            warning = self.matcher.warnings.get(found.invoice)
            if warning is not None:
                outcome.warn(batch.source, batch.line[index], ident, warning)
            entry = Entry(
                ident,
                found.invoice,
                date.fromisoformat(day),
                minor,
                key.currency,
                "payment",
                found.plan,
                found.instalment,
                batch.reference[index] or None,
            )
            held.note(entry, found, outcome.keep(entry))

    def _result(self, key: _Key) -> Match | str:
        """The invoice the rows with `key` pay, or why a person must match them: what
        `_money_in` says, worked out for the first row that asks."""
        if key.result is not None:
            return key.result
        found = self.matcher.match(key.row)
        if isinstance(found, Match) and found.plan is not None:
            chosen = self.held.plan_of.get(found.invoice)
            if chosen is None:
                self.held.plan_of[found.invoice] = found.plan
            elif chosen != found.plan:
                found = _other_plan(found.plan, found.invoice, chosen)
        key.result = found
        self.unanswered.discard(key.number)
        if isinstance(found, Match):
            lines = self.outcome.lines
            head = lines.head(found.invoice)
            tail = lines.tail(key.currency, "payment", found.plan, found.instalment).text
            # A payment of a void or draft invoice is warned of, so taken by itself.
            if head and tail and found.invoice not in self.matcher.warnings:
                key.head, key.tail = head, tail
                self.blocked.discard(key.number)
                self.table = None
            group = self.outcome.paid_rows.get(id(found))
            if group is None:
                group = self.outcome.paid_rows[id(found)] = (found, key.currency, {})
            key.days = group[2]
        return found


def _reference(reference: str) -> str:
    return f", reference: {reference}" if reference else ""


def _other_plan(plan: str, invoice: str, chosen: str) -> str:
    return f"it pays plan `{plan}`, but invoice {invoice} is already on plan `{chosen}`"


def _unmoved(has_id: bool, status: str, captured: bool) -> str:
    """Why a row of the Payments export that moved no money is ignored, for counting."""
    lowered = status.lower()
    if not has_id:
        return "rows with no id (attempts that never became a payment)"
    if lowered not in MONEY_IN:
        reasons = {
            "pending": "Pending (a bank debit still settling; imported once Stripe says Paid)",
            "failed": "Failed (no money moved)",
        }
        return reasons.get(lowered, f"{status or 'no status'} (not a payment)")
    if not captured:
        return "not captured (authorised only; no money moved)"
    return "an amount of 0 (no money moved)"


def _money_in(
    row: StripeRow, amount: int, outcome: Outcome, matcher: Matcher, held: _Ledger
) -> Match | None:
    """Add the money `row` brought in, unless the books hold it already; the invoice its charge
    pays, None if a person must match it (or the books hold its id for something else)."""
    ident, day, currency, intent = _MONEY_IN_FIELDS(row)
    if outcome.newest is None or day > outcome.newest:
        outcome.newest = day
    known = held.get(ident)
    if known is not NOT_HELD:
        other = _other_amount(held, ident, amount, currency) if known is not None else None
        if other is not None:
            _review(outcome, row.source, row.line, ident, amount, currency, other)
            return None
        return known
    found = matcher.match(row)
    if isinstance(found, str):
        _review(outcome, row.source, row.line, ident, amount, currency, found)
        return None
    invoice, plan, instalment = found.invoice, found.plan, found.instalment
    if plan is not None:
        chosen = held.plan_of.get(invoice)
        if chosen is None:
            held.plan_of[invoice] = plan
        elif chosen != plan:
            reason = _other_plan(plan, invoice, chosen)
            _review(outcome, row.source, row.line, ident, amount, currency, reason)
            return None
    entry = _entry(
        (ident, invoice, day, amount, currency, "payment", plan, instalment, intent or None, None)
    )
    line = outcome.keep(entry)
    group = outcome.paid.get(id(found))
    if group is None:
        group = outcome.paid[id(found)] = (found, currency, {})
    group[2][day] = group[2].get(day, 0) + amount
    held.note(entry, found, line)
    warning = matcher.warnings.get(invoice)
    if warning is not None:
        outcome.warn(row.source, row.line, ident, warning)
    return found


def _other_amount(held: _Ledger, ident: str, minor: int, currency: str) -> str | None:
    """Why a payment held already waits for review: the books have it for another amount."""
    recorded = held.amount_of(ident)
    if recorded is None or recorded == (minor, currency):
        return None
    return (
        f"the books have payment {ident} as {_shown(*recorded)}, but this export says "
        f"{_shown(minor, currency)}; check which is right in Stripe"
    )


def _shown(minor: int, currency: str) -> str:
    return f"{money.to_major(minor, currency)} {currency}"


def _more_than_paid(payment: str, back: int, paid: int, currency: str) -> str:
    return (
        f"it would take back {_shown(back, currency)} in all from payment {payment}, which "
        f"brought in {_shown(paid, currency)}; check it in Stripe"
    )


def _money_back(row: StripeRow, found: Match, outcome: Outcome, held: _Ledger, today: date) -> None:
    """Add what a row of the Payments export says was taken back from its payment and the books
    do not hold yet; or, if the books would then hold more taken back than it brought in, list
    it for review."""
    entries = [*_refund(row, found, held, today), *_dispute(row, found, held, today)]
    if not entries:
        return
    taken = sum(-entry.minor if entry.kind == "payment" else entry.minor for entry in entries)
    back = held.back.get(row.id, 0) + taken
    if back > row.amount:
        reason = _more_than_paid(row.id, back, row.amount, row.currency)
        _review(outcome, row.source, row.line, row.id, taken, row.currency, reason)
        return
    for entry in entries:
        _add(outcome, held, entry)


def _refund(row: StripeRow, found: Match, held: _Ledger, today: date) -> list[Entry]:
    """The refund to add: what the row says was refunded (in all) beyond what the books hold."""
    before = held.refunded.get(row.id, 0)
    if row.refunded <= before:
        return []
    total = money.to_major(row.refunded, row.currency)
    return [
        Entry(
            f"{row.id}/refunded-{total}",
            found.invoice,
            row.refunded_on or today,
            row.refunded - before,
            row.currency,
            "refund",
        )
    ]


def _dispute(row: StripeRow, found: Match, held: _Ledger, today: date) -> list[Entry]:
    """The steps of the row's dispute to add: the chargeback, and the money a won one returned,
    each unless held already (here, or as recorded from Balance history)."""
    if row.disputed <= 0 or row.dispute_status in DISPUTE_NO_MONEY:
        return []
    # A won dispute first took the money and then gave it back: record both, so the books end
    # the same whichever export (before or after the outcome) is imported first.
    steps: list[tuple[str, Kind, date]] = []
    if row.id not in held.charged_back:
        steps.append((f"{row.id}/dispute", "chargeback", row.disputed_on or today))
    if row.dispute_status in DISPUTE_RETURNED and row.id not in held.returned:
        steps.append((f"{row.id}/dispute-won", "payment", today))
    note = f"dispute {row.dispute_status}"
    return [
        Entry(ident, found.invoice, day, row.disputed, row.currency, kind, note=note)
        for ident, kind, day in steps
        if not held.holds(ident)
    ]


def _balance(row: StripeRow, outcome: Outcome, matcher: Matcher, held: _Ledger) -> None:
    if row.kind in BALANCE_MONEY_IN and row.amount > 0:
        counted = _Counted(outcome)
        _money_in(
            row if row.id else row._replace(id=row.transaction), row.amount, outcome, matcher, held
        )
        counted.row()
    elif row.kind in BALANCE_MONEY_BACK and row.amount != 0:
        outcome.money_back.append(row)  # taken once every row is read (see `reconcile`)
    elif row.kind in BALANCE_MONEY_BACK:
        outcome.ignored[f"Balance history `{row.kind}` entries of 0 (no money moved)"] += 1
    else:
        outcome.ignored[f"Balance history `{row.kind}` entries (not a client's payment)"] += 1


def _balance_back(row: StripeRow, outcome: Outcome, matcher: Matcher, held: _Ledger) -> None:
    """Take a refund or dispute of Balance history: recorded as `PAYMENT/TXN` (see the module's
    docstring) against the payment its Source names, unless held already; or listed for
    review."""
    ident = f"{row.id}/{row.transaction}" if row.id else row.transaction
    if held.holds(ident):
        return
    found = _balance_entry(row, ident, matcher, held)
    if isinstance(found, str):
        _review(outcome, row.source, row.line, ident, abs(row.amount), row.currency, found)
    elif found is not None:
        _add(outcome, held, found)


def _balance_entry(
    row: StripeRow, ident: str, matcher: Matcher, held: _Ledger
) -> Entry | str | None:
    """The record of a refund or dispute of Balance history, why a person must look at it, or
    None if a Payments export recorded it already."""
    payment, kind = row.id, row.kind
    this = f"this `{kind}`"
    found = held.get(payment) if payment else None
    if not payment or not row.transaction:
        missing = "names no payment in its Source" if not payment else "has no id"
        return f"{this} {missing}; find it in Stripe and record it by hand"
    if found is NOT_HELD or found is None:
        return (
            f"{this} takes money back from `{payment}`, which is not a payment in the books: "
            "import the export that has that payment, then this one again"
        )
    if kind == "refund_failure":
        return f"{this} undoes a refund of payment {payment}; record by hand what it undid"
    amount = abs(row.amount)
    entry_kind: Kind
    if kind in BALANCE_REFUNDS:
        if row.amount > 0:
            return f"{this} of payment {payment} brings money in; check it in Stripe"
        if held.cumulative.get(payment):
            refunded = _shown(held.cumulative[payment], row.currency)
            return (
                f"payment {payment} has {refunded} refunded in the books already, as a Payments "
                f"export stated; if {this} is not part of that, record it by hand under the id "
                "shown"
            )
        entry_kind, note = "refund", None
    elif row.amount < 0:
        if held.holds(f"{payment}/dispute"):
            return None  # the chargeback, recorded from a Payments export
        entry_kind, note = "chargeback", "dispute"
    else:
        if held.holds(f"{payment}/dispute-won"):
            return None  # the money a won dispute returned, recorded from a Payments export
        entry_kind, note = "payment", "dispute won"
    wanted = matcher.currency(found.invoice)
    if row.currency != wanted:
        return f"paid back in {row.currency}, but invoice {found.invoice} is in {wanted}"
    back = held.back.get(payment, 0) + (-amount if entry_kind == "payment" else amount)
    paid = held.amount_of(payment)
    if paid is not None and back > paid[0]:
        return _more_than_paid(payment, back, *paid)
    if back < 0:
        return f"{this} returns more to payment {payment} than the books show taken back from it"
    return Entry(ident, found.invoice, row.day, amount, row.currency, entry_kind, note=note)


def _add(outcome: Outcome, held: _Ledger, entry: Entry) -> None:
    line = outcome.add(entry)
    held.note(entry, None, line)


def _review(
    outcome: Outcome, source: str, line: int, ident: str, amount: int, currency: str, reason: str
) -> None:
    outcome.reviews += 1
    if ident in outcome.reviewed:
        return  # the same payment in two overlapping exports is one row to look at
    outcome.reviewed.add(ident)
    outcome.review_count += 1
    if len(outcome.review) < REVIEW_SHOWN:
        shown = f"{money.to_major(amount, currency)} {currency}"
        outcome.review.append(Review(source, line, ident, shown, reason))


# Invoices touched from which a forked process tells how the later half of them changed, while
# this one tells the rest: below this, forking costs more than it saves.
CHANGES_SHARED_FROM = 2_000


def invoice_changes(books: Books, outcome: Outcome, today: date) -> list[str]:
    """How each invoice the import touched stands now, against before: `HP-1: overdue → paid`.
    With many invoices touched (a large export touches them all), a forked process tells of the
    later half meanwhile, on the other core: only its lines come back."""
    with (
        speed.collector_paused()
    ):  # the outcome of a large export is many objects the collector walks
        sums = _day_sums(outcome)
        touched = [books.invoices[number] for number in sorted(sums)]
        known = history(books, today)

        def changes(share: list[schema.Invoice]) -> list[str]:
            before = ledger(books, today, share, known=known)
            after = ledger(books, today, share, added=sums, known=known)
            return [_change(i.number, before[i.number], after[i.number]) for i in share]

        kept = len(touched)
        theirs: Callable[[], list[str]] = list
        if kept >= CHANGES_SHARED_FROM and speed.can_fork():
            kept //= 2
            theirs = speed.forked(lambda: changes(touched[kept:]))
        return changes(touched[:kept]) + theirs()


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
    read: dict[str, date] = {}
    for found, currency, by_text in outcome.paid_rows.values():
        if not by_text:
            continue  # a key answered ahead of its rows (`_PaidTaker._answer`), none applied
        by_day = sums.setdefault(found.invoice, [])
        for text, minor in by_text.items():
            day = read.get(text) or read.setdefault(text, date.fromisoformat(text))
            by_day.append((day, "payment", found.plan, currency, minor))
    if outcome.paid_sums:
        table = pl.concat(outcome.paid_sums).group_by("group", "day").agg(pl.col("minor").sum())
        for group, text, minor in table.sort("group", "day").iter_rows():
            found, currency, _ = outcome.paid_rows[group]
            day = read.get(text) or read.setdefault(text, date.fromisoformat(text))
            sums.setdefault(found.invoice, []).append((day, "payment", found.plan, currency, minor))
    for (invoice, day, kind, plan, currency), minor in outcome.sums.items():
        sums.setdefault(invoice, []).append((day, kind, plan, currency, minor))
    return sums


def write_outcome(root: Path, outcome: Outcome, at: datetime) -> None:
    """Add the outcome's payments, then its import record, to the books under `root`; each file
    is replaced atomically. Writes nothing if the outcome has problems."""
    if outcome.problems:
        return
    with speed.collector_paused():
        if outcome.pending is not None:
            assert outcome.pending.path == root / PAYMENTS_FILE
            outcome.pending.commit()
        else:
            append_lines(root / PAYMENTS_FILE, payment_lines(outcome.entries))
    append_records(root / IMPORTS_FILE, [outcome.import_record(at)])


def payment_lines(entries: Iterable[Entry]) -> Iterator[str]:
    """Each entry as its line in payments.yaml, exactly as `record_line` writes its
    `schema.Payment` (see `_Lines`)."""
    return map(_Lines().line, entries)


class _Lines:
    """Writes entries as lines of payments.yaml, exactly as `record_line` writes their
    `schema.Payment`, several times faster: what repeats (an invoice number, a day, an amount, a
    currency and plan) is made into text once, and an entry with a value that would need quoting
    goes the long way, through `record_line`."""

    def __init__(self) -> None:
        self.heads: dict[str, str] = {}  # invoice number: `, invoice: ..., date: `, or "" to quote
        self.tails: dict[tuple[str, str, str | None, int | None], _Tail] = {}
        self.days: dict[date, str] = {}
        # An ASCII identifier (ch_3Mt...) that PyYAML reads as text is written as it is (`plain`).
        self.resolvers = implicit_resolvers()
        self.quick_ids = None not in self.resolvers

    def head(self, invoice: str) -> str:
        """`, invoice: ..., date: `, or "" if the invoice number would need quoting."""
        head = self.heads.get(invoice)
        if head is None:
            text = plain(invoice)
            head = self.heads[invoice] = "" if text is None else f", invoice: {text}, date: "
        return head

    def tail(self, currency: str, kind: str, plan: str | None, instalment: int | None) -> _Tail:
        tail = self.tails.get((currency, kind, plan, instalment))
        if tail is None:
            tail = self.tails[(currency, kind, plan, instalment)] = _Tail(
                currency, kind, plan, instalment
            )
        return tail

    def line(self, entry: Entry) -> str:
        ident, invoice, day, minor, currency, kind, plan, instalment, reference, note = entry
        head = self.head(invoice)
        tail = self.tail(currency, kind, plan, instalment)
        amount = tail.amounts.get(minor)
        if amount is None:
            amount = tail.amount(minor)
        if (
            self.quick_ids
            and ident.isascii()
            and ident.isidentifier()
            and ident[0] not in self.resolvers
        ):
            written = True
        else:
            written = plain(ident) is not None
        if not (head and tail.text and amount and written) or note is not None:
            return record_line(entry.payment())
        day_text = self.days.get(day)
        if day_text is None:
            day_text = self.days[day] = day.isoformat()
        if reference is None:
            return f"- {{id: {ident}{head}{day_text}, amount: {amount}{tail.text}}}\n"
        if (text := plain(reference)) is not None:
            return f"- {{id: {ident}{head}{day_text}, amount: {amount}{tail.text}, reference: {text}}}\n"
        return record_line(entry.payment())


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
        text = money.major_text(minor, self.places)
        if len(self.amounts) < _REMEMBERED:
            self.amounts[minor] = text
        return text


_SUMS_KEPT = 16  # tables of sums kept before they are added up into one (`compact_sums`)
_LARGE = 10**18  # an amount beyond this is written by `record_line`, as Decimal prints it
_REMEMBERED = 100_000  # amounts remembered as text per currency: memory stays flat
