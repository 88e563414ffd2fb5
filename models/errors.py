"""Domain errors. The CLI turns each into one line and an exit code; nothing else should."""

from __future__ import annotations


class CampaignError(Exception):
    """Base of every error a user can cause; `exit_code` is what the CLI exits with."""

    exit_code = 2


class CalendarError(CampaignError):
    """A date cannot be computed (no holiday data, a date out of range)."""


class MissingHolidayTable(CalendarError):
    """A year that neither chinese-calendar nor a holiday table of the data folder covers."""

    def __init__(self, year: int, first: int, last: int) -> None:
        self.year = year
        super().__init__(
            f"没有 {year} 年的节假日安排：chinese-calendar 只有 {first}-{last} 年；"
            f"国务院办公厅的放假通知发布后，用 campaign calendar import-notice 导入"
            f"（或按 docs/holiday-tables.md 写 {year}.yaml，放在 CAMPAIGN_HOME/holidays）"
        )


class DateRuleError(CampaignError):
    """A date rule that does not parse or cannot be resolved."""


class SpecError(CampaignError):
    """A campaign or organization file that is not valid; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class ImportRejected(CampaignError):
    """An organization import refused as a whole; carries every `FILE:ROW: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class NotFound(CampaignError):
    """A unit, person, campaign or other named thing that does not exist."""


class PermissionRefused(CampaignError):
    """The acting person may not do this; nothing is written."""

    exit_code = 3


class EvidenceError(CampaignError):
    """Evidence that does not satisfy the obligation's rule, or an item in the wrong state."""
