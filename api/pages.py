"""The HTML pages of the web view (server-rendered; the JSON API in :mod:`api.rest` mirrors them).

Pages are left out of the OpenAPI document: it describes the JSON API.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from api import imports, views
from api.console import EXAMPLES, MAX_QUERY_LENGTH, parse_parameters, run_console_query
from api.deps import (
    Paging,
    check_form_csrf,
    get_lang,
    get_settings,
    get_workspace,
    paging,
    render,
    require,
)
from api.i18n import type_label
from api.maps import SIZE_MEASURES, asset_urls, query_map
from api.security import SESSION_COOKIE, session_cookie
from api.services import Workspace
from api.tables import TABLES, TableQuery, apply, export, get_spec
from api.uploads import MAX_FILES
from maillage.errors import CypherUnavailable, InputError, QueryRefused, ValidationFailed

__all__ = ["router", "map_filters", "table_query"]

router = APIRouter(include_in_schema=False)
_viewer = Depends(require("viewer"))
_analyst = Depends(require("analyst"))
_editor = Depends(require("editor"))


def _listed(values: list[str] | None) -> list[str]:
    return [v for v in values or [] if v and v.strip()]


def _flag(values: list[str] | None, default: bool) -> bool:
    # Checkboxes of a GET form: a hidden "0" comes first, the box adds "1" when ticked.
    if not values:
        return default
    return values[-1] in ("1", "true", "on", "yes")


# ---- dashboard ----------------------------------------------------------------------------
@router.get("/", dependencies=[_viewer])
async def dashboard_page(request: Request, ws: Workspace = Depends(get_workspace)) -> Response:
    """The dashboard."""
    lang = get_lang(request)
    data = await views.dashboard(ws, lang)
    cov = data["coverage"]
    top = max((v for row in cov["counts"] for v in row), default=0)
    heat = [
        {"cluster": c, "cells": [{"type": t, "value": v, "level": views.heat_level(v, top)} for t, v in zip(cov["types"], row)]}
        for c, row in zip(cov["clusters"], cov["counts"])
    ]
    charts = {
        "by_type": views.bar_chart([(type_label(lang, t if t != "unknown" else None), n) for t, n in data["by_type"].items()]),
        "by_cluster": views.bar_chart(list(data["by_cluster"].items())[:20]),
    }
    return render(request, "dashboard.html", {"data": data, "heat": heat, "charts": charts})


# ---- map --------------------------------------------------------------------------------------
async def map_filters(
    cluster: list[str] | None = Query(None, max_length=200, description="Keep organizations of these clusters (names or ids)."),
    type: list[str] | None = Query(None, max_length=100, description="Keep organizations of these types."),
    sector: list[str] | None = Query(None, max_length=200, description="Keep organizations of these sectors."),
    region: list[str] | None = Query(None, max_length=200, description="Keep organizations of these regions."),
    community: str | None = Query(None, max_length=20, description="Keep one detected community (its number)."),
    q: str = Query("", max_length=200, description="Name to find and highlight, accents and case ignored."),
    size_by: str = Query("degree", max_length=40, description="degree, betweenness, pagerank, eigenvector, closeness or none."),
    suggestions: list[str] | None = Query(None, max_length=5, description="Draw suggested partnerships: 1 (default) or 0."),
    overlaps: list[str] | None = Query(None, max_length=5, description="Draw overlaps: 1 (default) or 0."),
) -> views.MapFilters:
    """Read the map's filters, size measure and toggles from the query string."""
    return views.MapFilters(
        clusters=_listed(cluster), types=_listed(type), sectors=_listed(sector), regions=_listed(region),
        community=community or None, q=q, size_by=size_by,
        suggestions=_flag(suggestions, True), overlaps=_flag(overlaps, True),
    )


