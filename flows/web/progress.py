"""进度: the person's own part of the tree, unit by unit, for roles that answer for units."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from flows.web.views import (
    page,
)
from flows.web.visit import COOKIE, SignInNeeded, visit
from models.domain.progress import rag
from models.errors import PermissionRefused
from models.store.unit_progress import unit_progress

router = APIRouter()


@router.get("/progress", response_class=HTMLResponse)
def progress(request: Request) -> HTMLResponse:
    """The person's own part of the tree, unit by unit, with each unit's late items: for
    those whose role answers for units (supervisors and the department)."""
    with visit(request.cookies.get(COOKIE)) as v:
        unit = v.org.units[v.person.unit_id]
        tables = []
        for loaded in v.campaigns().values():
            if not v.person.roles & loaded.spec.responsible_roles():
                continue
            rows = unit_progress(v.session, loaded, v.org, unit.code, v.today)
            tables.append(
                {
                    "campaign": loaded.spec.name,
                    "rows": [{"row": r, "rag": rag(r.owed, r.overdue)} for r in rows if r.items],
                }
            )
        if not tables:
            raise PermissionRefused("进度只对负责单位工作的角色开放")
        return page(request, "progress.html", v=v, tables=tables, unit=unit.name)


__all__ = ["SignInNeeded", "router"]
