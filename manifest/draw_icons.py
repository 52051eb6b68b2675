"""Draws the two Teams app icons with the standard library only (no Pillow):

- `color.png`, 192x192, full colour: a white ticket (rounded card, a notch on each side, a
  perforation and two text lines) on the app's accent colour;
- `outline.png`, 32x32, the same ticket as a white line drawing on a transparent background.
  Every pixel is white (255, 255, 255); only the alpha channel varies, as Teams requires.

Shapes are signed distance functions sampled 4x4 times per pixel for smooth edges. The output is
deterministic: `python manifest/draw_icons.py` redraws the committed files pixel for pixel
(tests/test_manifest.py checks it).
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

ACCENT = (0x3B, 0x5B, 0xDB)  # also the manifest's accentColor (#3B5BDB)
WHITE = (0xFF, 0xFF, 0xFF)
SAMPLES = 4  # per axis: 16 samples per pixel

Rgba = tuple[int, int, int, int]
Distance = Callable[[float, float], float]  # < 0 inside, > 0 outside, in pixels


def write_png(path: Path, width: int, height: int, pixels: list[Rgba]) -> None:
    """8-bit RGBA, non-interlaced, filter 0 on every row, fixed zlib level: deterministic bytes."""
    if len(pixels) != width * height:
        raise ValueError(f"{path.name}: {len(pixels)} pixels for {width}x{height}")
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for pixel in pixels[y * width : (y + 1) * width]:
            raw.extend(pixel)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    path.write_bytes(png + chunk(b"IEND", b""))


def rounded_box(cx: float, cy: float, half_w: float, half_h: float, radius: float) -> Distance:
    def distance(x: float, y: float) -> float:
        qx = abs(x - cx) - (half_w - radius)
        qy = abs(y - cy) - (half_h - radius)
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        return outside + min(max(qx, qy), 0.0) - radius

    return distance


def circle(cx: float, cy: float, radius: float) -> Distance:
    return lambda x, y: math.hypot(x - cx, y - cy) - radius


def subtract(shape: Distance, *holes: Distance) -> Distance:
    return lambda x, y: max(shape(x, y), *(-hole(x, y) for hole in holes))


def union(*shapes: Distance) -> Distance:
    return lambda x, y: min(shape(x, y) for shape in shapes)


def stroke(shape: Distance, width: float) -> Distance:
    """A line of `width` pixels running just inside the outline of `shape`."""
    return lambda x, y: abs(shape(x, y) + width / 2) - width / 2


def coverage(shape: Distance, px: int, py: int) -> float:
    # Every distance here changes by at most 1 per pixel moved, so a pixel whose centre is more
    # than half a diagonal away from the edge is wholly inside or outside: no need to sample it.
    centre = shape(px + 0.5, py + 0.5)
    if abs(centre) > 0.71:
        return 1.0 if centre < 0 else 0.0
    inside = 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            if shape(px + (sx + 0.5) / SAMPLES, py + (sy + 0.5) / SAMPLES) <= 0:
                inside += 1
    return inside / (SAMPLES * SAMPLES)


def ticket(size: float) -> tuple[Distance, float, float, float]:
    """The ticket card centred in a `size` square: its shape, its left edge, its width, its height."""
    width, height = size * 0.72, size * 0.46
    left, top = (size - width) / 2, (size - height) / 2
    card = rounded_box(size / 2, size / 2, width / 2, height / 2, size * 0.06)
    notch = size * 0.085
    shape = subtract(card, circle(left, size / 2, notch), circle(left + width, size / 2, notch))
    return shape, left, width, top


def perforation(x: float, top: float, height: float, size: float) -> list[Distance]:
    """Round dots in a column at `x`, from the top of the card to its bottom."""
    dots, radius = 5, size * 0.022
    step = height / (dots + 1)
    return [circle(x, top + step * (i + 1), radius) for i in range(dots)]


def color_icon(size: int = 192) -> list[Rgba]:
    card, left, width, top = ticket(size)
    height = size - 2 * top
    stub_x = left + width * 0.30
    lines = [
        rounded_box(stub_x + width * 0.36, size / 2 - height * 0.16, width * 0.23, size * 0.022, size * 0.022),
        rounded_box(stub_x + width * 0.30, size / 2 + height * 0.16, width * 0.17, size * 0.022, size * 0.022),
    ]
    shape = subtract(card, *perforation(stub_x, top, height, size), *lines)
    pixels: list[Rgba] = []
    for py in range(size):
        for px in range(size):
            a = coverage(shape, px, py)
            r, g, b = (round(bg + (fg - bg) * a) for fg, bg in zip(WHITE, ACCENT, strict=True))
            pixels.append((r, g, b, 255))
    return pixels


def outline_icon(size: int = 32) -> list[Rgba]:
    # Drawn on the pixel grid so the 2 px lines stay crisp at this size: the card spans x 2..30
    # and y 7..25, the perforation is three 2x2 dots on x 10..12.
    left, right, top, bottom = 2, size - 2, 7, size - 7
    middle = size / 2
    card = rounded_box(middle, middle, (right - left) / 2, (bottom - top) / 2, 3.0)
    card = subtract(card, circle(left, middle, 4.0), circle(right, middle, 4.0))
    dots = [rounded_box(11, y, 1.0, 1.0, 0.4) for y in (top + 4, middle, bottom - 4)]
    shape = union(stroke(card, 2.0), *dots)
    return [(*WHITE, round(255 * coverage(shape, px, py))) for py in range(size) for px in range(size)]


def main(out: Path = HERE) -> None:
    write_png(out / "color.png", 192, 192, color_icon(192))
    write_png(out / "outline.png", 32, 32, outline_icon(32))
    print(f"wrote {out / 'color.png'} and {out / 'outline.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
