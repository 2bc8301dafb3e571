"""Who may do what in the web view, and the guards every request passes through.

Access
    Roles rank ``viewer < analyst < editor``: a viewer reads, an analyst also runs the Cypher
    console, an editor also imports. Operators configure tokens (``MAILLAGE_TOKENS``,
    ``MAILLAGE_TOKENS_FILE``); the JSON API takes them as ``Authorization: Bearer``, pages
    through a login form that sets a signed, HttpOnly, SameSite=Strict cookie. With no token
    configured the web view is *open* (everyone is editor), which :func:`access_config`
    allows only on a loopback host.

Guards (:class:`SecurityMiddleware`, one pure ASGI layer, so that they run before any body is read)
    - security headers on every response (CSP without inline script, nosniff, no framing);
    - the open demo answers only to loopback host names (DNS rebinding would otherwise let
      any web page drive it);
    - cross-site posts are refused from ``Origin`` / ``Sec-Fetch-Site``, and every form post
      also carries a CSRF token (signed double submit, see :func:`csrf_token`);
    - request bodies are capped: ``Content-Length`` first, then a count as the body streams.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maillage.errors import ConfigError
from maillage.settings import Settings

__all__ = [
    "ROLES",
    "Principal",
    "AccessConfig",
    "access_config",
    "parse_tokens",
    "is_loopback",
    "SecurityMiddleware",
    "csrf_token",
    "csrf_valid",
    "session_cookie",
    "SESSION_COOKIE",
    "CSRF_COOKIE",
    "LANG_COOKIE",
    "UPLOAD_PATHS",
]

ROLES: tuple[str, ...] = ("viewer", "analyst", "editor")
_RANK = {role: rank for rank, role in enumerate(ROLES)}
SESSION_COOKIE = "maillage_session"
CSRF_COOKIE = "maillage_csrf"
LANG_COOKIE = "maillage_lang"
#: Paths whose bodies may be as large as ``MAILLAGE_UPLOAD_MAX_BYTES``; other bodies are capped
#: at :data:`_SMALL_BODY` (a query, a login form).
UPLOAD_PATHS = ("/import", "/api/import")
_SMALL_BODY = 1024 * 1024
_MIN_TOKEN_LENGTH = 16
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request: a role (``None`` when not signed in) and how it was given.

    ``via`` is ``"token"`` (Bearer header), ``"cookie"`` (web login), ``"open"`` (the
    login-free local demo) or ``"none"``.
    """

    role: str | None
    via: str = "none"

    def can(self, role: str) -> bool:
        """Whether this caller holds ``role`` or a higher one.

        Examples
        --------
        >>> Principal("analyst", "token").can("viewer"), Principal("analyst", "token").can("editor")
        (True, False)
        >>> Principal(None).can("viewer")
        False
        """
        return self.role is not None and _RANK[self.role] >= _RANK[role]


