"""FastAPI dependencies and helpers shared by the pages and the JSON API.

Tests replace the graph store by passing ``store=`` to :func:`api.app.create_app`, or by
overriding :func:`get_workspace` with ``app.dependency_overrides``.

The dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in
the thread pool, a hop (and a GIL hand-over) per dependency per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from api.i18n import LANGUAGES, negotiate, relation_label, translator, type_label
from api.security import LANG_COOKIE, AccessConfig, Principal, csrf_valid
from api.services import Workspace
from maillage.errors import AccessDenied, LoginRequired
from maillage.settings import Settings

__all__ = [
    "TEMPLATES_DIR",
    "STATIC_DIR",
    "get_workspace",
    "get_settings",
    "get_principal",
    "get_lang",
    "require",
    "Paging",
    "paging",
    "check_form_csrf",
    "check_api_csrf",
    "render",
    "make_templates",
    "url_with",
]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
#: Most files one form may carry (the import takes 10; the rest is slack for a mistake).
MAX_FORM_FILES = 20
_bearer = HTTPBearer(auto_error=False, description="An access token of MAILLAGE_TOKENS (not needed on the login-free local demo).")


async def get_workspace(request: Request) -> Workspace:
    """Return the application's workspace (store and caches)."""
    return request.app.state.workspace


def get_settings(request: Request) -> Settings:
    """Return the application's settings."""
    return request.app.state.settings


def get_principal(request: Request) -> Principal:
    """Return the caller, as :class:`api.security.SecurityMiddleware` identified it."""
    return getattr(request.state, "principal", Principal(None))


def get_lang(request: Request) -> str:
    """Return the request's language: ``?lang=``, the switch's cookie, Accept-Language, French."""
    cached = getattr(request.state, "lang", None)
    if cached is not None:
        return cached
    asked = request.query_params.get("lang")
    cookie = request.cookies.get(LANG_COOKIE)
    if asked in LANGUAGES:
        lang = asked
    elif cookie in LANGUAGES:
        lang = cookie
    else:
        lang = negotiate(request.headers.get("accept-language"))
    request.state.lang = lang
    return lang


def require(role: str) -> Callable[..., Principal]:
    """Return a dependency that lets through callers holding ``role`` or a higher one.

    Raises :class:`~maillage.errors.LoginRequired` (401) for a caller who is not signed in
    and :class:`~maillage.errors.AccessDenied` (403) for a role too low.
    """

    async def dependency(request: Request, _credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
        # The Bearer header was already checked by the middleware; declaring it here documents
        # it in the OpenAPI document.
        principal = get_principal(request)
        if principal.role is None:
            raise LoginRequired("Sign in first: send an access token as 'Authorization: Bearer <token>' or use the login page.")
        if not principal.can(role):
            raise AccessDenied(f"This needs the {role} role; yours is {principal.role}. Ask the operator for a token with that role.")
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


@dataclass(frozen=True)
class Paging:
    """A requested page: 1-based ``page`` and ``per_page`` (already capped)."""

    page: int
    per_page: int

    def slice(self, total: int) -> tuple[int, int]:
        """Return ``(start, stop)`` row positions of this page in ``total`` rows."""
        start = min((self.page - 1) * self.per_page, total)
        return start, min(start + self.per_page, total)

    def pages(self, total: int) -> int:
        """Return how many pages ``total`` rows make (at least 1)."""
        return max(1, -(-total // self.per_page))

    def meta(self, total: int) -> dict[str, int]:
        """Return the page fields of a JSON list answer."""
        return {"page": self.page, "per_page": self.per_page, "total": total, "pages": self.pages(total)}


async def paging(
    request: Request,
    page: int = Query(1, ge=1, le=1_000_000, description="Page number, from 1."),
    per_page: int = Query(50, ge=1, le=10_000, description="Rows per page (capped by MAILLAGE_MAX_PAGE_SIZE)."),
) -> Paging:
    """Read ``?page=`` and ``?per_page=``, the latter capped by the settings."""
    cap = get_settings(request).max_page_size
    return Paging(page=page, per_page=min(per_page, cap))


class CsrfRefused(AccessDenied):
    """A form post without the token of the page it came from."""


async def check_form_csrf(request: Request) -> AsyncIterator[None]:
    """Refuse a form post whose ``csrf_token`` field is not the token of its CSRF cookie.

    Posts authenticated by a Bearer header pass (a browser never adds one by itself). The
    parsed form (uploaded files included) is closed once the request is answered.
    """
    form = await request.form(max_files=MAX_FORM_FILES, max_fields=50)
    try:
        if get_principal(request).via != "token":
            submitted = form.get("csrf_token")
            _check(request, submitted if isinstance(submitted, str) else None)
        yield
    finally:
        await form.close()


async def check_api_csrf(request: Request) -> None:
    """Protect JSON API posts made with a browser's ambient credentials.

    A Bearer token is never attached by a browser on its own, so such posts pass. Otherwise
    (web login cookie, or the login-free demo) a JSON body passes - a cross-site page cannot
    send ``application/json`` without a CORS preflight, which maillage never grants - and any
    other body needs the ``X-CSRF-Token`` header.
    """
    principal = get_principal(request)
    if principal.via == "token":
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return
    _check(request, request.headers.get("x-csrf-token"))


def _check(request: Request, submitted: str | None) -> None:
    access: AccessConfig = request.state.access
    cookie = request.cookies.get("maillage_csrf")
    if not csrf_valid(access, cookie, submitted):
        raise CsrfRefused(
            "The form expired or did not come from maillage (CSRF token missing or wrong); reload the page and try again."
        )


def url_with(request: Request, **changes: Any) -> str:
    """Return the current path and query with some parameters replaced (``None`` drops one).

    A list value sets a repeated parameter. Used for sort links, pages and the language switch.
    """
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set)):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    query = urlencode(items)
    return request.url.path + (f"?{query}" if query else "")


def make_templates() -> Jinja2Templates:
    """Return the Jinja2 templates, autoescaping every ``.html`` template."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["url_with"] = url_with
    env.filters["number"] = _number
    return Jinja2Templates(env=env)


def _number(value: Any, digits: int = 3) -> str:
    """Show a number briefly: integers as is, floats with ``digits`` significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    if isinstance(value, float):
        if value != value:
            return ""
        return f"{value:.{digits}g}"
    return str(value)


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> HTMLResponse:
    """Render a page with what every template uses: language, caller, CSRF token, labels."""
    lang = get_lang(request)
    principal = get_principal(request)
    templates: Jinja2Templates = request.app.state.templates
    ctx: dict[str, Any] = {
        "lang": lang,
        "_": translator(lang),
        "principal": principal,
        "open_access": request.app.state.access.open,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
        "type_label": lambda t: type_label(lang, t),
        "relation_label": lambda r: relation_label(lang, r),
        "other_lang": "en" if lang == "fr" else "fr",
        "path": request.url.path,
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="strict",
            secure=request.app.state.settings.secure_cookies,
        )
    return response


