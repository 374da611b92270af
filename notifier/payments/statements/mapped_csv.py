"""A bank's own CSV statement, read by the columns the business maps once in business.yaml
(`payments.bank_csv`): which header holds the date, amount, currency, remittance text, and, if
the bank gives them, the counterparty, the transaction's id and the account. Rows above the
header (a bank's preamble) are skipped; a negative amount is money out."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from notifier.books import schema
from notifier.payments.statements.credit import (
    BankCredit,
    Statement,
    Unreadable,
    digest_id,
    known_currency,
    minor_units,
    numbered,
    own_reference,
)

PREAMBLE = 30  # rows looked through for the header


def _names(mapping: schema.BankCsv) -> dict[str, str]:
    """Each field the statement gives, by the header of its column."""
    columns = mapping.columns.model_dump(exclude_none=True)
    return {field: str(header) for field, header in columns.items()}


def _rows(text: str, mapping: schema.BankCsv) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=mapping.delimiter))


def looks_like(path: Path, mapping: schema.BankCsv | None) -> bool:
    """Whether the CSV file at `path` has the header the business mapped."""
    if mapping is None:
        return False
    try:
        text = path.read_bytes()[: 64 * 1024].decode(mapping.encoding, errors="replace")
    except OSError:
        return False
    return _header(_rows(text, mapping)[:PREAMBLE], mapping) is not None


def _header(rows: list[list[str]], mapping: schema.BankCsv) -> int | None:
    wanted = set(_names(mapping).values())
    for n, row in enumerate(rows[:PREAMBLE]):
        if wanted <= {cell.strip().lstrip("\ufeff") for cell in row}:
            return n
    return None


def read(path: Path, shown: str, mapping: schema.BankCsv) -> Statement:
    """The credits of the bank's CSV statement at `path` (named `shown` in messages)."""
    statement = Statement(shown, "bank CSV")
    try:
        text = path.read_text(encoding=mapping.encoding)
    except UnicodeDecodeError as error:
        statement.problem(1, f"the file is not {mapping.encoding} text ({error.reason})")
        return statement
    rows = _rows(text, mapping)
    start = _header(rows, mapping)
    if start is None:
        statement.problem(1, "no row has the column headers business.yaml maps (payments.bank_csv)")
        return statement
    header = [cell.strip().lstrip("\ufeff") for cell in rows[start]]
    at = {field: header.index(name) for field, name in _names(mapping).items()}
    for n, row in enumerate(rows[start + 1 :], start + 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            statement.problem(
                n, f"{len(row)} fields where the header has {len(header)}: is the file cut short?"
            )
            continue
        values = {field: row[column].strip() for field, column in at.items()}
        try:
            _row(values, n, mapping, statement)
        except Unreadable as error:
            statement.problem(n, str(error))
    statement.credits = numbered(statement.credits)
    return statement


def _row(values: dict[str, str], line: int, mapping: schema.BankCsv, statement: Statement) -> None:
    currency = known_currency(values["currency"])
    minor = minor_units(_plain(values["amount"], mapping.decimal), currency)
    if minor < 0:
        statement.ignored["debits and reversals (money out)"] += 1
        return
    if minor == 0:
        raise Unreadable(
            f"{mapping.columns.amount}: a credit of {values['amount']}: a credit is more than zero"
        )
    day = _day(values["date"], mapping)
    account = values.get("account", "")
    remittance = values["remittance"]
    ident = own_reference(values.get("id", ""))
    statement.credits.append(
        BankCredit(
            statement.path,
            str(line),
            account,
            day,
            day,
            minor,
            currency,
            values.get("counterparty", ""),
            remittance,
            (f"{account}:{ident}" if account else ident)
            if ident
            else digest_id(account, day, minor, currency, remittance),
        )
    )


def _plain(text: str, decimal: str) -> str:
    """An amount as the bank writes it (`1.234,56`, `-1,234.56`, `+12`) as a plain decimal."""
    thousands = "." if decimal == "," else ","
    plain = text.replace(" ", "").replace("\u00a0", "").replace(thousands, "").replace(decimal, ".")
    if plain.endswith("-"):  # some banks write the sign last
        plain = "-" + plain[:-1]
    return plain


def _day(text: str, mapping: schema.BankCsv) -> date:
    try:
        return datetime.strptime(text, mapping.date_format).date()  # noqa: DTZ007 (a day)
    except ValueError:
        raise Unreadable(
            f"{mapping.columns.date}: `{text}` is not a date like {mapping.date_format}"
        ) from None
