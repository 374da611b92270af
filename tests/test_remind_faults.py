"""What one mailbox, one message or the mail server itself can do to a run of `notifier remind`,
against a real SMTP server on 127.0.0.1: a recipient refused for now (451) or for good (550), a
message refused after its data, the sender refused, the server gone mid-batch, the login refused,
a server that never answers; and the doubt such a run leaves, settled with `--resolve`. A refusal
of one message affects that message only; only the connection, the login or the sender stop a run,
and the message says which."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from notifier.cli import cli
from tests.scratch import example_books
from tests.test_remind_smtp import (
    BATCH_DAY,
    CRASH,
    Mailbox,
    by_status,
    certificate,
    mailbox,
    records,
    remind,
    start_server,
)

__all__ = ["certificate", "mailbox"]  # fixtures, used by name below

TANAKA = "keiri@tanaka-shoten.example.net"
BUSY = "451 4.2.1 Mailbox busy, try again later"
NO_SUCH = "550 5.1.1 No such mailbox"


def record(root: Path, record_id: str, status: str) -> dict[str, Any]:
    return next(r for r in records(root) if r["id"] == record_id and r["status"] == status)


def recipients(mailbox: Mailbox) -> list[str]:
    return sorted(address for envelope, _ in mailbox.received for address in envelope)


def with_contacts(root: Path, client_email: str, *more: str) -> None:
    """Give the client whose contact has `client_email` more contacts, each with an address."""
    clients = root / "data/clients.yaml"
    text = clients.read_text(encoding="utf-8")
    extra = "".join(f"\n    - email: {address}" for address in more)
    clients.write_text(
        text.replace(f"email: {client_email}", f"email: {client_email}{extra}", 1), "utf-8"
    )


# A refusal of one message -----------------------------------------------------------------------


def test_a_mailbox_that_refuses_for_now_holds_up_nobody_and_is_tried_again(mailbox, tmp_path):
    root = example_books(tmp_path)
    mailbox.rcpt_replies[TANAKA] = BUSY  # tanaka is the fourth of five emails
    first = remind(root, BATCH_DAY)
    assert first.exit_code == 0, first.output
    assert len(mailbox.received) == 4  # the one after tanaka's went too
    assert TANAKA not in recipients(mailbox)
    assert first.output.splitlines()[-1] == "5 emails, 4 tasks, 4 sent, 1 deferred"
    assert (
        f"deferred  tanaka         follow-up-1   to {TANAKA}: Following up: ¥344,000 overdue "
        f"[HP-2026-034] (refused {TANAKA}: {BUSY}; tried again next run (day 1 of 3))"
    ) in first.output
    deferred = record(root, "20261214-tanaka-follow-up-1", "deferred")
    assert deferred["note"] == f"refused {TANAKA}: {BUSY}"
    assert "20261214-tanaka-follow-up-1" not in by_status(root, "sending")  # it never went

    mailbox.rcpt_replies.clear()
    second = remind(root, BATCH_DAY)
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[-1] == "1 email, 0 tasks, 1 sent"
    assert len(mailbox.received) == 5
    assert recipients(mailbox).count(TANAKA) == 1
    assert record(root, "20261214-tanaka-follow-up-1-2", "sent")["items"] == ["HP-2026-034"]
    assert remind(root, BATCH_DAY).output.splitlines()[-1] == "0 emails, 0 tasks"


def test_a_reminder_refused_for_now_on_three_days_becomes_a_task(mailbox, tmp_path):
    root = example_books(tmp_path)
    mailbox.rcpt_replies[TANAKA] = BUSY
    for day, count in (("2026-12-14", 1), ("2026-12-15", 2)):
        result = remind(root, day)
        assert result.exit_code == 0, result.output
        assert f": {BUSY}; tried again next run (day {count} of 3))" in result.output
    third = remind(root, "2026-12-16")
    assert third.exit_code == 0, third.output
    assert (
        f"failed    tanaka         follow-up-1   to {TANAKA}: Following up: ¥344,000 overdue "
        f"[HP-2026-034] (refused {TANAKA}: {BUSY}; refused for the time being since 2026-12-14, "
        "on 3 days)"
    ) in third.output
    assert [
        r["status"] for r in records(root) if r["client"] == "tanaka" and r["id"] > "2026121"
    ] == [
        "task",  # the collections hand-off of the first day
        "deferred",
        "deferred",
        "failed",
        "task",
    ]
    task = record(root, "20261216-tanaka-follow-up-1-task", "task")
    assert task["note"] == (
        f"email not delivered (refused {TANAKA}: {BUSY}; refused for the time being since "
        "2026-12-14, on 3 days); reach them another way: Hiroshi Tanaka +81 6 6123 4567"
    )

    mailbox.rcpt_replies.clear()
    later = remind(root, "2026-12-17")
    assert later.exit_code == 0, later.output
    assert TANAKA not in recipients(mailbox)  # the failure is a person's task now, never resent


def test_a_message_to_several_addresses_goes_to_those_that_take_it(mailbox, tmp_path):
    """Decided: the client has the reminder if one of its addresses took it. It is recorded
    `sent`, its note naming the addresses that did not, with the server's replies."""
    root = example_books(tmp_path)
    busy, gone = "office@tanaka-shoten.example.net", "old@tanaka-shoten.example.net"
    with_contacts(root, TANAKA, busy, gone)
    mailbox.rcpt_replies |= {busy: BUSY, gone: NO_SUCH}
    result = remind(root, BATCH_DAY)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "5 emails, 4 tasks, 5 sent"
    assert [envelope for envelope, _ in mailbox.received if TANAKA in envelope] == [(TANAKA,)]
    sent = record(root, "20261214-tanaka-follow-up-1", "sent")
    assert sent["to"] == [TANAKA, busy, gone]
    assert sent["note"] == f"not accepted by {busy}: {BUSY}; not accepted by {gone}: {NO_SUCH}"
    assert sent["note"] in result.output


