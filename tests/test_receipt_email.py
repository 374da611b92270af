"""The thank-you for a payment carries its receipt: sent by `notifier remind` to a real SMTP
server on 127.0.0.1 (the fixtures of test_remind_smtp.py), and the PDF read back as the client
reads it."""

from __future__ import annotations

import io
import re

import pypdf

from tests import test_remind_smtp as smtp
from tests.scratch import example_books
from tests.test_remind_smtp import BATCH_DAY, Mailbox, remind, text_of

# The SMTP server's fixtures, shared with test_remind_smtp.py.
certificate = smtp.certificate
mailbox = smtp.mailbox

# Kessler pays the second instalment of HP-2026-029 by bank transfer, a few days before the batch.
PAYMENT = (
    "- {id: bank-20261210-kessler, invoice: HP-2026-029, date: 2026-12-10, amount: 3000.00,"
    " currency: EUR, method: bank, reference: HP-2026-029, plan: three-monthly, instalment: 2}\n"
)


def test_the_thank_you_for_a_payment_carries_its_receipt(mailbox: Mailbox, tmp_path):
    root = example_books(tmp_path)
    with (root / "data/records/payments.yaml").open("a", encoding="utf-8") as payments:
        payments.write(PAYMENT)
    result = remind(root, BATCH_DAY)
    assert result.exit_code == 0, result.output

    (kessler,) = [
        m for m in mailbox.messages() if "buchhaltung@kessler-maschinenbau" in str(m["To"])
    ]
    assert "3.000,00\xa0€" in text_of(kessler)  # thanked for in the email's words
    receipts = [
        part
        for part in kessler.iter_attachments()
        if re.fullmatch(r"HP-2026-029-R[0-9A-F]{6}\.pdf", part.get_filename() or "")
    ]
    assert len(receipts) == 1  # this payment's only: the first instalment was thanked for before
    (receipt,) = receipts
    assert receipt.get_content_type() == "application/pdf"
    number = str(receipt.get_filename()).removesuffix(".pdf")
    pages = pypdf.PdfReader(io.BytesIO(receipt.get_content())).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert number in text
    assert "3.000,00 €" in text.replace("\xa0", " ")
    assert "Rechnung HP-2026-029, Rate 2" in text  # in the client's language
