"""Read Stripe's CSV exports, row by row, into `StripeRow`s: which export a file is comes from its
header row, never from column positions.

Two exports are understood: the Payments export (its default columns, the all-columns layout, and
the older layout whose date column is `Created (UTC)`) and the Balance history export. A file is
read in chunks of whole records, so memory does not grow with the file: polars reads a chunk's
columns the import uses (every one as text), each distinct value is parsed once (amounts exactly,
as integer minor units), and a Payments export's rows that only bring money in come as one
polars table a chunk (`PaidRows`), their amounts and days already as payments.yaml writes them. A value that does not parse is a `RowProblem` naming the file, line and
column; the row is not skipped silently. So is a row whose number of fields differs from the
header's, or a quoted value still open at the end of the file: what a file cut short (or changed
by hand) looks like. Such rows, and chunks of any other shape, are read by the csv module, a row
at a time.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import operator
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast
from zoneinfo import ZoneInfo

import polars as pl

from notifier import money
from notifier.books import bounds
from notifier.books.records import implicit_resolvers, plain

METADATA_SUFFIX = " (metadata)"
# The metadata keys the Payment Links set (`notifier links`); other keys are not read.
METADATA_KEYS = ("invoice", "instalment", "statement")

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
    statement = metadata.get("statement", "") if metadata else ""
    return (currency, link, reference, description, statement)


# A new match key as `PaidRows` sends it: its index, then the values of a row `Matcher.match` reads
# (currency, Payment Link ID, Client Reference ID, description, metadata).
NewKey = tuple[int, str, str, str, str, Mapping[str, str]]
# A row that moved no money, counted by what `apply` says of it: whether it has an id, its
# status and whether it was captured.
Unmoved = tuple[bool, str, bool]


class PaidRows(NamedTuple):
    """A batch of a Payments export in a compact form, read with `read_export(compact=True)`.

    The rows that only bring money in (paid, captured, above zero, nothing refunded or disputed,
    an id and PaymentIntent ID written in payments.yaml as they are) come as one table, `paid`,
    a row each (see `PAID_COLUMNS`); most of a large export is such rows. The other rows come as
    `StripeRow`s in `others`, each with the number of paid rows before it, and the rows that moved
    no money are only counted (`unmoved`). A row's match key (`match_key`) is a number, given
    with its values in `new_keys` the first time; `forget` says the numbers start again (so that
    memory stays flat)."""

    reader: str  # the numbers of the keys belong to one reader
    source: str
    paid: pl.DataFrame
    new_keys: list[NewKey]
    forget: bool
    others: list[tuple[int, StripeRow]]
    unmoved: dict[Unmoved, int]

    @property
    def size(self) -> int:
        """How many rows the batch holds."""
        return self.paid.height + len(self.others) + sum(self.unmoved.values())


# The columns of `PaidRows.paid`: the id, the line, the business's day (as 2026-11-23), the
# amount in minor units and as payments.yaml writes it (`money.major_text`), the PaymentIntent
# ID (or ""), and the number of the match key.
PAID_COLUMNS = ("id", "line", "day", "minor", "amount", "reference", "key")


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
    value that cannot be read. Days are the business's days, in `zone`."""
    return cast(Iterator[StripeRow | RowProblem], read_compact(path, shown, zone, compact=False))


