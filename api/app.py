"""The web application: :func:`create_app` assembles pages, JSON API, guards and caches.

::

    from api.app import create_app
    app = create_app()                      # settings from the environment, store from them
    app = create_app(store=MemoryStore(None))  # tests: a store given as is

Layout of ``api/``: :mod:`api.security` (roles, tokens, CSRF, headers, body caps),
:mod:`api.services` (the workspace: store, cached snapshot, analyses and pages),
:mod:`api.workers` (the process that computes analyses off the server's GIL),
:mod:`api.views` (what pages and API show), :mod:`api.tables` (sortable, filterable,
paginated result tables and their downloads), :mod:`api.pages` (HTML),
:mod:`api.rest` (JSON under ``/api/``), :mod:`api.handlers` (errors),
:mod:`api.imports` and :mod:`api.uploads` (two-step web imports), :mod:`api.console`
(the Cypher console's examples), :mod:`api.maps` (network maps), :mod:`api.i18n`
(French and English), :mod:`api.cli` (``maillage serve`` and the other commands).
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, HTMLResponse, Response

from api import maps, pages, rest
from api.deps import STATIC_DIR, make_templates, render
from api.handlers import install_error_handlers, unexpected_error
from api.security import SecurityMiddleware, access_config
from api.services import Workspace
from api.uploads import UploadArea
from graph.base import Store
from maillage import __version__
from maillage.settings import Settings, get_settings

__all__ = ["create_app"]

_SWAGGER_FILES = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}


def _swagger_dir() -> Path:
    """Swagger UI 5 as the ``swagger-ui-py`` package ships it (found without importing the
    package, whose own modules target other web frameworks)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is missing: pip install swagger-ui-py (a dependency of maillage).")
    return Path(next(iter(spec.submodule_search_locations))) / "static"

_DESCRIPTION = """\
The JSON API of maillage: everything the web view shows, paginated (`?page=`, `?per_page=`)
and filterable.

**Access.** Send an access token as `Authorization: Bearer <token>` (tokens are configured by
the operator in `MAILLAGE_TOKENS`). Roles: *viewer* reads; *analyst* may also run Cypher
(`POST /api/query`); *editor* may also import (`POST /api/import`). A local demo bound to
127.0.0.1 without tokens needs none.

**Errors** are JSON: `{"error": {"status": 404, "message": "..."}}`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    store_factory: Callable[[Settings], Store] | None = None,
    host: str | None = None,
) -> FastAPI:
    """Return the web application.

    Parameters
    ----------
    settings : Settings, optional
        Default: from the environment (:func:`maillage.settings.get_settings`).
    store : Store, optional
        Use this store as is (tests); default: opened from the settings on first use, and
        opened again after a failure (Neo4j down), so that the view recovers by itself.
    store_factory : callable, optional
        ``settings -> Store`` used instead of :func:`graph.open_store`.
    host : str, optional
        The interface the server binds to (default ``MAILLAGE_HOST``): without tokens the
        app runs only on a loopback host.

    Raises
    ------
    maillage.errors.ConfigError
        Bad tokens, or no token on a non-loopback host.
    """
    settings = settings or get_settings()
    access = access_config(settings, host=host)
    workspace = Workspace(settings, store=store, store_factory=store_factory)
    uploads = UploadArea()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if workspace.workers is not None:
            # Start the analysis worker now, in the background (its fork server imports pandas
            # and networkx for seconds): the first analysis then finds it ready.
            workspace.workers.attach()
        try:
            yield
        finally:
            if workspace.workers is not None:
                workspace.workers.detach()
            workspace.close()
            uploads.close()

    app = FastAPI(
        title="maillage",
        version=__version__,
        description=_DESCRIPTION,
        docs_url=None,  # the default page loads Swagger UI from a CDN; ours serves it locally
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        # maillage exports no OpenTelemetry data; with the bridge on, FastAPI looks for
        # providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.access = access
    app.state.workspace = workspace
    app.state.uploads = uploads
    app.state.templates = make_templates()

    install_error_handlers(app)
    # Added first, so it runs inside the security middleware (the last added is outermost).
    app.add_middleware(rest.CachedAnswers, workspace=workspace)
    app.add_middleware(SecurityMiddleware, config=access, on_error=unexpected_error)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _mount_map_assets(app)
    app.include_router(rest.router)
    app.include_router(pages.router)

    @app.get("/static-swagger/{name}", include_in_schema=False)
    async def swagger_asset(name: str) -> Response:
        if name not in _SWAGGER_FILES:
            return Response(status_code=404)
        return FileResponse(_swagger_dir() / name)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        return render(request, "docs.html")

    return app


def _mount_map_assets(app: FastAPI) -> None:
    """Serve vis-network from pyvis's own copy (the map's script and styles are under /static)."""
    for url, directory, name in maps.STATIC_MOUNTS:
        app.mount(url, StaticFiles(directory=directory), name=name)
