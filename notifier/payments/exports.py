"""Read Stripe's CSV exports, row by row, into `StripeRow`s: which export a file is comes from its
header row, never from column positions.

Two exports are understood: the Payments export (its default columns, the all-columns layout, and
the older layout whose date column is `Created (UTC)`) and the Balance history export. Files are
streamed with the csv module, so memory does not grow with the file. A value that does not parse is
a `RowProblem` naming the file, line and column; the row is not skipped silently.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from notifier import money

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


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to build, a million times over
class StripeRow:
    """One row of an export (or one payment read from the API), in the books' terms.

    `id` is Stripe's id of the money movement: the charge (`ch_`, `py_`) for a payment, the refund
    or other source for a balance entry. Amounts are minor units of `currency`, the currency the
    client paid in (never the converted, settlement currency). Read-only by convention."""

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
    metadata: dict[str, str] = field(default_factory=dict)
    payment_link: str = ""
    client_reference: str = ""
    payment_intent: str = ""
    disputed: int = 0
    dispute_status: str = ""
    disputed_on: date | None = None
    kind: str = ""  # a balance entry's Type: charge, payment, refund, payout, ...


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
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        yield RowProblem(shown, 1, 1, "", f"cannot be read: {exc.strerror or exc}")
        return
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            yield RowProblem(shown, 1, 1, "", _unreadable(exc))
            return
        if header is None:
            yield RowProblem(shown, 1, 1, "", "the file is empty")
            return
        layout = recognise(header)
        if isinstance(layout, str):
            yield RowProblem(shown, 1, 1, "", layout)
            return
        read_row = _payments_row if layout.export == "payments" else _balance_row
        days = _Days(zone)
        width = len(header)
        # Every column read has an index; one the export lacks points at an empty last cell.
        columns = {name: layout.columns.get(name, -1) for name in _READ}
        line = reader.line_num + 1
        try:
            for values in reader:
                if any(values):
                    if len(values) < width:
                        values.extend([""] * (width - len(values)))
                    values.append("")
                    yield read_row(_Cells(shown, line, values, columns, layout), days)
                line = reader.line_num + 1
        except (UnicodeDecodeError, csv.Error) as exc:
            yield RowProblem(shown, line, 1, "", _unreadable(exc))


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "the file is not UTF-8 text (export it again from Stripe, unchanged)"
    return f"is not valid CSV: {exc}"


class _Bad(Exception):
    def __init__(self, problem: RowProblem) -> None:
        self.problem = problem


class _Cells:
    """The values of one row, read by column name, each failure naming its column."""

    __slots__ = ("columns", "layout", "line", "source", "values")

    def __init__(
        self,
        source: str,
        line: int,
        values: list[str],
        columns: dict[str, int],
        layout: _Layout,
    ) -> None:
        self.source = source
        self.line = line
        self.values = values
        self.columns = columns
        self.layout = layout

    def text(self, name: str) -> str:
        return self.values[self.columns[name]].strip()

    def fail(self, name: str, message: str) -> _Bad:
        index = max(self.columns.get(name, 0), 0)
        return _Bad(RowProblem(self.source, self.line, index + 1, name, message))

    def currency(self, name: str) -> str:
        code = self.text(name).upper()
        if not money.is_currency(code):
            raise self.fail(name, f"`{self.text(name)}` is not a currency code")
        return code

    def amount(self, name: str, currency: str, *, signed: bool = False) -> int:
        """Major units with a `.` decimal point, as minor units of `currency`; empty is 0."""
        raw = self.text(name)
        if not raw:
            return 0
        quick = _quick_minor(raw, money.exponent(currency))
        if quick is not None:
            return quick
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or "," in raw or "e" in raw.lower() or "_" in raw:
            raise self.fail(
                name, f"`{raw}` is not an amount (major units with a `.` decimal point, as 1250.00)"
            )
        if value < 0 and not signed:
            raise self.fail(name, f"`{raw}` is negative")
        try:
            return money.to_minor(value, currency)
        except money.AmountError as exc:
            raise self.fail(name, str(exc)) from None

    def day(self, name: str, days: _Days, *, required: bool = True) -> date | None:
        """A UTC time as the business's day; Stripe writes seconds, older exports minutes."""
        raw = self.text(name)
        if not raw:
            if required:
                raise self.fail(name, "a date is required")
            return None
        found = days.local(raw)
        if found is None:
            raise self.fail(name, f"`{raw}` is not a time like 2026-11-23 09:30:00")
        return found


