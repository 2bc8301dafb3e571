"""Network maps in real headless Chromium: drawn counts, tooltips as text, search, toggles, links.

Each test writes a standalone map page (:func:`api.maps.write_standalone`) into its temporary
folder, serves it on 127.0.0.1 and opens it in Debian's Chromium through Playwright. The page
carries the same strict Content-Security-Policy as the app (no inline script or style);
every test also checks that no request left loopback, no dialog opened and no CSP violation
or script error happened. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pytest

from api import maps
from maillage.settings import REPO_ROOT
from tests.api.test_maps import AERO, HOSTILE, make_graph

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

# Collects CSP violations before any page script runs.
_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class MapPage:
    """An open map page and what happened while it ran."""

    page: object
    base: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)

    def network(self, expression: str):
        """Evaluate ``expression`` with ``net`` bound to the page's vis.Network."""
        return self.page.evaluate(f"(() => {{ const net = Object.values(window.maillageMaps)[0]; return {expression}; }})()")

    def node_point(self, node_id) -> tuple[float, float]:
        """Return the page coordinates of a node's centre."""
        return tuple(self.page.evaluate(
            """(id) => { const net = Object.values(window.maillageMaps)[0];
                         const p = net.canvasToDOM(net.getPositions([id])[id]);
                         const box = document.querySelector('.mm-canvas').getBoundingClientRect();
                         return [box.left + p.x, box.top + p.y]; }""", node_id))

    def assert_clean(self) -> None:
        """No dialog, script error, CSP violation or request off loopback."""
        assert self.dialogs == []
        assert self.errors == []
        assert self.remote == []
        assert self.page.evaluate("window.__csp") == []


@contextlib.contextmanager
def open_map(browser, folder: Path, view: maps.MapView, *, name: str | None = None) -> Iterator[MapPage]:
    """Write ``view`` as a page in ``folder``, open it, wait for the first drawing."""
    maps.write_standalone(view, folder, title="maillage")
    (folder / "favicon.ico").write_bytes(b"")  # Chromium asks for it; a 404 would read as an error
    with _serve(folder) as base:
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        opened = MapPage(page, base)
        page.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)

        def _route(route):
            if route.request.url.startswith(base):
                route.continue_()
            else:
                opened.remote.append(route.request.url)
                route.abort()

        page.route("**/*", _route)
        page.add_init_script(_WATCH)
        page.goto(f"{base}/index.html")
        # Selectors, not wait_for_function: the page's CSP forbids the eval its polling uses.
        page.wait_for_selector(".mm-map[data-ready='true']", state="attached", timeout=30_000)
        assert page.evaluate("window.maillageMapReady") is True
        try:
            yield opened
            if name:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        finally:
            page.close()


def test_the_browser_draws_as_many_nodes_as_the_filtered_graph(browser, tmp_path):
    G = make_graph(5)
    for filters, folder in (({}, "all"), ({"clusters": [AERO]}, "aero")):
        view = maps.render_map(maps.filter_graph(G, **filters))
        with open_map(browser, tmp_path / folder, view, name=f"map-{folder}") as m:
            assert m.network("net.body.nodeIndices.length") == view.drawn_nodes == (10 if not filters else 5)
            assert m.network("net.body.edgeIndices.length") == view.drawn_edges
            assert m.page.evaluate("window.maillageMapReadyAt") > 0
            m.assert_clean()


def test_a_large_map_paints_its_links_under_the_nodes(browser, tmp_path):
    G = nx.gnm_random_graph(200, 1600, seed=1)
    nx.set_node_attributes(G, "company", "type")  # blue dots: only links are grey
    view = maps.render_map(G, suggestions=[(0, 1, "x"), (2, 3, "y")])
    assert view.paint_links
    with open_map(browser, tmp_path, view, name="map-painted-links") as m:
        assert m.network("net.body.nodeIndices.length") == 200
        assert m.network("net.body.edgeIndices.length") == view.edge_counts["suggestion"]
        assert m.page.locator(".mm-map").get_attribute("data-links") == "1600"
        # Count the canvas pixels in the links' grey: the painted lines are there.
        grey = m.page.evaluate("""() => {
            const c = document.querySelector('.mm-canvas canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
              if (Math.abs(d[i] - 0xb8) < 24 && Math.abs(d[i + 1] - 0xb8) < 24 && Math.abs(d[i + 2] - 0xb8) < 24 && d[i + 3] > 0) n++;
            }
            return n; }""")
        assert grey > 5000
        m.assert_clean()


