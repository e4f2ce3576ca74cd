"""Screenshots compared pixel by pixel: a PNG decoded with zlib and struct (8-bit RGB or
RGBA, not interlaced: what Chromium writes), and the share of pixels that differ."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

CHANNELS = {2: 3, 6: 4}  # PNG colour type: RGB, RGBA


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]  # unfiltered scanlines


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def read_png(data: bytes) -> Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, header = 8, bytearray(), b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in CHANNELS and not interlace, "unsupported PNG"
    bpp = CHANNELS[colour]
    raw, stride = zlib.decompress(bytes(idat)), width * bpp
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((x + b) & 255 for x, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                left, up_left = (line[i - bpp], previous[i - bpp]) if i >= bpp else (0, 0)
                line[i] = (line[i] + _paeth(left, previous[i], up_left)) & 255
        rows.append(bytes(line))
        previous = rows[-1]
    return Image(width, height, bpp, rows)


def differing_share(a: Image, b: Image, threshold: int = 48) -> float:
    """The share of pixels of which any channel differs by more than ``threshold``
    (anti-aliasing moves a channel a little; a changed pixel a lot)."""
    assert (a.width, a.height) == (b.width, b.height), "sizes differ"
    differing = 0
    for row_a, row_b in zip(a.rows, b.rows, strict=True):
        if row_a == row_b:
            continue
        for x in range(0, len(row_a), a.channels):
            if any(abs(row_a[x + c] - row_b[x + c]) > threshold for c in range(3)):
                differing += 1
    return differing / (a.width * a.height)


def load(path: Path) -> Image:
    return read_png(path.read_bytes())
