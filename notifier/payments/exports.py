"""Read Stripe's CSV exports, row by row, into `StripeRow`s: which export a file is comes from its
header row, never from column positions.

Two exports are understood: the Payments export (its default columns, the all-columns layout, and
the older layout whose date column is `Created (UTC)`) and the Balance history export. Files are
streamed with the csv module, so memory does not grow with the file. A value that does not parse is
a `RowProblem` naming the file, line and column; the row is not skipped silently. So is a row whose
number of fields differs from the header's, or a quoted value still open at the end of the file:
what a file cut short (or changed by hand) looks like.
"""

from __future__ import annotations

import csv
import functools
import itertools
import operator
import os
import pickle
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from itertools import compress
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast
from zoneinfo import ZoneInfo

from notifier import money
from notifier.books import bounds
from notifier.books.records import implicit_resolvers, plain

METADATA_SUFFIX = " (metadata)"
# The metadata keys the Payment Links set (`notifier links`); other keys are not read.
METADATA_KEYS = ("invoice", "instalment")

Export = Literal["payments", "balance"]


@dataclass(frozen=True)
class RowProblem:
    """A value in an export that cannot be read, at `path:line:column` (1-based)."""

    path: str
    line: int
    column: int
    header: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        return (
            f"{where}: {self.header}: {self.message}" if self.header else f"{where}: {self.message}"
        )


NO_METADATA: Mapping[str, str] = {}


class StripeRow(NamedTuple):
    """One row of an export (or one payment read from the API), in the books' terms.

    `id` is Stripe's id of the money movement: the charge (`ch_`, `py_`) for a payment; for a
    balance entry, its `Source` (for a refund or a chargeback, the payment it takes money back
    from), and `transaction` the entry's own id (`txn_`). Amounts are minor units of `currency`,
    the currency the client paid in (never the converted, settlement currency). A tuple: a
    million are made for a large export, and a tuple is the quickest thing to make."""

    source: str
    line: int
    export: Export
    id: str
    day: date
    status: str
    currency: str
    amount: int
    refunded: int = 0
    refunded_on: date | None = None
    captured: bool = True
    description: str = ""
    metadata: Mapping[str, str] = NO_METADATA  # rows may share one: never changed
    payment_link: str = ""
    client_reference: str = ""
    payment_intent: str = ""
    disputed: int = 0
    dispute_status: str = ""
    disputed_on: date | None = None
    kind: str = ""  # a balance entry's Type: charge, payment, refund, payout, ...
    transaction: str = ""  # a balance entry's own id (txn_...)


# What a row of the Payments export must say to have brought money in (`apply` imports it).
MONEY_IN = {"paid", "refunded", "succeeded"}
# An inquiry (`warning_*`) moves no money; every other dispute status has taken the amount back.
DISPUTE_NO_MONEY = {"", "warning_needs_response", "warning_under_review", "warning_closed"}


def match_key(
    currency: str, link: str, reference: str, description: str, metadata: Mapping[str, str]
) -> tuple[str, ...]:
    """All that which invoice a payment is for depends on (`matching.Matcher`): the description
    only counts when the metadata names no invoice."""
    named = metadata.get("invoice", "") if metadata else ""
    if named:
        return (currency, link, reference, named, metadata.get("instalment", ""))
    return (currency, link, reference, description)


# A new match key as `PaidRows` sends it: its index, then the values of a row `Matcher.match` reads
# (currency, Payment Link ID, Client Reference ID, description, metadata).
NewKey = tuple[int, str, str, str, str, Mapping[str, str]]
# A row that moved no money, counted by what `apply` says of it: whether it has an id, its
# status and whether it was captured.
Unmoved = tuple[bool, str, bool]


class PaidRows(NamedTuple):
    """A batch of a Payments export in a compact form, read with `read_export(compact=True)`.

    The rows that only bring money in (paid, captured, above zero, nothing refunded or disputed,
    an id and PaymentIntent ID written in payments.yaml as they are) come a column each; most of
    a large export is such rows. The other rows come as `StripeRow`s in `others`, each with the
    number of paid rows before it, and the rows that moved no money are only counted
    (`unmoved`). A row's match key (`match_key`) is a number, given with its values in
    `new_keys` the first time; `forget` says the numbers start again (so that memory stays flat)."""

    reader: str  # the numbers of the keys belong to one reader
    source: str
    ids: list[str]
    lines: list[int]
    days: list[str]  # the business's day, as 2026-11-23
    minors: list[int]
    amounts: list[str]  # as payments.yaml writes them (`money.major_text`)
    references: list[str]  # the PaymentIntent ID, or ""
    keys: list[int]
    new_keys: list[NewKey]
    forget: bool
    others: list[tuple[int, StripeRow]]
    unmoved: dict[Unmoved, int]

    @property
    def size(self) -> int:
        """How many rows the batch holds."""
        return len(self.ids) + len(self.others) + sum(self.unmoved.values())


@dataclass(frozen=True)
class _Layout:
    """Where each column the import reads is in one file (None: the export lacks it)."""

    export: Export
    columns: dict[str, int]
    metadata: dict[str, int]

    def at(self, name: str) -> int | None:
        return self.columns.get(name)


