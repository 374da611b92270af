from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from textwrap import dedent

import pytest
import yaml

from notifier.books import yamlfile
from notifier.books.yamlfile import read_yaml
from notifier.problems import Problem


def read(tmp_path: Path, text: str):
    path = tmp_path / "books.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return read_yaml(path, "data/books.yaml")


def test_amounts_are_exact_decimals_never_floats(tmp_path):
    file, problems = read(tmp_path, "a: 0.10\nb: 1200.50\nc: 1250000\nd: 1_000.5\n")
    assert problems == []
    assert file.data == {
        "a": Decimal("0.10"),
        "b": Decimal("1200.50"),
        "c": 1250000,
        "d": Decimal("1000.5"),
    }
    assert isinstance(file.data["a"], Decimal)


def test_yes_no_and_leading_zeros_stay_as_written(tmp_path):
    file, _ = read(tmp_path, "country: NO\nflag: true\nnumber: 007\noctal: 0o17\nstrict: False\n")
    assert file.data == {
        "country": "NO",
        "flag": True,
        "number": "007",
        "octal": "0o17",
        "strict": False,
    }


def test_dates_and_times(tmp_path):
    file, _ = read(tmp_path, "on: 2026-11-23\nat: 2026-11-23T09:30:00Z\nbad: 2026-13-40\n")
    assert file.data["on"] == date(2026, 11, 23)
    assert file.data["at"] == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert file.data["bad"] == "2026-13-40"


def test_every_key_and_item_keeps_its_line(tmp_path):
    file, _ = read(
        tmp_path,
        """\
        - number: A-1
          lines:
            - description: one
              unit_price: 10.00
        - number: A-2
        """,
    )
    assert file.line((0, "number")) == 1
    assert file.line((0, "lines", 0, "unit_price")) == 4
    assert file.line((1,)) == 5
    assert file.line((1, "missing_field")) == 5


def test_duplicate_keys_are_reported_not_overwritten(tmp_path):
    file, problems = read(tmp_path, "- number: A-1\n  client: acme\n  client: other\n")
    assert [str(p) for p in problems] == [
        "data/books.yaml:3: client: duplicate key (first on line 2)"
    ]
    assert file.data == [{"number": "A-1", "client": "acme"}]


def test_an_unclosed_bracket_points_at_the_line_that_opened_it(tmp_path):
    file, problems = read(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    assert file is None
    assert [str(p) for p in problems] == [
        "data/books.yaml:2: YAML syntax: the `[` opened on this line is not closed (or a `,` is missing)"
    ]


def test_merge_keys_fill_in_what_is_not_given(tmp_path):
    file, problems = read(
        tmp_path,
        """\
        base: &base {currency: EUR, locale: de_DE}
        client:
          <<: *base
          locale: de_AT
        """,
    )
    assert problems == []
    assert file.data["client"] == {"currency": "EUR", "locale": "de_AT"}


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Müller\n".encode("latin-1"))
    file, problems = read_yaml(path, "data/latin1.yaml")
    assert file is None
    assert str(problems[0]) == (
        "data/latin1.yaml:1: not UTF-8 text (byte 0xfc in column 8); save the file as UTF-8"
    )


@pytest.mark.parametrize("loader", [yaml.SafeLoader, yaml.CSafeLoader])
def test_tabs_in_indentation_are_named_whichever_parser_reads_them(tmp_path, monkeypatch, loader):
    monkeypatch.setattr(yamlfile, "Loader", loader)
    _, problems = read(tmp_path, "a:\n\t- b\n")
    assert [str(p) for p in problems] == [
        "data/books.yaml:2: YAML syntax: a tab is used for indentation; indent with spaces"
    ]


def _every_books_file() -> list[Path]:
    tests = Path(__file__).resolve().parent
    roots = [tests.parent / "data", *(tests / "broken").glob("*/data")]
    return sorted(path for root in roots for path in root.rglob("*.yaml"))


@pytest.mark.parametrize("path", _every_books_file(), ids=str)
def test_values_made_without_lines_are_those_made_with_them(path):
    file, problems = read_yaml(path, "data/books.yaml")
    if file is None:
        return  # a syntax error: neither way gets as far as values
    node, _ = yamlfile._compose(path.read_bytes(), "data/books.yaml")
    if node is None:
        assert file.data is None  # an empty file
        return
    noted = yamlfile.YamlFile("data/books.yaml", None, lines={})
    again: list[Problem] = []
    assert yamlfile._construct(node, (), noted, again) == file.data
    assert again == problems


def test_lines_are_found_only_when_one_is_asked_for(tmp_path, monkeypatch):
    file, _ = read(tmp_path, "- number: A-1\n  client: acme\n- number: A-2\n")
    assert file.lines is None
    composed: list[bytes] = []
    real = yamlfile._compose

    def counting(raw, shown):
        composed.append(raw)
        return real(raw, shown)

    monkeypatch.setattr(yamlfile, "_compose", counting)
    assert file.line((1, "number")) == 3
    assert file.line((0, "client")) == 2
    assert len(composed) == 1  # read again once, for both
    file.forget()
    assert file.data is None
    assert file.line((1, "number")) == 3  # the text gives them again


def test_a_file_with_a_repeated_key_notes_its_lines_as_it_is_read(tmp_path):
    file, problems = read(tmp_path, "a: 1\nb: 2\na: 3\n")
    assert [str(p) for p in problems] == ["data/books.yaml:3: a: duplicate key (first on line 1)"]
    assert file.lines == {(): 1, ("a",): 1, ("b",): 2}


def test_aliases_within_bounds_are_values_like_any_other(tmp_path):
    file, problems = read(
        tmp_path,
        """\
        rate: &rate 19%
        lines: &lines [{description: one, unit_price: 10.00}]
        a: {tax_rate: *rate, lines: *lines}
        b: {tax_rate: *rate, lines: *lines}
        """,
    )
    assert problems == []
    assert file.data["a"] == file.data["b"] == {"tax_rate": "19%", "lines": file.data["lines"]}


def test_aliases_are_bounded_by_what_the_file_holds(tmp_path):
    """Ten times the values written out, at least 100,000: a bomb in a short file is refused at
    once; the same repetition in a file holding more is read."""
    repeat = (
        "big: &big ["
        + ", ".join(["x"] * 999)
        + "]\n"
        + "".join(f"r{n}: *big\n" for n in range(110))
    )
    file, problems = read(tmp_path, repeat)
    assert file is None
    assert [str(p) for p in problems] == [
        "data/books.yaml:1: the aliases (`*name`) in this file repeat more than 100000 values, "
        "the most of them here; write the values out, or use fewer aliases"
    ]
    written = "".join(f"w{n}: [{n}, {n}, {n}, {n}]\n" for n in range(2_500))
    file, problems = read(tmp_path, repeat + written)
    assert problems == []
    assert len(file.data["r109"]) == 999


def test_values_nested_too_deep_are_refused_before_they_are_made(tmp_path):
    file, problems = read(tmp_path, "a: " + "[" * 65 + "]" * 65 + "\n")
    assert file is None
    assert [str(p) for p in problems] == [
        "data/books.yaml:1: values are nested more than 64 levels deep here"
    ]


def test_a_file_gone_before_it_is_read_is_missing(tmp_path):
    path = tmp_path / "gone.yaml"
    assert str(yamlfile.read_bytes(path, "data/gone.yaml")) == "data/gone.yaml:1: file is missing"
