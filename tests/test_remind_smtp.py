"""`notifier remind` against a real SMTP server on 127.0.0.1 (aiosmtpd, STARTTLS with a throwaway
certificate, login), the messages read as a client reads them, and faults injected: a refused
recipient, a connection dropped mid-batch, a process killed between sending and recording. Each
time a re-run sends no duplicate and loses no message. (More faults: test_remind_faults.py.)"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import socket
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from click.testing import CliRunner, Result

from notifier.addresses import Secret, client_page, client_token
from notifier.books.checks import check_books
from notifier.cli import cli
from notifier.problems import errors
from notifier.reminders.preview import simulate, steps
from tests.scratch import example_books

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test secret for the reminder tests"
BATCH_DAY = "2026-12-14"  # five emails (one with the final notice) and four tasks


@dataclass
class Mailbox:
    """The server's side: what it accepted, and the faults it is told to play."""

    received: list[tuple[tuple[str, ...], bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    drop_at_rcpt_once: str | None = None  # drop the connection when this recipient is named
    drop_at_message: int | None = None  # drop the connection on the Nth message, after its data
    messages_seen: int = 0
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # recipient: reply to its RCPT
    data_replies: dict[str, str] = field(default_factory=dict)  # recipient: reply to the message
    stall: set[str] = field(default_factory=set)  # a message to one of these is never answered
    sender_reply: str | None = None  # the reply to every MAIL FROM, if not 250
    go_down_at: str | None = None  # at this recipient: drop the connection and stop listening
    listening: asyncio.AbstractServer | None = None  # set by start_server

    async def handle_MAIL(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, _: Any
    ) -> str:
        if self.sender_reply is not None:
            return self.sender_reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, _: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        if address == self.drop_at_rcpt_once:
            self.drop_at_rcpt_once = None
            assert server.transport is not None
            server.transport.close()
        if address == self.go_down_at:
            assert server.transport is not None
            assert self.listening is not None
            self.listening.close()  # no new connection is taken from now on
            server.transport.close()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.messages_seen += 1
        if self.messages_seen == self.drop_at_message:
            assert server.transport is not None
            server.transport.close()  # the client sent it all, and never hears back
            return "250 OK"
        if self.stall & set(envelope.rcpt_tos):
            await asyncio.sleep(60)  # the client gives up first; the test's end cancels this
            return "250 OK"
        for recipient in envelope.rcpt_tos:
            if recipient in self.data_replies:
                return self.data_replies[recipient]
        content = envelope.content
        assert isinstance(content, bytes)
        self.received.append((tuple(envelope.rcpt_tos), content))
        return "250 Accepted"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for _, content in self.received:
            message = email.message_from_bytes(content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    def ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages()]


def _login(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"studio", b"s3cret")
    return AuthResult(success=ok, handled=False)  # the server answers 535 itself


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1; the CA file clients should trust."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return server, ca_file


def start_server(
    mailbox: Mailbox, certificate: tuple[ssl.SSLContext, Path], **options: Any
) -> tuple[Controller, int]:
    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=certificate[0],
        require_starttls=True,
        authenticator=_login,
        auth_require_tls=True,
        **options,
    )
    controller.start()
    mailbox.listening = controller.server
    return controller, port


@pytest.fixture
def mailbox(
    certificate: tuple[ssl.SSLContext, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Mailbox]:
    box = Mailbox()
    controller, port = start_server(box, certificate)
    # The client trusts the throwaway CA the ordinary way, through OpenSSL's SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[1]))
    monkeypatch.setenv(
        "NOTIFIER_SMTP_URL", f"smtp://studio:s3cret@127.0.0.1:{port}?retry_delay=0.01&timeout=5"
    )
    monkeypatch.setenv("NOTIFIER_SECRET", SECRET)
    yield box
    controller.stop()


def remind(root: Path, day: str, *extra: str) -> Result:
    return CliRunner().invoke(
        cli, ["--root", str(root), "remind", "--as-of", day, "--allow-stale-payments", *extra]
    )


def records(root: Path) -> list[dict[str, Any]]:
    loaded = yaml.safe_load((root / "data/records/messages.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, list)
    return loaded


def by_status(root: Path, status: str) -> list[str]:
    """The ids recorded in `status` by the runs of the batch day (the books hold older ones)."""
    return [
        r["id"] for r in records(root) if r["status"] == status and r["id"].startswith("20261214")
    ]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # as received over SMTP


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


# Messages as a client reads them ----------------------------------------------------------------


def test_sends_each_client_one_email_in_their_language_with_the_right_page(mailbox, tmp_path):
    root = example_books(tmp_path)
    result = remind(root, BATCH_DAY)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "5 emails, 4 tasks, 5 sent"

    mail = {str(m["To"]).rsplit("<", 1)[-1].rstrip(">"): m for m in mailbox.messages()}
    assert sorted(mail) == [
        "administratie@vandermeer-architecten.example.org",
        "ap@northfield-outdoor.example.com",
        "buchhaltung@kessler-maschinenbau.example.com",
        "camille@atelier-morel.example.org",
        "keiri@tanaka-shoten.example.net",
    ]
    kessler = mail["buchhaltung@kessler-maschinenbau.example.com"]
    assert kessler["Subject"] == "Offener Betrag: 7.330,00\xa0€"
    assert kessler["Content-Language"] == "de"
    assert kessler["Auto-Submitted"] == "auto-generated"
    assert kessler["Reply-To"] == "Harbour & Pine Studio <sam@harbourpine.example.com>"
    assert kessler["Message-ID"] == "<20261214-kessler-follow-up-2@harbourpine.example.com>"
    body = text_of(kessler)
    assert body.startswith("Guten Tag Jana Kessler,\n")
    # Two invoices at different stages, in one email in the tone of the more advanced.
    assert (
        "Heute zu zahlen sind 7.330,00\xa0€, einschließlich Verzugskosten und Verzugszinsen von 80,00\xa0€"
        in body
    )
    assert "- Rechnung HP-2026-028, fällig am 18. November 2026: 4.290,00\xa0€\n" in body
    assert "- Rechnung HP-2026-029, Rate 2/3, fällig am 30. November 2026: 3.040,00\xa0€\n" in body
    token = client_token(Secret(SECRET.encode(), demo=False), "kessler")
    page = "https://pay.harbourpine.example.com/" + client_page(token)
    assert page in body
    assert f'<a href="{page}"' in html_of(kessler)
    assert "Demo" not in body

    northfield = mail["ap@northfield-outdoor.example.com"]
    # A final notice demands every item then late: HP-2026-025's promise ran out on 30 November.
    assert northfield["Subject"] == "Final notice: please pay $8,652.33 by January 4, 2027"
    (notice,) = list(northfield.iter_attachments())
    assert notice.get_filename() == "final-notice-northfield-2026-12-14.pdf"
    assert notice.get_content().startswith(b"%PDF-")

    tanaka = mail["keiri@tanaka-shoten.example.net"]
    assert "¥344,000" in str(tanaka["Subject"])

    # Each stage recorded twice, intent then outcome; kessler's email marks both its stages.
    assert by_status(root, "sending") == by_status(root, "sent")
    assert "20261214-kessler-follow-up-1" in by_status(root, "sent")
    assert "20261214-kessler-follow-up-2" in by_status(root, "sent")
    tasks = [r for r in records(root) if r["status"] == "task"]
    assert [(r["client"], r["channel"]) for r in tasks] == [
        ("brightwater", "phone"),
        ("harbourside", "phone"),
        ("northfield", "phone"),
        ("tanaka", "collections"),
    ]
    assert tasks[0]["note"].startswith("phone: Priya Natarajan +44 117 496 0732; history: ")
    assert (root / "data/records/collections/20261214-tanaka-collections.zip").is_file()


def test_a_second_run_the_same_day_sends_nothing_new(mailbox, tmp_path):
    root = example_books(tmp_path)
    assert remind(root, BATCH_DAY).exit_code == 0
    before = records(root)
    again = remind(root, BATCH_DAY)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "0 emails, 0 tasks"
    assert len(mailbox.received) == 5
    assert records(root) == before


def test_real_sending_needs_the_secret_and_a_fresh_payment_import(mailbox, tmp_path, monkeypatch):
    root = example_books(tmp_path)
    stale = CliRunner().invoke(cli, ["--root", str(root), "remind", "--as-of", BATCH_DAY])
    assert stale.exit_code == 1
    assert stale.stderr == (
        "notifier: not sending: payments were last imported 21 days ago, on 2026-11-23 "
        "(the limit is 3) (or use --allow-stale-payments)\n"
    )
    monkeypatch.delenv("NOTIFIER_SECRET")
    secretless = remind(root, BATCH_DAY)
    assert secretless.exit_code == 2
    assert secretless.stderr.startswith("notifier: NOTIFIER_SECRET is not set: sending needs it")
    assert mailbox.received == []
    assert by_status(root, "sending") == []


def test_a_server_without_starttls_gets_nothing(certificate, tmp_path, monkeypatch):
    box = Mailbox()
    port = _free_port()
    plain = Controller(box, hostname="127.0.0.1", port=port)
    plain.start()
    try:
        monkeypatch.setenv("NOTIFIER_SECRET", SECRET)
        monkeypatch.setenv("NOTIFIER_SMTP_URL", f"smtp://studio:s3cret@127.0.0.1:{port}")
        result = remind(example_books(tmp_path), BATCH_DAY)
    finally:
        plain.stop()
    assert result.exit_code == 2
    assert f"127.0.0.1:{port} does not offer STARTTLS; refusing to send in clear" in result.stderr
    assert box.received == []


# Faults -----------------------------------------------------------------------------------------


def test_a_refused_recipient_becomes_a_task_and_is_not_retried(mailbox, tmp_path):
    root = example_books(tmp_path)
    mailbox.refuse.add("keiri@tanaka-shoten.example.net")
    result = remind(root, BATCH_DAY)
    assert result.exit_code == 0, result.output
    assert "failed    tanaka" in result.output
    assert "550 5.1.1 No such mailbox" in result.output
    assert len(mailbox.received) == 4
    assert "20261214-tanaka-follow-up-1" in by_status(root, "failed")
    task = next(r for r in records(root) if r["id"] == "20261214-tanaka-follow-up-1-task")
    assert task["status"] == "task"
    assert "Hiroshi Tanaka +81 6 6123 4567" in task["note"]

    mailbox.refuse.clear()
    again = remind(root, BATCH_DAY)
    assert again.exit_code == 0, again.output
    assert len(mailbox.received) == 4  # the failure is a person's task now, never resent


def test_a_connection_dropped_before_the_message_is_retried_in_the_same_run(mailbox, tmp_path):
    root = example_books(tmp_path)
    mailbox.drop_at_rcpt_once = "camille@atelier-morel.example.org"
    result = remind(root, BATCH_DAY)
    assert result.exit_code == 0, result.output
    assert sorted(mailbox.ids()) == sorted(set(mailbox.ids()))
    assert len(mailbox.received) == 5
    assert "<20261214-atelier-morel-follow-up-1@harbourpine.example.com>" in mailbox.ids()


def test_a_connection_dropped_after_the_message_is_reported_never_resent(mailbox, tmp_path):
    root = example_books(tmp_path)
    mailbox.drop_at_message = 2
    first = remind(root, BATCH_DAY)
    assert first.exit_code == 1, first.output
    # The second message (kessler's, carrying two stages) went out but no answer came: uncertain,
    # reported, and the batch goes on.
    assert len(mailbox.received) == 4
    uncertain = set(by_status(root, "sending")) - set(by_status(root, "sent"))
    assert uncertain == {"20261214-kessler-follow-up-1", "20261214-kessler-follow-up-2"}
    assert (
        "`20261214-kessler-follow-up-2`: the connection was lost after the message went"
        in first.output
    )

    second = remind(root, BATCH_DAY)
    assert second.exit_code == 1
    for orphan in sorted(uncertain):
        assert f"`{orphan}` was being sent on 2026-12-14 when a run stopped" in second.output
    assert len(mailbox.received) == 4  # no duplicate, and the uncertain one is left to a person
    assert sorted(set(mailbox.ids())) == sorted(mailbox.ids())


CRASH = textwrap.dedent(
    """
    import os, signal, sys
    from notifier.reminders import record
    from notifier.cli import main

    real_append = record.append
    outcomes = 0

    def append(root, records):
        global outcomes
        if any(r.status == "sent" for r in records):
            outcomes += 1
            if outcomes == 2:  # the second email has gone; die before its outcome is written
                os.kill(os.getpid(), signal.SIGKILL)
        real_append(root, records)

    record.append = append
    sys.argv = ["notifier", *sys.argv[1:]]
    main()
    """
)


def test_a_process_killed_between_sending_and_recording(mailbox, tmp_path):
    root = example_books(tmp_path)
    args = ["--root", str(root), "remind", "--as-of", BATCH_DAY, "--allow-stale-payments"]
    # Within a time limit: a process the killed one started (the PDF printer) must not live on
    # holding its output open.
    killed = subprocess.run(
        [sys.executable, "-c", CRASH, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    assert len(mailbox.received) == 2
    orphans = set(by_status(root, "sending")) - set(by_status(root, "sent"))
    assert orphans == {"20261214-kessler-follow-up-1", "20261214-kessler-follow-up-2"}

    rerun = remind(root, BATCH_DAY)
    assert rerun.exit_code == 1, rerun.output
    for orphan in sorted(orphans):
        assert f"`{orphan}` was being sent on 2026-12-14 when a run stopped" in rerun.output
    assert len(mailbox.received) == 5  # the three not yet sent, none twice
    assert sorted(set(mailbox.ids())) == sorted(mailbox.ids())
    # Every email the server got is recorded as sent, except the one the crash left to a person.
    sent_ids = {f"<{i}@harbourpine.example.com>" for i in by_status(root, "sent")}
    unsure = "<20261214-kessler-follow-up-2@harbourpine.example.com>"
    assert set(mailbox.ids()) == (sent_ids & set(mailbox.ids())) | {unsure}
    assert len(sent_ids) == 4  # northfield, atelier-morel, tanaka, vandermeer


# Ninety days of the example books --------------------------------------------------------------

SNAPSHOTS = Path(__file__).parent / "snapshots" / "remind"
UPDATE = os.environ.get("NOTIFIER_UPDATE_EXPECTED") == "1"
START = date(2026, 11, 23)
DAYS = 90


def test_ninety_days_send_exactly_what_the_preview_says(mailbox, tmp_path):
    """Day by day, real runs against the server send the sequence the preview promised, which is
    the reviewed snapshot tests/snapshots/remind/preview-90-days.txt."""
    root = example_books(tmp_path)
    books, problems = check_books(root)
    assert not errors(problems)
    promised = {
        (step.day, step.client, step.kind, step.stage, step.items)
        for plan in simulate(books, START, DAYS)
        for step in steps(plan)
        if step.kind != "waiting"
    }

    preview = CliRunner().invoke(
        cli, ["--root", str(root), "remind", "--as-of", str(START), "--preview", str(DAYS)]
    )
    assert preview.exit_code == 0, preview.output
    expected = SNAPSHOTS / "preview-90-days.txt"
    if UPDATE:
        expected.write_text(preview.stdout, encoding="utf-8")
    assert preview.stdout == expected.read_text(encoding="utf-8")

    before = len(records(root))
    for offset in range(DAYS):
        result = remind(root, str(START + timedelta(days=offset)))
        assert result.exit_code == 0, result.output

    new = records(root)[before:]
    assert [r["id"] for r in new if r["status"] == "sending"] == [
        r["id"] for r in new if r["status"] == "sent"
    ]
    done: set[tuple[date, str, str, str, tuple[str, ...]]] = set()
    for message in mailbox.messages():
        record_id = str(message["Message-ID"])[1:].split("@")[0]
        tone = next(r for r in new if r["id"] == record_id and r["status"] == "sent")
        day = (
            tone["at"].date()
            if isinstance(tone["at"], datetime)
            else date.fromisoformat(tone["at"][:10])
        )
        items = tuple(
            item
            for r in new
            if r["status"] == "sent"
            and r["client"] == tone["client"]
            and r["id"][:8] == record_id[:8]
            for item in r["items"]
        )
        done.add((day, tone["client"], "email", tone["stage"], items))
    for r in new:
        if r["status"] == "task":
            day = date.fromisoformat(r["id"][:4] + "-" + r["id"][4:6] + "-" + r["id"][6:8])
            done.add((day, r["client"], r["channel"], r["stage"], tuple(r["items"])))
    assert len(mailbox.received) == len(set(mailbox.ids()))
    assert sorted(done) == sorted(promised)


def test_an_address_whose_domain_is_beyond_ascii_gets_its_email_at_the_ascii_form(
    mailbox, tmp_path
):
    root = example_books(tmp_path)
    clients = root / "data/clients.yaml"
    written = "camille@atelier-mörel.example.org"
    clients.write_text(
        clients.read_text(encoding="utf-8").replace("camille@atelier-morel.example.org", written),
        encoding="utf-8",
    )
    result = remind(root, BATCH_DAY)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "5 emails, 4 tasks, 5 sent"
    sent = "camille@xn--atelier-mrel-djb.example.org"  # what SMTP and the To header carry
    assert any(recipients == (sent,) for recipients, _ in mailbox.received)
    assert any(str(m["To"]).endswith(f"<{sent}>") for m in mailbox.messages())
    recorded = next(r for r in records(root) if r["id"] == "20261214-atelier-morel-follow-up-1")
    assert recorded["to"] == [written]  # the books keep the address as the business wrote it
