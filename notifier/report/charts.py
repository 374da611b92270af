"""Charts as static SVG: bars with their values written on them, a title and a description for
screen readers. No script, no style attribute (the pages' policy allows neither), no request."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, TOP, BOTTOM, GAP = 640, 240, 28, 40, 8


def bar_chart(
    chart_id: str, title: str, bars: Sequence[tuple[str, int]], shown: Callable[[int], str]
) -> Markup:
    """A bar per (label, value); values shown as `shown` formats them. Negative values count as 0."""
    peak = max((value for _, value in bars), default=0) or 1
    slot = WIDTH / max(len(bars), 1)
    usable = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape("; ".join(f"{label}: {shown(value)}" for label, value in bars))}</desc>',
        f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" stroke="#4a4a4a"/>',
    ]
    for index, (label, value) in enumerate(bars):
        height = round(usable * max(value, 0) / peak)
        x = round(index * slot + GAP / 2)
        y = HEIGHT - BOTTOM - height
        middle = round(index * slot + slot / 2)
        parts.append(
            f'<rect x="{x}" y="{y}" width="{round(slot - GAP)}" height="{height}" fill="#0b4f8a"/>'
        )
        if value:
            parts.append(
                f'<text x="{middle}" y="{y - 6}" text-anchor="middle" font-size="12" fill="#1a1a1a">'
                f"{escape(shown(value))}</text>"
            )
        parts.append(
            f'<text x="{middle}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" font-size="12" '
            f'fill="#1a1a1a">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
