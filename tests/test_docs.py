"""docs/books.md documents every field of every model in the books, and nothing else.

Each model reachable from the top-level records has a `## ModelName` section whose table lists
exactly its fields, one row each, the name in backticks in the first column.
"""

from __future__ import annotations

import re
import typing
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from notifier.books import schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "books.md"
TOP_LEVEL: tuple[type[BaseModel], ...] = (
    schema.Settings,
    schema.Client,
    schema.Invoice,
    schema.Payment,
    schema.Message,
    schema.Import,
    schema.PaymentLinkRecord,
    schema.ReviewRecord,
)
TABLE_HEADER = re.compile(r"^\|\s*field\s*\|\s*type\s*\|\s*required / default\s*\|\s*meaning\s*\|$")
SEPARATOR = re.compile(r"^\|[\s:|-]+\|$")
BACKTICKED = re.compile(r"`([^`]+)`")
CAMEL_CASE = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models named anywhere in `annotation`: through Optional, unions, list[...],
    dict[..., ...] and Annotated[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) is typing.Literal:
        return []
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def reachable_models() -> dict[str, type[BaseModel]]:
    """Every model reachable from the top-level records, by name, in the order first met."""
    seen: dict[str, type[BaseModel]] = {}
    waiting = list(TOP_LEVEL)
    while waiting:
        model = waiting.pop(0)
        if model.__name__ in seen:
            assert seen[model.__name__] is model, f"two models are called {model.__name__}"
            continue
        seen[model.__name__] = model
        for field in model.model_fields.values():
            waiting += _models_in(field.annotation)
    return seen


def sections(text: str) -> list[tuple[str, list[str]]]:
    """Each `## ` heading of the page with the lines under it, up to the next `## `."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            found.append((line[3:].strip(), []))
        elif found:
            found[-1][1].append(line)
    return found


def table_fields(lines: list[str]) -> list[str] | None:
    """The backticked names in the first column of the field table in `lines` (None: no table)."""
    rows = [line.strip() for line in lines]
    start = next((i for i, row in enumerate(rows) if TABLE_HEADER.match(row)), None)
    if start is None:
        return None
    names: list[str] = []
    for row in rows[start + 1 :]:
        if not row.startswith("|"):
            break
        if SEPARATOR.match(row):
            continue
        first = row.strip("|").split("|")[0]
        names += BACKTICKED.findall(first)
    return names


MODELS = reachable_models()
SECTIONS = sections(DOC.read_text(encoding="utf-8"))


def test_every_schema_model_is_reached():
    assert set(MODELS) >= {"Settings", "Business", "Invoice", "Line", "Stage", "PaymentLink"}
    assert len(MODELS) == 33, sorted(MODELS)


@pytest.mark.parametrize("name", list(MODELS))
def test_model_section_lists_exactly_its_fields(name):
    model = MODELS[name]
    found = [lines for heading, lines in SECTIONS if heading == name]
    assert found, f"docs/books.md has no section `## {name}`"
    assert len(found) == 1, f"docs/books.md has {len(found)} sections `## {name}`"
    documented = table_fields(found[0])
    assert documented is not None, (
        f"`## {name}` in docs/books.md has no `| field | type | required / default | meaning |` table"
    )
    twice = sorted(field for field, count in Counter(documented).items() if count > 1)
    missing = sorted(set(model.model_fields) - set(documented))
    extra = sorted(set(documented) - set(model.model_fields))
    assert (missing, extra, twice) == ([], [], []), (
        f"docs/books.md `## {name}` is out of step with {name}: "
        f"missing fields {missing}, extra fields {extra}, fields listed twice {twice}"
    )


def test_every_model_section_is_a_real_model():
    """A section with a field table, or headed by a CamelCase name, must be about a real model."""
    for_models = [
        heading
        for heading, lines in SECTIONS
        if table_fields(lines) is not None or CAMEL_CASE.match(heading)
    ]
    stale = sorted(set(for_models) - set(MODELS))
    assert not stale, f"docs/books.md has sections for models the schema does not have: {stale}"