def read_compact(
    path: Path, shown: str, zone: ZoneInfo, *, compact: bool = True
) -> Iterator[StripeRow | RowProblem | PaidRows]:
    """`read_export`, with most rows of a Payments export in `PaidRows` batches (unless not
    `compact`): the form `apply.reconcile` takes most quickly."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield RowProblem(shown, 1, 1, "", f"cannot be read: {exc.strerror or exc}")
        return
    with handle:
        chunks = _chunks(handle)
        first = next(chunks, None)
        if first is None or not first[0].strip(b"\xef\xbb\xbf"):
            yield RowProblem(shown, 1, 1, "", "the file is empty")
            return
        data = first[0].removeprefix(b"\xef\xbb\xbf")
        end = _first_record_end(data)
        try:
            data.decode("utf-8")  # a file that is not UTF-8 says so before anything is read
            header = next(csv.reader(io.StringIO(data[:end].decode(), newline=""), strict=True))
        except (UnicodeDecodeError, csv.Error) as exc:
            yield RowProblem(shown, 1, 1, "", _unreadable(exc))
            return
        layout = recognise(header)
        if isinstance(layout, str):
            yield RowProblem(shown, 1, 1, "", layout)
            return
        line = 1 + data.count(b"\n", 0, end)
        rows = _Reader(shown, layout, len(header), _Days(zone), line, compact=compact)
        for chunk, last in itertools.chain([(data[end:], first[1])], chunks):
            if chunk:
                yield from rows.chunk(chunk, last)


# Bytes read at a time: a chunk of complete records is read into columns at once. Memory holds a
# few chunks, whatever the size of the export.
CHUNK = 8 * 1024 * 1024


def _chunks(handle: io.BufferedReader) -> Iterator[tuple[bytes, bool]]:
    """The file in chunks of whole records (cut at a line end outside quotes), each with whether
    it is the last; the last may end in the middle of a record (a file cut short). A chunk is
    given as soon as the file has it (a pipe is read while it is being written)."""
    rest = b""
    while True:
        data = handle.read1(CHUNK)
        if not data:
            break
        rest += data
        cut = _records_end(rest)
        if (cut > 0 and len(rest) >= CHUNK // 8) or (cut > 0 and len(data) < CHUNK // 8):
            yield rest[:cut], False
            rest = rest[cut:]
    yield rest, True


def _first_record_end(data: bytes) -> int:
    """Where the first record in `data` ends (see `_records_end`); its length if none does."""
    end = data.find(b"\n")
    while end >= 0:
        if data.count(b'"', 0, end) % 2 == 0:
            return end + 1
        end = data.find(b"\n", end + 1)
    return len(data)


def _records_end(data: bytes) -> int:
    """Where the last whole record in `data` ends: after a line end with an even number of quotes
    before it (a quoted value's quotes, doubled ones included, come in pairs); 0 if none does."""
    end = data.rfind(b"\n")
    while end >= 0:
        if data.count(b'"', 0, end) % 2 == 0:
            return end + 1
        end = data.rfind(b"\n", 0, end)
    return 0


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


class _Bad(Exception):
    def __init__(self, problem: RowProblem) -> None:
        self.problem = problem


_REMEMBERED = 100_000  # values remembered per kind (amounts, days, ...): memory stays flat
MAX_ID = 200  # characters in a Stripe id; the books allow 255, and a refund's id adds to it
MAX_LINKED = 255  # characters in a record's id in the books
_new_row = functools.partial(tuple.__new__, StripeRow)
_PAID, _OTHER = 0, 1  # what a row is, for `PaidRows`; else how it moved no money
# An ASCII identifier, as `str.isidentifier` and `str.isascii` both say of it.
_ASCII_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
_WRITTEN_AS_IS = 10**18  # an amount beyond this is written by `record_line`, as Decimal prints it
# What Python's str.strip() takes away, so that polars strips a value as a row read alone does.
_SPACE = "".join(c for c in map(chr, range(0x3000 + 1)) if c.isspace())
# A time as Stripe writes it (seconds, or minutes in older exports), or a day.
_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?Z?)?$"
_AMOUNT_PATTERN = r"^[0-9]{1,15}(?:\.[0-9]{0,15})?$"
_AMOUNTS = ("Amount", "Amount Refunded", "Disputed Amount")
# The parsed columns (see `_Reader._values`) in a StripeRow's order, around its metadata.
_ROW_COLUMNS = (
    "id",
    "Created (UTC)",
    "Status",
    "Currency",
    "Amount",
    "Amount Refunded",
    "Refunded date (UTC)",
    "Captured",
    "Description",
    "Payment Link ID",
    "Client Reference ID",
    "PaymentIntent ID",
    "Disputed Amount",
    "Dispute Status",
    "Dispute Date (UTC)",
)
_DAYS = ("Created (UTC)", "Refunded date (UTC)", "Dispute Date (UTC)")


# A quoted value (its quotes doubled inside) between two commas or line ends.
_QUOTED = re.compile(rb'(?:^|(?<=[,\n]))"(?:[^"]|"")*"(?=[,\r\n]|\Z)', re.MULTILINE)


