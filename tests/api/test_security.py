"""Access rules, CSRF, security headers, host checks and body caps of the web view."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.routing import APIRoute

from api.security import is_loopback, parse_tokens
from api.uploads import safe_upload_name
from maillage.errors import ConfigError, InputError
from tests.api.factory import TOKENS, csrf_of, make_app, make_client

# Every route of the app and the least role it needs ("public": none). A test below checks
# that this table lists every route, so that a new route cannot slip through unguarded.
ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/logout"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/static-swagger/{name}"): "public",
    ("GET", "/api/me"): "public",
    ("GET", "/api/health"): "public",
    ("GET", "/"): "viewer",
    ("GET", "/map"): "viewer",
    ("GET", "/organizations"): "viewer",
    ("GET", "/organizations/{org_id:path}"): "viewer",
    ("GET", "/org/{org_id:path}"): "viewer",
    ("GET", "/tables"): "viewer",
    ("GET", "/tables/{name}"): "viewer",
    ("GET", "/tables/{name}/download"): "viewer",
    ("GET", "/brief"): "viewer",
    ("GET", "/brief/{cluster}"): "viewer",
    ("GET", "/api/dashboard"): "viewer",
    ("GET", "/api/clusters"): "viewer",
    ("GET", "/api/facets"): "viewer",
    ("GET", "/api/organizations"): "viewer",
    ("GET", "/api/organizations/{org_id:path}"): "viewer",
    ("GET", "/api/map"): "viewer",
    ("GET", "/api/tables/{name}"): "viewer",
    ("GET", "/api/brief/{cluster}"): "viewer",
    ("GET", "/console"): "analyst",
    ("POST", "/console"): "analyst",
    ("GET", "/api/queries"): "analyst",
    ("POST", "/api/query"): "analyst",
    ("GET", "/import"): "editor",
    ("POST", "/import"): "editor",
    ("POST", "/import/confirm"): "editor",
    ("POST", "/api/import"): "editor",
    ("POST", "/api/import/{token}/confirm"): "editor",
}
_SAMPLE = {"{org_id:path}": "aero-1", "{name}": "gaps", "{cluster}": "aerospatiale", "{token}": "x" * 32}
_RANK = {"public": -1, "viewer": 0, "analyst": 1, "editor": 2}


def _url(path: str) -> str:
    for k, v in _SAMPLE.items():
        path = path.replace(k, v)
    return path


def _routes():
    out = set()
    pending = list(make_app().routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)  # a router added with include_router
        if included is not None:
            pending.extend(included.routes)
        elif isinstance(route, APIRoute):
            out.update((method, route.path) for method in route.methods - {"HEAD"})
    return out


def test_every_route_has_an_access_rule():
    assert _routes() == set(ACCESS)


GUARDED = sorted(k for k, v in ACCESS.items() if v != "public")


@pytest.mark.parametrize("method, path", GUARDED)
def test_anonymous_caller_is_refused_when_tokens_are_configured(method, path):
    with make_client(role_tokens=True) as client:
        r = client.request(method, _url(path), follow_redirects=False)
    if path.startswith("/api/"):
        assert r.status_code == 401
        assert r.json()["error"]["status"] == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
    elif method == "GET":
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    else:
        # A form post without a session is refused before anything else (CSRF or role).
        assert r.status_code in (401, 403)


@pytest.mark.parametrize("role", ["viewer", "analyst", "editor"])
@pytest.mark.parametrize("method, path", GUARDED)
def test_each_role_reaches_exactly_its_routes(role, method, path):
    need = ACCESS[(method, path)]
    with make_client(role_tokens=True) as client:
        headers = {"Authorization": f"Bearer {TOKENS[role]}"}
        r = client.request(method, _url(path), headers=headers, follow_redirects=False)
    if _RANK[role] < _RANK[need]:
        assert r.status_code == 403, r.text
        if path.startswith("/api/"):
            assert need in r.json()["error"]["message"]
    else:
        # Allowed through the access check: whatever comes next (a 422 for a missing body,
        # a 404 for a sample id), it is not an access refusal.
        assert r.status_code not in (401, 403), r.text


def test_wrong_bearer_token_is_refused_even_on_public_routes():
    with make_client(role_tokens=True) as client:
        r = client.get("/api/me", headers={"Authorization": "Bearer not-a-token-at-all-0000"})
    assert r.status_code == 401 and "not valid" in r.json()["error"]["message"]


def test_login_form_sets_an_httponly_strict_cookie_and_gives_access():
    with make_client(role_tokens=True) as client:
        token = csrf_of(client)
        r = client.post("/login", data={"token": TOKENS["viewer"], "csrf_token": token, "next": "/map"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/map"
        cookie = r.headers["set-cookie"]
        assert "maillage_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert TOKENS["viewer"] not in cookie  # the cookie holds a signed digest, not the token
        assert client.get("/").status_code == 200
        assert client.get("/console", follow_redirects=False).status_code == 403
        client.post("/logout", data={"csrf_token": token})
        assert client.get("/", follow_redirects=False).status_code == 303


def test_login_with_a_wrong_token_says_so():
    with make_client(role_tokens=True) as client:
        r = client.post("/login", data={"token": "wrong-token-000000000", "csrf_token": csrf_of(client)})
    assert r.status_code == 401 and "maillage_session" not in r.headers.get("set-cookie", "")


def test_login_never_redirects_off_site():
    with make_client(role_tokens=True) as client:
        r = client.post("/login", data={"token": TOKENS["viewer"], "csrf_token": csrf_of(client), "next": "//evil.example/x"},
                        follow_redirects=False)
    assert r.headers["location"] == "/"


def test_forged_session_cookie_is_ignored():
    with make_client(role_tokens=True) as client:
        client.cookies.set("maillage_session", "eyJkIjogImFhYSIsICJlIjogOTk5OTk5OTk5OX0=.forged")
        assert client.get("/api/dashboard").status_code == 401


def test_open_demo_needs_no_login_on_loopback():
    with make_client() as client:
        me = client.get("/api/me").json()
        assert me["role"] == "editor" and me["open"] is True
        assert client.get("/import").status_code == 200


def test_open_demo_refuses_to_start_on_a_public_interface():
    with pytest.raises(ConfigError, match="without access tokens"):
        make_app(host="0.0.0.0")
    make_app(host="0.0.0.0", tokens=f"{TOKENS['viewer']}:viewer")  # with tokens it starts


def test_open_demo_refuses_foreign_host_names_against_dns_rebinding():
    with make_client(base_url="http://evil.example") as client:
        r = client.get("/api/me")
    assert r.status_code == 400 and "MAILLAGE_ALLOWED_HOSTS" in r.json()["error"]["message"]
    with make_client(base_url="http://maillage.lan:8000", allowed_hosts="maillage.lan") as client:
        assert client.get("/api/me").status_code == 200


@pytest.mark.parametrize("text, problem", [
    ("short:viewer", "16"),
    ("abcdefghijklmnopqrstu:admin", "role"),
    ("abcdefghijklmnopqrstu", "token:role"),
])
def test_bad_tokens_are_refused_with_the_fix(text, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_tokens(text)


def test_tokens_file_is_read(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(f"# operators' tokens\n{TOKENS['analyst']}:analyst\n")
    with make_client(tokens_file=path) as client:
        r = client.get("/api/queries", headers={"Authorization": f"Bearer {TOKENS['analyst']}"})
    assert r.status_code == 200


@pytest.mark.parametrize("host, expected", [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("localhost", True),
                                            ("0.0.0.0", False), ("192.168.1.4", False), ("example.org", False)])
def test_loopback_hosts(host, expected):
    assert is_loopback(host) is expected


# ---- CSRF ----------------------------------------------------------------------------------
def test_form_post_without_csrf_token_is_refused():
    with make_client() as client:
        client.get("/console")
        r = client.post("/console", data={"query": "RETURN 1"})
    assert r.status_code == 403 and "CSRF" in r.text


def test_form_post_with_a_token_of_another_cookie_is_refused():
    with make_client() as a, make_client() as b:
        token_of_a = csrf_of(a)
        csrf_of(b)
        r = b.post("/console", data={"query": "RETURN 1", "csrf_token": token_of_a})
    assert r.status_code == 403


def test_cross_site_post_is_refused_before_reading_it():
    with make_client() as client:
        token = csrf_of(client)
        r = client.post("/console", data={"query": "RETURN 1", "csrf_token": token}, headers={"Origin": "http://evil.example"})
        assert r.status_code == 403 and "Cross-site" in r.text
        r = client.post("/console", data={"query": "RETURN 1", "csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403
        r = client.post("/api/query", json={"query": "RETURN 1"}, headers={"Origin": "null"})
        assert r.status_code == 403


def test_same_origin_form_post_with_token_passes():
    with make_client() as client:
        token = csrf_of(client)
        r = client.post("/console", data={"query": "RETURN 1", "csrf_token": token},
                        headers={"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"})
    # The memory store has no Cypher: the console says so (not a CSRF refusal).
    assert r.status_code == 501 and "needs Neo4j" in r.text


def test_api_multipart_post_with_ambient_credentials_needs_the_csrf_header():
    with make_client() as client:
        files = {"files": ("orgs.csv", b"id,name,type\nx,X,company\n", "text/csv")}
        r = client.post("/api/import", files=files)
        assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]


# ---- headers and limits ------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/map", "/organizations/evil", "/api/dashboard", "/docs", "/nope", "/static/maillage.css"])
def test_security_headers_on_every_response(path):
    with make_client() as client:
        r = client.get(path)
    csp = r.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert script_src.split()[0] == "'self'" and "http" not in script_src
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"


class _Scripts(HTMLParser):
    """Collect what could run in a page: script elements and on* attributes."""

    def __init__(self):
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.inline.append(str(attrs))
        self.handlers.extend(f"{tag} {k}" for k in attrs if k.startswith("on"))
        if tag == "a" and (attrs.get("href") or "").strip().lower().startswith("javascript:"):
            self.handlers.append("javascript: link")


@pytest.mark.parametrize("path", ["/", "/map", "/organizations/evil", "/organizations/aero-1", "/brief/sciences-de-la-vie",
                                  "/console", "/import", "/docs", "/tables/gaps", "/tables/brokers", "/organizations?q=img"])
def test_pages_have_no_inline_script_nor_handlers(path):
    with make_client() as client:
        parser = _Scripts()
        parser.feed(client.get(path).text)
    assert parser.inline == [] and parser.handlers == []


def test_oversized_upload_is_refused_from_content_length():
    with make_client(upload_max_bytes=4096) as client:
        token = csrf_of(client)
        files = {"files": ("big.csv", b"x" * 10_000, "text/csv")}
        r = client.post("/import", data={"csrf_token": token}, files=files)
    assert r.status_code == 413 and "MAILLAGE_UPLOAD_MAX_BYTES" in r.text


def test_oversized_streamed_body_is_stopped_while_reading():
    def chunks():
        for _ in range(20):
            yield b"x" * 1024

    with make_client(upload_max_bytes=4096) as client:
        # A generator body has no Content-Length: the cap counts the bytes as they come.
        r = client.post("/api/import", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=zz",
                                                                   "X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 413


def test_other_posts_are_capped_at_one_megabyte():
    with make_client() as client:
        r = client.post("/api/query", json={"query": "x" * (2 * 1024 * 1024)})
    assert r.status_code == 413


@pytest.mark.parametrize("name", ["../../etc/passwd.csv", "..\\boot.csv", "/etc/orgs.csv", "C:orgs.csv"])
def test_path_traversal_in_upload_names_is_refused(name):
    with make_client() as client:
        r = client.post("/import", data={"csrf_token": csrf_of(client)}, files={"files": (name, b"id,name,type\n", "text/csv")})
    assert r.status_code == 400 and "must not hold a path" in r.text


def test_swagger_assets_are_served_locally_and_nothing_else():
    with make_client() as client:
        html = client.get("/docs").text
        assert "cdn" not in html.lower() and "https://" not in html
        assert client.get("/static-swagger/swagger-ui-bundle.js").status_code == 200
        assert client.get("/static-swagger/index.html").status_code == 404
        assert client.get("/static-swagger/..%2F..%2Fapp.py").status_code == 404


@pytest.mark.parametrize("name", ["a\x00.csv", "../a.csv", "a/../../b.csv", "C:\\x.csv"])
def test_upload_names_with_a_path_never_reach_the_disk(name):
    with pytest.raises(InputError, match="must not hold a path"):
        safe_upload_name(name)


def test_upload_names_keep_only_safe_characters():
    assert safe_upload_name("Liste des membres (2024) — Montréal.CSV") == "Liste_des_membres_2024_Montreal.csv"
    with pytest.raises(InputError, match="only .csv"):
        safe_upload_name("orgs.exe")