# Every column the import reads, in either export.
_READ = (
    "id",
    "Created (UTC)",
    "Amount",
    "Amount Refunded",
    "Currency",
    "Captured",
    "Description",
    "Status",
    "Refunded date (UTC)",
    "Payment Link ID",
    "Client Reference ID",
    "PaymentIntent ID",
    "Disputed Amount",
    "Dispute Status",
    "Dispute Date (UTC)",
    "Type",
    "Source",
    "Customer Facing Amount",
    "Customer Facing Currency",
)
# The columns a Payments export's rows are read from (`_Reader._quick_paid`).
_PAYMENTS_READ = (
    "id",
    "Created (UTC)",
    "Amount",
    "Amount Refunded",
    "Currency",
    "Captured",
    "Description",
    "Status",
    "Refunded date (UTC)",
    "Payment Link ID",
    "Client Reference ID",
    "PaymentIntent ID",
    "Disputed Amount",
    "Dispute Status",
    "Dispute Date (UTC)",
)
_KEY_COLUMNS = ("Payment Link ID", "Client Reference ID")
_PAYMENTS_REQUIRED = ("id", "Amount", "Currency", "Status")
_BALANCE_REQUIRED = ("id", "Type", "Source", "Amount", "Currency", "Created (UTC)")


def recognise(header: list[str]) -> _Layout | str:
    """The layout of an export from its header row, or why it is not one this tool reads."""
    names = [name.strip() for name in header]
    columns = {name: index for index, name in reversed(list(enumerate(names)))}
    metadata = {
        name[: -len(METADATA_SUFFIX)]: index
        for index, name in enumerate(names)
        if name.endswith(METADATA_SUFFIX) and name[: -len(METADATA_SUFFIX)] in METADATA_KEYS
    }
    if "Type" in columns and "Source" in columns:
        missing = [name for name in _BALANCE_REQUIRED if name not in columns]
        if missing:
            return f"a Balance history export without the column{'s' if len(missing) > 1 else ''} {_names(missing)}"
        return _Layout("balance", columns, metadata)
    if "Status" in columns:
        missing = [name for name in _PAYMENTS_REQUIRED if name not in columns]
        if "Created date (UTC)" not in columns and "Created (UTC)" not in columns:
            missing.append("Created date (UTC)")
        if missing:
            return f"a Payments export without the column{'s' if len(missing) > 1 else ''} {_names(missing)}"
        if "Created date (UTC)" in columns:
            columns.setdefault("Created (UTC)", columns["Created date (UTC)"])
        return _Layout("payments", columns, metadata)
    return (
        "not a Stripe export this tool reads: expected the header of the Payments export "
        "(`id,Created date (UTC),Amount,...,Status,...`) or of Balance history "
        "(`id,Type,Source,Amount,...`)"
    )