def _one_record_a_line(data: bytes, lines: int, width: int) -> bool:
    """Whether each of the `lines` lines of `data` is one record as wide as the header: no quoted
    value runs on to the next line, no quote is out of place, and each line has its commas.
    (A byte that is not there is looked for once, not counted: most chunks have no quote and
    no carriage return, and counting goes over the whole chunk.)"""
    if b"\0" in data:
        return False
    unquoted = data
    if b'"' in data:
        unquoted = _QUOTED.sub(b"", data)
        if b'"' in unquoted or unquoted.count(b"\n") != data.count(b"\n"):
            return False
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return False
    return unquoted.count(b",") == lines * (width - 1)


class _Reader:
    """Reads the rows of one export, a chunk of whole records at a time.

    A chunk of a Payments export in the plain shape nearly every chunk has (no quote, every line
    as wide as the header) is read by polars, every column as text and only the columns the
    import uses, and each value is parsed a column at a time (`_columns`). A row whose value that
    does not parse so (an odd amount, a day out of range...), and a chunk of another shape, are
    read by the csv module a row at a time (`_payment_row`), which says what is wrong."""

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
        # For `PaidRows`: the number of each match key, by its values.
        self.reader = uuid.uuid4().hex
        self.key_numbers: dict[tuple[str, ...], int] = {}
        self.keys_seen: dict[tuple[str, ...], int] = {}  # the same, by the values as read
        self.next_key = 0
        # What each value seen parsed to, by the function that parsed it (see `_values`).
        self.parsed: dict[Callable[[str], Any], dict[str, Any]] = {}
        self.exponents: dict[str, int | None] = {}  # a currency as written: its places, or None
        # The columns polars reads: those of the Payments export the import uses, and metadata.
        used = [name for name in _PAYMENTS_READ if self.columns[name] >= 0]
        self.read = {name: self.columns[name] for name in used}
        self.read.update({f"{k}{METADATA_SUFFIX}": i for k, i in layout.metadata.items()})
        # polars gives the columns in the file's order
        self.read = dict(sorted(self.read.items(), key=operator.itemgetter(1)))

    # Reading ----------------------------------------------------------------------------------

    def chunk(self, data: bytes, last: bool) -> Iterator[StripeRow | RowProblem | PaidRows]:
        """The rows of `data`, whole records (the `last` chunk may end inside one)."""
        start = self.line
        lines = data.count(b"\n") + (not data.endswith(b"\n"))
        if self.layout.export == "payments" and _one_record_a_line(data, lines, self.width):
            try:
                table = pl.read_csv(
                    data,
                    has_header=False,
                    columns=list(self.read.values()),
                    infer_schema=False,
                    empty_string_is_null=False,
                    raise_if_empty=False,
                )
            except pl.exceptions.PolarsError:  # not UTF-8, or another surprise: read row by row
                table = None
            if table is not None and table.height == lines:
                table.columns = list(self.read)
                self.line += lines
                yield from self._columns(table, data, start)
                return
        yield from self._one_by_one(data, last)

    def _one_by_one(self, data: bytes, last: bool) -> Iterator[StripeRow | RowProblem]:
        """The records in `data`, each read by itself with the csv module."""
        read = self._payment_row if self.layout.export == "payments" else self._balance_row
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield RowProblem(self.source, self.line, 1, "", _unreadable(exc))
            self.line += data.count(b"\n")
            return
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        first = self.line
        done = 0  # lines read
        try:
            for values in reader:
                start = first + done
                done = reader.line_num
                if any(values):
                    padded = self._padded(values, start)
                    yield padded if isinstance(padded, RowProblem) else read(padded, start)
        except csv.Error as exc:
            yield RowProblem(self.source, first + done, 1, "", _unreadable(exc))
        self.line = first + done

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

    def _columns(
        self, table: pl.DataFrame, data: bytes, start: int
    ) -> list[StripeRow | RowProblem] | list[PaidRows]:
        """The rows of a plain chunk (`table` its columns read, `data` its bytes), read a column
        at a time; a row that does not read so is read by itself (`_payment_row`)."""
        count = table.height
        got = self._values(table)
        slow = got.pop("slow")
        blank = got.pop("blank")
        if self.compact and not slow.any() and not blank.any():
            paid = self._paid(got, start)
            if paid is not None:
                return [paid]
        made = self._rows(got, range(start, start + count))
        slow_rows = slow.arg_true().to_list()
        if slow_rows or blank.any():
            lines = data.split(b"\n")
            for index in slow_rows:
                text = lines[index].decode("utf-8").rstrip("\r")
                values = next(csv.reader([text]))
                padded = cast(list[str], self._padded(values, start + index))  # full width
                made[index] = self._payment_row(padded, start + index)
            if blank.any():  # every column read is empty: the row may be blank (skipped)
                empty = blank.to_list()
                return [
                    row
                    for row, line, nothing in zip(made, lines, empty, strict=False)
                    if not nothing or line.rstrip(b"\r").strip(b",")
                ]
        return made

    def _rows(
        self, got: dict[str, pl.Series], lines: Iterable[int]
    ) -> list[StripeRow | RowProblem]:
        """`StripeRow`s of the parsed columns `got` (see `_values`), on `lines`."""
        columns = {name: series.to_list() for name, series in got.items()}
        metadata: Iterable[Mapping[str, str]] = itertools.repeat(NO_METADATA)
        if self.layout.metadata:
            names = [f"{key}{METADATA_SUFFIX}" for key in self.layout.metadata]
            metadata = map(self._shared, zip(*(columns[name] for name in names), strict=True))
        repeat = itertools.repeat
        return list(
            map(
                _new_row,
                zip(
                    repeat(self.source),
                    lines,
                    repeat("payments"),
                    *(columns[name] for name in _ROW_COLUMNS[:9]),
                    metadata,
                    *(columns[name] for name in _ROW_COLUMNS[9:]),
                    repeat(""),
                    repeat(""),
                    strict=False,  # the repeats are endless; every other column has a row each
                ),
            )
        )

    def _shared(self, key: tuple[str, ...]) -> Mapping[str, str]:
        """The metadata of a row with the values `key` (stripped), one mapping per value seen."""
        found = self.metadata.get(key)
        if found is None:
            pairs = zip(self.layout.metadata, key, strict=True)
            found = {name: value for name, value in pairs if value} or NO_METADATA
            if len(self.metadata) < _REMEMBERED:
                self.metadata[key] = found
        return found

    def _values(self, table: pl.DataFrame) -> dict[str, pl.Series]:
        """Each column a `StripeRow` holds, parsed from `table` (amounts in minor units, days in
        the business's time zone...), with `slow`: the rows a value of which does not parse so,
        and `blank`: the rows with every column read empty.

        A column's values repeat (a currency, an amount, an hour, a status), so each distinct
        value is parsed once, in Python, as a row read by itself would parse it, and put in
        place by polars; text that is only stripped (ids, statuses, descriptions, metadata) is
        stripped by polars itself."""
        count = table.height
        empty = pl.Series([""] * count, dtype=pl.String)

        def raw(name: str) -> pl.Series:
            return table.get_column(name) if name in self.read else empty

        slow: list[pl.Series] = []

        def parsed(series: pl.Series, parse: Callable[[str], Any], dtype: Any) -> pl.Series:
            """`parse` of each value (None: it does not parse so, and the row is slow)."""
            distinct = series.unique().to_list()
            seen = self.parsed.setdefault(parse, {})
            if len(seen) > _REMEMBERED:
                seen.clear()
            values = [seen[v] if v in seen else seen.setdefault(v, parse(v)) for v in distinct]
            found = series.replace_strict(distinct, values, return_dtype=dtype)
            slow.append(found.is_null())
            return found

        ids = raw("id").str.strip_chars(_SPACE)
        slow.append((ids == "") | (ids.str.len_chars() > MAX_ID))
        currency = parsed(raw("Currency"), self._currency_code, pl.String)
        keyed = currency.fill_null("") + "\0"
        got: dict[str, pl.Series] = {"id": ids, "Created (UTC)": self._days(raw("Created (UTC)"))}
        slow.append(got["Created (UTC)"].is_null())
        got["Status"] = raw("Status").str.strip_chars(_SPACE)
        got["Currency"] = currency
        for name in _AMOUNTS:
            got[name] = parsed(keyed + raw(name), self._parse_amount, pl.Int64)
        for name in _DAYS[1:]:
            days = self._days(raw(name))
            slow.append(days.is_null() & (raw(name).str.strip_chars(_SPACE) != ""))
            got[name] = days
        got["Captured"] = parsed(raw("Captured"), _captured, pl.Boolean)
        for name in ("Description", "Payment Link ID", "Client Reference ID", "PaymentIntent ID"):
            got[name] = raw(name).str.strip_chars(_SPACE)
        got["Dispute Status"] = parsed(raw("Dispute Status"), _lower, pl.String)
        for key in self.layout.metadata:
            name = f"{key}{METADATA_SUFFIX}"
            got[name] = raw(name).str.strip_chars(_SPACE)
        got["slow"] = functools.reduce(operator.or_, slow)
        got["blank"] = table.select(pl.all_horizontal(pl.all() == "")).to_series()
        return got

    def _currency_code(self, written: str) -> str | None:
        code = written.strip().upper()
        return code if money.is_currency(code) else None

    def _parse_amount(self, keyed: str) -> int | None:
        """An amount written as `CURRENCY\\0AMOUNT` in minor units; None if it does not parse."""
        currency, _, written = keyed.partition("\0")
        if not currency:
            return None
        found = _minor(written.strip(), currency, signed=False)
        return None if isinstance(found, str) else found

    def _days(self, written: pl.Series) -> pl.Series:
        """Times as the business's days (null: empty, or not read so). A time is its hour
        (`2026-11-23 09`) and the rest (`:30:00`), each with far fewer distinct values than the
        times: an hour gives the day, if the whole hour falls on one day in the zone."""
        hour, rest = written.str.slice(0, 13), written.str.slice(13)
        hours = hour.unique().to_list()
        days = hour.replace_strict(hours, list(map(self._hour_day, hours)), return_dtype=pl.Date)
        rests = rest.unique().to_list()
        ok = rest.replace_strict(rests, list(map(_minutes_ok, rests)), return_dtype=pl.Boolean)
        whole_day = hour.str.len_chars() == 10  # a day without a time: midnight UTC
        return pl.select(pl.when(ok | whole_day).then(days)).to_series()

    def _hour_day(self, hour: str) -> date | None:
        """The business's day of every time in `hour` (as `2026-11-23 09`, or a day alone);
        None if there is none such, or the hour is not one."""
        if len(hour) == 10:
            found = self.days.local(hour)
        elif len(hour) == 13 and _TIME.fullmatch(f"{hour}:00"):
            found = self.days.local(f"{hour}:00:00")
            if found != self.days.local(f"{hour}:59:59"):
                return None
        else:
            return None
        return None if found is None or bounds.out_of_range(found) else found

    def _paid(self, got: dict[str, pl.Series], start: int) -> PaidRows | None:
        """The rows of a chunk as `PaidRows`, every value of which parsed; None if a paid row has
        a value written otherwise than as it is (an odd id or PaymentIntent ID, an amount beyond
        10**18): `record_line` writes those."""
        frame = pl.DataFrame(got).with_row_index("place")
        money_in = (
            (pl.col("id") != "")
            & pl.col("Captured")
            & (pl.col("Amount") > 0)
            & pl.col("Status").str.to_lowercase().is_in(sorted(MONEY_IN))
        )
        back = (pl.col("Amount Refunded") > 0) | (
            (pl.col("Disputed Amount") > 0)
            & ~pl.col("Dispute Status").is_in(sorted(DISPUTE_NO_MONEY))
        )
        frame = frame.with_columns((money_in & ~back).alias("paid"))
        paid = frame.filter(pl.col("paid"))
        if not self._written_as_they_are(paid):
            return None
        rest = frame.filter(~pl.col("paid"))
        places = rest.get_column("place").to_list()
        rows = self._rows(
            {name: rest.get_column(name) for name in got}, (start + i for i in places)
        )
        others: list[tuple[int, StripeRow]] = []
        unmoved: Counter[Unmoved] = Counter()
        for index, (place, row) in enumerate(zip(places, rows, strict=True)):
            kind = self._kind(cast(StripeRow, row))
            if isinstance(kind, tuple):
                unmoved[kind] += 1
            else:  # `place - index` paid rows come before it
                others.append((place - index, cast(StripeRow, row)))
        forget = len(self.key_numbers) > _REMEMBERED or len(self.keys_seen) > _REMEMBERED
        if forget:
            self.key_numbers.clear()
            self.keys_seen.clear()
        new_keys: list[NewKey] = []
        table = pl.DataFrame(
            {
                "id": paid.get_column("id"),
                "line": paid.get_column("place").cast(pl.Int64) + start,
                "day": paid.get_column("Created (UTC)").dt.to_string("%Y-%m-%d"),
                "minor": paid.get_column("Amount"),
                "amount": self._amount_texts(paid),
                "reference": paid.get_column("PaymentIntent ID"),
                "key": self._key_numbers(paid, new_keys),
            }
        )
        return PaidRows(self.reader, self.source, table, new_keys, forget, others, dict(unmoved))

    def _written_as_they_are(self, paid: pl.DataFrame) -> bool:
        """Whether every paid row's id and PaymentIntent ID is written in payments.yaml as it is
        (`plain`: an ASCII identifier that PyYAML reads as text), and its amount is below
        10**18 (`record_line` writes the others)."""
        if paid.height == 0:
            return True
        resolvers = implicit_resolvers()
        if None in resolvers:
            return False
        ids = paid.get_column("id")
        starts = sorted(key for key in resolvers if key is not None)
        if not ids.str.contains(_ASCII_IDENTIFIER).all() or ids.str.slice(0, 1).is_in(starts).any():
            return False
        if cast(int, paid.get_column("Amount").max()) >= _WRITTEN_AS_IS:
            return False
        intents = paid.get_column("PaymentIntent ID").unique().to_list()
        return all(plain(intent) == intent for intent in intents if intent)

    def _amount_texts(self, paid: pl.DataFrame) -> pl.Series:
        """Each paid row's amount (0 < amount < 10**18) as payments.yaml writes it
        (`money.major_text`): the whole units, and the minor units padded to the currency's
        places."""
        if paid.height == 0:
            return pl.Series("amount", [], dtype=pl.String)
        currencies = paid.get_column("Currency").unique().to_list()
        places = {currency: money.exponent(currency) for currency in currencies}
        place = pl.col("Currency").replace_strict(places, return_dtype=pl.Int64)
        minor = pl.col("Amount")
        text = pl.lit(None, dtype=pl.String)
        for count in sorted(set(places.values())):
            unit = 10**count
            written = (
                minor.cast(pl.String)
                if not count
                else pl.concat_str(
                    (minor // unit).cast(pl.String),
                    pl.lit("."),
                    (minor % unit).cast(pl.String).str.zfill(count),
                )
            )
            text = pl.when(place == count).then(written).otherwise(text)
        return paid.select(text.alias("amount")).to_series()

    def _key_numbers(self, paid: pl.DataFrame, new_keys: list[NewKey]) -> pl.Series:
        """The number of each paid row's match key (`match_key`), the same for this reader's
        every batch; a key numbered for the first time is added to `new_keys`."""
        names = [
            "Currency",
            "Payment Link ID",
            "Client Reference ID",
            "Description",
            *(f"{key}{METADATA_SUFFIX}" for key in self.layout.metadata),
        ]
        keys = paid.select(names)
        distinct = keys.unique(maintain_order=True)
        numbers = []
        for values in distinct.iter_rows():
            number = self.keys_seen.get(values)
            if number is not None:
                numbers.append(number)
                continue
            currency, link, reference, description, *shown = values
            metadata = self._shared(tuple(shown))
            key = match_key(currency, link, reference, description, metadata)
            number = self.key_numbers.get(key)
            if number is None:
                number = self.key_numbers[key] = self.next_key
                self.next_key += 1
                new_keys.append((number, currency, link, reference, description, metadata))
            self.keys_seen[values] = number
            numbers.append(number)
        distinct = distinct.with_columns(pl.Series("key", numbers, dtype=pl.Int64))
        joined = keys.join(distinct, on=names, how="left", maintain_order="left")
        return joined.get_column("key")

    def _kind(self, row: StripeRow) -> int | Unmoved:
        """What a row that is not only paid is for `PaidRows`: `_OTHER`, or how it moved no
        money (whether it has an id, its status, whether it was captured)."""
        money_in = row.status.lower() in MONEY_IN
        if not row.id or not row.captured or row.amount <= 0 or not money_in:
            return (bool(row.id), row.status, row.captured)
        return _OTHER

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


def _minutes_ok(rest: str) -> bool:
    """Whether `rest` ends a time well after an hour (as `:30:00`, `:30`, `:30:00Z`)."""
    if not _TIME.fullmatch(f"2000-01-01 00{rest}") or not rest:
        return False
    try:
        datetime.fromisoformat(f"2000-01-01 00{rest}".removesuffix("Z"))
    except ValueError:
        return False
    return True


def _captured(raw: str) -> bool:
    return raw.strip().lower() != "false"


def _lower(raw: str) -> str:
    return raw.strip().lower()


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