_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?Z?)?")


class _Days:
    """UTC times as days in one time zone, remembered by the hour: an export of a million rows
    spans a few thousand hours, and the zone's rules are the slow part."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.by_hour: dict[str, date] = {}

    def local(self, raw: str) -> date | None:
        if not _TIME.fullmatch(raw):
            return None
        hour = raw[:13]
        found = self.by_hour.get(hour)
        if found is not None:
            return found
        try:
            moment = datetime.fromisoformat(raw.removesuffix("Z")).replace(tzinfo=UTC)
        except ValueError:
            return None
        day = moment.astimezone(self.zone).date()
        # Zones a half or quarter hour off UTC change day within an hour: not remembered.
        start = moment.replace(minute=0, second=0).astimezone(self.zone).date()
        end = moment.replace(minute=59, second=59).astimezone(self.zone).date()
        if len(raw) >= 13 and start == end:
            self.by_hour[hour] = day
        return day


def _quick_minor(raw: str, places: int) -> int | None:
    """`raw` (as `1320.00`) in minor units without Decimal, or None to take the careful path."""
    whole, dot, fraction = raw.partition(".")
    if not whole.isdigit() or not whole.isascii() or (dot and not fraction.isdigit()):
        return None
    if len(fraction) > places or not fraction.isascii():
        return None
    return int(whole + fraction.ljust(places, "0")) if places else int(whole)


def _payments_row(cells: _Cells, zone: _Days) -> StripeRow | RowProblem:
    values, columns = cells.values, cells.columns
    try:
        ident = values[columns["id"]].strip()
        currency = cells.currency("Currency") if ident else cells.text("Currency").upper()
        if not ident:  # attempts that never became a payment (requires_payment_method)
            return StripeRow(
                cells.source,
                cells.line,
                "payments",
                "",
                date.min,
                values[columns["Status"]].strip(),
                currency,
                0,
            )
        amount = cells.amount("Amount", currency)
        day = cells.day("Created (UTC)", zone)
        assert day is not None
        captured = values[columns["Captured"]].strip().lower()
        return StripeRow(
            source=cells.source,
            line=cells.line,
            export="payments",
            id=ident,
            day=day,
            status=values[columns["Status"]].strip(),
            currency=currency,
            amount=amount,
            refunded=cells.amount("Amount Refunded", currency),
            refunded_on=cells.day("Refunded date (UTC)", zone, required=False),
            captured=captured != "false",
            description=values[columns["Description"]].strip(),
            metadata={
                key: values[index].strip()
                for key, index in cells.layout.metadata.items()
                if values[index].strip()
            },
            payment_link=values[columns["Payment Link ID"]].strip(),
            client_reference=values[columns["Client Reference ID"]].strip(),
            payment_intent=values[columns["PaymentIntent ID"]].strip(),
            disputed=cells.amount("Disputed Amount", currency),
            dispute_status=cells.text("Dispute Status").lower(),
            disputed_on=cells.day("Dispute Date (UTC)", zone, required=False),
        )
    except _Bad as bad:
        return bad.problem


def _balance_row(cells: _Cells, zone: _Days) -> StripeRow | RowProblem:
    try:
        # `Amount` is in the balance's (settlement) currency; what the client paid is the
        # customer-facing amount, when Stripe converted it.
        facing = cells.text("Customer Facing Currency")
        if facing:
            currency = cells.currency("Customer Facing Currency")
            amount = cells.amount("Customer Facing Amount", currency, signed=True)
        else:
            currency = cells.currency("Currency")
            amount = cells.amount("Amount", currency, signed=True)
        day = cells.day("Created (UTC)", zone)
        assert day is not None
        kind = cells.text("Type").lower()
        return StripeRow(
            source=cells.source,
            line=cells.line,
            export="balance",
            id=cells.text("Source") or cells.text("id"),
            day=day,
            status="",
            currency=currency,
            amount=amount,
            description=cells.text("Description"),
            kind=kind,
        )
    except _Bad as bad:
        return bad.problem