def _names(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def read_export(path: Path, shown: str, zone: ZoneInfo) -> Iterator[StripeRow | RowProblem]:
    """Every row of the export at `path` (named `shown` in problems), streamed; a problem for each
    value that cannot be read. Days are the business's days, in `zone`.

    A large export is read in a process of its own (`export_reader`), on another processor, while
    this one goes on with what it is given; the rows are the same either way."""
    return cast(Iterator[StripeRow | RowProblem], read_compact(path, shown, zone, compact=False))


def read_compact(
    path: Path, shown: str, zone: ZoneInfo, *, compact: bool = True
) -> Iterator[StripeRow | RowProblem | PaidRows]:
    """`read_export`, with most rows of a Payments export in `PaidRows` batches (unless not
    `compact`): the form `apply.reconcile` takes most quickly."""
    if _in_helper(path, zone):
        yield from _from_helper(path, shown, zone, compact)
    else:
        yield from read_here(path, shown, zone, compact=compact)


# Reading a row costs a few microseconds, passing it from a helper process a fraction of that;
# below this size the helper's start (a tenth of a second) is not worth it.
HELPER_BYTES = 32 * 1024 * 1024


def _in_helper(path: Path, zone: ZoneInfo) -> bool:
    try:
        large = path.stat().st_size >= HELPER_BYTES
    except OSError:
        return False  # read_here says why
    return large and zone.key is not None and (os.cpu_count() or 1) > 1


class HelperFailed(RuntimeError):
    """The process reading an export stopped before the end (its error is on stderr)."""


def _from_helper(
    path: Path, shown: str, zone: ZoneInfo, compact: bool
) -> Iterator[StripeRow | RowProblem | PaidRows]:
    """The rows `read_here` gives, read by `python -m notifier.payments.export_reader`."""
    package = str(Path(__file__).resolve().parents[2])  # where `notifier` is, for the helper
    paths = [package, *filter(None, [os.environ.get("PYTHONPATH")])]
    command = [sys.executable, "-m", "notifier.payments.export_reader", str(path), shown, zone.key]
    if compact:
        command.append("compact")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    try:
        helper = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    except OSError:  # no process to be had: read it here
        yield from read_here(path, shown, zone)
        return
    with helper:
        assert helper.stdout is not None
        done = False
        try:
            while not done:
                try:
                    # Our own helper's output, made by `export_reader.main`: trusted as this code.
                    rows, problem = pickle.load(helper.stdout)
                except EOFError:
                    done = True
                    continue
                if isinstance(rows, tuple):  # a PaidRows
                    yield PaidRows(*rows)._replace(
                        others=[(before, _new_row(row)) for before, row in rows[-2]]
                    )
                    continue
                yield from map(_new_row, rows)
                if problem is not None:
                    yield RowProblem(*problem)
        finally:
            if not done:
                helper.kill()  # the rows are no longer wanted
    if helper.returncode != 0:
        raise HelperFailed(f"reading {shown} stopped (exit status {helper.returncode})")


def read_here(
    path: Path, shown: str, zone: ZoneInfo, *, compact: bool = False
) -> Iterator[StripeRow | RowProblem | PaidRows]:
    """`read_export`, in this process."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        yield RowProblem(shown, 1, 1, "", f"cannot be read: {exc.strerror or exc}")
        return
    with handle:
        try:
            text = next(handle, None)
            if text is None:
                yield RowProblem(shown, 1, 1, "", "the file is empty")
                return
            header, used = _record(text, handle)
        except (UnicodeDecodeError, csv.Error) as exc:
            yield RowProblem(shown, 1, 1, "", _unreadable(exc))
            return
        layout = recognise(header)
        if isinstance(layout, str):
            yield RowProblem(shown, 1, 1, "", layout)
            return
        reader = _Reader(shown, layout, len(header), _Days(zone), 1 + used, compact=compact)
        try:
            if layout.export == "payments":
                yield from reader.payments(handle)
            else:
                yield from reader.balance(handle)
        except _Unreadable as stop:
            yield RowProblem(shown, stop.line, 1, "", _unreadable(stop.cause))


class _Unreadable(Exception):
    """The file stops being UTF-8 or CSV in the record that starts on `line`."""

    def __init__(self, line: int, cause: Exception) -> None:
        self.line = line
        self.cause = cause


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "the file is not UTF-8 text (export it again from Stripe, unchanged)"
    if str(exc) == "unexpected end of data":
        return f"a quoted value runs on to the end of the file: {CUT_SHORT}"
    return f"is not valid CSV: {exc}"


CUT_SHORT = "the file may have been cut short; export it again from Stripe"


# Records are read as csv.reader (excel dialect, strict) reads them. A line with no quote, as
# nearly every line of an export is, is split at its commas, several times faster; a line with a
# quote (and the lines a quoted value runs on to) goes through csv.reader, as does one csv.reader
# refuses. Strict, so that a quoted value still open at the end of the file (a file cut short) is
# an error, not a value.
_FIELD_LIMIT = csv.field_size_limit()


def _failing(exc: Exception) -> Iterator[str]:
    raise exc
    yield ""  # a generator, so it raises when read


def _record(text: str, lines: Iterator[str]) -> tuple[list[str], int]:
    """The record that starts with the line `text`, read on from `lines` as far as it runs, and
    how many lines it took."""
    if '"' not in text and "\0" not in text and len(text) <= _FIELD_LIMIT:
        return text.rstrip("\r\n").split(","), 1
    reader = csv.reader(itertools.chain((text,), lines), strict=True)
    return next(reader, []), reader.line_num


class _Bad(Exception):
    def __init__(self, problem: RowProblem) -> None:
        self.problem = problem


_BATCH = 500  # lines read at a time: more is no quicker, and holds more in memory
_REMEMBERED = 100_000  # values remembered per kind (amounts, descriptions, ...): memory stays flat
MAX_ID = 200  # characters in a Stripe id; the books allow 255, and a refund's id adds to it
MAX_LINKED = 255  # characters in a record's id in the books
_HOUR = operator.itemgetter(slice(0, 13))
_MINUTES = operator.itemgetter(slice(13, None))
_new_row = functools.partial(tuple.__new__, StripeRow)
_PAID, _OTHER = 0, 1  # what a row is, for `PaidRows`; else how it moved no money
_FIRST = operator.itemgetter(slice(0, 1))
_WRITTEN_AS_IS = 10**18  # an amount beyond this is written by `record_line`, as Decimal prints it


class _Reader:
    """Reads the rows of one export.

    A Payments export can have a million rows, so they are read `_BATCH` lines at a time, a
    column at a time: each step (split at commas, strip, look up) runs over a whole column inside
    Python's own loops, and a value seen before (a currency, an amount, an hour) is looked up,
    not read again. A row with a value no step has seen the like of, a batch with a quote and a
    row that is short go through `_payment_row`, which reads a row by itself, as the batch would,
    and says what is wrong with it."""

    def __init__(
        self, source: str, layout: _Layout, width: int, days: _Days, line: int, *, compact: bool
    ) -> None:
        self.source = source
        self.compact = compact
        self.layout = layout
        self.width = width
        self.days = days
        self.line = line  # where the next record starts
        # Every column read has an index; one the export lacks points at an empty last cell.
        self.columns = {name: layout.columns.get(name, -1) for name in _READ}
        self.currencies: dict[str, str] = {}
        self.amounts: dict[tuple[str | None, str], int] = {}  # (currency, as written): minor units
        self.optional_days: dict[str, date | None] = {"": None}
        self.captured: dict[str, bool] = {}
        self.metadata: dict[tuple[str, ...], Mapping[str, str]] = {}
        # For `PaidRows`: what a row is (`_PAID`, `_OTHER`, or how it moved no money) by the
        # values that decide it; the number of each match key, also by the values as written;
        # days and amounts as text.
        self.kinds: dict[tuple[Any, ...], int | Unmoved] = {}
        self.reader = uuid.uuid4().hex
        self.key_numbers: dict[tuple[str, ...], int] = {}
        self.next_key = 0
        self.keys_written: dict[tuple[Any, ...], int] = {}
        self.day_texts: dict[date, str] = {}
        self.amount_texts: dict[tuple[str, int], str] = {}
        # The columns `_quick_paid` reads, taken from each row in one step.
        self.picked = [name for name in _PAYMENTS_READ if self.columns[name] >= 0]
        picked = [self.columns[name] for name in self.picked]
        picked += layout.metadata.values()
        self.pick = operator.itemgetter(*picked, *picked[:1] * (len(picked) < 2))

    # Reading ----------------------------------------------------------------------------------

    def payments(self, lines: Iterator[str]) -> Iterator[StripeRow | RowProblem | PaidRows]:
        batch: list[str] = []
        try:
            # `extend` keeps the lines read before an error in the file.
            while True:
                batch.extend(itertools.islice(lines, _BATCH))
                if not batch:
                    break
                yield from self._batch(batch, lines)
                batch = []
        except UnicodeDecodeError as exc:
            # The lines before it are read all the same; a value quoted in them that runs on
            # meets the same error.
            yield from self._batch(batch, _failing(exc))
            raise _Unreadable(self.line, exc) from None
        yield from self._batch(batch, lines)

    def balance(self, lines: Iterator[str]) -> Iterator[StripeRow | RowProblem]:
        yield from self._one_by_one(lines, iter(()), self._balance_row)

    def _one_by_one(
        self,
        lines: Iterator[str],
        more: Iterator[str],
        read: Callable[[list[str], int], StripeRow | RowProblem],
    ) -> Iterator[StripeRow | RowProblem]:
        """The records in `lines`, each read by `read`; a quoted value may run on into `more`."""
        rest = itertools.chain(lines, more)
        try:
            for text in lines:
                values, used = _record(text, rest)
                start = self.line
                self.line += used
                if any(values):
                    padded = self._padded(values, start)
                    yield padded if isinstance(padded, RowProblem) else read(padded, start)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _Unreadable(self.line, exc) from None

    def _padded(self, values: list[str], line: int) -> list[str] | RowProblem:
        """`values` with the empty last cell a column the export lacks reads as; a problem if
        the row does not have as many fields as the header."""
        if len(values) != self.width:
            count = len(values)
            fields = f"{count} field{'s' if count != 1 else ''}"
            return RowProblem(
                self.source,
                line,
                min(count, self.width) + 1,
                "",
                f"the row has {fields}, the header {self.width}: {CUT_SHORT}",
            )
        values.append("")
        return values

    def _batch(
        self, batch: list[str], lines: Iterator[str]
    ) -> Iterator[StripeRow | RowProblem | PaidRows]:
        if not batch:
            return
        if (
            '"' in (joined := "".join(batch))
            or "\0" in joined
            or max(map(len, batch)) > _FIELD_LIMIT
        ):
            yield from self._one_by_one(iter(batch), lines, self._payment_row)
            return
        start, count = self.line, len(batch)
        rows = list(
            map(str.split, map(str.rstrip, batch, itertools.repeat("\r\n")), itertools.repeat(","))
        )
        self.line += count
        if min(map(len, rows)) != self.width or max(map(len, rows)) != self.width:
            for line, values in enumerate(rows, start):
                if any(values):
                    padded = self._padded(values, line)
                    yield (
                        padded
                        if isinstance(padded, RowProblem)
                        else self._payment_row(padded, line)
                    )
            return
        if self.compact:
            quick = self._quick_paid(rows, start)
            if quick is not None:
                yield quick
                return
        yield from self._columns(rows, start)

    def _columns(
        self, rows: list[list[str]], start: int
    ) -> list[StripeRow | RowProblem] | list[PaidRows]:
        """`rows` (each exactly as wide as the header), read a column at a time."""
        count = len(rows)
        columns: list[tuple[str, ...]] = list(zip(*rows, strict=True))
        columns.append(("",) * count)  # what a column the export lacks reads as
        at = self.columns
        strip = str.strip
        repeat = itertools.repeat
        slow: set[int] = set()  # rows `_row` reads

        def misses(values: list[Any], missing: object = None) -> None:
            if missing in values:
                slow.update(i for i, value in enumerate(values) if value is missing)

        ids = list(map(strip, columns[at["id"]]))
        if "" in ids or max(map(len, ids)) > MAX_ID:
            slow.update(i for i, ident in enumerate(ids) if not ident or len(ident) > MAX_ID)
        currencies = list(map(self.currencies.get, columns[at["Currency"]]))
        misses(currencies)
        amounts = []
        for name in ("Amount", "Amount Refunded", "Disputed Amount"):
            found = list(map(self.amounts.get, zip(currencies, columns[at[name]], strict=True)))
            misses(found)
            amounts.append(found)
        created = columns[at["Created (UTC)"]]
        days = list(map(self.days.by_hour.get, map(_HOUR, created)))
        misses(days)
        misses(list(map(self.days.minutes.__contains__, map(_MINUTES, created))), False)
        optional = []
        for name in ("Refunded date (UTC)", "Dispute Date (UTC)"):
            column = columns[at[name]]
            if not all(map(self.optional_days.__contains__, column)):
                slow.update(i for i, raw in enumerate(column) if raw not in self.optional_days)
            optional.append(list(map(self.optional_days.get, column)))
        captured = list(map(self.captured.get, columns[at["Captured"]]))
        misses(captured)
        metadata: Iterable[Mapping[str, str] | None] = repeat(NO_METADATA)
        if self.layout.metadata:
            keys = zip(*(columns[index] for index in self.layout.metadata.values()), strict=True)
            metadata = shared = list(map(self.metadata.get, keys))
            misses(shared)

        def texts(name: str) -> list[str]:
            index = at[name]
            return list(map(strip, columns[index])) if index >= 0 else [""] * count

        statuses = texts("Status")
        descriptions = texts("Description")
        links = texts("Payment Link ID")
        references = texts("Client Reference ID")
        intents = texts("PaymentIntent ID")
        dispute_statuses = list(map(str.lower, texts("Dispute Status")))
        made: list[StripeRow | RowProblem] = list(
            map(
                _new_row,
                zip(
                    repeat(self.source),
                    range(start, start + count),
                    repeat("payments"),
                    ids,
                    days,
                    statuses,
                    currencies,
                    amounts[0],
                    amounts[1],
                    optional[0],
                    captured,
                    descriptions,
                    metadata,
                    links,
                    references,
                    intents,
                    amounts[2],
                    dispute_statuses,
                    optional[1],
                    repeat(""),
                    repeat(""),
                    strict=False,  # the repeats are endless; every other column has a value a row
                ),
            )
        )
        blank: set[int] = set()
        for index in sorted(slow):
            if any(rows[index]):
                padded = cast(list[str], self._padded(rows[index], start + index))  # full width
                made[index] = self._payment_row(padded, start + index)
            else:
                blank.add(index)
        if blank:
            return [row for index, row in enumerate(made) if index not in blank]
        if not self.compact or any(isinstance(made[index], RowProblem) for index in slow):
            return made
        kinds = list(
            map(
                self.kinds.get,
                zip(
                    map(bool, ids),
                    statuses,
                    captured,
                    map(bool, amounts[0]),
                    map(bool, amounts[1]),
                    map(bool, amounts[2]),
                    dispute_statuses,
                    strict=True,
                ),
            )
        )
        if None in kinds:
            for index, kind in enumerate(kinds):
                if kind is None:
                    kinds[index] = self._kind(cast(StripeRow, made[index]))
        for index in slow:
            kinds[index] = _OTHER  # read by `_payment_row`: its values are in `made` only
        paid = list(map(operator.is_, kinds, repeat(_PAID)))
        metadata_written: Iterable[tuple[str, ...]] = repeat(())
        if self.layout.metadata:
            columns_written = (columns[i] for i in self.layout.metadata.values())
            metadata_written = zip(*columns_written, strict=True)
        # The paid rows' values: none is None (a value not seen before made the row `_OTHER`).
        paid_metadata = cast(list[Mapping[str, str]], list(compress(metadata, paid)))
        # (None first: never what `_quick_paid` remembers a key by.)
        keyed = list(
            compress(
                zip(
                    repeat(None),
                    currencies,
                    links,
                    references,
                    descriptions,
                    metadata_written,
                    strict=False,
                ),
                paid,
            )
        )

        def key_at(index: int) -> tuple[str, str, str, str, Mapping[str, str]]:
            _, currency, link, reference, description, _ = keyed[index]
            return cast(str, currency), link, reference, description, paid_metadata[index]

        compacted = self._paid_rows(
            made.__getitem__,
            cast(list[int | Unmoved], kinds),
            paid,
            list(compress(ids, paid)),
            list(compress(range(start, start + count), paid)),
            cast(list[date], list(compress(days, paid))),
            cast(list[str], list(compress(currencies, paid))),
            cast(list[int], list(compress(amounts[0], paid))),
            list(compress(intents, paid)),
            keyed,
            key_at,
        )
        return made if compacted is None else [compacted]

    def _quick_paid(self, rows: list[list[str]], start: int) -> PaidRows | None:
        """`_columns` for `PaidRows`, quicker, when every value of the batch is one seen before
        (most batches of a large export): only the columns read are taken from the rows, and no
        row is made into a `StripeRow` but the few that are not paid. None if a value is new."""
        count = len(rows)
        picked = list(zip(*map(self.pick, rows), strict=True))
        taken = dict(zip(self.picked, picked, strict=False))
        empty = ("",) * count
        strip = str.strip
        repeat = itertools.repeat

        def column(name: str) -> tuple[str, ...]:
            return taken.get(name, empty)

        ids = list(map(strip, column("id")))
        if "" in ids or max(map(len, ids)) > MAX_ID:
            return None
        currencies = list(map(self.currencies.get, column("Currency")))
        if None in currencies:
            return None
        amounts = []
        for name in ("Amount", "Amount Refunded", "Disputed Amount"):
            if name in taken or name == "Amount":
                found = list(map(self.amounts.get, zip(currencies, column(name), strict=True)))
                if None in found:
                    return None
            else:
                found = [0] * count
            amounts.append(found)
        created = column("Created (UTC)")
        days = list(map(self.days.by_hour.get, map(_HOUR, created)))
        if None in days or not all(map(self.days.minutes.__contains__, map(_MINUTES, created))):
            return None
        optional = []
        for name in ("Refunded date (UTC)", "Dispute Date (UTC)"):
            raw = column(name)
            if not all(map(self.optional_days.__contains__, raw)):
                return None
            optional.append(raw)
        captured = list(map(self.captured.get, column("Captured")))
        if None in captured:
            return None
        metadata: list[Mapping[str, str] | None] = [NO_METADATA] * count
        if self.layout.metadata:
            after = len(self.picked)
            written = list(zip(*picked[after : after + len(self.layout.metadata)], strict=True))
            metadata = list(map(self.metadata.get, written))
            if None in metadata:
                return None
        statuses = list(map(strip, column("Status")))
        dispute_statuses = list(map(str.lower, map(strip, column("Dispute Status"))))
        kinds = list(
            map(
                self.kinds.get,
                zip(
                    repeat(True),
                    statuses,
                    captured,
                    map(bool, amounts[0]),
                    map(bool, amounts[1]),
                    map(bool, amounts[2]),
                    dispute_statuses,
                    strict=False,
                ),
            )
        )
        if None in kinds:
            return None
        descriptions = column("Description")
        links = column("Payment Link ID")
        references = column("Client Reference ID")
        intents = list(map(strip, column("PaymentIntent ID")))
        paid = list(map(operator.is_, kinds, repeat(_PAID)))
        get_day = self.optional_days.get
        places = list(compress(range(count), paid))
        # A paid row's match key is remembered by its values as written (the columns the
        # export lacks left out).
        keyed = list(
            compress(
                zip(
                    currencies,
                    descriptions,
                    *(taken[name] for name in _KEY_COLUMNS if name in taken),
                    *picked[len(self.picked) : len(self.picked) + len(self.layout.metadata)],
                    strict=False,
                ),
                paid,
            )
        )

        def key_at(index: int) -> tuple[str, str, str, str, Mapping[str, str]]:
            at = places[index]
            return (
                cast(str, currencies[at]),
                links[at].strip(),
                references[at].strip(),
                descriptions[at].strip(),
                cast(Mapping[str, str], metadata[at]),
            )

        def row_at(index: int) -> StripeRow:
            return StripeRow(
                self.source,
                start + index,
                "payments",
                ids[index],
                cast(date, days[index]),
                statuses[index],
                cast(str, currencies[index]),
                cast(int, amounts[0][index]),
                cast(int, amounts[1][index]),
                get_day(optional[0][index]),
                cast(bool, captured[index]),
                descriptions[index].strip(),
                cast(Mapping[str, str], metadata[index]),
                links[index].strip(),
                references[index].strip(),
                intents[index],
                cast(int, amounts[2][index]),
                dispute_statuses[index],
                get_day(optional[1][index]),
            )

        return self._paid_rows(
            row_at,
            cast(list[int | Unmoved], kinds),
            paid,
            list(compress(ids, paid)),
            [start + place for place in places],
            cast(list[date], list(compress(days, paid))),
            cast(list[str], list(compress(currencies, paid))),
            cast(list[int], list(compress(amounts[0], paid))),
            list(compress(intents, paid)),
            keyed,
            key_at,
        )

    def _kind(self, row: StripeRow) -> int | Unmoved:
        """What `row` is for `PaidRows`, remembered by the values that decide it."""
        money_in = row.status.lower() in MONEY_IN
        kind: int | Unmoved
        if not row.id or not row.captured or row.amount <= 0 or not money_in:
            kind = (bool(row.id), row.status, row.captured)
        elif row.refunded > 0 or (row.disputed > 0 and row.dispute_status not in DISPUTE_NO_MONEY):
            kind = _OTHER
        else:
            kind = _PAID
        if len(self.kinds) < _REMEMBERED:
            self.kinds[
                (
                    bool(row.id),
                    row.status,
                    row.captured,
                    row.amount > 0,
                    row.refunded > 0,
                    row.disputed > 0,
                    row.dispute_status,
                )
            ] = kind
        return kind

    def _paid_rows(
        self,
        row_at: Callable[[int], StripeRow | RowProblem],
        kinds: list[int | Unmoved],
        paid: list[bool],
        ids: list[str],
        lines: list[int],
        days: list[date],
        currencies: list[str],
        minors: list[int],
        intents: list[str],
        keyed: list[tuple[Any, ...]],
        key_at: Callable[[int], tuple[str, str, str, str, Mapping[str, str]]],
    ) -> PaidRows | None:
        """The batch as `PaidRows`, or None if a paid row has a value written otherwise than as
        it is (an odd id or PaymentIntent ID, an amount beyond 10**18). `row_at` gives a row
        that is not paid by its place in the batch; `keyed` has what a paid row's match key is
        remembered by, `key_at` its values (currency, link, reference, description, metadata)."""
        resolvers = implicit_resolvers()
        if (
            not all(map(str.isidentifier, ids))
            or not all(map(str.isascii, ids))
            or not resolvers.keys().isdisjoint(map(_FIRST, ids))
            or None in resolvers
            or (minors and max(minors) >= _WRITTEN_AS_IS)
            or any(plain(intent) != intent for intent in intents if intent)
        ):
            return None
        texts: list[str | None] = list(map(self.day_texts.get, days))
        if None in texts:
            texts = [self._day_text(day) for day in days]
        pairs = list(zip(currencies, minors, strict=True))
        amounts: list[str | None] = list(map(self.amount_texts.get, pairs))
        if None in amounts:
            amounts = [self._amount_text(*pair) for pair in pairs]
        new_keys: list[NewKey] = []
        forget = len(self.key_numbers) + len(ids) > _REMEMBERED
        if forget:
            self.key_numbers.clear()
            self.keys_written.clear()
        elif len(self.keys_written) > _REMEMBERED:
            self.keys_written.clear()
        keys: list[int | None] = list(map(self.keys_written.get, keyed))
        if None in keys:
            keys = [
                self._key_number(keyed[index], key_at(index), new_keys) if key is None else key
                for index, key in enumerate(keys)
            ]
        before = list(itertools.accumulate(map(int, paid), initial=0))
        others = [
            (before[index], cast(StripeRow, row_at(index)))  # no problem: see `_columns`
            for index, kind in enumerate(kinds)
            if kind is _OTHER
        ]
        unmoved = Counter(kind for kind in kinds if isinstance(kind, tuple))
        return PaidRows(
            self.reader,
            self.source,
            ids,
            lines,
            cast(list[str], texts),
            minors,
            cast(list[str], amounts),
            intents,
            cast(list[int], keys),
            new_keys,
            forget,
            others,
            dict(unmoved),
        )

    def _day_text(self, day: date) -> str:
        found = self.day_texts[day] = day.isoformat()
        return found

    def _amount_text(self, currency: str, minor: int) -> str:
        found = money.major_text(minor, money.exponent(currency))
        if len(self.amount_texts) < _REMEMBERED:
            self.amount_texts[(currency, minor)] = found
        return found

    def _key_number(
        self,
        written: tuple[Any, ...],
        values: tuple[str, str, str, str, Mapping[str, str]],
        new_keys: list[NewKey],
    ) -> int:
        """The number of the match key of a paid row (see `_paid_rows`); a new number is added
        to `new_keys`."""
        currency, link, reference, description, metadata = values
        key = match_key(currency, link, reference, description, metadata)
        number = self.key_numbers.get(key)
        if number is None:
            number = self.key_numbers[key] = self.next_key
            self.next_key += 1
            new_keys.append((number, currency, link, reference, description, metadata))
        self.keys_written[written] = number
        return number

    # One row ----------------------------------------------------------------------------------

    def _payment_row(self, values: list[str], line: int) -> StripeRow | RowProblem:
        """One row of a Payments export (`values` as `_padded` gives them)."""
        at = self.columns
        ident = values[at["id"]].strip()
        status = values[at["Status"]].strip()
        if not ident:  # attempts that never became a payment (requires_payment_method)
            currency = values[at["Currency"]].strip().upper()
            return StripeRow(self.source, line, "payments", "", date.min, status, currency, 0)
        try:
            if len(ident) > MAX_ID:
                raise self._fail(line, "id", f"`{ident[:40]}...` is longer than a Stripe id")
            currency = self._currency(line, values, "Currency")
            amount = self._amount(line, values, "Amount", currency)
            day = self._day(line, values, "Created (UTC)")
            refunded = self._amount(line, values, "Amount Refunded", currency)
            refunded_on = self._optional_day(line, values, "Refunded date (UTC)")
            disputed = self._amount(line, values, "Disputed Amount", currency)
            disputed_on = self._optional_day(line, values, "Dispute Date (UTC)")
        except _Bad as bad:
            return bad.problem
        return StripeRow(
            self.source,
            line,
            "payments",
            ident,
            day,
            status,
            currency,
            amount,
            refunded,
            refunded_on,
            self._captured(values[at["Captured"]]),
            values[at["Description"]].strip(),
            self._metadata(values),
            values[at["Payment Link ID"]].strip(),
            values[at["Client Reference ID"]].strip(),
            values[at["PaymentIntent ID"]].strip(),
            disputed,
            values[at["Dispute Status"]].strip().lower(),
            disputed_on,
        )

    def _balance_row(self, values: list[str], line: int) -> StripeRow | RowProblem:
        """One row of a Balance history export (`values` as `_padded` gives them)."""
        at = self.columns
        try:
            # `Amount` is in the balance's (settlement) currency; what the client paid is the
            # customer-facing amount, when Stripe converted it.
            if values[at["Customer Facing Currency"]].strip():
                currency = self._currency(line, values, "Customer Facing Currency")
                amount = self._amount(line, values, "Customer Facing Amount", currency, signed=True)
            else:
                currency = self._currency(line, values, "Currency")
                amount = self._amount(line, values, "Amount", currency, signed=True)
            day = self._day(line, values, "Created (UTC)")
            source = values[at["Source"]].strip()
            transaction = values[at["id"]].strip()
            for name, ident in (("Source", source), ("id", transaction)):
                if len(ident) > MAX_ID:
                    raise self._fail(line, name, f"`{ident[:40]}...` is longer than a Stripe id")
            if len(source) + 1 + len(transaction) > MAX_LINKED:
                # a refund's record is `SOURCE/ID` (see `apply`)
                message = f"`{transaction[:40]}...` and its Source are longer than the books keep"
                raise self._fail(line, "id", message)
        except _Bad as bad:
            return bad.problem
        return StripeRow(
            source=self.source,
            line=line,
            export="balance",
            id=source,
            day=day,
            status="",
            currency=currency,
            amount=amount,
            description=values[at["Description"]].strip(),
            kind=values[at["Type"]].strip().lower(),
            transaction=transaction,
        )

    # Values, each failure naming its column ---------------------------------------------------

    def _fail(self, line: int, name: str, message: str) -> _Bad:
        index = max(self.columns.get(name, 0), 0)
        return _Bad(RowProblem(self.source, line, index + 1, name, message))

    def _currency(self, line: int, values: list[str], name: str) -> str:
        raw = values[self.columns[name]]
        code = self.currencies.get(raw)
        if code is None:
            code = raw.strip().upper()
            if not money.is_currency(code):
                raise self._fail(line, name, f"`{raw.strip()}` is not a currency code")
            self.currencies[raw] = code
        return code

    def _amount(
        self, line: int, values: list[str], name: str, currency: str, *, signed: bool = False
    ) -> int:
        """Major units with a `.` decimal point, as minor units of `currency`; empty is 0."""
        raw = values[self.columns[name]]
        found = _minor(raw.strip(), currency, signed=signed)
        if isinstance(found, str):
            raise self._fail(line, name, found)
        if not signed and len(self.amounts) < _REMEMBERED:
            self.amounts[(currency, raw)] = found
        return found

    def _day(self, line: int, values: list[str], name: str) -> date:
        """A UTC time as the business's day; Stripe writes seconds, older exports minutes."""
        raw = values[self.columns[name]].strip()
        if not raw:
            raise self._fail(line, name, "a date is required")
        found = self.days.local(raw)
        if found is None:
            raise self._fail(line, name, f"`{raw}` is not a time like 2026-11-23 09:30:00")
        problem = bounds.out_of_range(found)
        if problem is not None:
            raise self._fail(line, name, problem)
        return found

    def _optional_day(self, line: int, values: list[str], name: str) -> date | None:
        raw = values[self.columns[name]]
        found = self._day(line, values, name) if raw.strip() else None
        if len(self.optional_days) < _REMEMBERED:
            self.optional_days[raw] = found
        return found

    def _captured(self, raw: str) -> bool:
        found = self.captured[raw] = raw.strip().lower() != "false"
        return found

    def _metadata(self, values: list[str]) -> Mapping[str, str]:
        found: dict[str, str] = {}
        for key, index in self.layout.metadata.items():
            value = values[index].strip()
            if value:
                found[key] = value
        shared = found or NO_METADATA
        if len(self.metadata) < _REMEMBERED:
            self.metadata[tuple(values[index] for index in self.layout.metadata.values())] = shared
        return shared


def _minor(raw: str, currency: str, *, signed: bool) -> int | str:
    """`raw` (major units, as 1250.00) in minor units of `currency`, or why it is not an amount."""
    if not raw:
        return 0
    places = money.exponent(currency)
    found = _quick_minor(raw, places)
    if found is None:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or "," in raw or "e" in raw.lower() or "_" in raw:
            return f"`{raw}` is not an amount (major units with a `.` decimal point, as 1250.00)"
        if value < 0 and not signed:
            return f"`{raw}` is negative"
        try:
            found = money.to_minor(value, currency)
        except money.AmountError as exc:
            return str(exc)
    if abs(found) >= bounds.AMOUNT_LIMIT * 10**places:
        return f"`{raw}` is more than the books hold (less than {bounds.AMOUNT_LIMIT})"
    return found


_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?Z?)?")


