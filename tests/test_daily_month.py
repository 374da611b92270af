"""Thirty days of the daily workflow's own step, `notifier run`, through the real command line on a
copy of the example books, nobody touching the inbox: payments reach the books through the Stripe
API (localstripe on 127.0.0.1, its clock set to each simulated day), reminders go to a real SMTP
server on 127.0.0.1, and the owner gets an email a person can act on. Then a day with Stripe out of
reach: no reminder goes, and the owner's email says why."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import stripe
import yaml
from click.testing import CliRunner

from notifier.account import account_of
from notifier.books.checks import check_books
from notifier.cli import cli
from notifier.payments import stripe_api
from tests.localstripe_server import localstripe_address
from tests.scratch import example_books
from tests.test_remind_smtp import Mailbox, certificate, start_server

__all__ = ["certificate"]  # the fixture, used by name below

ROOT = Path(__file__).resolve().parents[1]
START = date(2026, 11, 23)
DAYS = 30
LONDON = ZoneInfo("Europe/London")
# The invoices clients pay by card during the month, and the day they pay.
PAID = {date(2026, 11, 25): "HP-2026-026", date(2026, 12, 3): "HP-2026-030"}
# The day the business issues its draft HP-2026-031 (edits the books: no longer a draft).
ISSUED = date(2026, 12, 1)


def issue_the_draft(root: Path, day: date) -> None:
    """What the business does to issue its draft: the invoice dated `day`, `draft` gone."""
    for path in (root / "data" / "invoices").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        draft = "- number: HP-2026-031\n  client: brightwater\n  issue_date: 2026-11-25\n  draft: true\n"
        if draft in text:
            issued = f"- number: HP-2026-031\n  client: brightwater\n  issue_date: {day}\n"
            path.write_text(text.replace(draft, issued), encoding="utf-8")
            return
    raise AssertionError("the example books' draft HP-2026-031 is not where the test expects")


@pytest.fixture(scope="module")
def localstripe() -> Iterator[tuple[str, dict[str, float]]]:
    """localstripe on 127.0.0.1, and its clock: each object is created at `clock["now"]`. Its
    PaymentIntent list is given the `created` filter Stripe's has (localstripe refuses it)."""
    from localstripe import resources  # type: ignore[import-untyped]

    address = localstripe_address()
    clock = {"now": 0.0}
    real_time = resources.time
    resources.time = SimpleNamespace(time=lambda: clock["now"])
    plain_list = resources.PaymentIntent._api_list_all.__func__

    def list_intents(cls: Any, /, url: str, created: Any = None, **kwargs: Any) -> Any:
        found = plain_list(cls, url, **kwargs)
        if created:
            start = int(created["gte"])
            found._list = [intent for intent in found._list if intent.created >= start]
        return found

    resources.PaymentIntent._api_list_all = classmethod(list_intents)
    yield address, clock
    resources.PaymentIntent._api_list_all = classmethod(plain_list)
    resources.time = real_time


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pay(client: stripe.StripeClient, root: Path, day: date, number: str) -> str:
    """Pay what the invoice's page asks on `day` by card, as a Payment Link would; the charge."""
    books, _ = check_books(root)
    invoice = account_of(books, day).invoices[number]
    currency = invoice.state.currency
    card = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )  # fmt: skip
    intent = client.v1.payment_intents.create(
        {
            "amount": stripe_api.to_stripe_units(invoice.due_now.total, currency),
            "currency": currency.lower(),
            "payment_method": card.id,
            "metadata": {"invoice": number},
        }
    )
    confirmed = client.v1.payment_intents.confirm(intent.id)
    charge = confirmed.latest_charge
    return str(getattr(charge, "id", charge))


def plain(email: EmailMessage) -> str:
    body = email.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def section(text: str, title: str) -> list[str]:
    """The `- ` lines under `title` in the owner's email's plain text."""
    lines = text.splitlines()
    if title not in lines:
        return []
    found = []
    for line in lines[lines.index(title) + 2 :]:
        if not line.startswith("- "):
            break
        found.append(line[2:])
    return found


