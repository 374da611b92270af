"""Reading an EPC QR code back, as a banking app would: zxing-cpp's reader on the code's image."""

from __future__ import annotations

import re

import zxingcpp
from PIL import Image, ImageDraw

STROKE = re.compile(r"M(\d+) (\d+)\.5h(\d+)")


def read_svg(svg: str, scale: int = 4) -> zxingcpp.Barcode:
    """The code an inline SVG of `notifier.portal.epc.svg` shows, drawn as an image and read."""
    side = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg)[1])  # type: ignore[index]
    image = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(image)
    for x, y, width in STROKE.findall(re.search(r' d="([^"]*)"', svg)[1]):  # type: ignore[index]
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle((left, top, left + int(width) * scale - 1, top + scale - 1), fill=0)
    found = zxingcpp.read_barcode(image)
    assert found is not None, "no QR code could be read"
    return found
