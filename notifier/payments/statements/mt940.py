"""SWIFT MT940 bank statements, read with the `mt-940` library (one file may hold several
statements, each ending in a line `-`). Each statement's balances must agree: the opening
balance and its entries make the closing balance, or the statement is cut or broken."""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import mt940

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

_TAG = re.compile(r"^:(\d\d[A-Z]?):", re.MULTILINE)
_END = re.compile(r"^-}?\s*$")


def read(path: Path, shown: str) -> Statement:
    """The credits of the MT940 statements at `path` (named `shown` in messages)."""
    statement = Statement(shown, "MT940")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = path.read_text(encoding="iso-8859-1")  # the SWIFT character set is a subset
    logging.getLogger("mt940").setLevel(logging.CRITICAL)  # what it cannot read, we say
    for first, lines in _messages(text.splitlines()):
        _message(lines, first, statement)
    statement.credits = numbered(statement.credits)
    return statement


def _messages(lines: list[str]) -> list[tuple[int, list[str]]]:
    """The statements of a file (each ends in a line `-`), with the line each starts on."""
    found, start = [], 0
    for n, line in enumerate(lines):
        if _END.match(line):
            found.append((start + 1, lines[start:n]))
            start = n + 1
    if any(line.strip() for line in lines[start:]):
        found.append((start + 1, lines[start:]))
    return found


def _message(lines: list[str], first: int, statement: Statement) -> None:
    text = "\n".join(lines)
    transactions = mt940.models.Transactions()
    try:
        transactions.parse(text)
    except (RuntimeError, ValueError) as error:
        statement.problem(_line_of(error, lines, first), _why(error))
        return
    data: dict[str, Any] = transactions.data
    opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
    closing_line = _tag_line(lines, first, "62")
    if opening is None or closing is None:
        where = _tag_line(lines, first, "60") if opening is None else closing_line
        which = "opening (:60F:)" if opening is None else "closing (:62F:)"
        statement.problem(where, f"the statement has no {which} balance: is it cut short?")
        return
    currency = str(opening.amount.currency)
    if str(closing.amount.currency) != currency:
        statement.problem(
            closing_line,
            f"the closing balance is in {closing.amount.currency}, the opening one in "
            f"{currency}: the wrong currency",
        )
        return
    moved = sum((Decimal(t.data["amount"].amount) for t in transactions), Decimal(0))
    if opening.amount.amount + moved != closing.amount.amount:
        statement.problem(
            closing_line,
            f"the closing balance {closing.amount.amount} {currency} is not the opening balance "
            f"{opening.amount.amount} and the entries ({moved:+}): a line is missing or broken",
        )
        return
    account = str(data.get("account_identification") or "")
    entries = [n for n, line in enumerate(lines) if line.startswith(":61:")]
    for at, transaction in zip(entries, transactions, strict=False):
        try:
            _transaction(transaction.data, first + at, account, currency, statement)
        except Unreadable as error:
            statement.problem(first + at, str(error))


def _transaction(
    data: dict[str, Any], line: int, account: str, currency: str, statement: Statement
) -> None:
    status = str(data.get("status") or "")
    if status != "C":
        statement.ignored["debits and reversals (money out)"] += 1
        return
    minor = minor_units(Decimal(data["amount"].amount), known_currency(currency))
    if minor <= 0:
        raise Unreadable(
            f"a credit of {data['amount'].amount} {currency}: a credit is more than zero"
        )
    given = data["date"]
    value = date(given.year, given.month, given.day)
    entry = data.get("entry_date") or given
    booked = date(entry.year, entry.month, entry.day)
    texts = [
        data.get(key) or ""
        for key in ("purpose", "transaction_details", "additional_purpose", "extra_details")
    ]
    customer = str(data.get("customer_reference") or "")
    if customer and customer != "NONREF":
        texts.append(customer)
    remittance = " ".join(" ".join(str(t).split()) for t in texts if t)
    ident = own_reference(str(data.get("bank_reference") or ""))
    counterparty = str(data.get("applicant_name") or "")
    statement.credits.append(
        BankCredit(
            statement.path,
            str(line),
            account,
            booked,
            value,
            minor,
            currency,
            counterparty,
            remittance,
            f"{account}:{ident}"
            if ident
            else digest_id(account, booked, minor, currency, remittance),
        )
    )


def _tag_line(lines: list[str], first: int, tag: str) -> int:
    """The line of the first field `:TAG` (any option letter), else the statement's first."""
    for n, line in enumerate(lines):
        found = _TAG.match(line)
        if found and found[1].startswith(tag):
            return first + n
    return first


def _line_of(error: Exception, lines: list[str], first: int) -> int:
    """The line of the field the library could not read (it names the field and its value)."""
    if len(error.args) >= 3:
        tag, value = error.args[1], str(error.args[2])
        head = value.splitlines()[0] if value else ""
        for n, line in enumerate(lines):
            if line.startswith(f":{getattr(tag, 'id', '')}") and head in line:
                return first + n
    return first


def _why(error: Exception) -> str:
    if len(error.args) >= 3:
        tag, value = error.args[1], str(error.args[2])
        name = re.sub(r"(?<!^)([A-Z])", r" \1", type(tag).__name__).lower()
        return f"the {name} (:{getattr(tag, 'id', '')}:) cannot be read: `{value}`"
    return f"the statement cannot be read: {error}"
