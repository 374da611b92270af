"""ISO 20022 bank statements: CAMT.053 (BankToCustomerStatement) and CAMT.054
(BankToCustomerDebitCreditNotification), versions 02 to 08, read with the standard library's XML
parser. Each booked credit entry is one credit; an entry that batches several transactions
(several `TxDtls`, each with its amount) gives one credit for each."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

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

NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.05([34])\.001\.0([2-8])")
_REPORTS = {"3": ("BkToCstmrStmt", "Stmt"), "4": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}


class _Tree:
    """The document's elements by their names without the namespace, and each one's path."""

    def __init__(self, namespace: str) -> None:
        self.ns = f"{{{namespace}}}"

    def all(self, element: ET.Element, path: str) -> list[ET.Element]:
        return element.findall("/".join(self.ns + part for part in path.split("/")))

    def one(self, element: ET.Element, path: str) -> ET.Element | None:
        return element.find("/".join(self.ns + part for part in path.split("/")))

    def text(self, element: ET.Element, *paths: str) -> str:
        """The text of the first of `paths` under `element` that has some, else ""."""
        for path in paths:
            found = self.one(element, path)
            if found is not None and found.text and found.text.strip():
                return found.text.strip()
        return ""


def read(path: Path, shown: str) -> Statement:
    """The credits of the CAMT statement at `path` (named `shown` in messages)."""
    statement = Statement(shown, "CAMT")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        line, column = error.position
        reason = str(error).split(":")[0]
        message = f"column {column + 1}: the XML cannot be read ({reason}): is the file cut short?"
        statement.problem(line, message)
        return statement
    shape = NAMESPACE.fullmatch(root.tag[1:].partition("}")[0]) if root.tag[:1] == "{" else None
    if shape is None or root.tag.rpartition("}")[2] != "Document":
        message = "not a CAMT.053 or CAMT.054 document of versions 02 to 08"
        statement.problem("/" + root.tag, message)
        return statement
    tree = _Tree(root.tag[1:].partition("}")[0])
    report, each = _REPORTS[shape[1]]
    statement.format = f"CAMT.05{shape[1]}"
    for n, account_report in enumerate(tree.all(root, f"{report}/{each}"), 1):
        where = f"/Document/{report}/{each}[{n}]"
        _report(tree, account_report, where, statement)
    statement.credits = numbered(statement.credits)
    return statement


def _report(tree: _Tree, report: ET.Element, where: str, statement: Statement) -> None:
    account = tree.text(report, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
    kept_in = tree.text(report, "Acct/Ccy")
    for n, entry in enumerate(tree.all(report, "Ntry"), 1):
        at = f"{where}/Ntry[{n}]"
        try:
            _entry(tree, entry, at, account, kept_in, statement)
        except _Problem as problem:
            statement.problem(problem.at, str(problem))


class _Problem(Unreadable):
    def __init__(self, at: str, message: str) -> None:
        super().__init__(message)
        self.at = at


def _entry(
    tree: _Tree, entry: ET.Element, at: str, account: str, kept_in: str, statement: Statement
) -> None:
    status = tree.text(entry, "Sts/Cd", "Sts")
    if status and status != "BOOK":
        statement.ignored[f"entries not booked yet ({status})"] += 1
        return
    side = tree.text(entry, "CdtDbtInd")
    reversal = tree.text(entry, "RvslInd").lower() == "true"
    if side not in ("CRDT", "DBIT"):
        raise _Problem(f"{at}/CdtDbtInd", f"`{side}` is neither CRDT nor DBIT")
    amount_at = f"{at}/Amt"
    currency, minor = _amount(tree, entry, amount_at, kept_in)
    if side == "DBIT" or reversal:
        statement.ignored["debits and reversals (money out)"] += 1
        return
    if minor <= 0:
        raise _Problem(
            amount_at,
            f"a credit of {tree.text(entry, 'Amt')} {currency}: a credit is more than zero",
        )
    booked = _day(tree, entry, "BookgDt", at)
    value = _day(tree, entry, "ValDt", at) if tree.one(entry, "ValDt") is not None else booked
    bank_id = own_reference(tree.text(entry, "AcctSvcrRef"))
    details = tree.all(entry, "NtryDtls/TxDtls")
    extra = tree.text(entry, "AddtlNtryInf")
    if len(details) <= 1:
        part = details[0] if details else None
        _credit(tree, part, at, account, booked, value, minor, currency, bank_id, extra, statement)
        return
    for n, part in enumerate(details, 1):
        part_at = f"{at}/NtryDtls/TxDtls[{n}]"
        found = tree.one(part, "AmtDtls/TxAmt/Amt")
        found = found if found is not None else tree.one(part, "Amt")
        if found is None:
            raise _Problem(
                part_at, "a batched transaction without its own amount (AmtDtls/TxAmt/Amt)"
            )
        part_currency, part_minor = _value(found, f"{part_at}/Amt", kept_in)
        if part_minor <= 0:
            raise _Problem(f"{part_at}/Amt", "a credit is more than zero")
        own = own_reference(tree.text(part, "Refs/AcctSvcrRef")) or (
            f"{bank_id}-{n}" if bank_id else ""
        )
        _credit(
            tree,
            part,
            part_at,
            account,
            booked,
            value,
            part_minor,
            part_currency,
            own,
            extra,
            statement,
        )


def _credit(
    tree: _Tree,
    part: ET.Element | None,
    at: str,
    account: str,
    booked: date,
    value: date,
    minor: int,
    currency: str,
    bank_id: str,
    extra: str,
    statement: Statement,
) -> None:
    texts, counterparty = [], ""
    if part is not None:
        texts = [e.text.strip() for e in tree.all(part, "RmtInf/Ustrd") if e.text]
        texts += [e.text.strip() for e in tree.all(part, "RmtInf/Strd/CdtrRefInf/Ref") if e.text]
        bank_id = bank_id or own_reference(tree.text(part, "Refs/AcctSvcrRef"))
        counterparty = tree.text(part, "RltdPties/Dbtr/Nm", "RltdPties/Dbtr/Pty/Nm")
    if extra:
        texts.append(extra)
    remittance = " ".join(texts)
    ident = bank_id or digest_id(account, booked, minor, currency, remittance)
    statement.credits.append(
        BankCredit(
            statement.path,
            at,
            account,
            booked,
            value,
            minor,
            currency,
            counterparty,
            remittance,
            ident,
        )
    )


def _amount(tree: _Tree, entry: ET.Element, at: str, kept_in: str) -> tuple[str, int]:
    found = tree.one(entry, "Amt")
    if found is None:
        raise _Problem(at, "the entry has no amount")
    return _value(found, at, kept_in)


def _value(element: ET.Element, at: str, kept_in: str) -> tuple[str, int]:
    """The currency and amount (minor units) of an `Amt` element."""
    try:
        currency = known_currency(element.get("Ccy", ""))
        if kept_in and currency != kept_in:
            raise Unreadable(
                f"an amount in {currency} on an account kept in {kept_in}: the wrong currency"
            )
        return currency, minor_units(element.text or "", currency)
    except Unreadable as error:
        raise _Problem(at, str(error)) from None


def _day(tree: _Tree, entry: ET.Element, name: str, at: str) -> date:
    text = tree.text(entry, f"{name}/Dt", f"{name}/DtTm")
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise _Problem(f"{at}/{name}", f"`{text}` is not a date") from None
