"""A web server for the API benchmark: maillage's app, or a bare Starlette app with the same handler.

Usage: python -m bench.api_server --app maillage|bare --port 8765 --orgs 2000 [--analysis-loop [--paused]]

Both serve ``GET /api/tables/gaps?page=1`` from the same :class:`api.services.Workspace`
over a memory store holding the demo ecosystem; the cached result is computed before the port
opens, so every request measured is a read of cached results. ``maillage`` is
:func:`api.app.create_app` (FastAPI, the security middleware, dependencies, error handlers);
``bare`` is one Starlette route that calls the same handler as :func:`api.rest.table`
(:func:`api.views.table_page` on the same kind of workspace), so that the comparison measures
what FastAPI, the security middleware and the dependencies cost. With ``--analysis-loop`` the
server recomputes analyses (brokerage, communities) without pause while requests are served,
as the web view does when its cached analyses expire: through
:meth:`api.services.Workspace.analyse_sync`, in the analysis worker process.
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
        from starlette.responses import Response
        from starlette.routing import Route

        from api.deps import Paging, get_lang
        from api.services import Workspace
        from api.tables import TableQuery

        ws = Workspace(settings, store=store)

        async def table(request: Request) -> Response:
            # api.rest.table's body, without FastAPI: the same workspace and the same handler
            # (views.table_page: cache, filters, page, serialised JSON).
            query = TableQuery(q=request.query_params.get("q", ""))
            page = Paging(page=int(request.query_params.get("page", 1)),
                          per_page=min(int(request.query_params.get("per_page", 50)), settings.max_page_size))
            found = await views.table_page(ws, request.path_params["name"], query, page, get_lang(request))
            return Response(found.body, media_type="application/json")

        app = Starlette(routes=[Route("/api/tables/{name}", table)])
    # Warm the cache before the port opens: every measured request reads cached results.
    for lang in ("fr", "en"):
        views._analysis_sync(ws, "gaps", lang)
    return app, ws


def _analysis_loop(ws, stop: threading.Event, running: threading.Event, counter: list[int]) -> None:
    # What the web view does when a cached analysis expires: Workspace.analyse_sync, which
    # hands the work to the analysis worker process and waits for its DataFrame.
    while not stop.is_set():
        running.wait()
        ws.analyse_sync("brokers", "en")
        ws.analyse_sync("communities", "en")
        counter[0] += 1


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--app", choices=["maillage", "bare"], required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--orgs", type=int, default=2000)
    p.add_argument("--analysis-loop", action="store_true")
    p.add_argument("--paused", action="store_true", help="the analysis loop waits for SIGUSR1 (SIGUSR2 pauses it)")
    args = p.parse_args(argv)
    for var in ("MAILLAGE_TOKENS", "NEO4J_URI", "MAILLAGE_STORE"):
        os.environ.pop(var, None)
    import uvicorn

    store = _workspace_store(args.orgs)
    app, ws = build_app(args.app, store)
    stop = threading.Event()
    counter = [0]
    running = threading.Event()
    if args.analysis_loop:
        if args.paused:
            # SIGUSR1 starts the loop, SIGUSR2 pauses it (after the analysis under way), so
            # that one server is measured idle and busy in turns.
            import signal

            def pause(*_: object) -> None:
                running.clear()
                print(f"analysis loop paused: {counter[0]} rounds of brokerage and communities so far", flush=True)

            signal.signal(signal.SIGUSR1, lambda *_: running.set())
            signal.signal(signal.SIGUSR2, pause)
        else:
            running.set()
        threading.Thread(target=_analysis_loop, args=(ws, stop, running, counter), daemon=True).start()
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
