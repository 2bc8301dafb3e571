"""The web view and JSON API under attack.

``tests/api/test_security.py`` checks the access table route by route with Bearer tokens, and
the basic CSRF, header and body-cap rules. This module adds what an attacker would try next:

- schemathesis against the OpenAPI document, for each role (and anonymous, and the open local
  demo), on the real Neo4j: no generated request may get a 5xx, and every API error is JSON;
- access through the *login cookie* for every page, per role;
- CSRF on *every* form post and cookie-authenticated API post: no token, a wrong token, a
  token from another cookie, a cross-site ``Origin`` or ``Sec-Fetch-Site``; and nothing happens;
- path traversal in upload names on the wire (``filename*=``, NUL bytes) and through the API;
- bodies over the limit refused from ``Content-Length`` before a byte is read, over a socket;
- security headers on every route and every kind of error answer.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
import time
from collections import Counter
from html.parser import HTMLParser

import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.api.factory import TOKENS, csrf_of, make_app, make_client, make_store
from tests.reliability.figures import record

ALL_TOKENS = ",".join(f"{t}:{r}" for r, t in TOKENS.items())
EXAMPLES = int(os.environ.get("MAILLAGE_FUZZ_EXAMPLES", "6"))
GOOD_ORGS = "id,name,type,clusters\nnew-1,Nouvelle Aéro,company,Aérospatiale\n".encode()


def _routes(app) -> list[tuple[str, str]]:
    """Every (method, path) the app routes, including included routers."""
    out = set()
    pending = list(app.routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)
        if included is not None:
            pending.extend(included.routes)
        elif isinstance(route, APIRoute):
            out.update((m, route.path) for m in route.methods - {"HEAD"})
    return sorted(out)


_SAMPLE = {"{org_id:path}": "aero-1", "{name}": "gaps", "{cluster}": "aerospatiale", "{token}": "x" * 32}


def _url(path: str) -> str:
    for k, v in _SAMPLE.items():
        path = path.replace(k, v)
    return path


# ---- schemathesis ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def neo4j_ecosystem(_neo4j_store_session):
    _neo4j_store_session.clear()
    make_store(_neo4j_store_session)
    yield _neo4j_store_session
    _neo4j_store_session.clear()


ROLES = ["viewer", "analyst", "editor", "anonymous", "open demo"]


@pytest.mark.neo4j
@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_finds_no_server_error_for_any_role(neo4j_ecosystem, role):
    import schemathesis
    from schemathesis import GenerationMode

    if role == "open demo":
        # Schemathesis calls the app as http://testserver: let the login-free demo answer to it.
        app = make_app(neo4j_ecosystem, query_timeout=2.0, allowed_hosts="testserver")
        auth = None
    else:
        app = make_app(neo4j_ecosystem, tokens=ALL_TOKENS, query_timeout=2.0)
        auth = None if role == "anonymous" else f"Bearer {TOKENS[role]}"
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    statuses: Counter = Counter()
    failures: list[str] = []
    examples = EXAMPLES if role in ("viewer", "analyst", "editor", "open demo") else max(2, EXAMPLES // 2)

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            # No shrinking: a failure is recorded (not raised) so that every operation is still
            # attacked, and reported with the request that caused it.
            @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def attack(case):
                headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
                if auth is not None:
                    headers["Authorization"] = auth
                case.headers = headers
                try:
                    response = case.call()
                except Exception as err:  # noqa: BLE001 - the app raised: a 500 in production
                    failures.append(f"{type(err).__name__}: {err} for {case.as_curl_command()}")
                    return
                statuses[(operation.label, response.status_code)] += 1
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {case.as_curl_command()}\n  {response.text[:300]}")
                elif response.status_code >= 400:
                    body = response.json()
                    if body.get("error", {}).get("status") != response.status_code or not body["error"].get("message"):
                        failures.append(f"error not in the documented JSON shape: {case.as_curl_command()} {body}")

            try:
                attack()
            except Unsatisfiable:
                pass  # an operation without parameters has no negative variant
    cases = sum(statuses.values())
    record("schemathesis_cases", cases)
    assert failures == [], "\n".join(failures[:20])
    if role == "anonymous":
        public = {"GET /api/health", "GET /api/me"}
        # Nothing but the public routes answers an anonymous caller with anything but a refusal.
        assert {s for (label, s) in statuses if label not in public and s < 400} == set(), statuses
    assert cases >= 14 * examples  # every operation was exercised


# ---- access through the login cookie ------------------------------------------------------------------
_RANK = {"viewer": 0, "analyst": 1, "editor": 2}
NEEDS = {"/console": "analyst", "/import": "editor"}


@pytest.mark.parametrize("role", ["viewer", "analyst", "editor"])
def test_each_role_signed_in_with_the_login_form_sees_exactly_its_pages(role):
    with make_client(role_tokens=True) as client:
        pages = [p for m, p in _routes(client.app) if m == "GET" and not p.startswith(("/api/", "/static-swagger"))]
        assert client.post("/login", data={"token": TOKENS[role], "csrf_token": csrf_of(client)},
                           follow_redirects=False).status_code == 303
        for path in pages:
            r = client.get(_url(path), follow_redirects=False)
            need = NEEDS.get(path, "viewer")
            if path in ("/login", "/docs"):
                assert r.status_code == 200
            elif _RANK[role] < _RANK[need]:
                assert r.status_code == 403, (role, path, r.status_code)
            else:
                assert r.status_code in (200, 307, 308, 404), (role, path, r.status_code)


def test_a_session_cookie_for_one_role_cannot_be_edited_into_another():
    with make_client(role_tokens=True) as client:
        client.post("/login", data={"token": TOKENS["viewer"], "csrf_token": csrf_of(client)})
        cookie = client.cookies.get("maillage_session")
        payload, mac = cookie.rsplit(".", 1)
        import base64
        import hashlib
        import json

        data = json.loads(base64.urlsafe_b64decode(payload))
        data["d"] = hashlib.sha256(TOKENS["editor"].encode()).hexdigest()
        forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode() + "." + mac
        assert client.get("/import", follow_redirects=False).status_code == 403  # the viewer's own cookie
        client.cookies.clear()
        client.cookies.set("maillage_session", forged)
        assert client.get("/import", follow_redirects=False).status_code == 303  # not signed in at all


# ---- CSRF on every form post -----------------------------------------------------------------------------
def _form_posts(app) -> list[str]:
    return sorted(p for m, p in _routes(app) if m == "POST" and not p.startswith("/api/"))


def test_the_form_posts_checked_below_are_all_of_them():
    assert _form_posts(make_app()) == ["/console", "/import", "/import/confirm", "/login", "/logout"]


def _attempt(client, path: str, token: str | None, headers: dict | None = None):
    data = {"query": "RETURN 1", "token": "x" * 32, "next": "/"}
    if token is not None:
        data["csrf_token"] = token
    files = {"files": ("orgs.csv", GOOD_ORGS, "text/csv")} if path == "/import" else None
    return client.post(path, data=data, files=files, headers=headers or {}, follow_redirects=False)


@pytest.mark.parametrize("path", ["/console", "/import", "/import/confirm", "/login", "/logout"])
@pytest.mark.parametrize("signed_in", ["open demo", "login cookie"])
def test_every_form_post_is_refused_without_the_right_csrf_token_or_from_another_site(path, signed_in):
    settings = {} if signed_in == "open demo" else {"role_tokens": True}
    with make_client(**settings) as client, make_client(**settings) as other:
        token = csrf_of(client)
        if signed_in == "login cookie":
            assert client.post("/login", data={"token": TOKENS["editor"], "csrf_token": token},
                               follow_redirects=False).status_code == 303
        foreign = csrf_of(other)
        attempts = {
            "no token": _attempt(client, path, None),
            "empty token": _attempt(client, path, ""),
            "made-up token": _attempt(client, path, "A" * 43),
            "token of another cookie": _attempt(client, path, foreign),
            "cross-site Origin": _attempt(client, path, token, {"Origin": "https://evil.example"}),
            "Origin null": _attempt(client, path, token, {"Origin": "null"}),
            "look-alike Origin": _attempt(client, path, token, {"Origin": "http://127.0.0.1.evil.example"}),
            "cross-site fetch": _attempt(client, path, token, {"Sec-Fetch-Site": "cross-site"}),
            "same-site fetch": _attempt(client, path, token, {"Sec-Fetch-Site": "same-site"}),
        }
        for what, r in attempts.items():
            assert r.status_code == 403, (path, what, r.status_code, r.text[:200])
            assert "CSRF" in r.text or "Cross-site" in r.text, (path, what)
        # Nothing happened: still signed in (logout refused), graph unchanged, no upload kept.
        assert client.get("/api/dashboard").json()["organizations"] == 11
        assert client.get("/import", follow_redirects=False).status_code == 200
        assert list(client.app.state.uploads.root.iterdir()) == []


def test_a_refused_confirmation_loads_nothing_and_the_right_token_still_can():
    with make_client() as client:
        token = csrf_of(client)
        r = client.post("/import", data={"csrf_token": token}, files={"files": ("orgs.csv", GOOD_ORGS, "text/csv")})
        upload = re.search(r'name="token" value="([^"]+)"', r.text).group(1)
        forged = client.post("/import/confirm", data={"token": upload}, headers={"Origin": "https://evil.example"})
        assert forged.status_code == 403
        forged = client.post("/import/confirm", data={"token": upload, "csrf_token": "A" * 43})
        assert forged.status_code == 403
        assert client.get("/api/dashboard").json()["organizations"] == 11
        assert client.post("/import/confirm", data={"token": upload, "csrf_token": token}).status_code == 200
        assert client.get("/api/dashboard").json()["organizations"] == 12


@pytest.mark.parametrize("method, path, kwargs", [
    ("POST", "/api/query", {"json": {"query": "RETURN 1"}}),
    ("POST", "/api/query", {"content": b"query=RETURN+1", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("POST", "/api/import", {"files": {"files": ("orgs.csv", GOOD_ORGS, "text/csv")}}),
    ("POST", "/api/import/" + "x" * 32 + "/confirm", {"content": b"replace_source=true",
                                                       "headers": {"Content-Type": "text/plain"}}),
])
def test_api_posts_with_a_login_cookie_are_refused_from_another_site(method, path, kwargs):
    with make_client(role_tokens=True) as client:
        client.post("/login", data={"token": TOKENS["editor"], "csrf_token": csrf_of(client)})
        headers = {**kwargs.pop("headers", {}), "Origin": "https://evil.example"}
        r = client.request(method, path, headers=headers, **kwargs)
        assert r.status_code == 403 and "Cross-site" in r.json()["error"]["message"]
        if "json" not in kwargs:
            # A "simple" cross-site body (form, multipart, text) also needs the CSRF header.
            r = client.request(method, path, headers={k: v for k, v in headers.items() if k != "Origin"}, **kwargs)
            assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
        assert client.get("/api/dashboard").json()["organizations"] == 11


# ---- path traversal in upload names -------------------------------------------------------------------
def _multipart(filename_header: bytes, content: bytes = GOOD_ORGS, csrf: str = "") -> tuple[bytes, str]:
    boundary = "maillage-boundary-1234"
    parts = [
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n".encode(),
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; ".encode() + filename_header
        + b"\r\nContent-Type: text/csv\r\n\r\n" + content + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# Names that reach the app holding a path: refused outright, with the reason.
TRAVERSALS = [
    b'filename="../../etc/passwd"',
    b'filename="../../etc/passwd.csv"',
    b'filename="/etc/passwd.csv"',
    b'filename="..\\\\..\\\\boot.ini.csv"',
    b"filename=\"orgs.csv\x00.exe\"",
    b'filename="orgs\x00/../../x.csv"',
    b'filename="....//....//etc/orgs.csv"',
]
# Names the multipart parser itself never hands over as they are: an RFC 5987 ``filename*``
# (python-multipart ignores it: the part is a plain field, not a file) and a Windows full path
# (reduced to its base name, as browsers of old sent it); percent signs are not decoded at
# all. Either way nothing leaves the folder.
REDUCED = [
    b"filename*=UTF-8''..%2F..%2Fetc%2Fpasswd.csv",
    b"filename*=UTF-8''%2Fetc%2Forgs.csv",
    b'filename="C:\\\\Users\\\\orgs.csv"',
    b'filename="%2e%2e%2f%2e%2e%2fetc%2fpasswd.csv"',  # not decoded: kept as harmless letters
]


def _kept(client) -> list:
    root = client.app.state.uploads.root
    return [p.relative_to(root) for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("filename_header", TRAVERSALS, ids=lambda b: b.decode("latin-1")[:40])
@pytest.mark.parametrize("path", ["/import", "/api/import"])
def test_path_traversal_in_upload_names_is_refused_on_the_wire(filename_header, path):
    with make_client() as client:
        token = csrf_of(client)
        body, content_type = _multipart(filename_header, csrf=token)
        r = client.post(path, content=body, headers={"Content-Type": content_type, "X-CSRF-Token": token})
        assert r.status_code == 400, (r.status_code, r.text[:300])
        text = r.text if path == "/import" else r.json()["error"]["message"]
        assert "must not hold a path" in text, text[:300]
        assert _kept(client) == []
        assert client.get("/api/dashboard").json()["organizations"] == 11


@pytest.mark.parametrize("filename_header", REDUCED, ids=lambda b: b.decode("latin-1")[:40])
@pytest.mark.parametrize("path", ["/import", "/api/import"])
def test_names_the_parser_reduces_never_leave_the_private_folder(filename_header, path):
    with make_client() as client:
        token = csrf_of(client)
        body, content_type = _multipart(filename_header, csrf=token)
        r = client.post(path, content=body, headers={"Content-Type": content_type, "X-CSRF-Token": token})
        assert r.status_code in (200, 400, 422), (r.status_code, r.text[:300])
        kept = _kept(client)
        if r.status_code == 200:
            assert len(kept) == 1 and len(kept[0].parts) == 2, kept
            assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.csv", kept[0].name) and ".." not in kept[0].name
        else:
            assert kept == []


def test_an_upload_never_lands_outside_its_private_folder(tmp_path):
    target = tmp_path / "pwned.csv"
    name = ("../" * 12 + str(target).lstrip("/")).encode()
    with make_client() as client:
        token = csrf_of(client)
        body, content_type = _multipart(b'filename="' + name + b'"', csrf=token)
        r = client.post("/import", content=body, headers={"Content-Type": content_type})
        assert r.status_code == 400
        body, content_type = _multipart(b'filename="pwned.csv"', csrf=token)
        r = client.post("/import", content=body, headers={"Content-Type": content_type})
        assert r.status_code == 200
        kept = [p for p in client.app.state.uploads.root.rglob("*") if p.is_file()]
        assert len(kept) == 1 and kept[0].name == "pwned.csv"
        assert kept[0].parent.parent == client.app.state.uploads.root
        assert oct(kept[0].parent.stat().st_mode & 0o777) == "0o700"
    assert not target.exists()


# ---- oversized bodies: refused before a byte is read ------------------------------------------------
def _asgi_post(app, path: str, length: int) -> tuple[int, int, bytes]:
    """POST ``path`` with a Content-Length of ``length`` straight through ASGI; return the
    status, how many times the app asked for the body, and the answer."""
    received = 0
    sent: list[dict] = []

    async def receive():
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(length).encode()),
                         (b"content-type", b"multipart/form-data; boundary=x")],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}

    async def run():
        # Without the lifespan: the guard under test runs before any route.
        await app(scope, receive, send)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], received, body


@pytest.mark.parametrize("path, length", [
    ("/import", 4097), ("/api/import", 4097), ("/import", 2**40), ("/api/import", 10**18),
    ("/api/query", 1024 * 1024 + 1), ("/console", 50 * 2**20), ("/login", 2**31),
])
def test_a_body_over_the_limit_is_refused_from_its_content_length_without_reading_it(path, length):
    status, reads, body = _asgi_post(make_app(upload_max_bytes=4096), path, length)
    assert status == 413 and reads == 0
    assert b"larger than" in body


@pytest.mark.parametrize("path", ["/api/import", "/import"])
def test_an_anonymous_upload_is_refused_before_its_body_is_read(path):
    # With tokens configured, a caller without one must not make the server parse (and spool
    # to disk) an upload of up to MAILLAGE_UPLOAD_MAX_BYTES before being told to sign in.
    status, reads, _ = _asgi_post(make_app(tokens=ALL_TOKENS, upload_max_bytes=4096), path, 4000)
    assert status in (303, 401) and reads == 0, (status, reads)


def test_tables_filtered_down_to_nothing_answer_an_empty_page():
    # Found by schemathesis: a filter applied after another left no row raised pandas'
    # "'or' operations between boolean dtype and str" (an error under pandas 4).
    with make_client() as client:
        for name in ("gaps", "brokers", "coverage", "overlaps", "duplicates"):
            for query in ("q=zzz-nothing&cluster=aerospatiale", "q=zzz-nothing&type=company", "q=zzz&organization=aero-1"):
                r = client.get(f"/api/tables/{name}?{query}")
                assert r.status_code == 200 and r.json()["total"] == 0, (name, query, r.text[:200])


def _serve(app):
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    return server, thread, port


def test_a_one_terabyte_upload_is_answered_413_at_once_over_a_real_socket():
    server, thread, port = _serve(make_app(upload_max_bytes=4096))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /api/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                      b"Content-Length: 1099511627776\r\n\r\n" + b"x" * 1000)
            started = time.monotonic()
            answer = s.recv(65536)
            assert time.monotonic() - started < 5
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"content-security-policy" in answer.lower()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# ---- security headers everywhere ----------------------------------------------------------------------
def _check_headers(r, what: str) -> None:
    csp = r.headers.get("content-security-policy", "")
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src, (what, csp)
    assert "'unsafe-inline'" not in script_src.group(1) and "'unsafe-eval'" not in script_src.group(1), (what, csp)
    assert "'unsafe-inline'" not in csp and "*" not in csp.replace("*.", ""), (what, csp)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "base-uri 'none'" in csp, (what, csp)
    assert r.headers.get("x-content-type-options") == "nosniff", what
    assert r.headers.get("x-frame-options") == "DENY", what


@pytest.mark.parametrize("tokens", [False, True], ids=["open demo", "tokens"])
def test_security_headers_on_every_route_and_answer(tokens):
    with make_client(role_tokens=tokens, raise_server_exceptions=False) as client:
        auth = {"Authorization": f"Bearer {TOKENS['editor']}"} if tokens else {}
        checked = 0
        for method, path in _routes(client.app):
            for headers in ({}, auth, {"Authorization": "Bearer wrong-token-000000000000"}):
                r = client.request(method, _url(path), headers=headers, follow_redirects=False)
                _check_headers(r, f"{method} {path} -> {r.status_code}")
                checked += 1
        for r in (client.get("/nothing-here"), client.get("/static/maillage.css"), client.get("/static/nope.js"),
                  client.request("DELETE", "/api/dashboard", headers=auth), client.get("/api/organizations?page=0", headers=auth),
                  client.post("/api/query", content=b"x" * (2 * 2**20), headers=auth),
                  client.get("/api/me", headers={"Host": "evil.example"}),
                  client.post("/console", data={"query": "RETURN 1"}, headers={"Origin": "https://evil.example"})):
            _check_headers(r, f"{r.request.method} {r.request.url} -> {r.status_code}")
            checked += 1
        assert checked > 100


class _Runnable(HTMLParser):
    """Collect what could run in a page: inline scripts, on* attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.found.append("inline script")
        self.found.extend(f"{tag} {k}" for k in attrs if k.startswith("on"))
        for k in ("href", "src", "action", "formaction"):
            if (attrs.get(k) or "").strip().lower().startswith(("javascript:", "data:text/html")):
                self.found.append(f"{tag} {k}={attrs[k]}")


def test_no_page_holds_anything_the_policy_would_have_to_allow():
    # Every GET page of the app, not just the usual ones: the policy's nonce is there for
    # nothing if a page holds inline scripts or handlers anyway.
    with make_client() as client:
        pages = 0
        for method, path in _routes(client.app):
            r = client.get(_url(path)) if method == "GET" else None
            if r is None or "text/html" not in r.headers.get("content-type", ""):
                continue
            parser = _Runnable()
            parser.feed(r.text)
            assert parser.found == [], (path, parser.found)
            pages += 1
        assert pages >= 12
