"""`notifier run`, as the daily job runs it: an export waiting in the inbox, a real SMTP server on
127.0.0.1, and then the same run again, which must find nothing left to do."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import yaml

from tests.scratch import example_books
from tests.test_remind_smtp import Mailbox, certificate, start_server

__all__ = ["certificate"]  # the fixture, used by name below

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test secret for the daily run"


def run(root: Path, port: int, ca_file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFIER_", "STRIPE_"))}
    env |= {
        "NOTIFIER_SECRET": SECRET,
        "NOTIFIER_SMTP_URL": f"smtp://studio:s3cret@127.0.0.1:{port}?retry_delay=0.01",
        "SSL_CERT_FILE": str(ca_file),
    }
    return subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), "run", "--as-of", "2026-11-23", *extra],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def with_an_export_waiting(root: Path) -> Path:
    """The demo Payments export (it pays HP-2026-022) in the books' inbox."""
    inbox = root / "data" / "inbox"
    inbox.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "stripe" / "demo-payments.csv", inbox)
    return inbox


def test_a_daily_run_and_its_rerun(tmp_path, certificate: tuple[ssl.SSLContext, Path]):
    root = example_books(tmp_path)
    inbox = with_an_export_waiting(root)
    mailbox = Mailbox()
    controller, port = start_server(mailbox, certificate)
    try:
        first = run(root, port, certificate[1])
        assert first.returncode == 0, first.stdout + first.stderr
        assert "HP-2026-022: overdue → paid" in first.stdout
        assert "  archived data/archive/2026-11-23-demo-payments.csv" in first.stdout
        assert list(inbox.iterdir()) == []
        assert (
            "Built 26 pages for 7 clients as of 2026-11-23: 65 files written" in first.stdout
        )  # 022: no calendar now; a receipt for each of the 7 payments (the one imported included)
        sent = mailbox.messages()
        assert sorted(m["To"].addresses[0].addr_spec for m in sent) == [
            "accounts@harbourpine.example.com",  # the owner's email: what went, what comes
            "camille@atelier-morel.example.org",  # the courtesy note before HP-2026-030 falls due
            "keiri@tanaka-shoten.example.net",  # a thank-you: HP-2026-022 is paid, no hand-off now
        ]
        (owner,) = [m for m in sent if m["To"].addresses[0].addr_spec.startswith("accounts@")]
        assert owner["Subject"] == (
            "Harbour & Pine Studio, 23 November 2026: 1 to act on, 2 clients emailed"
        )  # the call to Northfield; Atelier Morel and Tanaka were emailed
        payments = yaml.safe_load((root / "data" / "records" / "payments.yaml").read_text())
        assert any(p["invoice"] == "HP-2026-022" for p in payments)

        again = run(root, port, certificate[1])
        assert again.returncode == 0, again.stdout + again.stderr
        assert "  nothing waiting in data/inbox/" in again.stdout
        assert ": 0 files written, 0 removed, 65 unchanged." in again.stdout
        assert len(mailbox.messages()) == 3  # nothing sent twice, the owner's email included
    finally:
        controller.stop()


def test_a_problem_in_the_books_stops_the_run_before_anything(tmp_path, certificate):
    root = example_books(tmp_path)
    clients = root / "data" / "clients.yaml"
    clients.write_text(clients.read_text().replace("currency: JPY", "currency: YEN"))
    inbox = with_an_export_waiting(root)
    mailbox = Mailbox()
    controller, port = start_server(mailbox, certificate)
    try:
        result = run(root, port, certificate[1])
    finally:
        controller.stop()
    assert result.returncode == 1
    assert "data/clients.yaml:" in result.stderr
    assert "currency: `YEN` is not an ISO 4217 currency code" in result.stderr
    assert result.stdout == ""
    assert [p.name for p in inbox.iterdir()] == ["demo-payments.csv"]  # not imported, not moved
    assert not (root / "public").exists()
    assert mailbox.messages() == []


def test_the_daily_workflow_steps_end_to_end(tmp_path, certificate):
    """The `run:` steps of .github/workflows/daily.yml, as GitHub would run them (bar installing
    notifier, which is done here), in a clone of the books with a remote to push the record to."""
    books = example_books(tmp_path)
    shutil.copytree(ROOT / ".github", books / ".github")
    shutil.copy(ROOT / ".gitattributes", books)
    with_an_export_waiting(books)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--bare", "--quiet", "-b", "main", str(origin)], check=True)
    for command in (
        ["init", "--quiet", "-b", "main"],
        ["config", "user.email", "owner@example.com"],
        ["config", "user.name", "Owner"],
        ["add", "--all"],
        ["commit", "--quiet", "-m", "the books"],
        ["remote", "add", "origin", str(origin)],
        ["push", "--quiet", "-u", "origin", "main"],
    ):
        subprocess.run(["git", "-C", str(books), *command], check=True)
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "daily.yml").read_text())
    steps = [
        s
        for s in workflow["jobs"]["run"]["steps"]
        if "run" in s and not s["name"].startswith("Install")
    ]
    assert [s["name"] for s in steps] == [
        "Import payments, send the reminders, build the pages",
        "Commit the record back",
    ]
    mailbox = Mailbox()
    controller, port = start_server(mailbox, certificate)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFIER_", "STRIPE_"))}
    env |= {
        "NOTIFIER_SECRET": SECRET,
        "NOTIFIER_SMTP_URL": f"smtp://studio:s3cret@127.0.0.1:{port}",
        "SSL_CERT_FILE": str(certificate[1]),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
    }
    try:
        for step in steps:
            command = step["run"].replace("notifier run", "notifier run --as-of 2026-11-23")
            done = subprocess.run(["bash", "-c", command], cwd=books, env=env, capture_output=True, text=True, check=False)  # fmt: skip
            assert done.returncode == 0, (step["name"], done.stdout, done.stderr)
    finally:
        controller.stop()
    assert len(mailbox.messages()) == 3  # two clients, and the owner
    pushed = subprocess.run(
        ["git", "-C", str(origin), "show", "--name-only", "--format=%an%n%s", "main"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert pushed.startswith("notifier[bot]\nRecord of the daily run on ")
    for changed in ("data/archive/2026-11-23-demo-payments.csv", "data/records/messages.yaml", "data/records/payments.yaml", "data/records/imports.yaml"):  # fmt: skip
        assert changed in pushed
    assert "public/" not in pushed  # the pages are published, not committed
