"""闸门: an approver answers a gate; the waves after it roll out."""

from __future__ import annotations

import subprocess
import sys
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from config.settings import get_settings
from flows.web.views import (
    page,
)
from flows.web.visit import COOKIE, Visit, visit
from models.domain.permissions import may_approve
from models.domain.planning import waves_before
from models.domain.text_safety import written
from models.domain.wording import wave_standing_zh
from models.errors import NotFound
from models.store.gates import latest_decisions, record_decision, reviewer_name
from models.store.progress import Counts, counts_by_wave
from models.store.rollout import campaign_id
from tasks.gate_tasks import resume_waiting_run

router = APIRouter()


def _gates(v: Visit) -> list[dict[str, Any]]:
    rows = []
    for key, loaded in v.campaigns().items():
        cid = campaign_id(v.session, key)
        decisions = latest_decisions(v.session, cid)
        waves: dict[str | None, Counts] | None = None
        for gate in loaded.spec.gates:
            if not may_approve(v.person, gate):
                continue
            decision = decisions.get(gate.key)
            # what the approver judges by: how the waves before the gate stand today
            waves = waves if waves is not None else counts_by_wave(v.session, cid, v.today)
            before = []
            for wave in waves_before(loaded.spec, gate.key):
                counts = waves.get(wave.key, Counts(0, 0, 0, 0))
                before.append(
                    wave_standing_zh(wave.name, counts.items, counts.accepted, counts.overdue)
                )
            rows.append(
                {
                    "campaign": loaded.spec.name,
                    "key": key,
                    "gate": gate,
                    "state": "待审批"
                    if decision is None
                    else "已批准"
                    if decision.approved
                    else "已退回",
                    "open": decision is None or not decision.approved,
                    "notes": decision.notes if decision else "",
                    "by": reviewer_name(v.session, decision) if decision else "",
                    "before": before,
                }
            )
    return rows


@router.get("/gates", response_class=HTMLResponse)
def gates(request: Request, answered: str | None = None) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        rows = _gates(v)
        done = None
        if answered is not None:
            done = next(
                (f"{r['gate'].name}：{r['state']}" for r in rows if r["gate"].key == answered),
                None,
            )
        return page(request, "gates.html", v=v, rows=rows, done=done)


@router.post("/gates/{campaign}/{gate_key}")
async def answer_gate_page(request: Request, campaign: str, gate_key: str) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    return await run_in_threadpool(_answer_gate, request, campaign, gate_key, form)


def _answer_gate(request: Request, campaign: str, gate_key: str, form: FormData) -> Response:
    cookie = request.cookies.get(COOKIE)
    approved = form.get("decision") == "approve"
    notes = written(str(form.get("notes") or "")) or ""  # a NUL alone is no reason
    with visit(cookie, write=True, form=form) as v:
        loaded = v.campaign(campaign)
        gate = next((g for g in loaded.spec.gates if g.key == gate_key), None)
        if gate is None or not may_approve(v.person, gate):
            raise NotFound("没有这个闸门，或它不归您审批")
        if not approved and not notes:
            return page(request, "gates.html", 400, v=v, rows=_gates(v), error="退回需要写明理由")
        reviewer = v.person.code
    # a rollout paused at the gate in Prefect takes the answer itself; else it is recorded
    # here and, when approved, the waves after the gate are rolled out in the background
    if not resume_waiting_run(campaign, gate_key, approved, reviewer, notes):
        with visit(cookie, write=True, form=form) as v:
            record_decision(
                v.session,
                campaign=campaign_id(v.session, campaign),
                gate=gate,
                person=v.person,
                approved=approved,
                notes=notes,
                now=v.now,
            )
        if approved:
            roll_out_in_background(campaign)
    return RedirectResponse(f"/gates?answered={quote(gate_key)}", status_code=303)


def roll_out_in_background(campaign: str) -> None:
    """`campaign rollout KEY` in a process of its own (it may start a temporary Prefect
    server, which a web worker must not wait for); its output goes to the log folder."""
    logs = get_settings().home.resolve() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "web-rollouts.log").open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-c", "from flows.cli.main import main; main()", "rollout", campaign],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
