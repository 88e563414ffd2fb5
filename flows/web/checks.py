"""抽查: an inspector records each sampled subject's result; a fail raises the rectification."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from flows.web.views import (
    LIST_LIMIT,
    Posted,
    RowId,
    RowIdQuery,
    form_with_files,
    page,
    writing_with_files,
)
from flows.web.visit import COOKIE, Visit, visit
from models.domain.campaign import LoadedCampaign
from models.domain.permissions import may_inspect
from models.domain.vocabulary import CheckResult
from models.domain.wording import RESULT_ZH, occurrence_zh
from models.errors import EvidenceError, NotFound
from models.store.evidence import (
    store_bytes,
)
from models.store.inspections import InspectedCampaign, SampleRef, record_result, samples_of
from models.store.rollout import campaign_id

router = APIRouter()


def _inspector_campaigns(v: Visit) -> dict[str, LoadedCampaign]:
    return {
        key: loaded
        for key, loaded in v.campaigns().items()
        if any(may_inspect(v.person, i.inspectors) for i in loaded.spec.inspections)
    }


@router.get("/checks", response_class=HTMLResponse)
def checks(request: Request, recorded: RowIdQuery = None) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        done = None
        if recorded is not None:
            # said from the sample as it stands, never from text in the address
            found = samples_of(
                v.session, campaign_keys=sorted(_inspector_campaigns(v)), sample_id=recorded
            )
            if found and found[0].result is not None:
                subject = v.org.subject_label(found[0].subject_type, found[0].subject_id)[1]
                done = f"{subject}：{RESULT_ZH[found[0].result]}" + (
                    "，已下达限期整改" if found[0].result == CheckResult.FAIL else ""
                )
        return _checks_response(request, v, done=done)


def _checks_response(
    request: Request, v: Visit, status: int = 200, done: str | None = None, error: str = ""
) -> HTMLResponse:
    mine = _inspector_campaigns(v)
    rows = []
    for sample in samples_of(v.session, campaign_keys=sorted(mine)):
        loaded = mine[sample.campaign_key]
        inspection = next(i for i in loaded.spec.inspections if i.key == sample.inspection_key)
        if not may_inspect(v.person, inspection.inspectors):
            continue
        rows.append(
            {
                "id": sample.id,
                "campaign": loaded.spec.name,
                "inspection": inspection.name,
                "check": occurrence_zh(sample.label),
                "subject": v.org.subject_label(sample.subject_type, sample.subject_id)[1],
                "result": sample.result,
                "result_word": RESULT_ZH[sample.result],
                "findings": sample.findings,
            }
        )
    rows.sort(key=lambda r: (r["result"] is not None, r["campaign"], r["check"], r["subject"]))
    return page(
        request, "checks.html", status, v=v, rows=rows[:LIST_LIMIT], done=done, error=error,
        inspector=bool(mine),
    )  # fmt: skip


@router.post("/checks/{sample_id}")
async def record_check(request: Request, sample_id: RowId) -> Response:
    posted = await form_with_files(request, max_fields=20)
    return await run_in_threadpool(_record_check, request, sample_id, posted)


def _record_check(request: Request, sample_id: int, posted: Posted) -> Response:
    form = posted.form
    try:
        with writing_with_files(request, posted) as (v, documents):
            mine = _inspector_campaigns(v)
            found = samples_of(v.session, campaign_keys=sorted(mine), sample_id=sample_id)
            if not found:
                raise NotFound("没有这个抽查对象，或它不归您检查")
            sample = found[0]
            loaded = mine[sample.campaign_key]
            cid = campaign_id(v.session, sample.campaign_key)
            record_result(
                v.session,
                scope=InspectedCampaign(loaded, cid, v.org, v.calendar),
                ref=SampleRef(
                    sample.inspection_key, sample.label, sample.subject_type, sample.subject_id
                ),
                passed=form.get("result") == CheckResult.PASS,
                findings=str(form.get("findings") or "").strip() or None,
                inspector=v.person,
                dated=v.today,
                now=v.now,
                files=[meta for _, meta in documents],
            )
            for data, meta in documents:
                store_bytes(v.settings.home.resolve(), data, meta["name"])
    except EvidenceError as exc:
        with visit(request.cookies.get(COOKIE)) as v:
            return _checks_response(request, v, 400, error=str(exc))
    return RedirectResponse(f"/checks?recorded={sample_id}", status_code=303)
