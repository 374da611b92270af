"""The documents a client keeps, printed by Typst and read back as a client's software would: the
text with pypdf, the QR codes rendered with pypdfium2 and read with zxing-cpp."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
import pytest
import zxingcpp

from notifier.account import account_of
from notifier.addresses import Secret
from notifier.books.checks import check_books
from notifier.portal import epc
from notifier.portal.build import Portal, Theme
from notifier.portal.views import ClientView, InvoiceView, client_views
from tests.scratch import example_books

AS_OF = date(2026, 11, 23)
SECRET = Secret(b"documents test secret", demo=False)


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


# The fonts of site/fonts, as a PDF names them: no document embeds another (Typst's own included).
THEME_FONTS = {"NotoSans-Regular", "NotoSans-Bold", "DejaVuSans", "DroidSansFallback"}


def embedded_fonts(pdf: bytes) -> set[str]:
    """The name of every font the PDF embeds, on its pages and in the drawings on them."""
    found: set[str] = set()

    def look(resources: Any) -> None:
        if resources is None:
            return
        for font in (resources.get("/Font") or {}).values():
            found.add(str(font.get_object()["/BaseFont"]))
        for drawing in (resources.get("/XObject") or {}).values():
            look(drawing.get_object().get("/Resources"))

    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        look(page.get("/Resources"))
    return found


def kept_pdf(root: Path, number: str) -> tuple[str, bytes]:
    """The one PDF kept beside invoice `number`'s page (a receipt or a credit note): its file's
    name and bytes."""
    books, _ = check_books(root)
    portal = Portal(root, books, Theme(root), AS_OF, False, None)
    view, invoice = next(
        (v, i)
        for v in client_views(account_of(books, AS_OF), SECRET)
        for i in v.invoices
        if i.number == number
    )
    ((name, (_, pdf)),) = portal.kept_pdfs(view, invoice)
    assert isinstance(pdf, bytes)
    return name, pdf


def assert_theme_fonts_only(pdf: bytes) -> None:
    fonts = embedded_fonts(pdf)
    # Embedded and subset (a six-letter tag before the name), each one of the theme's.
    assert all(re.fullmatch(r"/[A-Z]{6}\+.*", f) for f in fonts), fonts
    assert {f.split("+")[1] for f in fonts} <= THEME_FONTS, fonts


def qr_codes(pdf: bytes) -> list[bytes]:
    """Every QR code on the PDF's pages, as a banking app's camera would read them."""
    found = []
    document = pypdfium2.PdfDocument(pdf)
    for page in document:
        image = page.render(scale=4).to_pil()
        found += [c.bytes for c in zxingcpp.read_barcodes(image) if c.format.name == "QRCode"]
    return found


def printed(root: Path, as_of: date = AS_OF) -> dict[str, tuple[ClientView, InvoiceView, bytes]]:
    books, _ = check_books(root)
    portal = Portal(root, books, Theme(root), as_of, False, None)
    found = {}
    for view in client_views(account_of(books, as_of), SECRET):
        for invoice in view.invoices:
            pdf = portal.invoice_pdf(view, invoice)[1]
            assert isinstance(pdf, bytes)
            found[invoice.number] = (view, invoice, pdf)
    return found


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory):
    return printed(example_books(tmp_path_factory.mktemp("books")))


def test_every_example_invoice_prints_on_one_page_with_its_amounts_and_reference(examples):
    assert len(examples) >= 15
    for number, (_, invoice, pdf) in examples.items():
        pages = pdf_text(pdf)
        assert len(pages) == 1, number
        text = pages[0]
        assert f"{number}" in text
        owed = invoice.account.owed.total
        if owed and invoice.state.status.is_open:
            assert invoice.reference in text, number
        html_amounts = re.findall(r"\d[\d.,\u202f\u00a0 ']*\d", text)
        assert html_amounts, number


def test_no_web_only_element_is_on_a_document(examples):
    for number, (_, _, pdf) in examples.items():
        text = pdf_text(pdf)[0]
        for web in ("Ways to pay", "Demo", "Overdue", "days ago", "What happens next"):
            assert web not in text, (number, web)


def test_the_euro_invoices_qr_code_is_the_epc_payload_for_what_is_owed(examples):
    checked = 0
    for number, (_, invoice, pdf) in examples.items():
        owed = invoice.account.owed.total
        if invoice.state.currency != "EUR" or not owed or not invoice.state.status.is_open:
            continue
        bank = next(b for b in invoice.bank_accounts if b.iban)
        expected = epc.payload(bank.account_name, bank.iban, Decimal(owed) / 100, number, bank.bic)
        assert qr_codes(pdf) == [expected], number
        checked += 1
    assert checked >= 2


def test_unicode_names_print_in_the_shipped_fonts(tmp_path):
    root = example_books(tmp_path)
    clients = root / "data" / "clients.yaml"
    text = clients.read_text(encoding="utf-8")
    clients.write_text(
        text.replace("name: Kessler Maschinenbau GmbH", "name: Zoë Østergård 山田 Ελένη Дмитрий"),
        encoding="utf-8",
    )
    found = printed(root)
    pdf = next(pdf for _, (view, _, pdf) in found.items() if view.client.id == "kessler")
    assert "Zoë Østergård 山田 Ελένη Дмитрий" in pdf_text(pdf)[0]
    assert_theme_fonts_only(pdf)
    fonts = {f.split("+")[1] for f in embedded_fonts(pdf)}
    assert {"NotoSans-Regular", "DroidSansFallback"} <= fonts


def test_every_document_is_set_in_the_themes_fonts_only(examples, tmp_path):
    """Negative amounts (a discount, a payment) have a minus sign Noto Sans lacks: it is set in
    the theme's DejaVu Sans, never in a font of Typst's own."""
    for _, _, pdf in examples.values():
        assert_theme_fonts_only(pdf)
    text = pdf_text(examples["HP-2026-026"][2])[0]
    assert "−£323.00" in text
    assert "DejaVuSans" in {f.split("+")[1] for f in embedded_fonts(examples["HP-2026-026"][2])}
    root = example_books(tmp_path)
    books, _ = check_books(root)
    portal = Portal(root, books, Theme(root), AS_OF, False, None)
    for view in client_views(account_of(books, AS_OF), SECRET):
        for invoice in view.invoices:
            for _, (_, receipt) in portal.kept_pdfs(view, invoice):
                assert isinstance(receipt, bytes)
                assert_theme_fonts_only(receipt)


def test_a_long_invoice_continues_cleanly_with_its_totals_on_the_last_page(tmp_path):
    root = example_books(tmp_path)
    invoices = root / "data" / "invoices" / "2026.yaml"
    text = invoices.read_text(encoding="utf-8")
    start = text.index("- number: HP-2026-022")
    lines = "".join(
        f'    - {{description: "Workshop day {n}", unit_price: 1000}}\n' for n in range(1, 61)
    )
    end = text.index("\n\n", start)
    block = text[start:end]
    long_block = block[: block.index("  lines:\n") + len("  lines:\n")] + lines.rstrip("\n")
    invoices.write_text(text[:start] + long_block + text[end:], encoding="utf-8")
    pages = pdf_text(printed(root)["HP-2026-022"][2])
    assert len(pages) >= 2
    assert all("Workshop day" in page for page in pages)  # lines on every page: no page of totals
    assert "Total" in pages[-1]
    assert "Total" not in "".join(pages[:-1]).replace("Subtotal", "")
    assert "Invoice HP-2026-022 (continued)" in pages[1]
    assert f"Page 2 of {len(pages)}" in pages[1]


def test_a_one_page_document_ends_with_the_business_and_no_page_number(examples):
    """A document of one page is printed without page numbers (a longer one is printed again
    with them: see the test above), its footer still the business's name and address."""
    footer = "Harbour & Pine Studio Ltd · Unit 4, 18 Cable Street London E1 8JG United Kingdom"
    for number, (_, _, pdf) in examples.items():
        (text,) = pdf_text(pdf)
        assert text.rstrip().endswith(footer), number
        assert "Page 1" not in text, number