def test_a_message_refused_for_now_after_its_data_goes_again_next_run(mailbox, tmp_path):
    root = example_books(tmp_path)
    mailbox.data_replies[TANAKA] = "452 4.3.1 Insufficient system storage"
    first = remind(root, BATCH_DAY)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[-1] == "5 emails, 4 tasks, 4 sent, 1 deferred"
    # Its intent was recorded before the data went; the server's answer says it did not go.
    assert record(root, "20261214-tanaka-follow-up-1", "deferred")["note"] == (
        "452 4.3.1 Insufficient system storage"
    )
    assert "20261214-tanaka-follow-up-1" in by_status(root, "sending")

    mailbox.data_replies.clear()
    second = remind(root, BATCH_DAY)
    assert second.exit_code == 0, second.output
    assert "20261214-tanaka-follow-up-1-2" in by_status(root, "sent")
    assert recipients(mailbox).count(TANAKA) == 1


# What stops a run, and says which ---------------------------------------------------------------


def test_the_server_gone_mid_batch_stops_the_run_and_the_rest_go_next_run(
    mailbox, tmp_path, certificate, monkeypatch
):
    root = example_books(tmp_path)
    mailbox.go_down_at = "camille@atelier-morel.example.org"  # the third email
    port = os.environ["NOTIFIER_SMTP_URL"].split(":")[3].split("?")[0]
    first = remind(root, BATCH_DAY)
    assert first.exit_code == 2, first.output
    assert first.stderr.splitlines()[-1] == (
        f"notifier: could not connect to 127.0.0.1:{port}: [Errno 111] Connection refused; "
        "3 emails not tried go next run"
    )
    assert len(mailbox.received) == 2
    assert [line.split()[:2] for line in first.stdout.splitlines()[1:6]] == [
        ["sent", "northfield"],
        ["sent", "kessler"],
        ["waiting", "atelier-morel"],
        ["waiting", "tanaka"],
        ["waiting", "vandermeer"],
    ]
    assert by_status(root, "sending") == by_status(root, "sent")  # nothing half-done

    again = Mailbox()
    controller, new_port = start_server(again, certificate)
    try:
        url = f"smtp://studio:s3cret@127.0.0.1:{new_port}?retry_delay=0.01&timeout=5"
        monkeypatch.setenv("NOTIFIER_SMTP_URL", url)
        second = remind(root, BATCH_DAY)
    finally:
        controller.stop()
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[-1] == "3 emails, 0 tasks, 3 sent"
    assert len(again.received) == 3


def test_a_server_that_cannot_be_reached_at_all(tmp_path, monkeypatch):
    with socket.socket() as bound:  # bound, never listening: a connection to it is refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        monkeypatch.setenv("NOTIFIER_SECRET", "s")
        monkeypatch.setenv(
            "NOTIFIER_SMTP_URL", f"smtp://studio:s3cret@127.0.0.1:{port}?retry_delay=0"
        )
        result = remind(example_books(tmp_path), BATCH_DAY)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"notifier: could not connect to 127.0.0.1:{port}: [Errno 111] Connection refused; "
        "5 emails not tried go next run"
    )


def test_a_refused_login_says_so_and_for_which_user(mailbox, tmp_path, monkeypatch):
    root = example_books(tmp_path)
    url = os.environ["NOTIFIER_SMTP_URL"].replace("s3cret", "wrong")
    monkeypatch.setenv("NOTIFIER_SMTP_URL", url)
    port = url.split(":")[3].split("?")[0]
    result = remind(root, BATCH_DAY)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"notifier: the mail server 127.0.0.1:{port} refused the login for user studio: "
        "535 5.7.8 Authentication credentials invalid; 5 emails not tried go next run"
    )
    assert "wrong" not in result.output
    assert mailbox.received == []
    assert by_status(root, "sending") == []


