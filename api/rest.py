"""The JSON API under ``/api/``: everything the pages show, paginated and filterable.

Lists answer ``{"items": [...], "page", "per_page", "total", "pages"}``; errors answer
``{"error": {"status", "message"}}``. Reading needs the viewer role, ``POST /api/query`` the
analyst role, imports the editor role (see :mod:`api.security`).
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.responses import Response

from api import imports, views
from api.console import EXAMPLES, MAX_QUERY_LENGTH, run_console_query
from api.deps import Paging, check_api_csrf, get_lang, get_principal, get_settings, get_workspace, paging, require
from api.pages import map_filters, table_query
from api.maps import query_map
from api.services import Workspace
from api.tables import TableQuery, apply, export, get_spec
from api.uploads import MAX_FILES
from maillage import __version__
from maillage.errors import InputError

__all__ = ["router", "TableName", "QueryRequest", "ConfirmRequest", "CachedAnswers"]

router = APIRouter(prefix="/api", tags=["api"])
_viewer = Depends(require("viewer"))
_analyst = Depends(require("analyst"))
_editor = Depends(require("editor"))


class TableName(str, enum.Enum):
    """The result tables."""

    gaps = "gaps"
    overlaps = "overlaps"
    duplicates = "duplicates"
    coverage = "coverage"
    brokers = "brokers"


class QueryRequest(BaseModel):
    """A read-only Cypher query and its parameters."""

    query: str = Field(..., min_length=1, max_length=MAX_QUERY_LENGTH, description="Cypher; run in a READ session.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Query parameters ($name in the query).")


class ConfirmRequest(BaseModel):
    """Options of an import's confirmation."""

    replace_source: bool = Field(False, description="Remove what earlier imports of the same files created that they no longer hold.")


def _answer_key(scope: Any) -> tuple:
    """What a table read's answer depends on besides the data: path, query string, and what
    chooses the language (``?lang=`` is in the query string; the cookie and Accept-Language
    headers taken raw, the cookie header as a digest: it may hold a session token)."""
    accept = cookie = b""
    for name, value in scope["headers"]:
        if name == b"accept-language":
            accept = value
        elif name == b"cookie":
            cookie = value
    digest = hashlib.blake2b(cookie, digest_size=16).digest() if cookie else b""
    return ("GET", scope["path"], scope["query_string"], accept, digest)