@router.get("/map", dependencies=[_viewer])
async def map_page(request: Request, filters: views.MapFilters = Depends(map_filters), ws: Workspace = Depends(get_workspace)) -> Response:
    """The network map, filtered on the server."""
    lang = get_lang(request)
    result = await views.map_view(ws, filters, lang)
    return render(request, "map.html", {
        "result": result, "map": result["map"], "map_assets": asset_urls(), "filters": filters,
        "facets": await views.facets(ws), "measures": SIZE_MEASURES,
    })


# ---- organizations ------------------------------------------------------------------------
@router.get("/organizations", dependencies=[_viewer])
async def organizations_page(
    request: Request,
    q: str = Query("", max_length=200),
    cluster: list[str] | None = Query(None),
    type: list[str] | None = Query(None),
    page: Paging = Depends(paging),
    ws: Workspace = Depends(get_workspace),
) -> Response:
    """Search the organizations."""
    found = await views.organizations(ws, q=q, clusters=_listed(cluster), types=_listed(type))
    start, stop = page.slice(len(found))
    return render(request, "organizations.html", {
        "rows": found[start:stop], "total": len(found), "paging": page, "pages": page.pages(len(found)), "q": q,
        "facets": await views.facets(ws), "chosen": {"cluster": _listed(cluster), "type": _listed(type)},
    })


@router.get("/organizations/{org_id:path}", dependencies=[_viewer])
async def profile_page(org_id: str, request: Request, ws: Workspace = Depends(get_workspace)) -> Response:
    """An organization's profile."""
    lang = get_lang(request)
    data = await views.profile(ws, org_id, lang)
    return render(request, "profile.html", {"p": data, "map": data["map"], "map_assets": asset_urls()})


@router.get("/org/{org_id:path}", dependencies=[_viewer])
async def short_profile_link(org_id: str) -> Response:
    """Short profile links (maps' default) lead to the profile."""
    return RedirectResponse("/organizations/" + quote(org_id, safe=""), status_code=307)


# ---- tables --------------------------------------------------------------------------------
async def table_query(
    q: str = Query("", max_length=200, description="Text to search, accents and case ignored."),
    type: list[str] | None = Query(None, description="Keep rows about these stakeholder types."),
    cluster: list[str] | None = Query(None, description="Keep rows about these clusters (names or ids)."),
    organization: str | None = Query(None, max_length=200, description="Keep rows about this organization id."),
    sort: str | None = Query(None, max_length=60, description="Column to sort by."),
    order: str | None = Query(None, pattern="^(asc|desc)$", description="asc or desc."),
) -> TableQuery:
    """Read a table's filters and order from the query string."""
    return TableQuery(q=q, types=_listed(type), clusters=_listed(cluster), organization=organization or None,
                      sort=sort or None, order=order or None)


@router.get("/tables", dependencies=[_viewer])
async def tables_index() -> Response:
    """The first table."""
    return RedirectResponse("/tables/gaps", status_code=307)


@router.get("/tables/{name}", dependencies=[_viewer])
async def table_page(
    name: str, request: Request, query: TableQuery = Depends(table_query), page: Paging = Depends(paging),
    ws: Workspace = Depends(get_workspace),
) -> Response:
    """One result table, sortable, filterable and paginated."""
    lang = get_lang(request)
    spec = get_spec(name)
    found = await views.table_page(ws, spec.name, query, page, lang)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "per_page", "format")]
    downloads = {fmt: f"/tables/{spec.name}/download?" + urlencode(kept + [("format", fmt)]) for fmt in ("csv", "xlsx")}
    return render(request, "table.html", {
        "downloads": downloads,
        "spec": spec, "tables": TABLES, "columns": spec.shown(found.columns), "rows": found.rows,
        "total": found.total, "paging": page, "pages": page.pages(found.total), "query": query,
        "sort": query.sort or spec.sort,
        "descending": (query.order == "desc") if query.order else (spec.descending if not query.sort else True),
        "facets": await views.facets(ws),
    })


