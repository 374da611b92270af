"""The invoice itself, sent on its issue date by the `issued` stage (its PDF attached, the page's
address, the terms and the ways to pay, in the client's language), never twice, never for the
invoices issued before the cut-off; and `remind --now CLIENT [--stage NAME]`, one client's message
today outside the schedule. Through the command line, against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import io
import re
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pypdf
from click.testing import CliRunner, Result

from notifier import formatting
from notifier.account import account_of
from notifier.addresses import Secret, client_page, client_token
from notifier.books.checks import check_books
from notifier.cli import cli
from tests.scratch import example_books
from tests.test_remind_smtp import (
    SECRET,
    certificate,
    mailbox,
    records,
    remind,
    text_of,
)

__all__ = ["certificate", "mailbox"]  # fixtures, used by name below

ISSUE_DAY = "2026-11-25"  # a Wednesday: HP-2026-031 (brightwater) and HP-2026-040 (kessler) issued

KESSLER_INVOICE = """
- number: HP-2026-040
  client: kessler
  issue_date: 2026-11-25
  lines:
    - {description: Messestand Grafik, unit_price: 2500.00}
"""


def books_issuing(tmp_path: Path, cut_off: str | None = "2026-11-23") -> Path:
    """The example books where HP-2026-031 is issued on ISSUE_DAY (no longer a draft) and so is a
    German client's HP-2026-040; `reminders.send_invoices_from` is `cut_off` (None: unset)."""
    root = example_books(tmp_path)
    invoices = root / "data/invoices/2026.yaml"
    text = invoices.read_text(encoding="utf-8")
    text = text.replace("  issue_date: 2026-11-25\n  draft: true\n", "  issue_date: 2026-11-25\n")
    invoices.write_text(text + KESSLER_INVOICE, encoding="utf-8")
    business = root / "data/business.yaml"
    stated = "  send_invoices_from: 2026-11-23\n"
    settings = business.read_text(encoding="utf-8")
    assert stated in settings
    wanted = f"  send_invoices_from: {cut_off}\n" if cut_off else ""
    business.write_text(settings.replace(stated, wanted), encoding="utf-8")
    return root