def test_a_refused_sender_stops_the_run_rather_than_fail_every_reminder(mailbox, tmp_path):
    root = example_books(tmp_path)
    mailbox.sender_reply = "553 5.7.1 Sender address rejected: not owned by user studio"
    port = os.environ["NOTIFIER_SMTP_URL"].split(":")[3].split("?")[0]
    result = remind(root, BATCH_DAY)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"notifier: the mail server 127.0.0.1:{port} refused the sender address "
        "accounts@harbourpine.example.com: 553 5.7.1 Sender address rejected: not owned by "
        "user studio; 5 emails not tried go next run"
    )
    assert [r["status"] for r in records(root) if r["id"].startswith("20261214")] == ["task"] * 4

    mailbox.sender_reply = None
    again = remind(root, BATCH_DAY)
    assert again.exit_code == 0, again.output
    assert len(mailbox.received) == 5


# The window of doubt ----------------------------------------------------------------------------


def test_a_server_that_never_answers_leaves_one_message_in_doubt_settled_by_resolve(
    mailbox, tmp_path, monkeypatch
):
    root = example_books(tmp_path)
    monkeypatch.setenv("NOTIFIER_SMTP_URL", os.environ["NOTIFIER_SMTP_URL"] + "&timeout=2")
    kessler = "buchhaltung@kessler-maschinenbau.example.com"
    mailbox.stall.add(kessler)
    first = remind(root, BATCH_DAY)
    assert first.exit_code == 1, first.output
    assert first.stdout.splitlines()[-1] == "5 emails, 4 tasks, 4 sent, 1 uncertain"
    assert len(mailbox.received) == 4  # everyone else's went
    assert (
        "check     kessler        follow-up-2   `20261214-kessler-follow-up-2`: the connection was "
        "lost after the message went: it may have gone. Check the sent mail, then record what "
        "became of it: `notifier remind --resolve 20261214-kessler-follow-up-2 sent` if it went, "
        "`unsent` if not (its reminder goes again at the next run). Until then it is never "
        "resent, and its invoices get nothing more."
    ) in first.stdout
    assert first.stderr.splitlines()[-1] == (
        "notifier: 1 email may have gone (`check` above): record each with "
        "notifier remind --resolve ID sent|unsent"
    )

    mailbox.stall.clear()
    held = remind(root, BATCH_DAY)
    assert held.exit_code == 1
    assert len(mailbox.received) == 4  # never resent blindly

    resolved = CliRunner().invoke(
        cli, ["--root", str(root), "remind", "--resolve", "20261214-kessler-follow-up-2", "unsent"]
    )
    assert resolved.exit_code == 0, resolved.output
    assert resolved.output == (
        "recorded `20261214-kessler-follow-up-1`, `20261214-kessler-follow-up-2` as unsent: "
        "its reminder goes again at the next run, if still due\n"
    )
    assert record(root, "20261214-kessler-follow-up-1", "unsent")["note"] == (
        "outcome recorded by hand (notifier remind --resolve)"
    )
    again = remind(root, BATCH_DAY)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "1 email, 0 tasks, 1 sent"
    assert recipients(mailbox).count(kessler) == 1
    assert {"20261214-kessler-follow-up-1-2", "20261214-kessler-follow-up-2-2"} <= set(
        by_status(root, "sent")
    )