@dataclass
class AccessConfig:
    """What :class:`SecurityMiddleware` needs, built once from the settings."""

    #: sha256 of each token -> role. Digests, so that a lookup compares no secret byte by byte.
    tokens: dict[str, str]
    secret: bytes
    session_seconds: float
    secure_cookies: bool
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    upload_max_bytes: int = 20 * 1024 * 1024

    @property
    def open(self) -> bool:
        """Whether the web view runs without login (no token configured)."""
        return not self.tokens

    def role_of_token(self, token: str) -> str | None:
        """Return the role of a presented token, or ``None``."""
        return self.tokens.get(_digest(token))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``127.0.0.0/8``, ``::1``, ``localhost``).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("::")
    (True, True, False, False)
    """
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_tokens(text: str, *, origin: str = "MAILLAGE_TOKENS") -> dict[str, str]:
    """Parse ``token:role`` pairs (commas or new lines between them, ``#`` comments).

    Returns ``{token: role}``.

    Raises
    ------
    maillage.errors.ConfigError
        A pair without a known role, or a token shorter than 16 characters (guessable).

    Examples
    --------
    >>> parse_tokens("aaaaaaaaaaaaaaaa:viewer, bbbbbbbbbbbbbbbb:editor")
    {'aaaaaaaaaaaaaaaa': 'viewer', 'bbbbbbbbbbbbbbbb': 'editor'}
    """
    out: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0]
        for item in line.split(","):
            item = item.strip()
            if not item:
                continue
            token, sep, role = item.rpartition(":")
            token, role = token.strip(), role.strip().lower()
            if not sep or not token or role not in _RANK:
                raise ConfigError(
                    f"{origin}: {item[:4]}... is not token:role with a role among {', '.join(ROLES)}; "
                    "write e.g. MAILLAGE_TOKENS='<token>:viewer,<token>:editor'."
                )
            if len(token) < _MIN_TOKEN_LENGTH:
                raise ConfigError(
                    f"{origin}: a token of role {role} has {len(token)} characters; use at least "
                    f"{_MIN_TOKEN_LENGTH}, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(24))'`."
                )
            out[token] = role
    return out


def access_config(settings: Settings, *, host: str | None = None) -> AccessConfig:
    """Build the access rules from the settings, refusing an open web view off loopback.

    Parameters
    ----------
    settings : Settings
        ``MAILLAGE_TOKENS``, ``MAILLAGE_TOKENS_FILE``, ``MAILLAGE_SECRET_KEY`` and friends.
    host : str, optional
        The interface the server binds to (default ``settings.host``).

    Raises
    ------
    maillage.errors.ConfigError
        Bad tokens, an unreadable tokens file, or no token on a non-loopback host.
    """
    host = settings.host if host is None else host
    text = settings.tokens.get_secret_value() if settings.tokens is not None else ""
    tokens = parse_tokens(text)
    if settings.tokens_file is not None:
        try:
            file_text = settings.tokens_file.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"MAILLAGE_TOKENS_FILE: cannot read {settings.tokens_file} ({err.strerror}).") from err
        tokens |= parse_tokens(file_text, origin=f"MAILLAGE_TOKENS_FILE ({settings.tokens_file})")
    if not tokens and not is_loopback(host):
        raise ConfigError(
            f"Refusing to serve on {host} without access tokens: anyone who reached it could read and "
            "change the graph. Set MAILLAGE_TOKENS (token:role pairs) or MAILLAGE_TOKENS_FILE, or bind to 127.0.0.1."
        )
    secret = settings.secret_key.get_secret_value().encode("utf-8") if settings.secret_key is not None else secrets.token_bytes(32)
    extra = {h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()}
    return AccessConfig(
        tokens={_digest(t): r for t, r in tokens.items()},
        secret=secret,
        session_seconds=settings.session_hours * 3600,
        secure_cookies=settings.secure_cookies,
        allowed_hosts=frozenset(_LOOPBACK_NAMES | extra | ({host.lower()} if is_loopback(host) else set())),
        upload_max_bytes=settings.upload_max_bytes,
    )


# ---- signed values ---------------------------------------------------------------------
def _sign(secret: bytes, purpose: str, value: str) -> str:
    mac = hmac.new(secret, f"{purpose}\x00{value}".encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def csrf_token(config: AccessConfig, cookie_value: str) -> str:
    """Return the form token that goes with a CSRF cookie.

    Signed double submit: the form must echo a MAC of the cookie, which a site able to plant
    cookies (a sibling sub-domain) still cannot compute without the secret.
    """
    return _sign(config.secret, "csrf", cookie_value)


def csrf_valid(config: AccessConfig, cookie_value: str | None, submitted: str | None) -> bool:
    """Whether ``submitted`` is the token of the request's CSRF cookie."""
    if not cookie_value or not submitted:
        return False
    return hmac.compare_digest(csrf_token(config, cookie_value), submitted)


def session_cookie(config: AccessConfig, token: str) -> str | None:
    """Return the signed cookie value of a web login with ``token``, or ``None`` if unknown.

    The cookie holds the token's digest (not the token) and an expiry; the role is looked up
    again on every request, so that removing a token ends its logins.
    """
    digest = _digest(token)
    if digest not in config.tokens:
        return None
    payload = base64.urlsafe_b64encode(
        json.dumps({"d": digest, "e": int(time.time() + config.session_seconds)}).encode("utf-8")
    ).decode("ascii")
    return f"{payload}.{_sign(config.secret, 'session', payload)}"


def _session_role(config: AccessConfig, value: str | None) -> str | None:
    if not value or "." not in value:
        return None
    payload, mac = value.rsplit(".", 1)
    if not hmac.compare_digest(_sign(config.secret, "session", payload), mac):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
        if float(data["e"]) < time.time():
            return None
        return config.tokens.get(str(data["d"]))
    except (ValueError, KeyError, TypeError):
        return None


def _principal(config: AccessConfig, headers: Headers, cookies: dict[str, str]) -> Principal | None:
    """Return the caller, or ``None`` for a request that must be refused (a wrong Bearer)."""
    if config.open:
        return Principal("editor", "open")
    auth = headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        role = config.role_of_token(token.strip()) if scheme.lower() == "bearer" else None
        # A wrong token is an error, not an anonymous visit: the caller meant to sign in.
        return Principal(role, "token") if role else None
    role = _session_role(config, cookies.get(SESSION_COOKIE))
    return Principal(role, "cookie") if role else Principal(None, "none")


# ---- the middleware --------------------------------------------------------------------
_CSP = (
    "default-src 'self'; script-src 'self'{nonce}; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes its cap."""

    def __init__(self, limit: int):
        super().__init__(413, f"The request body is larger than the {limit:,} bytes allowed (MAILLAGE_UPLOAD_MAX_BYTES).")


class SecurityMiddleware:
    """Headers, host check, cross-site refusal, caller identification and body caps.

    Puts ``principal``, ``csrf_cookie``, ``csrf_token`` and ``csp_nonce`` in the request
    state for the routes and templates.
    """

    def __init__(self, app: ASGIApp, config: AccessConfig, on_error: Callable[[Request, Exception], Response] | None = None):
        self.app = app
        self.config = config
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        method: str = scope["method"]
        nonce = secrets.token_urlsafe(16)
        extra_headers = _security_headers(nonce, path)

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                raw = list(message.get("headers", []))
                present = {k.lower() for k, _ in raw}
                raw.extend((k, v) for k, v in extra_headers if k not in present)
                if new_csrf is not None:
                    raw.append((b"set-cookie", _cookie_header(CSRF_COOKIE, new_csrf, secure=self.config.secure_cookies)))
                message = {**message, "headers": raw}
            await send(message)

        new_csrf: str | None = None
        refusal = self._refusal(headers, method, path)
        if refusal is not None:
            await _plain_error(*refusal, path=path)(scope, receive, send_with_headers)
            return
        cookies = _cookies(headers)
        principal = _principal(self.config, headers, cookies)
        if principal is None:
            await _plain_error(401, "The Bearer token is not valid: check MAILLAGE_TOKENS with the operator.", path=path,
                               extra=[(b"www-authenticate", b'Bearer realm="maillage"')])(scope, receive, send_with_headers)
            return
        if method in _UNSAFE and path.startswith("/api/import") and not principal.can("editor"):
            # Refuse before FastAPI parses the multipart body: an anonymous caller must not
            # make the server read and spool uploads only to be turned away afterwards.
            status = 401 if principal.role is None else 403
            message = ("Importing needs the editor role: sign in with an editor token." if status == 401
                       else "Importing needs the editor role; your token does not have it.")
            extra = [(b"www-authenticate", b'Bearer realm="maillage"')] if status == 401 else None
            await _plain_error(status, message, path=path, extra=extra)(scope, receive, send_with_headers)
            return
        csrf_cookie = cookies.get(CSRF_COOKIE)
        if not csrf_cookie or len(csrf_cookie) > 100:
            csrf_cookie = new_csrf = secrets.token_urlsafe(32)
        state = scope.setdefault("state", {})
        state.update(
            principal=principal,
            csrf_cookie=csrf_cookie,
            csrf_token=csrf_token(self.config, csrf_cookie),
            csp_nonce=nonce,
            access=self.config,
        )
        if method in _UNSAFE:
            receive = self._capped(receive, self._limit(path))
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # Answer here rather than in Starlette's outer error middleware, so that a 500
            # carries the security headers and the themed page too; then re-raise for the log.
            if started:
                raise
            response = None
            if self.on_error is not None:
                try:
                    response = self.on_error(Request(scope, receive), exc)
                except Exception:  # noqa: BLE001 - the error page itself failed: fall back
                    response = None
            if response is None:
                response = _plain_error(500, "An unexpected error occurred; it was logged.", path=path)
            await response(scope, receive, send_with_headers)
            raise

    def _limit(self, path: str) -> int:
        return self.config.upload_max_bytes if path.rstrip("/") in UPLOAD_PATHS else _SMALL_BODY

    def _refusal(self, headers: Headers, method: str, path: str) -> tuple[int, str] | None:
        if self.config.open:
            host = _hostname(headers.get("host", ""))
            if host not in self.config.allowed_hosts:
                return 400, (
                    f"This login-free maillage answers only to {', '.join(sorted(self.config.allowed_hosts))}; "
                    "add the host name to MAILLAGE_ALLOWED_HOSTS, or configure MAILLAGE_TOKENS."
                )
        if method not in _UNSAFE:
            return None
        # A Bearer header is never attached by a browser on its own: such a post is not forged.
        if "authorization" not in headers:
            fetch_site = headers.get("sec-fetch-site")
            origin = headers.get("origin")
            if fetch_site is not None and fetch_site not in ("same-origin", "none"):
                return 403, "Cross-site request refused: forms of maillage must be sent from maillage's own pages."
            if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()):
                return 403, "Cross-site request refused: the Origin of this request is not maillage."
        length = headers.get("content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return 400, "Content-Length is not a number."
            limit = self._limit(path)
            if n > limit:
                return 413, f"The request body ({n:,} bytes) is larger than the {limit:,} bytes allowed (MAILLAGE_UPLOAD_MAX_BYTES)."
        return None

    @staticmethod
    def _capped(receive: Receive, limit: int) -> Receive:
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return capped


def _security_headers(nonce: str, path: str) -> list[tuple[bytes, bytes]]:
    out = [
        (b"content-security-policy", _CSP.format(nonce=f" 'nonce-{nonce}'").encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if not path.startswith("/static/"):
        # Pages and API answers show the members' data: keep them out of shared caches.
        out.append((b"cache-control", b"no-store"))
    return out


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookies(headers: Headers) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a mangled cookie header is treated as no cookie
        return {}
    return {k: m.value for k, m in jar.items()}


def _cookie_header(name: str, value: str, *, secure: bool, max_age: int | None = None) -> bytes:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")


def _plain_error(status: int, message: str, *, path: str, extra: list[tuple[bytes, bytes]] | None = None) -> Response:
    """Return a small ASGI response for refusals made before routing (no templates there)."""
    response: Response
    if path.startswith("/api/") or path == "/api":
        response = JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    else:
        body = (
            '<!doctype html><html><head><meta charset="utf-8"><title>maillage</title>'
            '<link rel="stylesheet" href="/static/maillage.css"></head><body><main class="error-page">'
            f"<h1>{status}</h1><p>{escape(message)}</p><p><a href=\"/\">maillage</a></p></main></body></html>"
        )
        response = HTMLResponse(body, status_code=status)
    for k, v in extra or []:
        response.raw_headers.append((k, v))
    return response