def invoice_emails(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    """The invoice emails received, by the invoice number(s) in their subject."""
    found = {}
    for message in messages:
        subject = str(message["Subject"])
        if re.match(r"(Invoice|Rechnung)", subject):
            found[" ".join(re.findall(r"HP-\d{4}-\d{3}", subject))] = message
    return found


def pdf_text(message: EmailMessage) -> list[tuple[str, str]]:
    """Each attachment's file name and its text, read back from the PDF."""
    found = []
    for part in message.iter_attachments():
        data = part.get_content()
        assert isinstance(data, bytes)
        assert data.startswith(b"%PDF-")
        reader = pypdf.PdfReader(io.BytesIO(data))
        found.append((str(part.get_filename()), "".join(p.extract_text() for p in reader.pages)))
    return found


def owed_as_the_account_says(root: Path, number: str, locale: str) -> str:
    """What the account of ISSUE_DAY asks of `number` now, as the client's language writes it."""
    books, _ = check_books(root)
    invoice = account_of(books, date.fromisoformat(ISSUE_DAY)).invoices[number]
    return formatting.amount(invoice.pay_now, invoice.currency, locale)


def page_of(client: str) -> str:
    token = client_token(Secret(SECRET.encode(), demo=False), client)
    return "https://pay.harbourpine.example.com/" + client_page(token)


def stages_recorded(root: Path, stage: str) -> list[tuple[Any, ...]]:
    return [(r["status"], tuple(r["items"])) for r in records(root) if r["stage"] == stage]


# The invoice on its issue day -------------------------------------------------------------------


def test_the_invoice_goes_on_its_issue_day_with_its_pdf_page_and_amount(mailbox, tmp_path):
    root = books_issuing(tmp_path)
    result = remind(root, ISSUE_DAY)
    assert result.exit_code == 0, result.output

    sent = invoice_emails(mailbox.messages())
    assert sorted(sent) == ["HP-2026-031", "HP-2026-040"]  # none issued before today
    brightwater = sent["HP-2026-031"]
    assert brightwater["Subject"] == "Invoice HP-2026-031 from Harbour & Pine Studio"
    body = text_of(brightwater)
    owed = owed_as_the_account_says(root, "HP-2026-031", "en_GB")
    assert owed == "£1,411.20"  # £1,440.00 less the 2% for paying within 10 days
    assert f"- Invoice HP-2026-031 of 25 November 2026, due 25 December 2026: {owed}\n" in body
    assert (
        "Paid in full by 5 December 2026, invoice HP-2026-031 is £28.80 less, as the amount "
        "above already shows; after that, £1,440.00 is due." in body
    )
    assert page_of("brightwater") in body
    assert "sort code 12-34-56, account number 98765432" in body
    # The structured creditor reference the bank carries back (ISO 11649), not the bare number.
    assert "with the reference RF50HP2026031." in body
    ((name, text),) = pdf_text(brightwater)
    assert name == "HP-2026-031.pdf"
    assert "HP-2026-031" in text
    assert "1,440.00" in text  # the invoice's total

    assert stages_recorded(root, "invoice") == [
        ("sending", ("HP-2026-031",)),
        ("sent", ("HP-2026-031",)),
        ("sending", ("HP-2026-040",)),
        ("sent", ("HP-2026-040",)),
    ]


def test_a_german_client_gets_the_invoice_in_german(mailbox, tmp_path):
    root = books_issuing(tmp_path)
    assert remind(root, ISSUE_DAY).exit_code == 0
    kessler = invoice_emails(mailbox.messages())["HP-2026-040"]
    assert kessler["Subject"] == "Rechnung HP-2026-040 von Harbour & Pine Studio"
    assert kessler["Content-Language"] == "de"
    body = text_of(kessler)
    assert body.startswith("Guten Tag Jana Kessler,\n")
    assert "Anbei erhalten Sie unsere Rechnung als PDF." in body
    owed = owed_as_the_account_says(root, "HP-2026-040", "de_DE")
    assert (
        f"- Rechnung HP-2026-040 vom 25. November 2026, fällig am 25. Dezember 2026: {owed}\n"
        in body
    )
    assert (
        "IBAN DE89370400440532013000, BIC COBADEFFXXX, mit dem Verwendungszweck RF98HP2026040."
        in body
    )
    assert page_of("kessler") in body
    ((name, text),) = pdf_text(kessler)
    assert name == "HP-2026-040.pdf"
    assert "HP-2026-040" in text
    assert "2.500,00" in text


def test_the_invoice_is_not_sent_again_on_a_rerun_or_the_next_days(mailbox, tmp_path):
    root = books_issuing(tmp_path)
    assert remind(root, ISSUE_DAY).exit_code == 0
    first = len(invoice_emails(mailbox.messages()))
    again = remind(root, ISSUE_DAY)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "0 emails, 0 tasks"
    for day in ("2026-11-26", "2026-11-27"):
        assert remind(root, day).exit_code == 0
    assert first == 2
    assert len(invoice_emails(mailbox.messages())) == 2
    assert len(stages_recorded(root, "invoice")) == 4


def test_invoices_issued_before_the_cut_off_are_not_sent(tmp_path):
    """The example books state the cut-off, the day before the demo's, so none of their invoices
    issued before gets an invoice email; unset, it is the day of the first invoice email (none
    yet: the run's day)."""

    def invoice_lines(root: Path, *extra: str) -> list[str]:
        result = _dry_run(root, ISSUE_DAY, *extra)
        assert result.exit_code == 0, result.output
        return [line for line in result.output.splitlines() if " invoice " in line]

    stated = invoice_lines(books_issuing(tmp_path / "stated"))
    assert [line.split("[")[-1] for line in stated] == ["HP-2026-031]", "HP-2026-040]"]
    unset = invoice_lines(books_issuing(tmp_path / "unset", cut_off=None))
    assert unset == stated
    earlier = books_issuing(tmp_path / "earlier", cut_off="2026-11-18")
    # HP-2026-033 (brightwater, issued 18 November, nothing sent yet) goes with HP-2026-031.
    assert [line.split("[")[-1] for line in invoice_lines(earlier)] == [
        "HP-2026-031, HP-2026-033]",
        "HP-2026-040]",
    ]
    later = books_issuing(tmp_path / "later", cut_off="2026-11-26")
    assert invoice_lines(later) == []


def test_status_shows_the_invoice_stage_like_any_other(tmp_path):
    root = books_issuing(tmp_path)
    result = CliRunner().invoke(cli, ["--root", str(root), "status", "--as-of", ISSUE_DAY])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("HP-2026-031"))
    assert line.endswith("invoice (email) today")
    before = CliRunner().invoke(cli, ["--root", str(root), "status", "--as-of", "2026-11-24"])
    line = next(ln for ln in before.output.splitlines() if ln.startswith("HP-2026-033"))
    assert "invoice" not in line  # issued before the cut-off: the policy starts at its courtesy


def _dry_run(root: Path, day: str, *extra: str) -> Result:
    return CliRunner().invoke(
        cli, ["--root", str(root), "remind", "--as-of", day, "--dry-run", *extra]
    )


# remind --now ------------------------------------------------------------------------------------


