"""The business's look: its logo (an SVG or PNG file in `site/`) and its accent colour, as the pages,
the emails and the documents show them.

The accent colours links, headings and buttons (white words on it), so it must read against white
as WCAG AA asks of text (a contrast of 4.5:1). The logo is published with the site and must load
nothing else and run nothing: an SVG with a script, an event handler, an embedded document or a
reference to another file is refused, not cleaned (what was drawn would change unseen)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Literal

# WCAG 2.1 AA for normal text; white words on an accent button read at the same ratio.
AA_CONTRAST = 4.5
WHITE = "#ffffff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
_COLOUR = re.compile(r"#?([0-9a-fA-F]{6})")
# Elements that run code, embed another document or play media: none belongs in a logo.
_UNSAFE_ELEMENTS = {
    "script", "foreignobject", "iframe", "object", "embed", "audio", "video", "handler",
    "listener", "animation",
}  # fmt: skip
_OUTSIDE = re.compile(r"url\(\s*['\"]?\s*(?!#)|@import", re.IGNORECASE)

MediaType = Literal["image/svg+xml", "image/png"]


def colour(value: str) -> str:
    """`value` as `#rrggbb` (lower case); ValueError if it is no such colour or fails WCAG AA
    against white."""
    found = _COLOUR.fullmatch(value.strip())
    if found is None:
        raise ValueError(f"`{value}` is not a colour written as #rrggbb (for example #0b4f8a)")
    written = "#" + found.group(1).lower()
    ratio = contrast(written, WHITE)
    if ratio < AA_CONTRAST:
        raise ValueError(
            f"`{written}` on white has a contrast of {ratio:.2f}:1, and so has white text on it; "
            f"WCAG AA needs at least {AA_CONTRAST}:1 for text: choose a darker colour"
        )
    return written


def contrast(first: str, second: str) -> float:
    """WCAG's contrast ratio of two `#rrggbb` colours, from 1 (the same) to 21 (black on white).
    A ratio, not money: a float is what the definition uses."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _luminance(written: str) -> float:
    channels = [int(written[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def logo_path(value: str) -> str:
    """`value` as a path within `site/` to an .svg or .png file; ValueError if it is not one."""
    path = PurePosixPath(value.strip().replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"`{value}` must be a path within site/ (for example static/logo.svg)")
    if path.suffix.lower() not in LOGO_TYPES:
        raise ValueError(f"`{value}` must be an SVG or PNG file (.svg or .png)")
    return path.as_posix()


def logo_problem(site: Path, logo: str) -> str | None:
    """What is wrong with the logo file `site/LOGO` (missing, not the picture its name says, or an
    SVG that could run or load something), or None."""
    shown = f"site/{logo}"
    try:
        data = (site / logo).read_bytes()
    except FileNotFoundError:
        return f"{shown} is missing"
    except OSError as error:
        return f"{shown} cannot be read: {error.strerror or error}"
    if LOGO_TYPES[PurePosixPath(logo).suffix.lower()] == "image/png":
        return None if data.startswith(PNG_SIGNATURE) else f"{shown} is not a PNG picture"
    return svg_problem(data, shown)


def svg_problem(data: bytes, shown: str) -> str | None:
    """Why the SVG `data` cannot be a logo, or None: it must be a drawing that runs nothing and
    loads nothing (no script, event handler, embedded document, or reference to another file)."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower() or b"<?xml-stylesheet" in head:
        return f"{shown}: an SVG logo may not declare a DOCTYPE, entities or a style sheet"
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        return f"{shown} is not a readable SVG ({error})"
    if root.tag != f"{SVG_NAMESPACE}svg":
        return f"{shown} is not an SVG picture (its root is not <svg> in the SVG namespace)"
    for element in root.iter():
        name = _local(element.tag).lower()
        if name in _UNSAFE_ELEMENTS:
            return f"{shown} holds a <{_local(element.tag)}>, which a logo may not"
        if name == "style" and _OUTSIDE.search(element.text or ""):
            return f"{shown} has a style that loads another file, which a logo may not"
        for attribute, value in element.attrib.items():
            key = _local(attribute).lower()
            if key.startswith("on"):
                return f"{shown} has an event handler (`{_local(attribute)}`), which a logo may not"
            if key in ("href", "src") and not value.strip().startswith("#"):
                return f"{shown} refers to another file (`{value}`), which a logo may not"
            if _OUTSIDE.search(value):
                return f"{shown} has a style that loads another file, which a logo may not"
    return None


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def published_logo(logo: str) -> str:
    """Where the site publishes the logo, relative to its root."""
    return f"assets/logo{PurePosixPath(logo).suffix.lower()}"


@dataclass(frozen=True)
class Brand:
    """The business's look, for the pages, the emails and the documents: the accent (`#rrggbb`,
    or None for the theme's own), and the logo (None without one, or if it is not fit to show):
    where the site publishes it, its bytes and their media type."""

    accent: str | None
    logo: str | None = None  # e.g. `assets/logo.svg`, relative to the site's root
    logo_type: MediaType | None = None
    logo_data: bytes | None = field(default=None, repr=False)

    def files(self) -> Iterator[tuple[str, bytes]]:
        """What the site publishes of the brand: the logo, and `assets/brand.css`."""
        if self.logo is not None and self.logo_data is not None:
            yield self.logo, self.logo_data
        if self.accent:
            yield "assets/brand.css", self.style.encode()

    @property
    def style(self) -> str:
        """The style sheet that puts the accent in place of the theme's (`brand.css`)."""
        return f":root {{ --accent: {self.accent}; }}\n" if self.accent else ""


def brand_of(site: Path, logo: str | None, accent: str | None) -> Brand:
    """The brand the business's settings (`logo`, `accent`) name, its logo read from `site`."""
    return _brand_of(site, logo, accent, _stamp(site / logo) if logo else None)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size


@lru_cache(maxsize=8)
def _brand_of(
    site: Path, logo: str | None, accent: str | None, stamp: tuple[int, int] | None
) -> Brand:
    if logo is None or stamp is None or logo_problem(site, logo) is not None:
        return Brand(accent)
    kind = LOGO_TYPES[PurePosixPath(logo).suffix.lower()]
    media: MediaType = "image/png" if kind == "image/png" else "image/svg+xml"
    return Brand(accent, published_logo(logo), media, (site / logo).read_bytes())
