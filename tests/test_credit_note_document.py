"""A credit note's own PDF: printed by Typst beside the invoice's page, read back with pypdf, and
linked from the invoice's page and the client's statement (a copy of the example books, as of
2026-11-23)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from notifier import formatting
from notifier.account import account_of
from notifier.books.checks import check_books
from notifier.portal.build import Portal, Theme
from notifier.portal.views import client_views
from tests.scratch import example_books
from tests.test_documents import SECRET, assert_theme_fonts_only, kept_pdf, pdf_text

AS_OF = date(2026, 11, 23)
NOTE = (
    "  credit_notes:\n"
    "    - number: CN-2026-007\n"
    "      date: 2026-11-20\n"
    "      lines: [{description: Proof prints not needed, quantity: 2, unit_price: 50.00,"
    " tax_rate: 20%}]\n"
    "      reason: Proofs approved on screen\n"
)


def add_to_invoice(root: Path, number: str, text: str) -> None:
    path = root / "data" / "invoices" / "2026.yaml"
    books = path.read_text(encoding="utf-8")
    head = f"- number: {number}\n"
    assert head in books
    path.write_text(books.replace(head, head + text), encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = example_books(tmp_path / "books")
    add_to_invoice(root, "HP-2026-033", NOTE)  # Brightwater's, in pounds, in English
    return root


def test_a_credit_note_prints_on_one_page_with_what_the_account_says(root):
    books, problems = check_books(root)
    assert not [p for p in problems if p.severity == "error"], problems
    portal = Portal(root, books, Theme(root), AS_OF, False, None)
    view, invoice = next(
        (v, i)
        for v in client_views(account_of(books, AS_OF), SECRET)
        for i in v.invoices
        if i.number == "HP-2026-033"
    )
    ((name, (_, pdf)),) = portal.kept_pdfs(view, invoice)
    assert name == "CN-2026-007.pdf"
    assert isinstance(pdf, bytes)
    assert_theme_fonts_only(pdf)
    (page,) = pdf_text(pdf)  # one page
    text = " ".join(page.split())
    (credited,) = [r.amount for r in invoice.state.reductions if r.reference == "CN-2026-007"]
    assert credited == 12000  # 2 × 50.00 and 20% tax
    owed = invoice.account.owed.total
    assert owed > 0

    def pounds(minor: int) -> str:
        return formatting.amount(minor, "GBP", view.locale)

    assert "Credit note CN-2026-007" in text
    assert "Reduces invoice HP-2026-033" in text
    assert "Proof prints not needed" in text
    assert "Proofs approved on screen" in text
    assert f"−{pounds(credited)}" in text
    assert f"Invoice total {pounds(invoice.state.totals.total)}" in text
    assert f"Still owed on invoice HP-2026-033: {pounds(owed)}." in text


def test_the_credit_notes_pdf_is_beside_the_invoice_and_linked_where_it_is_shown(root):
    out = root / "public"
    command = [sys.executable, "-m", "notifier", "--root", str(root), "build", "--demo"]
    result = subprocess.run(
        [*command, "--out", str(out), "--as-of", AS_OF.isoformat()],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (page,) = out.rglob("HP-2026-033.html")
    pdf = page.parent / "CN-2026-007.pdf"
    assert "Credit note CN-2026-007" in pdf_text(pdf.read_bytes())[0]
    link = '<a href="CN-2026-007.pdf" download>Credit note (PDF)</a>'
    assert link in page.read_text(encoding="utf-8")
    statement = (page.parent / "index.html").read_text(encoding="utf-8")
    assert "Credit note CN-2026-007 on HP-2026-033 " + link in statement


def test_a_french_clients_credit_note_is_in_french(tmp_path):
    root = example_books(tmp_path / "books")
    add_to_invoice(
        root,
        "HP-2026-030",  # the Atelier Morel's, in euros, in French
        "  credit_notes:\n"
        "    - {number: CN-2026-001, date: 2026-11-20, amount: 650.00, reason: Retouches}\n",
    )
    _, pdf = kept_pdf(root, "HP-2026-030")
    text = " ".join(pdf_text(pdf)[0].split())
    assert "Avoir CN-2026-001" in text
    assert "Réduit la facture HP-2026-030" in text
    assert "Motif Retouches" in text
    assert "−650,00 €" in text
    for english in ("Credit note", "Reduces", "Reason", "Still owed", "Credited"):
        assert english not in text
