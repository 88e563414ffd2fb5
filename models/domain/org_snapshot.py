"""A read-only picture of the organization tree, for planning without the database (its
loader, `load_snapshot`, is the store's: models/store/orgs.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from models.domain.vocabulary import RETIRED_TAG, SubjectType
from models.errors import NotFound

TOWN_KINDS = frozenset({"town", "street"})


def no_person(org_key: str, code: str) -> NotFound:
    """A code looked up in one organization (codes repeat between organizations)."""
    return NotFound(f"组织 {org_key} 中没有人员 {code}")


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    kind: str
    tags: frozenset[str]
    parent_id: int | None
    town_id: int | None  # the town or street it lies in (itself for a town); None: district level

    @property
    def retired(self) -> bool:
        """Merged away or dissolved: nothing is asked of it, or of the people still in it."""
        return RETIRED_TAG in self.tags


@dataclass(frozen=True)
class PersonInfo:
    id: int
    code: str
    name: str
    unit_id: int
    roles: frozenset[str]
    channels: tuple[str, ...] = ()


# PersonInfo's fields in order, channels optional
PersonFields = (
    tuple[int, str, str, int, frozenset[str]]
    | tuple[int, str, str, int, frozenset[str], tuple[str, ...]]
)


@dataclass(frozen=True)
class PairingInfo:
    id: int
    code: str
    kind: str
    cadre_id: int
    contact_id: int


@dataclass
class OrgSnapshot:
    units: dict[int, UnitInfo] = field(default_factory=dict)
    persons: dict[int, PersonInfo] = field(default_factory=dict)
    pairings: dict[int, PairingInfo] = field(default_factory=dict)
    key: str = ""  # the organization's key
    role_names: dict[str, str] = field(default_factory=dict)  # code → Chinese name

    def __post_init__(self) -> None:
        self.unit_by_code = {u.code: u for u in self.units.values()}
        self.person_by_code = {p.code: p for p in self.persons.values()}
        self.pairing_by_code = {p.code: p for p in self.pairings.values()}
        self.towns = sorted(
            (u for u in self.units.values() if u.kind in TOWN_KINDS), key=lambda u: u.code
        )
        self.role_holders: dict[str, list[PersonInfo]] = defaultdict(list)
        self.persons_by_unit: dict[int, list[PersonInfo]] = defaultdict(list)
        for person in self.persons.values():
            self.persons_by_unit[person.unit_id].append(person)
            for role in person.roles:
                self.role_holders[role].append(person)

    @classmethod
    def build(
        cls,
        units: Sequence[tuple[int, str, str, str, list[str], int | None]],
        persons: Sequence[PersonFields] = (),
        pairings: Sequence[tuple[int, str, str, int, int]] = (),
    ) -> OrgSnapshot:
        """From plain rows: (id, code, name, kind, tags, parent_id), persons, pairings."""
        parent = {u[0]: u[5] for u in units}
        kind = {u[0]: u[3] for u in units}
        town: dict[int, int | None] = {}

        def town_of(unit_id: int) -> int | None:
            if unit_id not in town:
                if kind[unit_id] in TOWN_KINDS:
                    town[unit_id] = unit_id
                else:
                    up = parent.get(unit_id)
                    town[unit_id] = town_of(up) if up is not None else None
            return town[unit_id]

        return cls(
            units={
                u[0]: UnitInfo(u[0], u[1], u[2], u[3], frozenset(u[4] or ()), u[5], town_of(u[0]))
                for u in units
            },
            persons={p[0]: PersonInfo(*p) for p in persons},
            pairings={p[0]: PairingInfo(*p) for p in pairings},
        )

    def person_coded(self, code: str) -> PersonInfo:
        """The person of that code; NotFound, naming this organization, when there is none
        (codes repeat between organizations)."""
        found = self.person_by_code.get(code)
        if found is None:
            named = sorted(p.code for p in self.persons.values() if p.name == code)
            if named:  # a name typed where the code goes: say whose, never guess who acts
                raise NotFound(
                    f"组织 {self.key} 中没有人员编码 {code}；姓名为{code}的是 "
                    f"{'、'.join(named)}：这里请写人员编码"
                )
            raise no_person(self.key, code)
        return found

    @property
    def top_name(self) -> str | None:
        """The organization as its people call it: its one top unit's name (临港区); None
        when it has several tops or none."""
        tops = [u.name for u in self.units.values() if u.parent_id is None]
        return tops[0] if len(tops) == 1 else None

    def unit_coded(self, code: str) -> UnitInfo:
        """The unit of that code; NotFound, naming this organization, when there is none."""
        found = self.unit_by_code.get(code)
        if found is None:
            raise NotFound(f"组织 {self.key} 中没有单位 {code}")
        return found

    def top_of(self, unit_id: int) -> int:
        """The unit at the top of the tree the unit lies in (the district)."""
        while (parent := self.units[unit_id].parent_id) is not None:
            unit_id = parent
        return unit_id

    def is_within(self, unit_id: int, ancestor_id: int) -> bool:
        """Whether the unit is the ancestor or lies below it."""
        current: int | None = unit_id
        while current is not None:
            if current == ancestor_id:
                return True
            current = self.units[current].parent_id
        return False

    def subject_label(self, kind: str, subject_id: int) -> tuple[str, str]:
        """A subject's code and name as people read them: a pairing is cadre—contact."""
        if kind == SubjectType.UNIT:
            unit = self.units[subject_id]
            return unit.code, unit.name
        if kind == SubjectType.PERSON:
            person = self.persons[subject_id]
            return person.code, person.name
        pair = self.pairings[subject_id]
        return pair.code, f"{self.persons[pair.cadre_id].name}—{self.persons[pair.contact_id].name}"

    def unit_of(self, kind: str, subject_id: int) -> int:
        """The unit a subject belongs to: a unit itself, a person's unit, a pairing's
        cadre's unit."""
        if kind == SubjectType.UNIT:
            return subject_id
        if kind == SubjectType.PERSON:
            return self.persons[subject_id].unit_id
        return self.persons[self.pairings[subject_id].cadre_id].unit_id

    def town_name(self, town_id: int | None) -> str:
        return "区直" if town_id is None else self.units[town_id].name

    def town_code(self, town_id: int | None) -> str:
        return "district" if town_id is None else self.units[town_id].code