def test_now_sends_the_stage_due_today_whatever_the_spacing_and_records_it(mailbox, tmp_path):
    root = example_books(tmp_path)
    # 2026-11-28 is a Saturday: no email goes that day, but the owner may send one now.
    scheduled = remind(root, "2026-11-28")
    assert "waiting   kessler        follow-up-1   not a sending day" in scheduled.output
    assert mailbox.received == []
    result = remind(root, "2026-11-28", "--now", "kessler")
    assert result.exit_code == 0, result.output
    (message,) = mailbox.messages()
    assert message["Message-ID"] == "<20261128-kessler-follow-up-1@harbourpine.example.com>"
    assert "HP-2026-028" in text_of(message)
    assert [
        (r["id"], r["status"], r["items"])
        for r in records(root)
        if r["id"].startswith("20261128-kessler")
    ] == [  # one email, in the tone of the more advanced stage, each invoice's stage recorded
        ("20261128-kessler-follow-up-1", "sending", ["HP-2026-028"]),
        ("20261128-kessler-courtesy", "sending", ["HP-2026-029#2"]),
        ("20261128-kessler-follow-up-1", "sent", ["HP-2026-028"]),
        ("20261128-kessler-courtesy", "sent", ["HP-2026-029#2"]),
    ]
    # Already sent: a second --now has nothing left that is due, and says why.
    again = remind(root, "2026-11-28", "--now", "kessler")
    assert again.exit_code == 1
    assert again.stderr.splitlines()[-1] == (  # after the warning of payments not imported
        "notifier: nothing to send to kessler now (an email): HP-2026-028's next stage "
        "`follow-up-2` is due on 2026-12-09; HP-2026-029#2's next stage `friendly` is due on "
        "2026-12-01"
    )
    assert len(mailbox.received) == 1


def test_now_with_a_stage_sent_before_is_refused(mailbox, tmp_path):
    root = example_books(tmp_path)
    result = remind(root, "2026-11-24", "--now", "kessler", "--stage", "friendly")
    assert result.exit_code == 1
    assert result.stderr == (
        "notifier: nothing to send to kessler now (`friendly`): `friendly` was sent for "
        "HP-2026-028 on 2026-11-19; `friendly` is not next for HP-2026-029#2, and its day is "
        "2026-12-01\n"
    )
    assert mailbox.received == []


def test_now_with_a_stage_sends_it_before_its_day_once(mailbox, tmp_path):
    root = example_books(tmp_path)
    result = remind(root, "2026-11-24", "--now", "tanaka", "--stage", "courtesy")
    assert result.exit_code == 0, result.output
    (message,) = mailbox.messages()
    assert str(message["Subject"]) == "Coming up: ¥340,000 due on December 2, 2026"
    again = remind(root, "2026-11-24", "--now", "tanaka", "--stage", "courtesy")
    assert again.exit_code == 1
    assert "`courtesy` was sent for HP-2026-034 on 2026-11-24" in again.stderr
    assert len(mailbox.received) == 1
    # And the schedule knows it went: the courtesy is not sent again on its day.
    assert remind(root, "2026-11-30").exit_code == 0
    assert not any("HP-2026-034" in str(m["Subject"]) for m in mailbox.messages()[1:])


def test_now_names_what_exists_for_an_unknown_client_or_stage(mailbox, tmp_path):
    root = example_books(tmp_path)
    nobody = remind(root, "2026-11-24", "--now", "kesler")
    assert nobody.exit_code == 2
    assert nobody.stderr == (
        "notifier: no client `kesler` in the books; the clients are: atelier-morel, brightwater, "
        "harbourside, kessler, northfield, tanaka, vandermeer\n"
    )
    stage = remind(root, "2026-11-24", "--now", "kessler", "--stage", "reminder")
    assert stage.exit_code == 2
    assert stage.stderr == (
        "notifier: no stage `reminder` in the policy of kessler; its email stages are: invoice, "
        "courtesy, friendly, follow-up-1, follow-up-2, final-notice\n"
    )
    task = remind(root, "2026-11-24", "--now", "kessler", "--stage", "call")
    assert task.exit_code == 2
    assert task.stderr.startswith("notifier: `call` is a task for you (phone), not a message")
    alone = remind(root, "2026-11-24", "--stage", "friendly")
    assert alone.exit_code == 2
    assert alone.stderr == "notifier: --stage goes with --now CLIENT\n"
    assert mailbox.received == []
    assert not any(r["at"].date().isoformat() == "2026-11-24" for r in records(root))


def test_now_works_with_dry_run_and_outbox(tmp_path):
    root = example_books(tmp_path)
    before = (root / "data/records/messages.yaml").read_bytes()
    dry = _dry_run(root, "2026-11-28", "--now", "kessler")
    assert dry.exit_code == 0, dry.output
    assert "email     kessler        follow-up-1" in dry.output
    out = tmp_path / "outbox"
    arguments = ["--root", str(root), "remind", "--as-of", "2026-11-28", "--outbox", str(out)]
    result = CliRunner().invoke(cli, [*arguments, "--now", "kessler"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["20261128-kessler-follow-up-1.eml"]
    assert (root / "data/records/messages.yaml").read_bytes() == before


def test_unset_the_cut_off_is_the_day_of_the_first_invoice_email(mailbox, tmp_path):
    """Once an invoice email is recorded, an invoice issued later goes even when the books first
    hold it a day after its issue date (a run that came before it was written down)."""
    root = books_issuing(tmp_path, cut_off=None)
    assert remind(root, ISSUE_DAY).exit_code == 0
    invoices = root / "data/invoices/2026.yaml"
    late_entry = KESSLER_INVOICE.replace("HP-2026-040", "HP-2026-041").replace("11-25", "11-26")
    invoices.write_text(invoices.read_text(encoding="utf-8") + late_entry, encoding="utf-8")
    result = remind(root, "2026-11-27")
    assert result.exit_code == 0, result.output
    assert "HP-2026-041" in invoice_emails(mailbox.messages())
