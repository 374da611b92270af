import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from notifier.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notifier", *args], capture_output=True, text=True, check=False
    )


def test_check_passes_on_the_example_books():
    result = run("--root", str(ROOT), "check")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "books OK: 7 clients, 18 invoices, 6 payments, 19 messages\n"


def test_no_books_is_a_usage_error(tmp_path):
    result = run("--root", str(tmp_path), "check")
    assert result.returncode == 2
    assert result.stderr == f"notifier: no data/ folder in {tmp_path} (use --root)\n"


def test_a_bad_date_is_a_usage_error():
    result = CliRunner().invoke(cli, ["--root", str(ROOT), "status", "--as-of", "23/11/2026"])
    assert result.exit_code == 2
    assert "'23/11/2026' is not a date like 2026-11-23" in result.output


def test_status_shows_each_invoice_and_its_next_step():
    result = CliRunner().invoke(cli, ["--root", str(ROOT), "status", "--as-of", "2026-11-23"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "As of 2026-11-23:"
    assert lines[1].split() == [
        "invoice",
        "client",
        "status",
        "due",
        "late",
        "owed",
        "next",
        "step",
    ]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert len(rows) == 18
    assert rows["HP-2026-022"].split()[2:6] == ["overdue", "2026-09-14", "70d", "1270712"]
    assert "collections (collections) today" in rows["HP-2026-022"]
    assert "26.40 GBP off if paid by 2026-11-28" in rows["HP-2026-033"]
    assert "plan three-monthly, instalment 2" in rows["HP-2026-029"]
    assert "paused: Practice owner in hospital" in rows["HP-2026-027"]


def test_warnings_are_shown_but_do_not_fail_the_check(tmp_path):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    payments = tmp_path / "data" / "records" / "payments.yaml"
    with payments.open("a", encoding="utf-8") as out:
        out.write(
            "- {id: bank-extra, invoice: HP-2026-031, date: 2026-11-01, amount: 50.00, currency: GBP}\n"
        )
    result = run("--root", str(tmp_path), "check")
    assert result.returncode == 0
    assert result.stderr == (
        "data/records/payments.yaml:9: warning: invoice: invoice HP-2026-031 is a draft; issue it, "
        "or refund this payment\n"
    )
    assert result.stdout.endswith(", 1 warning\n")


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: notifier [OPTIONS] COMMAND [ARGS]...")
    commands = result.stdout.split("Commands:\n")[1].splitlines()
    assert [line.split()[0] for line in commands] == [
        "build",
        "check",
        "links",
        "reconcile",
        "remind",
        "report",
        "run",
        "serve",
        "status",
    ]


def test_a_theme_without_a_template_this_version_needs_is_named_not_a_traceback(tmp_path):
    root = tmp_path / "books"
    for part in ("data", "content", "site"):
        shutil.copytree(ROOT / part, root / part)
    (root / "site" / "documents" / "invoice.typ").unlink()  # a theme from before it
    result = run("--root", str(root), "build", "--demo", "--as-of", "2026-11-23")
    assert result.returncode == 1
    assert result.stderr == (
        f"notifier: the theme has no site/documents/invoice.typ (in {root}); this version"
        " of notifier prints with it: copy it from the template repository\n"
    )


def test_a_template_that_does_not_parse_is_named_with_its_line(tmp_path):
    root = tmp_path / "books"
    for part in ("data", "content", "site"):
        shutil.copytree(ROOT / part, root / part)
    client = root / "site" / "templates" / "client.html"
    client.write_text(client.read_text(encoding="utf-8") + "{% if %}\n", encoding="utf-8")
    lines = client.read_text(encoding="utf-8").count("\n")
    result = run("--root", str(root), "build", "--demo", "--as-of", "2026-11-23")
    assert result.returncode == 1
    assert result.stderr.startswith(f"site/templates/client.html:{lines}: ")
    assert "Traceback" not in result.stderr
