"""Read a YAML file safely into plain values, remembering the line of every value.

PyYAML composes the node tree (with its C parser where present); we construct the values ourselves so
that amounts never pass through float, `NO` (Norway) stays a string, duplicate keys are reported
instead of silently overwritten, and every key and item keeps its line for error messages.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml._yaml import CParser as Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as Parser  # type: ignore[assignment]

from notifier.problems import Problem

Key = tuple[str | int, ...]

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TAG = "tag:yaml.org,2002:"
_MERGE = _TAG + "merge"


class _Resolver(yaml.resolver.Resolver):
    """PyYAML's resolver, remembering the tag of each plain scalar: the books repeat the same keys
    and values thousands of times, and matching each against every implicit pattern is a third of
    the time it takes to read them."""

    _plain: dict[str, str] = {}  # noqa: RUF012 - shared on purpose: a scalar's tag never changes

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._plain.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                self._plain[value] = tag
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


class Loader(Parser, _Resolver):
    """The C parser and composer, with the resolver above; no constructor (see `_construct`)."""

    def __init__(self, stream: str) -> None:
        Parser.__init__(self, stream)
        _Resolver.__init__(self)


@dataclass
class YamlFile:
    """The values of one file, and the line (1-based) of each key path within it. The lines are
    found when one is first asked for, from the file's text: only a file with a problem needs any,
    and noting every line as the values are made would triple the time it takes to make them."""

    path: str
    data: Any
    text: bytes | None = None  # the file's bytes, to find the lines in
    lines: dict[Key, int] | None = None  # None until one is asked for

    def line(self, key: Key) -> int:
        """The line of `key`, or of its nearest ancestor that the file has (a missing field)."""
        if self.lines is None:
            self.lines = _lines(self.text, self.path) if self.text is not None else {}
        while key not in self.lines and key:
            key = key[:-1]
        return self.lines.get(key, 1)

    def forget(self) -> None:
        """Drop the values and lines (the text gives the lines again): what is kept of a file once
        its records are validated, small enough to cache."""
        self.data = None
        self.lines = None


def read_yaml(source: Path | bytes, shown: str) -> tuple[YamlFile | None, list[Problem]]:
    """Parse `source`, a file or its bytes (reported as `shown`). On a syntax error, return no file
    and the problem."""
    raw = (source if isinstance(source, bytes) else source.read_bytes()).removeprefix(
        codecs.BOM_UTF8
    )
    node, problems = _compose(raw, shown)
    if problems:
        return None, problems
    file = YamlFile(shown, None, raw)
    if node is not None:
        try:
            file.data = _values(node)
        except _Irregular:  # the long way, which says where each irregular key is
            file.lines = {}
            file.data = _construct(node, (), file, problems)
    return file, problems


def _compose(raw: bytes, shown: str) -> tuple[yaml.Node | None, list[Problem]]:
    """The node tree of `raw` (None for an empty file), or the problem that stops it being read."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [not_utf8(raw, exc.start, shown)]
    try:
        loader = Loader(text)
        try:
            return loader.get_single_node(), []
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        line, message = _syntax(exc, text)
        return None, [Problem(shown, line, "", f"YAML syntax: {message}")]
    except yaml.YAMLError as exc:
        return None, [Problem(shown, 1, "", f"YAML syntax: {exc}")]


def _lines(raw: bytes, shown: str) -> dict[Key, int]:
    """The line of every key path in `raw`, read again."""
    node, _ = _compose(raw, shown)
    file = YamlFile(shown, None, raw, lines={})
    if node is not None:
        _construct(node, (), file, [])
    assert file.lines is not None
    return file.lines


def not_utf8(raw: bytes, start: int, shown: str) -> Problem:
    line_start = raw.rfind(b"\n", 0, start) + 1
    line = raw.count(b"\n", 0, start) + 1
    column = len(raw[line_start:start].decode("utf-8", "replace")) + 1
    return Problem(
        shown,
        line,
        "",
        f"not UTF-8 text (byte 0x{raw[start]:02x} in column {column}); save the file as UTF-8",
    )


def _syntax(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """The line and words for a YAML syntax error, pointing where a person would look.

    An unclosed quote or bracket is only noticed far below; the line that opened it is where to look."""
    problem = exc.problem or exc.context or "malformed YAML"
    context = exc.context or ""
    line = exc.problem_mark.line + 1 if exc.problem_mark else 1
    opened = exc.context_mark.line + 1 if exc.context_mark else line
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in here[: len(here) - len(here.lstrip())]:
        return line, "a tab is used for indentation; indent with spaces"
    if "quoted scalar" in context:
        return opened, "the quote opened on this line is never closed"
    if "flow mapping" in context:
        return opened, "the `{` opened on this line is not closed (or a `,` is missing)"
    if "flow sequence" in context:
        return opened, "the `[` opened on this line is not closed (or a `,` is missing)"
    if "expected key" in problem or "expected <block end>" in problem:
        return line, f"{problem} (check this line's indentation)"
    return line, problem


class _Irregular(Exception):
    """A merge key, a repeated key or a key that is not a name: see `_construct`."""


def _values(node: yaml.Node) -> Any:
    """What `_construct` makes of `node`, without noting lines, for a tree with no irregular key
    (which raises _Irregular)."""
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_values(item) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
                raise _Irregular
            name = str(key_node.value)
            if name in result:
                raise _Irregular
            result[name] = _values(value_node)
        return result
    raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover


def _construct(node: yaml.Node, key: Key, file: YamlFile, problems: list[Problem]) -> Any:
    """The values of `node`, noting the line of every key path in `file.lines` and reporting
    repeated keys and keys that are not names; `<<` merge keys fill in keys not given."""
    assert file.lines is not None
    file.lines.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*key, i), file, problems) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, key, file, problems)
    raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover


def _mapping(
    node: yaml.MappingNode, key: Key, file: YamlFile, problems: list[Problem]
) -> dict[str, Any]:
    assert file.lines is not None
    result: dict[str, Any] = {}
    merged: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.tag == _MERGE:  # `<<: *defaults` fills in keys not given here
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                value = _construct(source, key, file, problems)
                if isinstance(value, dict):
                    merged = {**value, **merged}
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(file.path, line, dotted(key), "a key must be a plain name"))
            continue
        name = str(key_node.value)
        child = (*key, name)
        if name in result:
            problems.append(
                Problem(
                    file.path,
                    line,
                    dotted(child),
                    f"duplicate key (first on line {file.lines[child]})",
                )
            )
            continue
        file.lines[child] = line
        result[name] = _construct(value_node, child, file, problems)
    return {**merged, **result}


def _scalar(node: yaml.ScalarNode) -> Any:
    value: str = node.value
    tag = node.tag.removeprefix(_TAG)
    if tag == "null":
        return None
    if tag == "bool":  # YAML 1.1 also reads yes/no/on/off as booleans; only true/false are
        lowered = value.lower()
        return lowered == "true" if lowered in ("true", "false") else value
    if tag == "int":  # octal, hex, 1_000 and leading zeros (invoice "007") stay as written
        return int(value) if _INT.fullmatch(value) else value
    if tag == "float":  # amounts are exact: the text becomes a Decimal, never a float
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return number if number.is_finite() else value
    if tag == "timestamp":
        try:
            if _DATE.fullmatch(value):
                return date.fromisoformat(value)
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def dotted(key: Key) -> str:
    """`lines[0].unit_price` style name for a key path; a record's own index in its file is left
    out, since the line already says which record it is."""
    out = ""
    while key and isinstance(key[0], int):
        key = key[1:]
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