class _Days:
    """UTC times as days in one time zone, remembered by the hour: an export of a million rows
    spans a few thousand hours, and the zone's rules are the slow part.

    A time is `by_hour[time[:13]]` if that is known and `time[13:]` is in `minutes` (the rest of
    a time, as `:30:00`, seen in a time read before): both halves were read before, so the time
    is well formed, without reading it again."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.by_hour: dict[str, date] = {}
        self.minutes: set[str] = set()

    def local(self, raw: str) -> date | None:
        if not _TIME.fullmatch(raw):
            return None
        hour = raw[:13]
        found = self.by_hour.get(hour)
        if found is not None:
            self.minutes.add(raw[13:])
            return found
        try:
            moment = datetime.fromisoformat(raw.removesuffix("Z")).replace(tzinfo=UTC)
        except ValueError:
            return None
        if bounds.out_of_range(moment.date()):  # refused by the caller, before a time zone
            return moment.date()  # takes it past the end of the calendar
        day = moment.astimezone(self.zone).date()
        # Zones a half or quarter hour off UTC change day within an hour: not remembered.
        start = moment.replace(minute=0, second=0).astimezone(self.zone).date()
        end = moment.replace(minute=59, second=59).astimezone(self.zone).date()
        if len(raw) >= 13 and start == end:
            self.by_hour[hour] = day
            self.minutes.add(raw[13:])
        return day


def _quick_minor(raw: str, places: int) -> int | None:
    """`raw` (as `1320.00`) in minor units without Decimal, or None to take the careful path."""
    whole, dot, fraction = raw.partition(".")
    if not whole.isdigit() or not whole.isascii() or (dot and not fraction.isdigit()):
        return None
    if len(fraction) > places or not fraction.isascii():
        return None
    return int(whole + fraction.ljust(places, "0")) if places else int(whole)
