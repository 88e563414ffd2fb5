"""What the department's workbooks carry is text, never a formula: openpyxl writes a string
beginning with `=` as a formula, so a note sent in by a village (`=HYPERLINK(...)`) would be
live in the 台账 when it is opened (formula injection, OWASP). The engine writes no formulas
of its own, so every formula cell before saving is a user's string, stored as a string."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl import Workbook

from models.domain.text_safety import printable


def inert(book: Workbook) -> int:
    """Turn every formula cell of `book` into a plain string; how many there were."""
    turned = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    turned += 1
    return turned


def cells(values: Iterable[object]) -> list[object]:
    """A row's values with control characters taken out of its strings: openpyxl refuses
    them (IllegalCharacterError) and a name that slipped in before they were refused at
    import must not stop the whole ledger."""
    return [printable(v) if isinstance(v, str) else v for v in values]
