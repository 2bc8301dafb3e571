"""One place that turns errors into answers: JSON under ``/api/``, an HTML page elsewhere.

JSON errors have one shape, ``{"error": {"status": 404, "message": "..."}}`` (plus
``problems`` for a refused import and ``details`` for invalid parameters). A page that needs a
login redirects to the login form; a store that is down gives a 503 page that reloads itself,
so that the view recovers as soon as Neo4j is back.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from neo4j import exceptions as neo4j_errors
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from api.deps import get_lang, render
from api.i18n import translate
from maillage.errors import LoginRequired, MaillageError, ValidationFailed

__all__ = ["install_error_handlers", "wants_json", "error_response"]

log = logging.getLogger("maillage.api")


def wants_json(request: Request) -> bool:
    """Whether the request is for the JSON API (else it gets an HTML page)."""
    path = request.url.path
    return path == "/api" or path.startswith("/api/") or path == "/openapi.json"


def error_response(request: Request, status: int, message: str, **extra: Any) -> Response:
    """Return the error answer that fits the request: JSON for the API, a page otherwise."""
    headers = {"WWW-Authenticate": 'Bearer realm="maillage"'} if status == 401 else None
    if wants_json(request):
        body: dict[str, Any] = {"status": status, "message": message}
        body.update({k: v for k, v in extra.items() if v is not None})
        return JSONResponse({"error": body}, status_code=status, headers=headers)
    lang = get_lang(request)
    generic = f"error.{status}"
    hint = translate(lang, generic) if status in (401, 403, 404, 422, 500, 503) else None
    response = render(
        request,
        "error.html",
        {"status": status, "message": message, "hint": hint, "problems": extra.get("problems"), "refresh": status == 503},
        status_code=status,
    )
    if headers:
        response.headers.update(headers)
    return response


async def _maillage_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MaillageError)
    status = int(getattr(exc, "status", 500))
    if isinstance(exc, LoginRequired) and not wants_json(request) and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if status >= 500:
        log.warning("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    problems = None
    if isinstance(exc, ValidationFailed):
        problems = [{"file": p.file, "row": p.row, "column": p.column, "message": p.message} for p in exc.problems]
    return error_response(request, status, str(exc), problems=problems)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else translate(get_lang(request), f"error.{exc.status_code}")
    if exc.status_code == 404 and message == "Not Found":
        message = f"Nothing at {request.url.path}."
    response = error_response(request, exc.status_code, message)
    for key, value in (exc.headers or {}).items():
        response.headers.setdefault(key, value)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in exc.errors()[:20]
    ]
    message = "Invalid request: " + "; ".join(f"{d['where']}: {d['message']}" for d in details)
    return error_response(request, 422, message, details=details)


async def _neo4j_down(request: Request, exc: Exception) -> Response:
    # The store wraps connection failures it sees, but a driver error can still surface from
    # a read the store did not wrap; it means the same thing to the user: Neo4j is away.
    log.warning("Neo4j unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(request, 503, f"Neo4j cannot be reached right now ({type(exc).__name__}); try again shortly.")


def unexpected_error(request: Request, exc: Exception) -> Response:
    """Return the 500 answer for an error nobody planned (logged with its traceback)."""
    log.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, translate(get_lang(request), "error.500"))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers: maillage's errors, HTTP errors, invalid parameters, Neo4j away."""
    app.add_exception_handler(MaillageError, _maillage_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(neo4j_errors.ServiceUnavailable, _neo4j_down)
    app.add_exception_handler(neo4j_errors.SessionExpired, _neo4j_down)