class CachedAnswers:
    """Answer a table read (``GET /api/tables/{name}``) identical to one answered before,
    while its page is cached and its analysis fresh, without routing it through FastAPI.

    FastAPI's routing, parameter validation and dependencies cost a millisecond or more a
    request, many times what a cached page costs to send. Only requests that the route itself
    answered with a JSON page are remembered (:meth:`api.services.Workspace.remember_answer`),
    keyed by path, query string and the headers that choose the language, so that validation
    already passed once for that very request; the caller must still be a viewer. Runs inside
    :class:`api.security.SecurityMiddleware`: headers, host checks and identification apply.
    """

    def __init__(self, app: Any, workspace: Workspace):
        self.app = app
        self.workspace = workspace

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith("/api/tables/"):
            principal = scope.get("state", {}).get("principal")
            if principal is not None and principal.can("viewer"):
                found = self.workspace.answer(_answer_key(scope))
                if found is not None:
                    await Response(found.body, media_type="application/json")(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _page(items: list[Any], page: Paging) -> dict[str, Any]:
    start, stop = page.slice(len(items))
    return {"items": items[start:stop], **page.meta(len(items))}


def _download(content: bytes, media: str, filename: str) -> Response:
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---- about the service --------------------------------------------------------------------
@router.get("/health")
async def health(ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """Say whether maillage and its graph store answer (503 when the store is down)."""
    store = await ws.store()
    # A real round trip to the store (Neo4j may have gone since it was opened); the counts
    # themselves stay private: this route needs no login.
    await ws.run(store.counts)
    return {"status": "ok", "version": __version__}


@router.get("/me")
async def me(request: Request) -> dict[str, Any]:
    """Return the caller's role, the language chosen and the CSRF token for cookie-based posts."""
    principal = get_principal(request)
    return {
        "role": principal.role,
        "via": principal.via,
        "open": request.app.state.access.open,
        "lang": get_lang(request),
        "csrf_token": request.state.csrf_token,
    }


# ---- what the pages show --------------------------------------------------------------------
@router.get("/dashboard", dependencies=[_viewer])
async def dashboard(request: Request, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """Return the dashboard: counts by type and cluster, top gaps, overlaps, duplicates, coverage matrix."""
    return await views.dashboard(ws, get_lang(request))


@router.get("/clusters", dependencies=[_viewer])
async def clusters(page: Paging = Depends(paging), ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """List the clusters with their number of organizations."""
    return _page(await views.cluster_list(ws), page)


@router.get("/facets", dependencies=[_viewer])
async def facets(ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """Return the values the filters take: clusters, types, sectors, regions."""
    return await views.facets(ws)


@router.get("/organizations", dependencies=[_viewer])
async def organizations(
    q: str = Query("", max_length=200, description="Name to search, accents and case ignored."),
    cluster: list[str] | None = Query(None, description="Keep organizations of these clusters."),
    type: list[str] | None = Query(None, description="Keep organizations of these types."),
    sector: list[str] | None = Query(None, description="Keep organizations of these sectors."),
    region: list[str] | None = Query(None, description="Keep organizations of these regions."),
    page: Paging = Depends(paging),
    ws: Workspace = Depends(get_workspace),
) -> dict[str, Any]:
    """Search and filter the organizations."""
    found = await views.organizations(ws, q=q, clusters=cluster, types=type, sectors=sector, regions=region)
    return _page(views.jsonable(found), page)


@router.get("/organizations/{org_id:path}", dependencies=[_viewer])
async def organization(
    org_id: str,
    request: Request,
    map: bool = Query(False, description="Include the ego map's nodes and edges."),
    ws: Workspace = Depends(get_workspace),
) -> dict[str, Any]:
    """Return an organization's profile: facts, relationships, suggestions, overlaps, structures."""
    data = dict(await views.profile(ws, org_id, get_lang(request), with_map=map))
    if map:
        data["map"] = data["map"].to_dict()
    return views.jsonable(data)


@router.get("/map", dependencies=[_viewer])
async def network_map(request: Request, filters: views.MapFilters = Depends(map_filters), ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """Return the network map for the filters: nodes with frozen positions, edges, legend."""
    result = await views.map_view(ws, filters, get_lang(request))
    return views.jsonable({
        "filters": filters.as_dict(),
        "organizations": result["organizations"],
        "matches": result["matches"],
        "match_count": result["match_count"],
        "map": result["map"].to_dict(),
    })


@router.get("/tables/{name}", dependencies=[_viewer])
async def table(
    name: TableName,
    request: Request,
    format: str = Query("json", pattern="^(json|csv|xlsx)$", description="json (one page), csv or xlsx (every row)."),
    query: TableQuery = Depends(table_query),
    page: Paging = Depends(paging),
    ws: Workspace = Depends(get_workspace),
) -> Any:
    """Return a result table (gaps, overlaps, duplicates, coverage, brokers), filtered and sorted."""
    if format != "json":
        spec = get_spec(name.value)
        df = apply(await views.analysis(ws, spec.analysis, get_lang(request)), spec, query)
        return _download(*await ws.run(export, df, format, name=f"maillage-{spec.name}"))
    # Serialised once per version of the analysis: a cached read costs no pandas, no JSON.
    lang = get_lang(request)
    found = await views.table_page(ws, name.value, query, page, lang)
    # The same request again, while the page is fresh, is answered by CachedAnswers.
    ws.remember_answer(_answer_key(request.scope), found.key, found.source)
    return Response(found.body, media_type="application/json")


@router.get("/brief/{cluster}", dependencies=[_viewer])
async def brief(
    cluster: str,
    request: Request,
    map: bool = Query(False, description="Include the cluster map's nodes and edges."),
    ws: Workspace = Depends(get_workspace),
) -> dict[str, Any]:
    """Return a cluster's brief: members by type, coverage, top gaps, overlaps, duplicates."""
    data = dict(await views.brief(ws, cluster, get_lang(request), with_map=map))
    if map:
        data["map"] = data["map"].to_dict()
    return views.jsonable(data)


# ---- analysts: Cypher ---------------------------------------------------------------------------
@router.get("/queries", dependencies=[_analyst])
async def queries(request: Request) -> dict[str, Any]:
    """Return the console's library of example queries."""
    lang = get_lang(request)
    return {"items": [{"id": e.id, "title": e.title(lang), "query": e.query, "parameters": e.parameters} for e in EXAMPLES]}


@router.post("/query", dependencies=[_analyst, Depends(check_api_csrf)])
async def run_query(
    body: QueryRequest,
    request: Request,
    format: str = Query("json", pattern="^(json|csv)$", description="json, or csv to download the rows."),
    ws: Workspace = Depends(get_workspace),
) -> Any:
    """Run a read-only Cypher query (Neo4j refuses writes) with the time limit and row cap."""
    settings = get_settings(request)
    store = await ws.store()
    result = await ws.run(run_console_query, store, body.query, body.parameters, timeout=settings.query_timeout, row_cap=settings.query_row_cap)
    if format == "csv":
        frame = pd.DataFrame(result.rows, columns=result.columns)
        return _download(*await ws.run(export, frame, "csv", name="maillage-query"))
    out: dict[str, Any] = {
        "columns": result.columns,
        "rows": result.rows,
        "truncated": result.truncated,
        "elapsed_ms": round(result.elapsed_ms, 1),
        "nodes": result.nodes,
        "relationships": result.relationships,
    }
    if result.nodes:
        view = await ws.run(query_map, result, lang=get_lang(request), link_prefix=views.PROFILE_PREFIX, group_link=views.GROUP_LINK)
        out["map"] = view.to_dict()
    return views.jsonable(out)


# ---- editors: import --------------------------------------------------------------------------
@router.post("/import", dependencies=[_editor, Depends(check_api_csrf)])
async def import_files(
    request: Request,
    files: list[UploadFile] = File(..., description=f"CSV, XLSX or JSON files (at most {MAX_FILES})."),
    merge_duplicates: bool = Form(False, description="Merge probable duplicate records."),
    ws: Workspace = Depends(get_workspace),
) -> dict[str, Any]:
    """Upload and validate files; nothing is written until ``POST /api/import/{token}/confirm``."""
    if len(files) > MAX_FILES:
        raise InputError(f"{len(files)} files were sent; import at most {MAX_FILES} at once.")
    return views.jsonable(await imports.validate(request.app.state.uploads, ws, files, merge_duplicates=merge_duplicates))


@router.post("/import/{token}/confirm", dependencies=[_editor, Depends(check_api_csrf)])
async def confirm_import(
    token: str,
    request: Request,
    body: ConfirmRequest | None = None,
    ws: Workspace = Depends(get_workspace),
) -> dict[str, Any]:
    """Load validated files into the graph as one all-or-nothing import; return its summary."""
    options = body or ConfirmRequest()
    return views.jsonable(await imports.confirm(request.app.state.uploads, ws, token, replace_source=options.replace_source))
