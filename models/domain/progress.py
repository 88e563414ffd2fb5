"""How progress is judged, whoever shows it (status, the UI's artifacts, the web door)."""

from __future__ import annotations


def rag(items: int, overdue: int) -> str:
    """red: over a fifth of the items overdue; amber: any overdue; green: none."""
    if overdue and overdue * 5 > items:
        return "red"
    return "amber" if overdue else "green"
