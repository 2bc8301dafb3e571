"""The web view in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

One browser for the session; the app runs under uvicorn in a thread on a free loopback port.
Every test listens for dialogs (an ``alert`` that ran), page errors, console errors and any
request leaving the machine; screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator

import networkx as nx
import pytest
import uvicorn

from api.maps import filter_graph
from maillage.settings import REPO_ROOT
from tests.api.factory import HOSTILE_MANDATE, HOSTILE_NAME, make_app, make_store

pytestmark = pytest.mark.browser

SHOTS = REPO_ROOT / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread; yield its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


@pytest.fixture(scope="session")
def base_url():
    with serve(make_app()) as url:
        yield url


class Watch:
    """What a page did that it must not: dialogs, errors, requests off the machine."""

    def __init__(self, page, base: str):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.external: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:")) else self.external.append(r.url))

    def clean(self, *, allow_errors: tuple[str, ...] = ()) -> None:
        errors = [e for e in self.errors if not any(a in e for a in allow_errors)]
        assert self.dialogs == [] and errors == [] and self.external == [], (self.dialogs, errors, self.external)


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-CA")
    p = context.new_page()
    p.watch = Watch(p, base_url)
    p.base = base_url
    yield p
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _wait_map(page, dom_id: str = "map") -> None:
    # Not wait_for_function: its polling needs eval, which the app's CSP forbids.
    page.wait_for_selector(f"#{dom_id}[data-ready='true']", state="attached", timeout=20_000)


def _drawn(page, dom_id: str = "map") -> int:
    return page.evaluate(f"window.maillageMaps['{dom_id}'].body.data.nodes.length")


def _organizations(G: nx.Graph) -> set:
    return {n for n, d in G.nodes(data=True) if d.get("type") != "cluster"}


def test_dashboard_renders(page):
    page.goto(page.base + "/")
    assert page.locator("[data-testid=count-organizations]").inner_text() == "11"
    assert page.locator("[data-testid=coverage-heatmap] td.heat").count() > 0
    assert page.locator("svg.bars rect.bar").count() >= 6
    shot(page, "dashboard")
    page.watch.clean()


def test_map_draws_the_filtered_graph_and_opens_a_profile(page):
    G = make_store().snapshot()
    page.goto(page.base + "/map")
    _wait_map(page)
    assert _drawn(page) == len(_organizations(G)) == 11
    shot(page, "map")

    # A filter chosen in the form is applied on the server: fewer nodes, exactly the oracle's.
    page.select_option("#f-cluster", ["Sciences de la vie"])
    page.click("[data-testid=apply-filters]")
    page.wait_for_url(re.compile(r"cluster=Sciences"))
    _wait_map(page)
    expected = _organizations(filter_graph(G, clusters=["Sciences de la vie"]))
    assert _drawn(page) == len(expected) == 4
    ids = set(page.evaluate("window.maillageMaps['map'].body.data.nodes.getIds()"))
    assert ids == expected

    # Clicking a node opens its profile.
    box = page.locator("#map .mm-canvas canvas").bounding_box()
    at = page.evaluate("(() => { const n = window.maillageMaps['map']; return n.canvasToDOM(n.getPositions(['bio-2'])['bio-2']); })()")
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    page.wait_for_url(re.compile(r"/organizations/bio-2$"))
    assert page.locator("[data-testid=org-name]").inner_text() == "Génome Québec"
    _wait_map(page, "ego-map")
    shot(page, "profile")
    page.watch.clean()


def test_hostile_organization_is_shown_as_text_and_runs_nothing(page):
    for path in ["/", "/organizations/evil", "/map?q=img", "/organizations?q=onerror", "/tables/gaps",
                 "/tables/brokers", "/brief/sciences-de-la-vie"]:
        page.goto(page.base + path)
        if page.locator("[data-maillage-map]").count():
            _wait_map(page, page.locator("[data-maillage-map]").first.get_attribute("id"))
            # Hover every node: tooltips are built from the titles, which hold the name.
            for dom_id in page.evaluate("Object.keys(window.maillageMaps)"):
                box = page.locator(f"#{dom_id} .mm-canvas canvas").bounding_box()
                for at in page.evaluate(f"(() => {{ const n = window.maillageMaps['{dom_id}']; const p = n.getPositions(); "
                                        f"return Object.keys(p).map(k => n.canvasToDOM(p[k])); }})()"):
                    page.mouse.move(box["x"] + at["x"], box["y"] + at["y"])
                    page.wait_for_timeout(30)
        assert page.locator("img[src=x]").count() == 0
        assert page.locator("script:not([src]):not([type='application/json'])").count() == 0
    page.goto(page.base + "/organizations/evil")
    assert page.locator("[data-testid=org-name]").inner_text() == HOSTILE_NAME
    assert page.locator("[data-testid=org-mandate]").inner_text() == HOSTILE_MANDATE
    shot(page, "hostile-profile")
    page.watch.clean()


def test_language_switch(page):
    page.goto(page.base + "/")
    assert page.locator("html").get_attribute("lang") == "en"  # the browser's language
    page.click("[data-testid=lang-switch]")
    page.wait_for_url(re.compile(r"lang=fr"))
    assert page.locator("h1").inner_text() == "Tableau de bord"
    page.goto(page.base + "/map")  # the choice sticks
    assert page.locator("html").get_attribute("lang") == "fr"
    shot(page, "dashboard-fr")
    # Responsive: on a phone's width nothing pushes the page sideways (wide tables scroll inside).
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ["/", "/tables/gaps", "/organizations/aero-1"]:
        page.goto(page.base + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    shot(page, "profile-phone")
    page.watch.clean()


def test_import_shows_errors_then_loads_a_good_file(page, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text("id,name,type\nA,Acme,fondation\n", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text("id,name,type,clusters\nweb-1,Entreprise du Web,company,Aérospatiale\n", encoding="utf-8")

    page.goto(page.base + "/import")
    page.set_input_files("#files", str(broken))
    page.click("[data-testid=validate-import]")
    problems = page.locator("[data-testid=import-problems]")
    assert "fondation" in problems.inner_text() and "broken.csv" in problems.inner_text()
    shot(page, "import-errors")

    page.set_input_files("#files", str(good))
    page.click("[data-testid=validate-import]")
    assert "1 organizations" in page.locator("[data-testid=import-report]").inner_text()
    shot(page, "import-report")
    page.click("[data-testid=confirm-import]")
    assert page.locator("[data-testid=orgs-created]").inner_text() == "1"
    page.goto(page.base + "/organizations?q=entreprise du web")
    assert page.locator("[data-testid=org-table]").inner_text().count("Entreprise du Web") == 1
    shot(page, "import-done")
    # The refused file is answered with 422, which Chromium logs as a failed resource.
    page.watch.clean(allow_errors=("status of 422",))


@pytest.mark.neo4j
def test_console_reads_and_refuses_a_create(browser, neo4j_store):
    make_store(neo4j_store)
    with serve(make_app(neo4j_store)) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-CA")
        page = context.new_page()
        watch = Watch(page, base)
        page.goto(base + "/console")
        page.fill("#query", "MATCH (o:Organization)-[r:PARTICIPATES_IN]->(s) RETURN o, r, s")
        page.click("[data-testid=run-query]")
        result = page.locator("[data-testid=query-result]")
        assert "4 rows" in result.inner_text()
        _wait_map(page, "query-map")
        assert _drawn(page, "query-map") == 4  # aero-1, aero-2, wg1, wg2
        shot(page, "console")

        before = neo4j_store.counts()
        page.fill("#query", "CREATE (n:Organization {id: 'intruder', name: 'Intruder'}) RETURN n")
        page.click("[data-testid=run-query]")
        assert "read-only" in page.locator("[data-testid=query-error]").inner_text()
        assert neo4j_store.counts() == before and neo4j_store.organization("intruder") is None
        shot(page, "console-refused")
        context.close()
        watch.clean(allow_errors=("status of 400",))  # the refused query is answered with 400


def test_api_docs_load_offline(page):
    page.goto(page.base + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "maillage" in page.locator(".swagger-ui .info .title").inner_text()
    shot(page, "api-docs")
    page.watch.clean()