def test_a_name_holding_html_shows_as_text_in_the_tooltip(browser, tmp_path):
    G = make_graph(3, extra_names=[HOSTILE])
    view = maps.render_map(G)
    with open_map(browser, tmp_path, view) as m:
        x, y = m.node_point("aerospatiale-0")
        m.page.mouse.move(x - 40, y - 40)
        m.page.mouse.move(x, y, steps=4)
        tooltip = m.page.locator("div.vis-tooltip")
        tooltip.wait_for(state="visible", timeout=10_000)
        assert tooltip.text_content().startswith(HOSTILE)
        assert tooltip.locator("img").count() == 0
        assert m.page.locator("img").count() == 0  # nowhere in the page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        m.page.screenshot(path=str(SCREENSHOTS / "map-hostile-tooltip.png"))
        # The name as a search result is text too.
        m.page.fill(".mm-search-input", "onerror")
        assert m.page.locator(".mm-result").all_text_contents() == [HOSTILE]
        m.assert_clean()


def test_search_ignores_accents_and_focuses_the_node(browser, tmp_path):
    G = make_graph(3, extra_names=["Polytechnique Montréal", "Aéro Boréal"])
    view = maps.render_map(G, lang="fr")
    with open_map(browser, tmp_path, view, name="map-search") as m:
        m.page.fill(".mm-search-input", "montreal")
        assert m.page.locator(".mm-result").first.text_content() == "Polytechnique Montréal"
        m.page.fill(".mm-search-input", "AERO boreal")
        m.page.press(".mm-search-input", "Enter")
        m.page.wait_for_selector(".mm-map[data-focused='aerospatiale-1']", state="attached")
        assert m.network("net.getSelectedNodes()") == ["aerospatiale-1"]
        m.page.fill(".mm-search-input", "zzz")
        assert m.page.locator(".mm-no-match").is_visible()
        m.assert_clean()


def test_suggestions_and_overlaps_can_be_hidden_and_shown(browser, tmp_path):
    G = make_graph(4)
    view = maps.render_map(G, suggestions=[("aerospatiale-1", "aerospatiale-3", "same sector")],
                           overlaps=[("aerospatiale-0", "aerospatiale-2")])
    with open_map(browser, tmp_path, view, name="map-toggles") as m:
        visible = "net.body.edgeIndices.length"
        assert m.network(visible) == view.drawn_edges
        m.page.uncheck('input[data-edge-kind="suggestion"]')
        assert m.network(visible) == view.drawn_edges - 1
        m.page.uncheck('input[data-edge-kind="overlap"]')
        assert m.network(visible) == view.drawn_edges - 2
        m.page.check('input[data-edge-kind="suggestion"]')
        assert m.network(visible) == view.drawn_edges - 1
        m.assert_clean()


def test_clicking_a_node_opens_its_profile(browser, tmp_path):
    G = make_graph(3)
    G = nx.relabel_nodes(G, {"aerospatiale-2": "id with/slash"})
    view = maps.render_map(G, link_prefix="/organizations/")
    with open_map(browser, tmp_path, view) as m:
        x, y = m.node_point("id with/slash")
        with m.page.expect_navigation():
            m.page.mouse.click(x, y)
        assert m.page.url == f"{m.base}/organizations/id%20with%2Fslash"


def test_an_aggregated_map_says_so_and_draws_one_node_per_cluster(browser, tmp_path):
    view = maps.render_map(make_graph(6), max_nodes=5, lang="fr")
    with open_map(browser, tmp_path, view, name="map-aggregated") as m:
        assert m.page.locator(".mm-message").text_content() == view.message
        assert m.network("net.body.nodeIndices.length") == 2
        m.assert_clean()
