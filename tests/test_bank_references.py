"""RF references: the one on the page is the one in the EPC QR code and the one an import of the
bank's statement matches; any order and overlap of statements gives the same payments, once."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from notifier.account import references
from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.payments.bank_import import reconcile_statements
from notifier.payments.statements import BankCredit, Statement
from notifier.portal import epc
from tests.qr import read_svg
from tests.scratch import EXAMPLE, example_books

EXAMPLE_BOOKS, _ = check_books(EXAMPLE)
OPEN = ["HP-2026-028", "HP-2026-029", "HP-2026-030", "HP-2026-032"]  # in euros


def test_the_page_the_qr_code_and_the_import_agree_on_the_reference(tmp_path):
    root = example_books(tmp_path)
    out = tmp_path / "public"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "notifier",
            "--quiet",
            "--root",
            str(root),
            "build",
            "--demo",
            "--out",
            str(out),
            "--as-of",
            "2026-11-23",
        ],
        check=True,
    )
    (page,) = list(out.glob("p/*/HP-2026-030.html"))
    html = page.read_text()
    shown = re.search(r'<dd class="code reference">([^<]+)</dd>', html)[1]  # type: ignore[index]
    assert shown == "RF77 HP20 2603 0"
    drawn = re.search(r'<svg [^>]*class="qr">.*?</svg>', html, re.S)[0]  # type: ignore[index]
    lines = read_svg(drawn).bytes.split(b"\n")
    assert lines[9:] == [shown.replace(" ", "").encode()]  # structured, and no text after it
    # A bank statement carrying what the client's app filled in pays that invoice.
    statement = tmp_path / "camt.xml"
    fixture = Path(__file__).parent / "fixtures" / "bank" / "camt054-v08.xml"
    statement.write_text(fixture.read_text().replace("RF77HP2026030", lines[9].decode()))
    done = subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), "reconcile", str(statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (
        f"HP-2026-030 paid 3650.00 EUR on 2026-11-23 [2026112300417829], by the reference {lines[9].decode()}"
        in done.stdout
    )


def test_the_client_page_offers_one_transfer_for_everything_owed(tmp_path):
    root = example_books(tmp_path)
    out = tmp_path / "public"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "notifier",
            "--quiet",
            "--root",
            str(root),
            "build",
            "--demo",
            "--out",
            str(out),
            "--as-of",
            "2026-11-23",
        ],
        check=True,
    )
    index = next(p for p in out.glob("p/*/index.html") if "Kessler" in p.read_text())
    seen = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", index.read_text()))
    assert "Pay everything at once" in seen or "Alles auf einmal" in seen
    assert "RF19 KESS LER" in seen


def test_the_epc_payload_puts_an_rf_reference_in_the_structured_field_only():
    data = epc.payload("Atelier", "DE89370400440532013000", Decimal("1"), "RF77HP2026030")
    assert data.split(b"\n")[9:] == [b"RF77HP2026030"]
    # Check digits that do not hold: free text, as written.
    text = epc.payload("Atelier", "DE89370400440532013000", Decimal("1"), "RF78HP2026030")
    assert text.split(b"\n")[9:] == [b"", b"RF78HP2026030"]


def test_check_names_two_items_that_would_share_a_reference(tmp_path):
    root = example_books(tmp_path)
    invoices = root / "data" / "invoices" / "2026.yaml"
    text = invoices.read_text()
    invoices.write_text(text.replace("- number: HP-2026-034", "- number: HP2026-030", 1))
    _, problems = check_books(root)
    found = [str(p) for p in problems if "RF reference" in p.message]
    assert len(found) == 1
    assert found[0].endswith(
        "number: invoice HP2026-030 would get the RF reference RF77HP2026030, as invoice "
        "HP-2026-030 does; make them differ in their letters and digits, or set "
        "`payments.creditor_reference: invoice-number`"
    )


def test_references_fit_and_their_check_digits_hold():
    for number in ["HP-2026-014", "a" * 60, "ÄÖÜ-1", "2026/11/0001"]:
        for made in (
            references.invoice_reference(number),
            references.instalment_reference(number, 3, 36),
            references.statement_reference(number),
        ):
            assert len(made) <= 25
            assert references.grouped(made) != made  # valid: it is grouped
    assert references.found_in("Zahlung rf77 hp20 2603 0 danke")[0][0] == "RF77HP2026030"


def credit(n: int, number: str | None, minor: int, by_reference: bool) -> BankCredit:
    if number is None:
        text = "thank you"
    elif by_reference:
        text = f"payment {references.grouped(references.invoice_reference(number))}"
    else:
        text = f"invoice {number}"
    day = date(2026, 11, 15 + n % 8)  # every invoice of OPEN issued by then
    return BankCredit(
        "s", str(n), "DE89370400440532013000", day, day, minor, "EUR", "", text, f"TX{n}"
    )


transfers = st.lists(
    st.tuples(st.sampled_from([*OPEN, None]), st.integers(1, 400_000), st.booleans()),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transfers, st.data())
def test_any_order_and_overlap_of_statements_gives_the_same_payments_once(found, data):
    credits = [credit(n, *t) for n, t in enumerate(found)]
    # Statements: overlapping windows of the credits, imported in any order, some twice.
    windows = data.draw(
        st.lists(st.tuples(st.integers(0, len(credits)), st.integers(0, len(credits))), max_size=4)
    )
    parts = [credits[min(a, b) : max(a, b) + 1] for a, b in windows] + [credits]
    order = data.draw(st.permutations(parts))

    def imported(statements: list[list[BankCredit]]) -> set[tuple[object, ...]]:
        books: Books = EXAMPLE_BOOKS
        for part in statements:
            outcome = reconcile_statements(books, [Statement("s", "test", list(part))])
            books = dataclasses.replace(books, payments=[*books.payments, *outcome.payments])
        added = books.payments[len(EXAMPLE_BOOKS.payments) :]
        ids = [p.id for p in added]
        assert len(ids) == len(set(ids))
        return {(p.id, p.invoice, p.amount, p.plan, p.instalment) for p in added}

    once = imported([credits])
    assert imported(order) == once
    named = {f"TX{n}" for n, (number, _, _) in enumerate(found) if number is not None}
    assert {p[0] for p in once} == named  # each named transfer recorded, nothing guessed


def test_check_names_each_clash_at_its_line_on_every_run(tmp_path):
    """Two invoices alike in letters and digits, and an invoice named like a client: each clash is
    said once, at the line of the record that clashes, by a cold check and by the next one."""
    root = example_books(tmp_path)
    invoices = root / "data" / "invoices" / "2026.yaml"
    text = invoices.read_text()
    text = text.replace("- number: HP-2026-034", "- number: HP2026-030", 1)
    invoices.write_text(text.replace("- number: HP-2026-033", "- number: Tanaka", 1))
    command = [sys.executable, "-m", "notifier", "--root", str(root), "check"]
    wanted = [
        "data/invoices/2026.yaml:132: number: invoice Tanaka would get the RF reference "
        "RF63TANAKA, as the statement of client `tanaka` does; make them differ in their letters "
        "and digits, or set `payments.creditor_reference: invoice-number`",
        "data/invoices/2026.yaml:138: number: invoice HP2026-030 would get the RF reference "
        "RF77HP2026030, as invoice HP-2026-030 does; make them differ in their letters and "
        "digits, or set `payments.creditor_reference: invoice-number`",
    ]
    payments = root / "data" / "records" / "payments.yaml"
    for step in range(3):  # cold; with the verdict kept; with each invoice file's references kept
        if step == 2:
            payments.write_text(payments.read_text() + "# an edit\n")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 1
        assert [line for line in done.stderr.splitlines() if "RF reference" in line] == wanted
    assert (root / ".cache" / "books").is_dir()
    # A new file whose invoice is named like one of another file's, which is kept as it was.
    (root / "data" / "invoices" / "2027.yaml").write_text(
        "- number: HP.2026.031\n  client: kessler\n  issue_date: 2026-11-20\n"
        "  lines:\n    - {description: Design work, unit_price: 800.00}\n"
    )
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert [line for line in done.stderr.splitlines() if "RF reference" in line] == [
        *wanted,
        "data/invoices/2027.yaml:1: number: invoice HP.2026.031 would get the RF reference "
        f"{references.invoice_reference('HP-2026-031')}, as invoice HP-2026-031 does; make them "
        "differ in their letters and digits, or set `payments.creditor_reference: "
        "invoice-number`",
    ]


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=21))
def test_check_digits_are_iso_7064s(body):
    made = references.creditor_reference(body)
    assert made == f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"
    assert iso11649.is_valid(made)
