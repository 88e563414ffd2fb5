"""What an organization import did: plain values the store returns and the wording reads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportResult:
    org: str
    changed: bool
    units_new: int
    units_updated: int
    people_new: int
    people_updated: int
    pairings_new: int
    pairings_updated: int
    roles: int
    pairing_kinds: int
    operators: int | None = None  # the operators' list, when the files gave one (it replaces)
    # whom its campaigns remind when they name nobody, when this import changed them
    responsible_roles: tuple[str, ...] | None = None
    district_roles: tuple[str, ...] | None = None
    created: bool = False  # the organization's first import


@dataclass(frozen=True)
class Readdressed:
    """What an import did to the reminders of the organization's campaigns."""

    moved: int = 0  # now go to whoever answers for the item since the change
    cancelled: int = 0  # nobody answers for it now
    planned: int = 0  # never planned, nobody having answered for the item then
    # what still reaches nobody, in the words a planner acts on, each under its campaign's key
    unreached: tuple[str, ...] = field(default=())
    retired_units: int = 0  # tagged 已撤销 and holding items not yet done
    retired_items: int = 0  # those items, cancelled
