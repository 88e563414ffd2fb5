"""How progress is judged, whoever shows it (status, the UI's artifacts, the web door)."""

from __future__ import annotations


def rag(owed: int, overdue: int) -> str:
    """red: over a fifth of what was owed by the day is overdue; amber: any overdue; green:
    none. `owed`: the items due before the day or done by it. Not all the items: a year of
    weekly meetings is judged by the weeks gone, or every village missing every meeting of
    a spring would still read as a few overdue."""
    if overdue and overdue * 5 > owed:
        return "red"
    return "amber" if overdue else "green"
