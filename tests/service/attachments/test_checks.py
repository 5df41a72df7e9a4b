"""What an upload must be: each refusal names the field and says why; what passes is read from
its content, not from what the client claims."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from service.attachments.checks import MAX_BYTES, MAX_NAME, check_upload, clean_file_name
from service.errors import Invalid
from tests.attachment_files import bomb, pdf, photo


@pytest.fixture(scope="module")
def big_bomb() -> bytes:
    return bomb()


def refusal(data: bytes, name: str, declared: str | None = None) -> str:
    with pytest.raises(Invalid) as raised:
        check_upload(data, name, declared)
    [reason] = raised.value.details["fields"]["file"]
    return reason


@pytest.mark.parametrize(
    ("fmt", "name", "declared", "content_type"),
    [
        ("JPEG", "客厅.jpg", "image/jpeg", "image/jpeg"),
        ("JPEG", "site.JPEG", "image/jpg", "image/jpeg"),
        ("PNG", "drawing.png", "image/png", "image/png"),
        ("WEBP", "photo.webp", "application/octet-stream", "image/webp"),
    ],
)
def test_a_photo_passes_with_its_size_and_a_thumbnail(fmt, name, declared, content_type):
    checked = check_upload(photo(fmt), name, declared)

    assert (checked.kind, checked.content_type) == ("image", content_type)
    assert (checked.width, checked.height) == (800, 600)
    with Image.open(io.BytesIO(checked.thumbnail)) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert thumbnail.size == (320, 240)
    assert len(checked.sha256) == 64


def test_a_pdf_passes_without_a_thumbnail():
    checked = check_upload(pdf(), "invoice.pdf", "application/pdf")

    assert (checked.kind, checked.content_type, checked.thumbnail) == (
        "pdf",
        "application/pdf",
        None,
    )


def test_a_png_named_jpg_is_refused():
    assert refusal(photo("PNG"), "photo.jpg", "image/jpeg") == (
        "The file's name does not match what it contains."
    )


def test_a_declared_type_other_than_the_content_is_refused():
    assert refusal(photo("PNG"), "photo.png", "image/jpeg") == (
        "The file's type does not match what it contains."
    )


def test_html_named_png_is_refused():
    html = b"<html><script>alert(1)</script></html>"
    assert refusal(html, "photo.png", "image/png") == (
        "Only photos (JPEG, PNG, WebP) and PDF files can be attached."
    )


def test_jpeg_magic_followed_by_garbage_is_refused():
    assert refusal(b"\xff\xd8\xff" + b"not a photo" * 100, "photo.jpg") == (
        "The photo cannot be read: it is damaged or not a photo."
    )


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_photo_is_refused(fmt):
    data = photo(fmt, size=(1200, 900))
    name = f"photo.{fmt.lower()}"
    assert refusal(data[: len(data) // 2], name) == (
        "The photo cannot be read: it is damaged or not a photo."
    )


def test_a_pdf_without_its_end_is_refused():
    assert refusal(pdf().replace(b"%%EOF", b""), "invoice.pdf") == "The PDF file is incomplete."


def test_a_decompression_bomb_is_refused_before_it_is_decoded(big_bomb):
    assert len(big_bomb) < 200_000
    assert refusal(big_bomb, "bomb.png") == (
        "The photo has too many pixels (at most 50 megapixels)."
    )


def test_a_photo_just_over_the_pixel_limit_is_refused():
    assert refusal(bomb(7100), "wide.png") == (
        "The photo has too many pixels (at most 50 megapixels)."
    )


def test_an_empty_file_is_refused():
    assert refusal(b"", "photo.jpg") == "The file is empty."


def test_a_file_over_20_mb_is_refused():
    data = photo("JPEG")
    assert refusal(data + b"\0" * (MAX_BYTES + 1 - len(data)), "photo.jpg") == (
        "The file is over 20 MB."
    )


@pytest.mark.parametrize("name", ["", "   ", "..", "\u202e\u200f", "/"])
def test_a_file_without_a_name_is_refused(name):
    assert refusal(photo(), name) == "The file has no name."


def test_odd_unicode_in_a_name_is_made_safe():
    # A right-to-left override would show "photo_gpj.exe" as "photo_exe.jpg".
    assert clean_file_name("../../etc/\u202ephoto\u0000\n客厅.jpg") == "photo 客厅.jpg"
    assert clean_file_name("C:\\Users\\王\\e\u0301.png") == "é.png"


def test_a_long_name_is_cut_to_200_characters_keeping_its_extension():
    cleaned = clean_file_name("图" * 500 + ".jpeg")

    assert len(cleaned) == MAX_NAME
    assert cleaned.endswith("图.jpeg")
