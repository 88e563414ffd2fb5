"""The web door as its users meet it: a data folder with the shipped district and two
campaigns dated around today (kept outside the repository), `campaign web` serving it on a
free port of 127.0.0.1, and people signing in through links the CLI hands out."""

from __future__ import annotations

import datetime as dt
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from config.settings import os_login
from tests.e2e.test_cli import CAMPAIGN, REPO, cli_env, run
from tests.scaled.campaign_now import today_in_shanghai, write_holidays

SECRETARY = "p-qiaotou-v01-sec"  # 胡伟, 何家泊村 (qiaotou-v01)
OTHER_SECRETARY = "p-qiaotou-v02-sec"
TOWN_COMMITTEE = "p-qiaotou-oc"  # 范芳, 桥头镇组织委员: signs the town's villages
OTHER_TOWN_COMMITTEE = "p-gushan-oc"
LEADER = "p-org-01"  # the department: the operator in these tests


def campaign_files(folder: Path, today: dt.date) -> dict[str, Path]:
    """Two campaigns that both ask each village for a party meeting's record (the same
    note, count and file): one submission serves both (最多报一次)."""
    start = today - dt.timedelta(days=14)
    end = today + dt.timedelta(days=30)
    meeting = """
        evidence:
          note: true
          counts: [{key: attendees, name: 参会人数, min: 1}]
          files: 1"""
    folder.mkdir(parents=True, exist_ok=True)
    build = folder / "village-build.yaml"
    build.write_text(
        f"""key: village-build
name: 村级组织规范化建设（演练）
organization: weihai-etdz
phases:
  - key: build
    name: 规范建设
    start: {start}
    end: {end}
    obligations:
      - key: meeting
        title: 召开党员大会
        subject: {{units: {{kinds: [village]}}}}
        due: {today + dt.timedelta(days=7)}{meeting}
          sign_off: {{role: org-committee, by: supervisor}}
      - key: roster
        title: 报送党员名册
        subject: {{units: {{kinds: [village]}}}}
        due: {today - dt.timedelta(days=3)}
        evidence: {{note: true}}
""",
        encoding="utf-8",
    )
    study = folder / "study.yaml"
    study.write_text(
        f"""key: study
name: 主题教育（演练）
organization: weihai-etdz
phases:
  - key: learn
    name: 学习研讨
    start: {start}
    end: {end}
    obligations:
      - key: meeting
        title: 召开专题党员大会
        subject: {{units: {{kinds: [village]}}}}
        due: {today + dt.timedelta(days=10)}{meeting}
""",
        encoding="utf-8",
    )
    pilot = folder / "pilot.yaml"
    pilot.write_text(
        f"""key: pilot
name: 软弱涣散村整顿（演练）
organization: weihai-etdz
phases:
  - key: survey
    name: 摸底排查
    start: {today - dt.timedelta(days=20)}
    end: {today - dt.timedelta(days=1)}
    obligations:
      - key: survey
        title: 报送摸底情况
        subject: {{units: {{kinds: [village], codes: [qiaotou-v01, qiaotou-v02, qiaotou-v03]}}}}
        evidence: {{note: true}}
  - key: pilot
    name: 试点整顿
    start: {today}
    end: {today + dt.timedelta(days=20)}
    obligations:
      - key: plan
        title: 制定整顿方案
        subject: {{units: {{kinds: [village]}}}}
        evidence: {{note: true}}
  - key: rest
    name: 全面推开
    start: {today + dt.timedelta(days=21)}
    end: {today + dt.timedelta(days=60)}
    obligations:
      - key: plan-rest
        title: 制定整顿方案
        subject: {{units: {{kinds: [village]}}}}
        evidence: {{note: true}}
waves:
  - key: pilot
    name: 试点村
    select: {{kinds: [village], per: town, count: 1}}
    phases: [pilot]
  - key: rest
    name: 其余村
    phases: [rest]
    after_gate: pilot-review
gates:
  - key: pilot-review
    name: 总结试点经验，批准全面推开
    approvers: [leading-group]
inspections:
  - key: survey-check
    name: 摸底情况抽查
    obligation: survey
    cadence: once
    sample: {{count: 3, stratify: none, seed: 1}}
    inspectors: [inspector]
    rectify_within: 10
""",
        encoding="utf-8",
    )
    return {"village-build": build, "study": study, "pilot": pilot}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Door:
    home: Path
    url: str
    env: dict[str, str]
    today: dt.date

    def campaign(self, *args: str | Path, env: dict[str, str] | None = None):
        return run(*args, env={**self.env, **(env or {})})

    def link(self, person: str, env: dict[str, str] | None = None, org: str | None = None) -> str:
        result = self.campaign("web", "link", person, *(("--org", org) if org else ()), env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def sign_in(self, person: str, org: str | None = None) -> httpx.Client:
        """A browser of `person` (of `org`, when two organizations have that code), signed
        in through a printed link."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        token = self.link(person, org=org).split("t=", 1)[1]
        landing = client.get("/login", params={"t": token})
        assert landing.status_code == 200 and "登录" in landing.text
        signed = client.post("/login", data={"t": token})
        assert signed.status_code == 303, signed.text
        return client

    def rows(self, sql: str, **params: object) -> list[Any]:
        """A query on the door's database (SQLite or PostgreSQL), `:name` parameters."""
        engine = create_engine(self.env["CAMPAIGN_DATABASE_URL"])
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), params).all())
        finally:
            engine.dispose()

    def count(self, sql: str, **params: object) -> int:
        return self.rows(sql, **params)[0][0]

    def item_id(self, campaign: str, obligation: str, unit: str) -> int:
        return self.rows(
            "SELECT i.id FROM checklist_item i JOIN campaign c ON c.id = i.campaign_id "
            "JOIN unit u ON u.id = i.subject_id AND i.subject_type = 'unit' "
            "WHERE c.key = :c AND i.obligation_key = :o AND u.code = :u",
            c=campaign, o=obligation, u=unit,
        )[0][0]  # fmt: skip

    def status(self, campaign: str, obligation: str, unit: str) -> str:
        return self.rows(
            "SELECT status FROM checklist_item WHERE id = :i",
            i=self.item_id(campaign, obligation, unit),
        )[0][0]


