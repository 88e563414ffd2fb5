"""The campaign both benches run: every village of the synthetic district sends a monthly
record over ten months of 2013 (about ten items a village)."""


def monthly_campaign(key: str, name: str, head: str = "", evidence: str = "") -> str:
    """The campaign file's text; `head` adds top-level lines, `evidence` the item's."""
    lines = [
        f"key: {key}",
        f"name: {name}",
        "organization: weihai-etdz",
        *([head] if head else []),
        "phases:",
        "  - key: year",
        "    name: 全年",
        "    start: 2013-01-04",
        "    end: 2013-10-31",
        "    obligations:",
        "      - key: monthly-record",
        "        title: 每月报送村情台账",
        "        subject: {units: {kinds: [village]}}",
        "        recurrence: {every: month}",
        *([f"        evidence: {evidence}"] if evidence else []),
    ]
    return "\n".join(lines) + "\n"
