"""进度: the person's own part of the tree, a level at a time, for roles that answer for
units and for the district's: the district's towns, a town's villages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from flows.web.views import page
from flows.web.visit import COOKIE, SignInNeeded, visit
from models.domain.door import progress_root
from models.domain.progress import rag
from models.domain.wording import with_units_below_zh
from models.errors import NotFound, PermissionRefused
from models.store.unit_progress import unit_progress

router = APIRouter()
UnitCode = Annotated[str | None, Query(max_length=64)]


@router.get("/progress", response_class=HTMLResponse)
def progress(request: Request, unit: UnitCode = None) -> HTMLResponse:
    """Each campaign's counts for the person's part of the tree (`progress_root`): the unit
    and the units just below it, each with its own late items; a unit with units below
    links to its own level (`?unit=CODE`, only inside the person's part)."""
    with visit(request.cookies.get(COOKIE)) as v:
        org = v.org
        asked = org.unit_by_code.get(unit) if unit else None
        if unit and asked is None:
            raise NotFound("没有这个单位")
        above = {u.parent_id for u in org.units.values()}
        tables: list[dict[str, Any]] = []
        for loaded in v.campaigns().values():
            root = progress_root(org, v.person, loaded.spec)
            if root is None or (asked is not None and not org.is_within(asked.id, root)):
                continue
            shown = org.units[asked.id if asked is not None else root]
            rows = unit_progress(v.session, loaded, org, shown.code, v.today)
            tables.append(
                {
                    "campaign": loaded.spec.name,
                    "unit": shown.name,
                    "head": with_units_below_zh(shown.name, len(rows)),
                    "up": org.units[shown.parent_id].code
                    if shown.id != root and shown.parent_id is not None
                    else None,
                    "rows": [
                        {
                            "row": r,
                            "rag": rag(r.owed, r.overdue),
                            "below": r.depth == 1 and org.unit_by_code[r.code].id in above,
                        }
                        for r in rows
                        if r.items and r.depth <= 1
                    ],
                }
            )
        if not tables:
            if asked is not None:
                raise NotFound("没有这个单位，或它不在您负责的范围内")
            raise PermissionRefused("进度只对负责单位工作的角色开放")
        return page(request, "progress.html", v=v, tables=tables)


__all__ = ["SignInNeeded", "router"]
