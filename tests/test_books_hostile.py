"""Books that a careless edit or a hostile pull request can make: aliases that multiply, paths that
cannot be read, values out of range. Each is a `path:line` problem and exit 1 in `check`, `build`
and `remind` alike, through the real command line, in bounded memory and time (see
tests/test_broken_books.py: a regression fails instead of eating the machine)."""

from __future__ import annotations

import os
import shutil
import typing
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifier.books import load, schema
from notifier.books.checks import check_books
from notifier.cli import cli
from tests.scratch import example_books
from tests.test_broken_books import BROKEN, build, notifier

AS_OF = "2026-11-23"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stripe"
COMMANDS = {
    "check": ("check",),
    "build": ("build", "--demo", "--as-of", AS_OF),
    "remind": ("remind", "--dry-run", "--as-of", AS_OF),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "case", ["alias-bomb", "alias-bomb-merge-keys", "alias-loop", "date-out-of-range"]
)
def test_every_command_reports_what_check_reports(case: str, command: str, tmp_path: Path) -> None:
    result = notifier(build(case, tmp_path), *COMMANDS[command])
    expected = (BROKEN / case / "expected.txt").read_text(encoding="utf-8")
    assert (result.returncode, result.stderr) == (1, expected)


def test_a_build_reads_the_business_time_zone_within_bounds(tmp_path: Path) -> None:
    """Without --as-of, a build reads the time zone from business.yaml before the books."""
    root = build("_base", tmp_path)
    settings = root / "data" / "business.yaml"
    bomb = "".join(
        f"  {name}: &{name} {{<<: [{', '.join([f'*{before}'] * 6)}]}}\n"
        for before, name in zip("abcdefghijklmnop", "bcdefghijklmnopq", strict=True)
    )
    settings.write_text(
        "defaults:\n  a: &a {x: 1, y: 2, z: 3}\n" + bomb + settings.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    result = notifier(root, "build", "--demo")
    assert (result.returncode, result.stderr) == (
        1,
        "data/business.yaml:18: the aliases (`*name`) in this file repeat more than 100000 "
        "values, the most of them here; write the values out, or use fewer aliases\n"
        "1 problem in the books\n",
    )


UNREADABLE = (
    "data/invoices/folder.yaml:1: is a folder, not a file\n"
    "data/invoices/gone.yaml:1: is a link to nowhere.yaml, which does not exist\n"
    "data/invoices/loop.yaml:1: is a link that leads round in a loop (to itself, or through "
    "other links)\n"
    "data/invoices/pipe.yaml:1: is not a plain file (a pipe, socket or device); the books are "
    "plain files\n"
    "4 problems in the books\n"
)


def unreadable_books(tmp_path: Path) -> Path:
    root = build("_base", tmp_path)
    invoices = root / "data" / "invoices"
    (invoices / "loop.yaml").symlink_to("loop.yaml")
    (invoices / "gone.yaml").symlink_to("nowhere.yaml")
    (invoices / "folder.yaml").mkdir()
    os.mkfifo(invoices / "pipe.yaml")  # read as a file, it would wait for ever for a writer
    return root


@pytest.mark.parametrize("command", COMMANDS)
def test_paths_that_cannot_be_read_are_problems(command: str, tmp_path: Path) -> None:
    result = notifier(unreadable_books(tmp_path), *COMMANDS[command])
    assert (result.returncode, result.stderr) == (1, UNREADABLE)


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_business_yaml_that_is_a_pipe_is_a_problem(command: str, tmp_path: Path) -> None:
    root = build("_base", tmp_path)
    (root / "data" / "business.yaml").unlink()
    os.mkfifo(root / "data" / "business.yaml")
    result = notifier(root, command, *(["--demo"] if command == "build" else []))
    assert (result.returncode, result.stderr) == (
        1,
        "data/business.yaml:1: is not a plain file (a pipe, socket or device); the books are "
        "plain files\n1 problem in the books\n",
    )


def test_a_file_gone_since_the_books_were_listed_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build("_base", tmp_path)
    gone = root / "data" / "invoices" / "2025.yaml"
    shutil.copyfile(root / "data" / "invoices" / "2026.yaml", gone)
    listed = load._kinds

    def listed_then_removed(root: Path) -> dict[typing.Any, list[str]]:
        kinds = listed(root)
        gone.unlink()
        return kinds

    monkeypatch.setattr(load, "_kinds", listed_then_removed)
    _, problems = check_books(root)
    assert [str(p) for p in problems] == ["data/invoices/2025.yaml:1: file is missing"]


def test_a_file_gone_while_a_build_reads_the_folder_is_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build first reads every file to see whether anything changed since the last one; a
    file removed meanwhile (a `git checkout` in another terminal) leaves it to the books."""
    root = example_books(tmp_path)
    gone = root / "content" / "notes.md"
    gone.write_text("to be removed\n", encoding="utf-8")
    read_bytes = Path.read_bytes

    def removed_first(path: Path) -> bytes:
        if path == gone:
            path.unlink()
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", removed_first)
    result = CliRunner().invoke(cli, ["--root", str(root), "build", "--demo", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert not gone.exists()


@pytest.mark.parametrize("command", ["build", "remind"])
def test_an_as_of_date_out_of_range_is_a_usage_error(command: str, tmp_path: Path) -> None:
    result = notifier(build("_base", tmp_path), command, "--as-of", "9999-12-20")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--as-of': 9999-12-20 is out of range: dates in the books are "
        "from 1900-01-01 to 2999-12-31"
    )


def test_an_export_out_of_range_imports_nothing(tmp_path: Path) -> None:
    """What reconcile would write into the books must fit them: an amount of a trillion or a
    day in year 9999 is a problem of the export, not a traceback when the record is made."""
    root = example_books(tmp_path)
    fixture = FIXTURES / "malformed-amount.csv"
    header, good = fixture.read_text(encoding="utf-8").splitlines()[:2]
    export = tmp_path / "payments.csv"
    export.write_text(
        "\n".join(
            [
                header,
                good.replace(",1320.00,", ",1000000000000.00,"),
                good.replace("2026-11-20 10:15:02", "9999-12-31 23:59:59"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    before = {p: p.read_bytes() for p in (root / "data/records").iterdir()}
    result = notifier(root, "reconcile", str(export))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"{export}:2:3: Amount: `1000000000000.00` is more than the books hold (less than "
        "1000000000000)",
        f"{export}:3:2: Created (UTC): 9999-12-31 is out of range: dates in the books are from "
        "1900-01-01 to 2999-12-31",
        "2 problems in the exports; nothing was imported",
    ]
    assert {p: p.read_bytes() for p in (root / "data/records").iterdir()} == before


def test_ordinary_merge_keys_work_in_a_large_file(tmp_path: Path) -> None:
    """The bound on aliases leaves room for what merge keys are for: every invoice of a long
    file taking its client and lines from one `&defaults`."""
    root = build("_base", tmp_path)
    defaults = (
        "- &defaults\n  number: INV-0\n  client: kessler\n  issue_date: 2026-10-05\n  lines:\n"
        "    - {description: Beratung, unit_price: 1200.00, tax_rate: 19%}\n"
        "    - {description: Reise, quantity: 2, unit: Tag, unit_price: 300.00}\n"
    )
    invoices = "".join(f"- {{<<: *defaults, number: INV-{n}}}\n" for n in range(3, 5003))
    (root / "data" / "invoices" / "2027.yaml").write_text(defaults + invoices, encoding="utf-8")
    result = notifier(root, "check")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "books OK: 2 clients, 5003 invoices, 1 payments, 1 messages\n"


def test_every_yes_no_field_takes_true_or_false_only() -> None:
    """pydantic would take `yes`, `on`, `1` and `"true"` for a bool; docs/books.md says no."""
    models = [
        model
        for model in vars(schema).values()
        if isinstance(model, type) and issubclass(model, schema.Model) and model is not schema.Model
    ]
    found = []
    for model in models:
        model.model_rebuild()
        for name, field in model.model_fields.items():
            types = {field.annotation, *typing.get_args(field.annotation)}
            if bool in types:
                found.append(f"{model.__name__}.{name}")
                assert any(getattr(m, "strict", False) for m in field.metadata), name
    assert found == ["PaymentSettings.charges_first", "Invoice.draft", "Invoice.waive_fees"]