def test_a_message_in_doubt_holds_its_invoices_only_until_resolved_sent(mailbox, tmp_path):
    root = example_books(tmp_path)
    args = ["--root", str(root), "remind", "--as-of", BATCH_DAY, "--allow-stale-payments"]
    killed = subprocess.run(
        [sys.executable, "-c", CRASH, *args], capture_output=True, text=True, check=False
    )
    assert killed.returncode == -9, killed.stderr  # kessler's email went; its outcome did not
    remind(root, BATCH_DAY)  # the rest of the day's emails

    later = remind(root, "2026-12-21")
    assert later.exit_code == 1, later.output
    held = [line for line in later.stdout.splitlines() if line.startswith("waiting   kessler")]
    assert held == [
        "waiting   kessler        call          held: `20261214-kessler-follow-up-2` may have "
        "gone on 2026-12-14; record what became of it: notifier remind --resolve "
        "20261214-kessler-follow-up-2 sent|unsent",
        "waiting   kessler        follow-up-2   held: `20261214-kessler-follow-up-1` may have "
        "gone on 2026-12-14; record what became of it: notifier remind --resolve "
        "20261214-kessler-follow-up-1 sent|unsent",
    ]
    assert later.output.count("\nsent      ") == 4  # everyone else's went
    assert later.stderr.splitlines()[-1].startswith("notifier: 1 email may have gone")
    before = len(mailbox.received)

    resolved = CliRunner().invoke(
        cli, ["--root", str(root), "remind", "--resolve", "20261214-kessler-follow-up-1", "sent"]
    )
    assert resolved.exit_code == 0, resolved.output
    assert resolved.output.endswith("as sent: it counts as sent\n")
    settled = remind(root, "2026-12-21")
    assert settled.exit_code == 0, settled.output
    assert settled.output.splitlines()[-1] == "1 email, 1 task, 1 sent"
    assert len(mailbox.received) == before + 1


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("nobody-knows", "notifier: no message `nobody-knows` in data/records/messages.yaml\n"),
        (
            "20261119-kessler-friendly",
            "notifier: `20261119-kessler-friendly` is not in doubt: it is recorded as sent; only "
            "a message left as `sending` with no outcome can be resolved\n",
        ),
    ],
)
def test_resolve_names_what_it_cannot_settle(tmp_path, given, message):
    root = example_books(tmp_path)
    before = (root / "data/records/messages.yaml").read_bytes()
    result = CliRunner().invoke(cli, ["--root", str(root), "remind", "--resolve", given, "sent"])
    assert result.exit_code == 2
    assert result.stderr == message
    assert (root / "data/records/messages.yaml").read_bytes() == before


# First use --------------------------------------------------------------------------------------


def test_sending_without_a_mail_server_says_the_variable_is_not_set(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFIER_SECRET", "s")
    monkeypatch.delenv("NOTIFIER_SMTP_URL", raising=False)
    root = example_books(tmp_path)
    result = remind(root, BATCH_DAY)
    assert result.exit_code == 2
    assert result.stderr == (
        "notifier: NOTIFIER_SMTP_URL is not set: sending needs the mail server's address, like "
        "smtp://user:password@mail.example.com:587 (--dry-run, --outbox and --preview work "
        "without it)\n"
    )
    monkeypatch.setenv("NOTIFIER_SMTP_URL", "")  # as a workflow hands over a missing secret
    run = CliRunner().invoke(cli, ["--root", str(root), "run", "--as-of", BATCH_DAY])
    assert run.exit_code == 2
    assert run.stderr == (
        "notifier run: NOTIFIER_SMTP_URL is not set: sending needs the mail server's address, "
        "like smtp://user:password@mail.example.com:587; nothing was done\n"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mail.example.com:587",
            "NOTIFIER_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS from the "
            "start), like smtp://user:password@mail.example.com:587",
        ),
        (
            "smtp://studio:pa/ss?wd@mail.example.com:587",
            "NOTIFIER_SMTP_URL: the user or password holds a `/`, `?` or `#`; write it "
            "percent-encoded (%2F, %3F, %23)",
        ),
        (
            "smtp://studio:pa#ss@mail.example.com",
            "NOTIFIER_SMTP_URL: the user or password holds a `/`, `?` or `#`; write it "
            "percent-encoded (%2F, %3F, %23)",
        ),
        (
            "smtp://studio:passwd",
            "NOTIFIER_SMTP_URL: the port is not a number from 1 to 65535, like "
            "smtp://user:password@mail.example.com:587",
        ),
        (
            "smtp://studio:passwd@",
            "NOTIFIER_SMTP_URL names no mail server: expected "
            "smtp://user:password@mail.example.com:587",
        ),
        (
            "smtp://studio:passwd@mail.example.com:587/inbox",
            "NOTIFIER_SMTP_URL: nothing may follow the server but ?options, like "
            "smtp://user:password@mail.example.com:587",
        ),
        (
            "smtp://studio:passwd@mail.example.com:587?timout=5",
            "NOTIFIER_SMTP_URL: unknown option `timout` (the options are timeout, attempts, "
            "retry_delay)",
        ),
        (
            "smtp://studio:passwd@mail.example.com:587?attempts=0",
            "NOTIFIER_SMTP_URL: `attempts` must be a whole number, not `0`",
        ),
        (
            "smtp://studio:passwd@mail.example.com:587?timeout=soon",
            "NOTIFIER_SMTP_URL: `timeout` must be a number of seconds, not `soon`",
        ),
    ],
)
def test_a_malformed_mail_server_address_says_what_is_wrong_never_the_password(
    tmp_path, monkeypatch, url, message
):
    monkeypatch.setenv("NOTIFIER_SECRET", "s")
    monkeypatch.setenv("NOTIFIER_SMTP_URL", url)
    result = remind(example_books(tmp_path), BATCH_DAY)
    assert result.exit_code == 2
    assert result.stderr == f"notifier: {message}\n"
    for secret in ("passwd", "pa/ss", "ss?wd", "pa#ss"):
        assert secret not in result.stderr
