"""Characters no name needs: control characters (a newline forges a line in a digest, an ESC
repaints a terminal or breaks a workbook) and the bidirectional overrides that make a name
read differently from what it holds (U+202E turns `村委会.exe` around). Names holding them
are refused where they come in; what is printed has them stripped, whatever the database
holds. Pure."""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset(
    chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
)


def _unsafe(c: str) -> bool:
    return c in BIDI_CONTROLS or unicodedata.category(c) == "Cc"


def unsafe_characters(text: str) -> list[str]:
    """The unsafe characters of `text`, each as U+XXXX, in order, once."""
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in text if _unsafe(c)))


def written(text: str | None) -> str | None:
    """Free text as a person wrote it (a note, findings, a reason), as it is stored: without
    those characters (a NUL, which PostgreSQL cannot store in text and a form can carry, an
    ESC, an override), trimmed; None when nothing is left."""
    kept = printable(text or "").strip()
    return kept or None


def printable(text: str) -> str:
    """`text` without them (a newline and a tab kept: a note may have lines)."""
    return "".join(c for c in text if c in "\n\t" or not _unsafe(c))