def notifier(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def records(root: Path, name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((root / "data" / "records" / name).read_text()) or []


@pytest.mark.filterwarnings("ignore:Bare functions are deprecated:DeprecationWarning")
def test_thirty_days_of_the_daily_run(tmp_path, localstripe, certificate):
    url, clock = localstripe
    root = example_books(tmp_path)
    assert not (root / "data" / "inbox").exists()
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "daily.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["run"]["steps"] if s.get("run") == "notifier run"]
    mailbox = Mailbox()
    controller, port = start_server(mailbox, certificate)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFIER_", "STRIPE_"))}
    env |= {
        "NOTIFIER_SECRET": "the secret of the month",
        "NOTIFIER_SMTP_URL": f"smtp://studio:s3cret@127.0.0.1:{port}?retry_delay=0.01",
        "STRIPE_API_KEY": "sk_test_the_month",
        "STRIPE_API_BASE": url,
        "SSL_CERT_FILE": str(certificate[1]),
    }
    stripe_client = stripe_api.make_client("sk_test_the_month", base=url)
    charges: dict[str, tuple[str, date]] = {}
    owner_emails = 0
    invoices_sent: list[
        tuple[date, str, list[str]]
    ] = []  # the invoice's own emails: day, subject, PDFs
    try:
        for offset in range(DAYS):
            day = START + timedelta(days=offset)
            clock["now"] = datetime.combine(day, time(8), LONDON).timestamp()
            if day in PAID:
                charges[PAID[day]] = (pay(stripe_client, root, day, PAID[day]), day)
            if day == ISSUED:
                issue_the_draft(root, day)
            before = len(mailbox.messages())
            done = notifier(root, env, *step["run"].split()[1:], "--as-of", str(day))
            assert done.returncode == 0, (day, done.stderr)
            sent = mailbox.messages()[before:]
            invoices_sent += [
                (day, str(m["Subject"]), [str(a.get_filename()) for a in m.iter_attachments()])
                for m in sent
                if str(m["Subject"]).startswith("Invoice ")
            ]
            owner = [m for m in sent if str(m["To"]) == "accounts@harbourpine.example.com"]
            if owner:
                owner_emails += 1
                check_owner_email(root, env, day, owner[0])
            else:
                assert "  nothing to say today" in done.stdout, (day, done.stdout)
    finally:
        controller.stop()
    assert owner_emails >= 12  # the days something happened or needs someone
    # The invoice issued during the month went on its issue day, with its PDF, once; none of
    # those issued before the books' cut-off did.
    assert invoices_sent == [
        (
            ISSUED,
            "Invoice HP-2026-031 from Harbour & Pine Studio",
            ["HP-2026-031.pdf"],
        )
    ]

    books, _ = check_books(root)
    for number, (charge, paid_on) in charges.items():
        assert [p.invoice for p in books.payments if p.id == charge] == [number]  # once
        later = [
            m for m in books.messages
            if m.channel == "email" and m.at.date() > paid_on
            and any(item.split("#")[0] == number for item in m.items)
        ]  # fmt: skip
        assert later == []  # the reminders stopped
    imports = [i for i in books.imports if i.source == stripe_api.SOURCE]
    assert len(imports) == DAYS


def test_with_stripe_out_of_reach_no_reminder_goes_and_the_owner_is_told(tmp_path, certificate):
    root = example_books(tmp_path)
    mailbox = Mailbox()
    controller, port = start_server(mailbox, certificate)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFIER_", "STRIPE_"))}
    env |= {
        "NOTIFIER_SECRET": "the secret of the month",
        "NOTIFIER_SMTP_URL": f"smtp://studio:s3cret@127.0.0.1:{port}?retry_delay=0.01",
        "STRIPE_API_KEY": "sk_test_the_month",
        "STRIPE_API_BASE": f"http://127.0.0.1:{closed_port()}",
        "SSL_CERT_FILE": str(certificate[1]),
    }
    try:
        done = notifier(root, env, "run", "--as-of", str(START))
    finally:
        controller.stop()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "notifier run: Stripe said" in done.stderr, done.stderr
    assert "Built 26 pages for 7 clients" in done.stdout  # the pages all the same
    (email,) = mailbox.messages()  # the owner's, and no reminder
    assert str(email["To"]) == "accounts@harbourpine.example.com"
    text = plain(email)
    problems = section(text, "Problems that stopped part of the run")
    assert len(problems) == 2, text
    assert problems[0].startswith("payments could not be read from Stripe: Stripe said"), text
    assert problems[1] == (
        "not sending: payments could not be read from Stripe today (or use --allow-stale-payments)"
    )
    for secret in ("sk_test_the_month", "s3cret", "the secret of the month"):
        assert secret not in email.as_string()


def check_owner_email(root: Path, env: dict[str, str], day: date, email: EmailMessage) -> None:
    """The owner's email of `day` lists the calls and hand-offs recorded that day, and the week
    ahead exactly as `remind --preview 7` shows it."""
    text = plain(email)
    assert email.get_body(("html",)) is not None
    books, _ = check_books(root)
    todays = [
        m for m in books.messages
        if m.status == "task" and m.at.astimezone(LONDON).date() == day
    ]  # fmt: skip
    calls = [m for m in todays if m.channel == "phone"]
    called = section(text, "Calls to make today")
    assert len(called) == len(calls), (day, called, calls)
    for message, line in zip(calls, called, strict=True):
        client = books.clients[message.client]
        assert line.startswith(f"{client.name} ({', '.join(message.items)}): "), line
        assert any(c.phone and c.phone in line for c in client.contacts), line
    handoffs = [m for m in todays if m.channel in ("collections", "legal")]
    handed = section(text, f"Hand-offs ({len(handed_ids(text))})")
    assert len({m.client for m in handoffs}) == len(handed), (day, text)
    attached = [part.get_filename() for part in email.iter_attachments()]
    assert len(attached) == len(handed)
    # The real command line, in this process: a subprocess a day would double the test's time.
    preview = CliRunner().invoke(cli, ["--root", str(root), "remind", "--preview", "7", "--as-of", str(day)])  # fmt: skip
    assert preview.exit_code == 0, preview.output
    week = [
        line for line in preview.output.splitlines()
        if re.match(r"\d{4}-\d\d-\d\d ", line) and line.split()[3] != "waiting"
    ]  # fmt: skip
    assert section(text, "The next seven days, unless someone acts") == (
        week or ["nothing planned"]
    )


def handed_ids(text: str) -> list[str]:
    found = re.search(r"^Hand-offs \((\d+)\)$", text, re.MULTILINE)
    return ["x"] * int(found.group(1)) if found else []
