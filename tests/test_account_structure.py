"""The layering of issue 19: books → ledger → account → {pages, documents, emails, report, links}.
The outputs take the account of the day and only format it: none imports the ledger."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "notifier"
OUTPUTS = [
    *sorted((PACKAGE / "portal").glob("*.py")),
    *sorted((PACKAGE / "reminders").glob("*.py")),
    *sorted((PACKAGE / "report").glob("*.py")),
    PACKAGE / "payments" / "links.py",
]


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", OUTPUTS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_an_output_takes_the_account_never_the_ledger(path: Path) -> None:
    ledger = sorted(m for m in imported(path) if m.startswith("notifier.ledger"))
    assert ledger == [], f"{path.name} formats the account; it must not import {ledger}"


def test_the_account_does_not_reach_up_to_an_output() -> None:
    for path in (PACKAGE / "account").glob("*.py"):
        reaching = [
            m
            for m in imported(path)
            if m.split(".")[:2]
            in (["notifier", "portal"], ["notifier", "reminders"], ["notifier", "report"])
        ]
        assert reaching == [], path.name


@pytest.mark.parametrize(
    ("library", "home"),
    [("nh3", "sanitize.py"), ("typst", "printer.py")],
)
def test_a_concept_several_outputs_share_lives_in_one_module_below_them(
    library: str, home: str
) -> None:
    """One sanitiser of people's words, one PDF printer: the pages and the emails use the same."""
    users = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(m == library or m.startswith(f"{library}.") for m in imported(path))
    )
    assert users == [home]
