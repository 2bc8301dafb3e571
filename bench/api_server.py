"""A web server for the API benchmark: maillage's app, or a bare Starlette app with the same handler.

Usage: python -m bench.api_server --app maillage|bare --port 8765 --orgs 2000 [--analysis-loop]

Both serve ``GET /api/tables/gaps?page=1`` from the same :class:`api.services.Workspace`
over a memory store holding the demo ecosystem; the cached result is computed before the port
opens, so every request measured is a read of cached results. ``maillage`` is
:func:`api.app.create_app` (FastAPI, the security middleware, dependencies, error handlers);
``bare`` is one Starlette route whose body is the same as :func:`api.rest.table`'s. With
``--analysis-loop`` a thread of the server recomputes analyses (brokerage, communities) without
pause while requests are served, as when someone runs an analysis through the web view.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

__all__ = ["build_app", "main"]


def _workspace_store(orgs: int):
    from bench.common import import_plan
    from graph.memory_store import MemoryStore

    plan = import_plan(orgs)
    store = MemoryStore(None)
    store.upsert(organizations=plan["organizations"], relationships=plan["relationships"], source=plan["source"])
    return store


def build_app(kind: str, store):
    """Return ``(app, workspace)`` for ``kind`` (``maillage`` or ``bare``), its cache warm."""
    from maillage.settings import get_settings

    from api import views

    settings = get_settings()
    if kind == "maillage":
        from api.app import create_app

        app = create_app(settings, store=store, host="127.0.0.1")
        ws = app.state.workspace
    else:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        from api.deps import Paging, get_lang
        from api.services import Workspace
        from api.tables import TableQuery, apply, get_spec

        ws = Workspace(settings, store=store)

        async def table(request: Request) -> JSONResponse:
            # api.rest.table's body, without FastAPI: same workspace, cache, filters and page.
            spec = get_spec(request.path_params["name"])
            query = TableQuery(q=request.query_params.get("q", ""))
            page = Paging(page=int(request.query_params.get("page", 1)),
                          per_page=min(int(request.query_params.get("per_page", 50)), settings.max_page_size))
            df = apply(await views.analysis(ws, spec.analysis, get_lang(request)), spec, query)
            start, stop = page.slice(len(df))
            return JSONResponse({"table": spec.name, "query": query.as_dict(), "columns": [str(c) for c in df.columns],
                                 "items": views.records(df.iloc[start:stop]), **page.meta(len(df))})

        app = Starlette(routes=[Route("/api/tables/{name}", table)])
    # Warm the cache before the port opens: every measured request reads cached results.
    for lang in ("fr", "en"):
        views._analysis_sync(ws, "gaps", lang)
    return app, ws


def _analysis_loop(ws, stop: threading.Event, counter: list[int]) -> None:
    from analysis import brokerage, communities

    G = ws.snapshot_sync()
    while not stop.is_set():
        brokerage(G)
        communities(G)
        counter[0] += 1


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--app", choices=["maillage", "bare"], required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--orgs", type=int, default=2000)
    p.add_argument("--analysis-loop", action="store_true")
    args = p.parse_args(argv)
    for var in ("MAILLAGE_TOKENS", "NEO4J_URI", "MAILLAGE_STORE"):
        os.environ.pop(var, None)
    import uvicorn

    store = _workspace_store(args.orgs)
    app, ws = build_app(args.app, store)
    stop = threading.Event()
    counter = [0]
    if args.analysis_loop:
        threading.Thread(target=_analysis_loop, args=(ws, stop, counter), daemon=True).start()
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                            server_header=False)
    server = uvicorn.Server(config)
    started = time.time()
    try:
        server.run()
    finally:
        stop.set()
        if args.analysis_loop:
            print(f"analyses completed during the run: {counter[0]} in {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
