"""The messages themselves: expected `.eml` files kept as snapshots (NOTIFIER_UPDATE_EXPECTED=1
rewrites them; review the diff), every text in every language renders, and nothing a person typed
into the books can reach a header or run as HTML."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from notifier.account import account_of
from notifier.addresses import Secret
from notifier.books.checks import check_books
from notifier.cli import cli
from notifier.problems import errors
from notifier.reminders.compose import UnsafeHeader, compose_email, header_value
from notifier.reminders.notice import notice_request
from notifier.reminders.plan import Email, Item, Receipt
from notifier.reminders.preview import run_moment
from tests.scratch import example_books

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = Path(__file__).parent / "snapshots" / "remind"
UPDATE = os.environ.get("NOTIFIER_UPDATE_EXPECTED") == "1"
SECRET = "snapshot secret: not a real one"
PDF_BODY = re.compile(
    rb"(Content-Type: application/pdf\n(?:[^\n]+\n)*\n)[A-Za-z0-9+/=\n]+?(\n--=_)"
)


def remind(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), "remind", *args])


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.parametrize("day", ["2026-11-23", "2026-12-14"])
def test_outbox_matches_the_reviewed_snapshots(day, tmp_path, monkeypatch):
    """Every file `--outbox` writes for the example books, byte for byte (the PDF is checked in
    the SMTP tests; its bytes depend on the fonts installed, so the snapshot leaves it out)."""
    monkeypatch.setenv("NOTIFIER_SECRET", SECRET)
    root = example_books(tmp_path)
    before = (root / "data/records/messages.yaml").read_bytes()
    out = tmp_path / "outbox"
    result = remind(root, "--as-of", day, "--outbox", str(out), "--allow-stale-payments")
    assert result.exit_code == 0, result.output
    assert (root / "data/records/messages.yaml").read_bytes() == before  # records nothing
    written = {
        p.name: PDF_BODY.sub(rb"\1(the PDF)\2", p.read_bytes())
        for p in sorted(out.iterdir())
        if p.suffix in (".eml", ".txt")
    }
    expected = SNAPSHOTS / day
    if UPDATE:
        shutil.rmtree(expected, ignore_errors=True)
        expected.mkdir(parents=True)
        for name, data in written.items():
            (expected / name).write_bytes(data)
    assert sorted(written) == sorted(p.name for p in expected.iterdir())
    for name, data in written.items():
        assert data == (expected / name).read_bytes(), f"{name} differs from {expected / name}"


def test_dry_run_shows_the_plan_in_demo_mode_and_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("NOTIFIER_SECRET", raising=False)
    root = example_books(tmp_path)
    before = sorted((p, p.read_bytes()) for p in (root / "data").rglob("*") if p.is_file())
    result = remind(root, "--as-of", "2026-11-23", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "demo mode: NOTIFIER_SECRET is not set; page addresses are the public demo ones",
        "Reminders as of 2026-11-23 (dry run: nothing is sent or recorded)",
        "email     atelier-morel  courtesy      to camille@atelier-morel.example.org: "
        "Prochaine échéance : 3\u202f650,00\xa0€ le 26 novembre 2026 [HP-2026-030]",
        "task      northfield     call          HP-2026-024: Dana Whitaker +1 503 555 0142",
        "task      tanaka         collections   HP-2026-022: bundle written when sent for real",
        "1 email, 2 tasks",
    ]
    # The books are as they were (the cache of read files in .cache/ may have been filled).
    assert sorted((p, p.read_bytes()) for p in (root / "data").rglob("*") if p.is_file()) == before


def test_only_one_mode_at_a_time(tmp_path):
    result = remind(example_books(tmp_path), "--dry-run", "--preview", "3")
    assert result.exit_code == 2
    assert result.stderr == "notifier: choose one of --dry-run, --outbox and --preview\n"


# Every text renders -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def books_and_states(tmp_path_factory: pytest.TempPathFactory):
    root = example_books(tmp_path_factory.mktemp("texts"))
    books, problems = check_books(root)
    assert not errors(problems), problems
    return books, account_of(books, date(2026, 12, 14)).invoices


@pytest.mark.parametrize(
    ("client", "number"),
    [("kessler", "HP-2026-028"), ("atelier-morel", "HP-2026-030"), ("northfield", "HP-2026-024")],
)
@pytest.mark.parametrize("stage_name", ["courtesy", "friendly", "follow-up-1", "final-notice"])
def test_every_stage_renders_in_the_clients_language(books_and_states, client, number, stage_name):
    books, states = books_and_states
    stage = next(s for s in books.settings.policies["standard"] if s.name == stage_name)
    payment = next(p for p in books.payments if p.invoice == "HP-2026-019")
    item = Item(states[number], stage, number)
    receipt = Receipt(payment, states["HP-2026-019"])
    mail = Email(
        books.clients[client], stage, (item,), (receipt,), ("x@example.com",), {stage_name: "id-1"}
    )
    day = date(2026, 12, 14)
    composed = compose_email(
        books, mail, day, run_moment(books, day), Secret(b"k", demo=False), with_notice=False
    )
    text = plain(composed.message)
    language = {"kessler": "de", "atelier-morel": "fr", "northfield": "en"}[client]
    assert composed.message["Content-Language"] == language
    assert number in text
    assert number in html(composed.message)
    thanks = {
        "de": "vielen Dank für Ihre Zahlung",
        "fr": "Merci pour votre règlement",
        "en": "Thank you for your payment",
    }
    assert thanks[language] in text
    assert "{{" not in text
    assert "**" not in text


@pytest.mark.parametrize("client", ["kessler", "atelier-morel", "northfield"])
def test_the_thank_you_and_the_notice_letter_render(books_and_states, client):
    books, states = books_and_states
    payment = next(p for p in books.payments if p.invoice == "HP-2026-029")
    receipt = Receipt(payment, states["HP-2026-029"])
    day = date(2026, 12, 14)
    thanks = Email(
        books.clients[client], None, (), (receipt,), ("x@example.com",), {"thanks": "t-1"}
    )
    text = plain(
        compose_email(books, thanks, day, run_moment(books, day), Secret(b"k", demo=False)).message
    )
    assert "3000" in text.replace(".", "").replace(",", "").replace("\u202f", "")
    stage = next(s for s in books.settings.policies["standard"] if s.deadline_days)
    number = next(n for n, s in states.items() if s.state.client.id == client and s.owed.total)
    notice = Email(
        books.clients[client],
        stage,
        (Item(states[number], stage, number),),
        (),
        (),
        {stage.name: "n-1"},
    )
    letter = notice_request(books, notice, day, Secret(b"k", demo=False)).data
    assert number in letter
    assert {
        "kessler": "28. Dezember 2026",
        "atelier-morel": "28 décembre 2026",
        "northfield": "December 28, 2026",
    }[client] in letter


# Nothing from the books reaches a header or runs as HTML ----------------------------------------


def test_header_values_with_line_breaks_are_refused():
    assert header_value("Subject", "Rappel : 3 650,00 €") == "Rappel : 3 650,00 €"
    for evil in ("A\nBcc: x@evil.example", "A\rB", "A\x00", "A\u2028B"):
        with pytest.raises(UnsafeHeader):
            header_value("To", evil)


def test_a_line_break_in_a_contact_name_stops_that_email_only(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFIER_SECRET", SECRET)
    root = example_books(tmp_path)
    clients = root / "data/clients.yaml"
    text = clients.read_text(encoding="utf-8")
    clients.write_text(
        text.replace("- name: Camille Morel", '- name: "Camille\\nBcc: all@evil.example"'),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = remind(root, "--as-of", "2026-11-23", "--outbox", str(out))
    assert result.exit_code == 1
    assert (
        "problem   atelier-morel: courtesy: To: 'Camille\\nBcc: all@evil.example' holds a line "
        "break or control character ('\\n')"
    ) in result.stdout
    assert not list(out.glob("*.eml"))
    assert sorted(p.name for p in out.iterdir()) == [
        "20261123-northfield-call.txt",
        "20261123-tanaka-collections.txt",
        "20261123-tanaka-collections.zip",
    ]


def test_markup_in_the_books_is_shown_not_run(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFIER_SECRET", SECRET)
    root = example_books(tmp_path)
    clients = root / "data/clients.yaml"
    hostile = "*Camille* <script>alert(1)</script> [pay here](javascript:alert(1))"
    text = clients.read_text(encoding="utf-8")
    clients.write_text(
        text.replace("- name: Camille Morel", f"- name: '{hostile}'"), encoding="utf-8"
    )
    out = tmp_path / "out"
    assert remind(root, "--as-of", "2026-11-23", "--outbox", str(out)).exit_code == 0
    message = parse((out / "20261123-atelier-morel-courtesy.eml").read_bytes())
    assert plain(message).startswith(f"Bonjour {hostile},\n")
    page = html(message)
    assert "<script" not in page
    assert 'href="javascript' not in page
    assert "<em>" not in page
    assert "*Camille* &lt;script&gt;alert(1)&lt;/script&gt; [pay here](javascript:alert(1))" in page
    assert message["To"] == f'"{hostile}" <camille@atelier-morel.example.org>'


def test_a_run_dated_by_as_of_acts_at_nine_in_the_morning(books_and_states):
    books, _ = books_and_states
    assert run_moment(books, date(2026, 11, 23)).isoformat() == "2026-11-23T09:00:00+00:00"
    assert run_moment(books, date(2026, 7, 1)) == datetime.fromisoformat(
        "2026-07-01T09:00:00+01:00"
    )
