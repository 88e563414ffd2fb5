"""Write the synthetic people and pairings of weihai-etdz that the seed gives only as counts.

The 2013 entry says 1,184 cadres were paired with 1,066 needy people "one-to-one, many-to-one
and one-to-many", and that members rated 'poor' were each given a helper; it names none of
them. This script fills them in, deterministically (seeded), beside the hand-written
organization file:

    config/orgs/weihai-etdz/人员-党员干部.csv     cadres beyond those named in the YAML
    config/orgs/weihai-etdz/人员-困难群众.csv     the 1,066 needy people
    config/orgs/weihai-etdz/人员-村居党员.csv     grassroots party members of each village
    config/orgs/weihai-etdz/结对.csv              cadre-needy and member-help pairings

Every row is marked `filled`. Run `python -m config.orgs.synthesize` after editing the YAML;
a test checks that the committed files are what this script writes.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from config.org_file import OrgData, read_yaml

ORG_DIR = Path(__file__).parent
ORG_KEY = "weihai-etdz"
SEED = 2013

CADRES = 1184  # 党员干部 paired with the needy (the entry's figure)
NEEDY = 1066  # 困难群众 (the entry's figure)
# cadres = one + 2*many + few, people = one + many + 2*few: 828 + 316 + 40 = 1184 cadres,
# 828 + 158 + 80 = 1066 people, 828 + 316 + 80 = 1224 pairings
ONE_TO_ONE, MANY_TO_ONE, ONE_TO_MANY = 828, 158, 40
MEMBERS_PER_VILLAGE = 3  # grassroots party members besides the secretary (not in the entry)
POOR_SHARE = 0.05  # members rated 'poor' (差) who get a helper (not in the entry)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏飞斌宇浩凯建国志刚海"
    "燕文博晓东春生德胜淑珍振华永刚国庆卫东明辉红霞"
)

HEADERS = {
    "people": ["编码", "姓名", "单位", "角色", "来源"],
    "pairings": ["编码", "结对类型", "干部", "联系对象", "来源"],
}


def _name(rng: random.Random, taken: set[str]) -> str:
    while True:
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        name = rng.choice(SURNAMES) + given
        if name not in taken or len(taken) > 50_000:
            taken.add(name)
            return name


def _spread(count: int, units: list[str], weights: list[int]) -> list[str]:
    """`count` unit codes spread over the units in proportion to the weights, in unit order."""
    total = sum(weights)
    shares = [count * w // total for w in weights]
    for i in range(count - sum(shares)):
        shares[i % len(shares)] += 1
    return [u for u, n in zip(units, shares, strict=True) for _ in range(n)]


def synthesize(org: OrgData) -> dict[str, list[list[str]]]:
    """The rows of each synthetic file, by file name."""
    rng = random.Random(SEED)
    names = {p.name for p in org.people}
    kinds = {u.code: u.kind for u in org.units}
    by_kind = {k: sorted(c for c, kind in kinds.items() if kind == k) for k in set(kinds.values())}

    named_cadres = sorted(p.code for p in org.people if "cadre" in p.roles)
    offices = by_kind["department"] + by_kind["town"] + by_kind["street"]
    departments = len(by_kind["department"])
    weights = [20] * departments + [100] * (len(offices) - departments)  # towns are bigger
    cadre_rows = [
        [f"p-cadre-{n:04d}", _name(rng, names), unit, "cadre;party-member", "filled"]
        for n, unit in enumerate(_spread(CADRES - len(named_cadres), offices, weights), 1)
    ]

    grassroots = by_kind["village"] + by_kind["community"]
    homes = (
        _spread(800, grassroots, [1] * len(grassroots))
        + _spread(166, by_kind["enterprise"], [1] * len(by_kind["enterprise"]))
        + ["education"] * (NEEDY - 800 - 166)  # 学校困难职工
    )
    needy_rows = [
        [f"p-needy-{n:04d}", _name(rng, names), unit, "needy", "filled"]
        for n, unit in enumerate(homes, 1)
    ]

    member_rows = [
        [f"p-{unit}-m{k}", _name(rng, names), unit, "party-member", "filled"]
        for unit in grassroots
        for k in range(1, MEMBERS_PER_VILLAGE + 1)
    ]

    cadres = named_cadres + [r[0] for r in cadre_rows]
    people = [r[0] for r in needy_rows]
    rng.shuffle(cadres)
    rng.shuffle(people)
    pairs: list[tuple[str, str]] = []
    c = p = 0
    for _ in range(ONE_TO_ONE):
        pairs.append((cadres[c], people[p]))
        c, p = c + 1, p + 1
    for _ in range(MANY_TO_ONE):  # two cadres look after one person
        pairs += [(cadres[c], people[p]), (cadres[c + 1], people[p])]
        c, p = c + 2, p + 1
    for _ in range(ONE_TO_MANY):  # one cadre looks after two people
        pairs += [(cadres[c], people[p]), (cadres[c], people[p + 1])]
        c, p = c + 1, p + 2
    assert (c, p) == (CADRES, NEEDY), (c, p)
    pairing_rows = [
        [f"cn-{n:04d}", "cadre-needy", cadre, person, "filled"]
        for n, (cadre, person) in enumerate(pairs, 1)
    ]

    secretaries = {p.unit: p.code for p in org.people if "secretary" in p.roles}
    poor = sorted(rng.sample([r[0] for r in member_rows], round(len(member_rows) * POOR_SHARE)))
    unit_of = {r[0]: r[2] for r in member_rows}
    pairing_rows += [
        [f"mh-{n:03d}", "member-help", secretaries[unit_of[member]], member, "filled"]
        for n, member in enumerate(poor, 1)
        if unit_of[member] in secretaries
    ]
    return {
        "人员-党员干部.csv": cadre_rows,
        "人员-困难群众.csv": needy_rows,
        "人员-村居党员.csv": member_rows,
        "结对.csv": pairing_rows,
    }


def render(name: str, rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS["pairings" if name.startswith("结对") else "people"])
    writer.writerows(rows)
    return out.getvalue()


def expected_files(org_dir: Path = ORG_DIR) -> dict[Path, str]:
    org = read_yaml(org_dir / f"{ORG_KEY}.yaml")
    return {org_dir / ORG_KEY / name: render(name, rows) for name, rows in synthesize(org).items()}


def main() -> None:
    for path, text in expected_files().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({text.count(chr(10)) - 1} rows)")


if __name__ == "__main__":
    main()
