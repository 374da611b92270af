"""One command at a time writes the books. Two runs started together on one books folder send each
email once and record each line once; a command that finds the books held waits, then gives up with
exit 2 naming the lock; a run that was killed leaves the books neither locked nor littered with
half-written files."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from notifier import lock
from notifier.cli import cli
from tests.scratch import example_books
from tests.test_remind_smtp import Mailbox, certificate, start_server

__all__ = ["certificate"]  # the fixture, used by name below

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
SECRET = "test secret for the lock tests"
BATCH_DAY = "2026-12-14"  # five emails (one with the final notice) and four tasks
RECORDS = Path("data") / "records"


# Where no mail server listens: the commands here stop (at the lock, or the stale payments) before
# they would connect, and `run` needs an address to start at all.
NOWHERE = "smtp://127.0.0.1:9"


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFIER_", "STRIPE_"))}
    return env | {"NOTIFIER_SECRET": SECRET, "NOTIFIER_SMTP_URL": NOWHERE, **extra}


def start(root: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "notifier", "--root", str(root), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def busy_message(root: Path, waited: str) -> str:
    return (
        f"notifier: another notifier run holds the books ({root.resolve() / '.notifier.lock'}); "
        f"waited {waited} s, nothing was done: try again once it has finished\n"
    )


def test_two_reminder_runs_started_together_send_each_email_once(
    tmp_path: Path, certificate: tuple[ssl.SSLContext, Path]
) -> None:
    root = example_books(tmp_path)
    messages = root / RECORDS / "messages.yaml"
    before = messages.read_text(encoding="utf-8")
    mailbox = Mailbox()
    controller, port = start_server(mailbox, certificate)
    env = environment(
        NOTIFIER_SMTP_URL=f"smtp://studio:s3cret@127.0.0.1:{port}?retry_delay=0.01",
        SSL_CERT_FILE=str(certificate[1]),
    )
    args = ("remind", "--as-of", BATCH_DAY, "--allow-stale-payments")
    try:
        runs = [start(root, *args, env=env) for _ in range(2)]
        done = [(run.wait(60), *run.communicate()) for run in runs]
    finally:
        controller.stop()
    # The second waits for the first and then finds everything sent; on a machine too busy to
    # finish the first within the wait, the second gives up saying so. Never both send.
    assert 0 in [code for code, _, _ in done], done
    for code, stdout, stderr in done:
        if code == 2:
            assert stderr == busy_message(root, "10"), stderr
        else:
            assert code == 0, (stdout, stderr)
    addresses = sorted(str(m["To"].addresses[0].addr_spec) for m in mailbox.messages())
    assert addresses == [
        "administratie@vandermeer-architecten.example.org",
        "ap@northfield-outdoor.example.com",
        "buchhaltung@kessler-maschinenbau.example.com",
        "camille@atelier-morel.example.org",
        "keiri@tanaka-shoten.example.net",
    ]
    added = messages.read_text(encoding="utf-8").removeprefix(before).splitlines()
    assert [line for line, count in Counter(added).items() if count > 1] == []
    recorded = yaml.safe_load("\n".join(added))
    statuses = Counter(record["status"] for record in recorded)
    assert statuses == {"sending": 6, "sent": 6, "task": 4}  # one email carried two stages
    check = subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), "check"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr


def hold_the_lock(root: Path) -> subprocess.Popen[str]:
    """Another process that holds the books' lock until it is killed (it has said so when this
    returns)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from notifier.lock import books_locked\n"
            "with books_locked(Path(sys.argv[1])):\n"
            "    print('held', flush=True); time.sleep(120)",
            str(root),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    return holder