def test_a_franc_invoice_of_ten_lines_and_its_swiss_qr_bill_fit_on_one_page(tmp_path):
    """The QR-bill's payment part sits at the foot of the page, as the Swiss standard places it,
    below the lines, the totals and the terms: all on one A4 page, and read back as it should."""
    root = example_books(tmp_path)
    business = root / "data" / "business.yaml"
    business.write_text(
        business.read_text(encoding="utf-8").replace(
            "  bank_accounts:\n",
            "  bank_accounts:\n    - currency: CHF\n      account_name: Harbour & Pine Studio Ltd\n"
            "      iban: CH93 0076 2011 6238 5295 7\n",
        ),
        encoding="utf-8",
    )
    clients = root / "data" / "clients.yaml"
    clients.write_text(
        clients.read_text(encoding="utf-8")
        + "\n- id: zurich\n  name: Bergli Verlag AG\n  address: |\n    Seestrasse 5\n"
        "    8002 Zürich\n  country: CH\n  currency: CHF\n  locale: de_CH\n"
        "  contacts:\n    - {name: Urs Bergli, email: urs@bergli.example.ch}\n",
        encoding="utf-8",
    )
    invoices = root / "data" / "invoices" / "2026.yaml"
    invoices.write_text(
        invoices.read_text(encoding="utf-8")
        + "\n- number: HP-2026-090\n  client: zurich\n  issue_date: 2026-11-10\n"
        "  currency: CHF\n  notes: Bitte bei der Zahlung die Referenz angeben.\n  lines:\n"
        + "".join(
            f'    - {{description: "Buchumschlag, Satz und Korrektur Band {n}", quantity: {n},'
            " unit_price: 245.05}\n"
            for n in range(1, 11)
        ),
        encoding="utf-8",
    )
    _, invoice, pdf = printed(root)["HP-2026-090"]
    codes = qr_codes(pdf)
    assert len(codes) == 1
    fields = (
        codes[0].decode("utf-8").split("\r\n")
        if b"\r\n" in codes[0]
        else codes[0].decode("utf-8").split("\n")
    )
    assert fields[0:3] == ["SPC", "0200", "1"]
    assert fields[3] == "CH9300762011623852957"
    assert "Harbour & Pine Studio Ltd" in fields
    assert f"{Decimal(invoice.account.owed.total) / 100:.2f}" in fields
    assert "CHF" in fields
    assert "Bergli Verlag AG" in fields
    assert invoice.reference in fields
    (text,) = pdf_text(pdf)  # one page
    assert "Band 10" in text
    assert "Zahlteil" in text  # the payment part, in the client's language
    # Nothing printed over the payment part: the page's footer is left off where it sits.
    assert "Harbour & Pine Studio Ltd · Unit 4" not in text


