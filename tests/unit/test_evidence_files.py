"""Evidence files are told by their content, kept under a size limit, named only as labels."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from models.domain.file_checks import sniff
from models.errors import EvidenceError
from models.store.evidence import read_evidence_file, store_bytes


def office_zip(folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(f"{folder}/document.xml", "<x/>")
    return buffer.getvalue()


def real_xlsx() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.4\n...", "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "heic"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "office-97"),
        (office_zip("word"), "docx"),
        (real_xlsx(), "xlsx"),
        ("会议记录：出席9人。".encode(), "text"),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),  # a Windows program
        (b"\x7fELF\x02\x01\x01\x00", None),
        (office_zip("scripts"), None),  # an office-looking zip that is neither Word nor Excel
        (b"PK\x03\x04junk", None),  # a damaged zip
        ("会议".encode("gbk") + b"\xff\xfe", None),  # not UTF-8 text
    ],
)
def test_types_are_told_by_content(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_a_plain_zip_is_not_a_document() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("payload.exe", b"MZ")
    assert sniff(buffer.getvalue()) is None


def test_a_program_named_pdf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "会议记录.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 100)
    with pytest.raises(EvidenceError, match=r"按内容看不是可接受的文件"):
        read_evidence_file(fake, 1_000_000)


def test_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "照片.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\x00" * 2_000_000)
    with pytest.raises(EvidenceError, match=r"超过1 MB的大小限制"):
        read_evidence_file(big, 1_000_000)


def test_the_store_keeps_content_by_hash_once_and_never_under_the_given_name(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    a = store_bytes(home, b"%PDF-1.4 minutes", "../../etc/passwd")
    b = store_bytes(home, b"%PDF-1.4 minutes", "会议记录.pdf")
    assert a["sha256"] == b["sha256"]
    stored = [p for p in home.rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [a["sha256"]]
    assert stored[0].parent.parent == home / "files"
    assert not (tmp_path / "etc").exists()


def test_the_size_is_the_bytes_read_not_what_stat_says() -> None:
    """/proc files say 0 bytes to stat; a file can grow after a stat: the limit counts
    what is read."""
    special = Path("/proc/self/mountinfo")
    assert special.stat().st_size == 0 and len(special.read_bytes()) > 100
    with pytest.raises(EvidenceError, match=r"超过0\.0001 MB的大小限制"):
        read_evidence_file(special, 100)