def form_value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found[1]


def report(
    client: httpx.Client, item: int, fields: dict[str, str], files: Any = None
) -> httpx.Response:
    """Open an item's page and send its form as a person fills it in, with the page's
    CSRF token and nonce."""
    page = client.get(f"/items/{item}").text
    tokens = {"csrf": form_value(page, "csrf"), "nonce": form_value(page, "nonce")}
    return client.post(f"/items/{item}", data={**tokens, **fields}, files=files)


def png_bytes(text_chunk: bytes = b"") -> bytes:
    """A 1x1 PNG (optionally with a tEXt chunk, as a phone's location would be)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    extra = chunk(b"tEXt", text_chunk) if text_chunk else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


@contextmanager
def door_server(
    folder: Path, channel: str, robot: str | None = None, database_url: str | None = None
) -> Iterator[Door]:
    """`channel`: the secretary's own; `robot`: the group robot the second secretary's
    digests go to (default: an unreachable one); `database_url`: PostgreSQL's (default:
    SQLite in the data folder)."""
    # The data folder set up as a department would, and `campaign web` serving it.
    today = today_in_shanghai()
    home = folder / "home"
    port = free_port()
    env = {
        "CAMPAIGN_HOME": str(home),
        "PREFECT_HOME": str(home / "prefect"),
        "CAMPAIGN_HOLIDAYS_DIR": str(write_holidays(folder / "holidays", today)),
        "CAMPAIGN_WEB_URL": f"http://127.0.0.1:{port}",
        "CAMPAIGN_DATABASE_URL": database_url or f"sqlite:///{home / 'campaign.db'}",
    }
    door = Door(home, env["CAMPAIGN_WEB_URL"], env, today)
    operators = folder / "operators.csv"
    operators.write_text(f"登录名,人员编码,代录\n{os_login()},{LEADER},是\n", encoding="utf-8")
    people = folder / "channels.csv"
    people.write_text(
        "编码,姓名,单位,角色,通知渠道\n"
        f"{SECRETARY},胡伟,qiaotou-v01,secretary;village-cadre;party-member,{channel}\n"
        f"{OTHER_SECRETARY},郝鹏,qiaotou-v02,secretary;village-cadre;party-member,"
        f"{robot or 'wecomrobot://127.0.0.1:9/cgi-bin/webhook/send?key=group'}\n",
        encoding="utf-8",
    )
    shipped = REPO / "config" / "orgs" / "weihai-etdz.yaml"
    for step in (("orgs", "import", shipped, operators), ("orgs", "import", people)):
        result = door.campaign(*step)
        assert result.returncode == 0, result.stderr
    for path in campaign_files(folder / "plans", today).values():
        result = door.campaign("rollout", path)
        assert result.returncode == 0, result.stderr
    server = subprocess.Popen(
        [str(CAMPAIGN), "web", "--port", str(port)],
        cwd=REPO,
        env=cli_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{door.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"campaign web did not start: {server.stdout.read()}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield door
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


__all__ = ["Door", "door_server", "form_value", "png_bytes"]
