"""The business's look: an accent that cannot be read against white, and a logo that could run or
load something, are refused with the reason; a fit logo and accent reach the pages and emails."""

from __future__ import annotations

import pytest

from notifier import brand

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{}</svg>'


@pytest.mark.parametrize(
    ("inside", "reason"),
    [
        ("<script>alert(1)</script>", "holds a <script>, which a logo may not"),
        ('<rect onclick="alert(1)"/>', "has an event handler (`onclick`), which a logo may not"),
        ("<foreignObject><p>hi</p></foreignObject>", "holds a <foreignObject>, which a logo may not"),
        ('<use href="other.svg#a"/>', "refers to another file (`other.svg#a`), which a logo may not"),
        ('<image xlink:href="data:image/png;base64,AAAA"/>',
         "refers to another file (`data:image/png;base64,AAAA`), which a logo may not"),
        ("<style>@import url(https://x.example/a.css);</style>",
         "has a style that loads another file, which a logo may not"),
        ('<rect style="fill: url(https://x.example/p.svg#g)"/>',
         "has a style that loads another file, which a logo may not"),
    ],
)  # fmt: skip
def test_an_svg_that_runs_or_loads_something_is_refused(inside, reason):
    assert (
        brand.svg_problem(SVG.format(inside).encode(), "site/logo.svg") == f"site/logo.svg {reason}"
    )


def test_an_svg_with_entities_is_refused_before_it_is_parsed():
    bomb = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>'
    assert brand.svg_problem(bomb, "site/logo.svg") == (
        "site/logo.svg: an SVG logo may not declare a DOCTYPE, entities or a style sheet"
    )


def test_a_plain_drawing_with_inner_references_is_fit():
    inside = '<defs><linearGradient id="g"/></defs><rect fill="url(#g)"/><use href="#g"/>'
    assert brand.svg_problem(SVG.format(inside).encode(), "site/logo.svg") is None


@pytest.mark.parametrize(
    ("written", "kept"), [("#1D5C4A", "#1d5c4a"), ("1d5c4a", "#1d5c4a"), ("#000000", "#000000")]
)
def test_an_accent_that_reads_against_white_is_kept(written, kept):
    assert brand.colour(written) == kept


def test_an_accent_too_light_for_white_text_is_refused():
    # #767676 is the lightest grey that passes AA on white; #777777 just fails.
    assert brand.colour("#767676") == "#767676"
    with pytest.raises(ValueError, match=r"`#777777` on white has a contrast of 4.48:1"):
        brand.colour("#777777")