@router.get("/tables/{name}/download", dependencies=[_viewer])
async def table_download(
    name: str, request: Request, format: str = Query("csv", pattern="^(csv|xlsx)$"),
    query: TableQuery = Depends(table_query), ws: Workspace = Depends(get_workspace),
) -> Response:
    """Download a table (every filtered row) as CSV or XLSX."""
    spec = get_spec(name)
    df = apply(await views.analysis(ws, spec.analysis, get_lang(request)), spec, query)
    content, media, filename = await ws.run(export, df, format, name=f"maillage-{name}")
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---- Cypher console -------------------------------------------------------------------------
def _console_context(request: Request, ws: Workspace, **extra: Any) -> dict[str, Any]:
    settings = get_settings(request)
    store = ws.opened_store
    return {
        "examples": EXAMPLES,
        "supports_cypher": bool(store is not None and store.supports_cypher),
        "timeout": settings.query_timeout,
        "row_cap": settings.query_row_cap,
        "query": "",
        "parameters": "",
        **extra,
    }


@router.get("/console", dependencies=[_analyst])
async def console_page(request: Request, example: str | None = Query(None, max_length=60), ws: Workspace = Depends(get_workspace)) -> Response:
    """The Cypher console."""
    await ws.store()
    chosen = next((e for e in EXAMPLES if e.id == example), None)
    extra = {"query": chosen.query, "parameters": chosen.parameters_json()} if chosen else {}
    return render(request, "console.html", _console_context(request, ws, **extra))


@router.post("/console", dependencies=[_analyst, Depends(check_form_csrf)])
async def console_run(request: Request, ws: Workspace = Depends(get_workspace)) -> Response:
    """Run a read-only Cypher query; show the rows (and a map), or download them as CSV."""
    form = await request.form()
    query = str(form.get("query") or "")[:MAX_QUERY_LENGTH]
    parameters_text = str(form.get("parameters") or "")
    action = str(form.get("action") or "run")
    settings = get_settings(request)
    lang = get_lang(request)
    store = await ws.store()
    context = _console_context(request, ws, query=query, parameters=parameters_text)
    try:
        params = parse_parameters(parameters_text)
        result = await ws.run(run_console_query, store, query, params, timeout=settings.query_timeout, row_cap=settings.query_row_cap)
    except CypherUnavailable as err:
        return render(request, "console.html", {**context, "error": str(err)}, status_code=err.status)
    except QueryRefused as err:
        return render(request, "console.html", {**context, "error": str(err)}, status_code=err.status)
    if action == "csv":
        import pandas as pd

        frame = pd.DataFrame(result.rows, columns=result.columns)
        content, media, filename = await ws.run(export, frame, "csv", name="maillage-query")
        return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    view = None
    if result.nodes:
        view = await ws.run(query_map, result, lang=lang, link_prefix=views.PROFILE_PREFIX, group_link=views.GROUP_LINK, dom_id="query-map")
    return render(request, "console.html", {
        **context, "result": result, "cells": [[_cell(v) for v in row] for row in result.rows],
        "map": view, "map_assets": asset_urls(),
    })


def _cell(value: Any) -> str:
    """Show one console value briefly: a node as its labels and name, a relationship as its
    type, other lists and maps as JSON (the CSV download keeps every property)."""
    import json

    if isinstance(value, dict) and value.get("_kind") == "node":
        props = value.get("properties") or {}
        label = ":".join(value.get("labels") or [])
        name = props.get("name") or props.get("id") or value.get("elementId")
        return f"(:{label}) {name}" + (f" [{props['id']}]" if props.get("id") not in (None, name) else "")
    if isinstance(value, dict) and value.get("_kind") == "relationship":
        props = value.get("properties") or {}
        extra = ", ".join(f"{k}: {props[k]}" for k in ("weight", "score", "since") if props.get(k) is not None)
        return f"[:{value.get('type')}]" + (f" {{{extra}}}" if extra else "")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


