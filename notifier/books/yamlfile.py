"""Read a YAML file safely into plain values, remembering the line of every value.

PyYAML composes the node tree (with its C parser where present); we construct the values ourselves so
that amounts never pass through float, `NO` (Norway) stays a string, duplicate keys are reported
instead of silently overwritten, and every key and item keeps its line for error messages.
"""

from __future__ import annotations

import codecs
import errno
import itertools
import os
import re
import stat
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


def read_bytes(path: Path, shown: str) -> bytes | Problem:
    """The bytes of the file at `path` (reported as `shown`), or the problem that keeps them from
    being read: missing (or gone since the folder was listed), a folder, a link that leads nowhere
    or round in a loop, a pipe or device (which would be waited on for ever), not permitted."""
    try:
        # Not blocking: a pipe opens at once, and is refused below, instead of waiting for a writer.
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return Problem(shown, 1, "", _unopened(path, exc))
    mode = os.fstat(handle).st_mode
    if not stat.S_ISREG(mode):
        os.close(handle)
        return Problem(
            shown, 1, "", "is a folder, not a file" if stat.S_ISDIR(mode) else _NOT_A_FILE
        )
    with open(handle, "rb") as stream:
        try:
            return stream.read()
        except OSError as exc:
            return Problem(shown, 1, "", f"cannot be read: {exc.strerror}")


_NOT_A_FILE = "is not a plain file (a pipe, socket or device); the books are plain files"


def _unopened(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"is a link to {os.readlink(path)}, which does not exist"
        return "file is missing"
    if exc.errno == errno.ELOOP:
        return "is a link that leads round in a loop (to itself, or through other links)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied"
    if exc.errno == errno.ENXIO:  # a socket
        return _NOT_A_FILE
    return f"cannot be read: {exc.strerror}"


def read_yaml(source: Path | bytes, shown: str) -> tuple[YamlFile | None, list[Problem]]:
    """Parse `source`, a file or its bytes (reported as `shown`). On a file that cannot be read, a
    syntax error or aliases beyond bounds (see `_bounded`), return no file and the problem."""
    if not isinstance(source, bytes):
        read = read_bytes(source, shown)
        if isinstance(read, Problem):
            return None, [read]
        source = read
    raw = source.removeprefix(codecs.BOM_UTF8)
    node, problems = _compose(raw, shown)
    if problems:
        return None, problems
    if node is not None:
        unbounded = _bounded(node, shown)
        if unbounded is not None:
            return None, [unbounded]
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


# Aliases (`*name`) repeat what an anchor (`&name`) holds, and aliases of aliases multiply: a few
# hundred bytes can stand for billions of values. What aliases add to a file is counted on its
# node tree, where a repeated value is one node however often it is repeated, before any value is
# made: ten times the values written out, the most a long file of `<<: *defaults` needs, within
# these bounds (a million values take some 250 MB to check).
ALIAS_VALUES = (100_000, 1_000_000)
# The books need a few levels; Python's own recursion stops near a thousand.
MAX_DEPTH = 64


class _Unbounded(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1


@dataclass
class _Count:
    """What the walk of `_measure` has found so far."""

    sizes: dict[int, int]  # values each collection stands for, by its node's id (0: being walked)
    added: int = 0  # values that aliases of collections add to those written out
    most: tuple[int, yaml.Node | None] = (0, None)  # the largest repetition, and where


def _bounded(node: yaml.Node, shown: str) -> Problem | None:
    """The problem with `node` if its aliases repeat too much, refer to a value that holds them,
    or its values nest too deep; None if it may be made into values."""
    if isinstance(node, yaml.ScalarNode):
        return None
    count = _Count({})
    try:
        size = _measure(node, 1, count)
    except _Unbounded as exc:
        return Problem(shown, exc.line, "", str(exc))
    least, most = ALIAS_VALUES
    limit = min(max(least, 10 * (size - count.added)), most)
    if count.added <= limit:
        return None
    where = count.most[1]
    assert where is not None
    return Problem(
        shown,
        where.start_mark.line + 1,
        "",
        f"the aliases (`*name`) in this file repeat more than {limit} values, the most of them "
        "here; write the values out, or use fewer aliases",
    )


def _measure(node: yaml.Node, depth: int, count: _Count) -> int:
    """How many values the collection `node` stands for, its aliases repeated; noted in `count`.
    A scalar is one value, written out each time (an alias of one adds no more than its name)."""
    if depth > MAX_DEPTH:
        raise _Unbounded(node, f"values are nested more than {MAX_DEPTH} levels deep here")
    sizes = count.sizes
    sizes[id(node)] = 0
    parts = node.value
    if not isinstance(node, yaml.SequenceNode):
        parts = itertools.chain.from_iterable(parts)
    size = 1
    for part in parts:
        if part.__class__ is yaml.ScalarNode:  # most of them: looked at first, quickly
            size += 1
            continue
        known = sizes.get(id(part))
        if known is None:
            size += _measure(part, depth + 1, count)
        elif known == 0:
            raise _Unbounded(
                node, "an alias (`*name`) here refers to a value that holds it, which never ends"
            )
        else:
            size += known
            count.added += known
            if known > count.most[0]:
                count.most = (known, node)
    sizes[id(node)] = size
    return size


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
