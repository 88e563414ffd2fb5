"""What an evidence file may be, told by its bytes: an accepted document type, not also a
ZIP archive in disguise (a polyglot: a PDF or a photo with an archive appended, which
another program opens as something else), its name free of control characters, and a photo
without the location a phone writes into it (EXIF GPS), which is stripped before storing:
a village clerk's photo of a meeting must not publish where they live. Pure.
"""

from __future__ import annotations

import io
import struct
import zipfile

from models.domain.text_safety import unsafe_characters

ACCEPTED_TYPES = "PDF, JPEG, PNG, HEIC, Word, Excel, plain text"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc and .xls
_ZIP_LOCAL = b"PK\x03\x04"


def sniff(data: bytes) -> str | None:
    """The document type the bytes are, or None when it is not one we accept."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"heif"):
        return "heic"
    if data.startswith(_OLE2):
        return "office-97"
    if data.startswith(_ZIP_LOCAL):
        return _office_zip(data)
    if b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text"
    return None


def _office_zip(data: bytes) -> str | None:
    """A .docx or .xlsx is a zip with a content-types part and a word/ or xl/ folder; any
    other zip (or a damaged one) is not a document."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return None


def is_polyglot(data: bytes, kind: str) -> bool:
    """Whether a non-archive document is also a readable ZIP archive."""
    if kind in ("docx", "xlsx") or _ZIP_LOCAL not in data:
        return False
    return zipfile.is_zipfile(io.BytesIO(data))


def name_problem(name: str) -> str | None:
    bad = unsafe_characters(name)
    if "\x00" in name or bad:
        return f"文件名含有控制字符（{'、'.join(bad) or 'U+0000'}）"
    return None


def strip_metadata(data: bytes, kind: str) -> tuple[bytes, list[str]]:
    """The bytes without the metadata that can locate a person (a JPEG's EXIF, a PNG's eXIf
    and text chunks), and what was removed; other kinds unchanged."""
    if kind == "jpeg":
        return _strip_jpeg(data)
    if kind == "png":
        return _strip_png(data)
    return data, []


def _strip_jpeg(data: bytes) -> tuple[bytes, list[str]]:
    out, removed, i = bytearray(data[:2]), [], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the image data follows, no more segments
            break
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        segment = data[i : i + 2 + length]
        if marker == 0xE1 and segment[4:10] in (b"Exif\x00\x00", b"http:/"):
            removed.append("EXIF" if segment[4:8] == b"Exif" else "XMP")
        else:
            out += segment
        i += 2 + length
    out += data[i:]
    return bytes(out), sorted(set(removed))


def _strip_png(data: bytes) -> tuple[bytes, list[str]]:
    out, removed, i = bytearray(data[:8]), [], 8
    while i + 12 <= len(data):
        length = struct.unpack(">I", data[i : i + 4])[0]
        chunk_type = data[i + 4 : i + 8]
        chunk = data[i : i + 12 + length]
        if chunk_type in (b"eXIf", b"tEXt", b"zTXt", b"iTXt"):
            removed.append(chunk_type.decode())
        else:
            out += chunk
        i += 12 + length
    out += data[i:]
    return bytes(out), sorted(set(removed))
