"""OFX bank statements, 1.x (SGML) and 2.x (XML), read with `ofxtools`. Each transaction's FITID
is the bank's own id of it, unique within the account."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ofxtools.Parser import OFXTree

from notifier.payments.statements.credit import (
    BankCredit,
    Statement,
    Unreadable,
    known_currency,
    minor_units,
    numbered,
)

# Transaction types that bring money in (a credit with another type is read by its sign).
_MONEY_OUT = {"DEBIT", "PAYMENT", "CHECK", "FEE", "SRVCHG", "ATM", "POS", "DIRECTDEBIT", "CASH"}


def read(path: Path, shown: str) -> Statement:
    """The credits of the OFX statement at `path` (named `shown` in messages)."""
    statement = Statement(shown, "OFX")
    lines = path.read_bytes().decode("latin-1").splitlines()
    parser = OFXTree()
    try:
        parser.parse(str(path))
        ofx: Any = parser.convert()
    except Exception as error:  # ofxtools raises its own and the XML parser's errors alike
        statement.problem(
            _line_in(error, len(lines)),
            f"the OFX cannot be read: {_first_line(error)}: is the file cut short?",
        )
        return statement
    for found in ofx.statements:
        account = str(found.account.acctid)
        for transaction in found.transactions:
            line = _fitid_line(lines, str(transaction.fitid))
            try:
                _transaction(transaction, line, account, str(found.curdef), statement)
            except Unreadable as error:
                statement.problem(line, str(error))
    statement.credits = numbered(statement.credits)
    return statement


def _transaction(
    transaction: Any, line: int, account: str, currency_default: str, statement: Statement
) -> None:
    amount: Decimal = transaction.trnamt
    kind = str(transaction.trntype)
    if kind in _MONEY_OUT or amount < 0:
        if kind == "CREDIT" and amount < 0:
            raise Unreadable(f"a credit of {amount}: a credit is more than zero")
        statement.ignored["debits and reversals (money out)"] += 1
        return
    given = getattr(transaction, "currency", None)
    currency = known_currency(str(given.cursym) if given is not None else currency_default)
    minor = minor_units(amount, currency)
    if minor <= 0:
        raise Unreadable(f"a credit of {amount} {currency}: a credit is more than zero")
    posted: datetime = transaction.dtposted
    booked = posted.date()
    available = getattr(transaction, "dtavail", None)
    value: date = available.date() if available is not None else booked
    texts = [transaction.name, transaction.memo, getattr(transaction, "refnum", None)]
    remittance = " ".join(str(t) for t in texts if t)
    statement.credits.append(
        BankCredit(
            statement.path,
            str(line),
            account,
            booked,
            value,
            minor,
            currency,
            str(transaction.name or getattr(transaction, "payee", None) or ""),
            remittance,
            f"{account}:{transaction.fitid}",
        )
    )


def _fitid_line(lines: list[str], fitid: str) -> int:
    for n, line in enumerate(lines, 1):
        if re.search(rf"<FITID>\s*{re.escape(fitid)}\b", line):
            return n
    return 1


def _line_in(error: Exception, count: int) -> int:
    """The line an error names (the XML parser's position), else the last: a file cut short
    breaks at its end."""
    position = getattr(error, "position", None)
    if position:
        return int(position[0])
    found = re.search(r"line (\d+)", str(error))
    return int(found[1]) if found else max(count, 1)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