def test_the_lock_ends_with_the_process_that_took_it_not_with_its_forked_workers(
    tmp_path: Path,
) -> None:
    root = example_books(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import multiprocessing, sys, time; from pathlib import Path\n"
            "from notifier.lock import books_locked\n"
            "with books_locked(Path(sys.argv[1])):\n"
            "    worker = multiprocessing.get_context('fork').Process(target=time.sleep, args=(120,))\n"
            "    worker.start(); print(worker.pid, flush=True); time.sleep(120)",
            str(root),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    worker = int(holder.stdout.readline())
    try:
        with pytest.raises(lock.BooksBusy), lock.books_locked(root, wait=0.1):
            pass
        holder.kill()
        holder.wait()
        os.kill(worker, 0)  # the worker lives on, for a while
        with lock.books_locked(root, wait=1):
            pass
    finally:
        os.kill(worker, signal.SIGKILL)


WRITING = {
    "reconcile": ["reconcile", str(FIXTURES / "demo-payments.csv")],
    "remind": ["remind", "--as-of", BATCH_DAY, "--allow-stale-payments"],
    "links": ["links"],
    "run": ["run", "--as-of", BATCH_DAY],
}
READING = {
    "check": ["check"],
    "status": ["status", "--as-of", BATCH_DAY],
    "remind --dry-run": ["remind", "--as-of", BATCH_DAY, "--dry-run"],
    "remind --outbox": ["remind", "--as-of", BATCH_DAY, "--outbox", "OUTBOX"],
    "links --dry-run": ["links", "--dry-run"],
    "report": ["report", "--as-of", BATCH_DAY, "--json"],
}


@pytest.fixture
def books_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Example books whose lock another process holds; a command here waits 0.2 s for it."""
    root = example_books(tmp_path)
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.2)
    for name in [n for n in os.environ if n.startswith(("NOTIFIER_", "STRIPE_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NOTIFIER_SECRET", SECRET)
    monkeypatch.setenv("NOTIFIER_SMTP_URL", NOWHERE)
    holder = hold_the_lock(root)
    yield root
    holder.kill()
    holder.wait()


@pytest.mark.parametrize("command", WRITING.values(), ids=WRITING.keys())
def test_a_command_that_writes_the_books_gives_up_while_another_holds_them(
    books_held: Path, command: list[str]
) -> None:
    before = {p: p.read_bytes() for p in (books_held / RECORDS).iterdir()}
    result = CliRunner().invoke(cli, ["--root", str(books_held), *command])
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        busy_message(books_held, "0.2"),
    )
    assert {p: p.read_bytes() for p in (books_held / RECORDS).iterdir()} == before


@pytest.mark.parametrize("command", READING.values(), ids=READING.keys())
def test_a_command_that_only_reads_the_books_does_not_wait(
    books_held: Path, command: list[str], tmp_path: Path
) -> None:
    command = [str(tmp_path / "outbox") if arg == "OUTBOX" else arg for arg in command]
    result = CliRunner().invoke(cli, ["--root", str(books_held), *command])
    assert result.exit_code == 0, result.output


def stripe_export(path: Path, rows: int) -> Path:
    """A Payments export of `rows` card payments that name no invoice (each goes to review)."""
    with path.open("w", encoding="utf-8") as out:
        out.write("id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Description,Status\n")  # fmt: skip
        out.writelines(
            f"ch_{n:08d},2026-11-20 10:00:00,{1000 + n % 500}.00,0,gbp,true,Order {n},Paid\n"
            for n in range(rows)
        )
    return path


def test_a_killed_import_leaves_the_books_neither_locked_nor_littered(tmp_path: Path) -> None:
    root = example_books(tmp_path)
    records = root / RECORDS
    payments = (records / "payments.yaml").read_bytes()
    env = environment()
    export = stripe_export(tmp_path / "large.csv", 400_000)
    killed = start(root, "reconcile", str(export), env=env)
    deadline = time.monotonic() + 60
    while not list(records.glob(".payments.yaml.*.tmp")) and killed.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)  # in the middle of the import, its payments half written
    assert killed.wait() == -signal.SIGKILL
    left = list(records.glob(".payments.yaml.*.tmp"))
    assert len(left) == 1
    (records / "collections").mkdir(exist_ok=True)
    (records / "collections" / ".20261130-tanaka-collections.zip.tmp").write_bytes(b"PK")

    started = time.monotonic()
    after = subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), "reconcile", str(FIXTURES / "demo-payments.csv")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert after.returncode == 0, after.stderr
    assert time.monotonic() - started < lock.WAIT_SECONDS  # the lock died with the killed run
    assert sorted(p.name for p in records.rglob(".*")) == []
    assert (records / "payments.yaml").read_bytes().startswith(payments)


def test_the_next_run_removes_what_a_killed_one_left_and_says_so_when_verbose(
    tmp_path: Path,
) -> None:
    root = example_books(tmp_path)
    left = root / RECORDS / ".payments.yaml.x1y2z3.tmp"
    left.write_bytes((root / RECORDS / "payments.yaml").read_bytes()[:100])
    clients = root / "data" / "clients.yaml"  # a problem: the run stops once it has read the books
    clients.write_text(clients.read_text().replace("currency: JPY", "currency: YEN"))
    result = subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), "--verbose", "run"],
        capture_output=True, text=True, env=environment(), check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert not left.exists()
    assert result.stdout == (
        "  removed data/records/.payments.yaml.x1y2z3.tmp (left by a run that was stopped)\n"
    )
