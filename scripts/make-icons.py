#!/usr/bin/env python3
"""Draws the app icons (a filament spool on green) as PNGs with the standard library only.

Run once when the design changes; the PNGs are committed in public/icons/.
"""
import struct
import zlib
from pathlib import Path

GREEN = (15, 81, 50)
WHITE = (255, 255, 255)
ORANGE = (255, 128, 0)


def pixel(x, y, size, safe):
    cx = cy = size / 2
    r = ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2) ** 0.5
    scale = size / 2 * safe
    if r < scale * 0.18:
        return GREEN
    if r < scale * 0.30:
        return WHITE
    if r < scale * 0.72:
        return ORANGE
    if r < scale * 0.82:
        return WHITE
    return GREEN


def png(size, safe):
    rows = b"".join(
        b"\x00" + bytes(c for x in range(size) for c in pixel(x, y, size, safe))
        for y in range(size)
    )

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


out = Path(__file__).resolve().parent.parent / "public" / "icons"
out.mkdir(parents=True, exist_ok=True)
(out / "icon-192.png").write_bytes(png(192, 1.0))
(out / "icon-512.png").write_bytes(png(512, 1.0))
# Maskable icons keep the drawing inside the central 80% safe zone.
(out / "icon-maskable-512.png").write_bytes(png(512, 0.8))