def test_a_receipt_says_what_was_paid_how_for_what_and_what_remains(tmp_path):
    name, pdf = kept_pdf(example_books(tmp_path), "HP-2026-029")
    assert name == "HP-2026-029-R0FE848.pdf"
    text = " ".join(pdf_text(pdf)[0].split())
    snapshot = Path(__file__).parent / "snapshots" / "receipt-HP-2026-029.txt"
    assert text == snapshot.read_text(encoding="utf-8").strip()


def test_the_same_books_and_date_print_the_same_bytes(tmp_path):
    root = example_books(tmp_path)
    one = {n: pdf for n, (_, _, pdf) in printed(root).items()}
    two = {n: pdf for n, (_, _, pdf) in printed(root).items()}
    assert one == two
    info = pypdf.PdfReader(io.BytesIO(one["HP-2026-022"])).metadata
    assert info is not None
    assert (
        str(info["/CreationDate"]) == "D:20260815000000Z"
    )  # the invoice's issue day, not the clock
    json.dumps(info)  # plain values only


# The theme's English words a document may show; a German or French client sees none of them.
ENGLISH_WORDS = (
    "How to pay",
    "Where it stands",
    "Payments received",
    "Payment terms",
    "Receipt number",
    "Amount received",
    "Received from",
    "Invoice total",
    "Still owed",
    "Invoice HP-",
    ", instalment",
)


def test_a_german_or_french_clients_documents_have_no_english_theme_word(examples, tmp_path):
    kessler = examples["HP-2026-029"][2]  # German, owing, paid in part: every section shown
    text = " ".join(pdf_text(kessler))
    assert "SO BEZAHLEN SIE" in text  # a section's heading, in capitals
    assert "Stand und Zahlungswege:" in text
    root = example_books(tmp_path)
    books, _ = check_books(root)
    portal = Portal(root, books, Theme(root), AS_OF, False, None)
    checked = set()
    for view in client_views(account_of(books, AS_OF), SECRET):
        if view.locale[:2] not in ("de", "fr"):
            continue
        for invoice in view.invoices:
            documents = [examples[invoice.number][2]]
            documents += [pdf for _, (_, pdf) in portal.kept_pdfs(view, invoice)]
            for pdf in documents:
                assert isinstance(pdf, bytes)
                words = " ".join(" ".join(pdf_text(pdf)).split()).casefold()
                for english in ENGLISH_WORDS:
                    assert english.casefold() not in words, (invoice.number, english)
            checked.add(view.locale[:2])
    assert checked == {"de", "fr"}