# ---- import ---------------------------------------------------------------------------------
@router.get("/import", dependencies=[_editor])
async def import_page(request: Request) -> Response:
    """The import form."""
    return render(request, "import.html", {"limit": get_settings(request).upload_max_bytes, "max_files": MAX_FILES})


@router.post("/import", dependencies=[_editor, Depends(check_form_csrf)])
async def import_validate(request: Request, ws: Workspace = Depends(get_workspace)) -> Response:
    """Upload files and show their validation report (nothing is written yet)."""
    form = await request.form()
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and (f.filename or f.size)]
    merge = str(form.get("merge_duplicates") or "") in ("1", "on", "true")
    context = {"limit": get_settings(request).upload_max_bytes, "max_files": MAX_FILES}
    try:
        report = await imports.validate(request.app.state.uploads, ws, files, merge_duplicates=merge)
    except ValidationFailed as err:
        return render(request, "import.html", {**context, "problems": err.problems}, status_code=err.status)
    except InputError as err:
        return render(request, "import.html", {**context, "error": str(err)}, status_code=err.status)
    return render(request, "import.html", {**context, "report": report})


@router.post("/import/confirm", dependencies=[_editor, Depends(check_form_csrf)])
async def import_confirm(request: Request, ws: Workspace = Depends(get_workspace)) -> Response:
    """Load validated files into the graph, as one all-or-nothing import."""
    form = await request.form()
    token = str(form.get("token") or "")
    replace = str(form.get("replace_source") or "") in ("1", "on", "true")
    context = {"limit": get_settings(request).upload_max_bytes, "max_files": MAX_FILES}
    try:
        summary = await imports.confirm(request.app.state.uploads, ws, token, replace_source=replace)
    except ValidationFailed as err:
        return render(request, "import.html", {**context, "problems": err.problems}, status_code=err.status)
    except InputError as err:
        return render(request, "import.html", {**context, "error": str(err)}, status_code=err.status)
    return render(request, "import.html", {**context, "summary": summary})


# ---- briefs ---------------------------------------------------------------------------------
@router.get("/brief", dependencies=[_viewer])
async def brief_index(request: Request, ws: Workspace = Depends(get_workspace)) -> Response:
    """The list of cluster briefs."""
    return render(request, "brief_index.html", {"clusters": await views.cluster_list(ws)})


@router.get("/brief/{cluster}", dependencies=[_viewer])
async def brief_page(cluster: str, request: Request, ws: Workspace = Depends(get_workspace)) -> Response:
    """One cluster's printable brief."""
    lang = get_lang(request)
    data = await views.brief(ws, cluster, lang)
    return render(request, "brief.html", {
        "b": data, "map": data["map"], "map_assets": asset_urls(), "today": _dt.date.today().isoformat(),
    })


# ---- login ----------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    # Only a path of this site: an open redirect would let a link send people elsewhere.
    if not target or not target.startswith("/") or target.startswith("//") or target.startswith("/\\"):
        return "/"
    return target


@router.get("/login")
async def login_page(request: Request, next: str = Query("/", max_length=2000)) -> Response:
    """The login form."""
    return render(request, "login.html", {"next": _safe_next(next), "failed": False})


@router.post("/login", dependencies=[Depends(check_form_csrf)])
async def login(request: Request) -> Response:
    """Sign in with an access token; sets the session cookie."""
    form = await request.form()
    token = str(form.get("token") or "")[:512]
    target = _safe_next(str(form.get("next") or "/"))
    access = request.app.state.access
    value = session_cookie(access, token) if token else None
    if value is None:
        return render(request, "login.html", {"next": target, "failed": True}, status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, value, max_age=int(access.session_seconds), httponly=True, samesite="strict",
        secure=access.secure_cookies, path="/",
    )
    return response


@router.post("/logout", dependencies=[Depends(check_form_csrf)])
async def logout(request: Request) -> Response:
    """Sign out."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
