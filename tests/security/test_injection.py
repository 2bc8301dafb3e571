"""Hostile text travels through everything and comes out as inert text.

Names, mandates, clusters, sectors and a region holding HTML, script, Cypher fragments,
Jinja2 templates and spreadsheet formulas are imported from a CSV file (loaders), written to
the real Neo4j (store), analysed, shown on every page, in the JSON API and the map's data,
exported (CSV and XLSX downloads, the console's CSV, ``export_graph``) and printed in the
cluster briefs. Everywhere they come back unchanged as text: escaped in HTML, never
evaluated as a template, never run as a formula, never run as Cypher, and no script runs in
real Chromium.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest

import loaders
from maillage.model import cluster_id
from tests.api.factory import csrf_of, make_app, make_client
from tests.reliability.figures import record

pytestmark = pytest.mark.neo4j

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "\"'><svg onload=alert(1)>",
    "'}) DETACH DELETE n //",
    "\") MATCH (n) DETACH DELETE n //",
    "{{ 7*7 }}",
    "{% raw %}{{ 7*7 }}{% endraw %}{{ config }}",
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2",
    "@SUM(A1)",
    "</script><script>alert(1)</script>",
    "javascript:alert(1)",
    "<!-- <iframe src=//evil.example>",
]
CLUSTERS = ["Grappe <svg onload=alert(1)>", "{{ 7*7 }} grappe"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_ID = "x\"'><svg onload=alert(1)>"


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def hostile(_neo4j_store_session, tmp_path_factory):
    """The hostile ecosystem, imported through the loaders into the real Neo4j."""
    store = _neo4j_store_session
    store.clear()
    folder = tmp_path_factory.mktemp("hostile")
    rows = ["id,name,type,clusters,sectors,region,mandate"]
    ids = []
    for i, p in enumerate(PAYLOADS):
        oid = f"h{i}"
        ids.append(oid)
        rows.append(",".join([oid, _csv_cell(p), "company" if i % 2 else "institution", _csv_cell(CLUSTERS[i % 2]),
                              _csv_cell("=cmd|' /C calc'!A0|aero"), _csv_cell(p if i == 1 else "Montréal"), _csv_cell(p)]))
    rows.append(",".join([_csv_cell(HOSTILE_ID), _csv_cell("<b>bold</b> {{ 7*7 }}"), "association",
                          _csv_cell(CLUSTERS[0]), "aero", "Laval", _csv_cell("=1+1")]))
    (folder / "orgs.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    rels = ["source,target,relationship"]
    for i in range(len(PAYLOADS) - 1):
        rels.append(f"h{i},h{i + 1},{'partner' if i % 3 else 'member of'}")
    rels.append(f"h0,{_csv_cell(HOSTILE_ID)},member of")
    rels.append(f"h3,{_csv_cell(HOSTILE_ID)},member of")
    (folder / "rels.csv").write_text("\n".join(rels) + "\n", encoding="utf-8")
    plan = loaders.prepare_import(sorted(folder.iterdir()), known_ids=store.existing_ids,
                                  known_organizations=store.organization_names)
    store.upsert(organizations=plan.organizations, relationships=plan.relationships, source=plan.source)
    yield store, plan
    store.clear()


def test_hostile_values_are_stored_exactly_and_no_fragment_ran_as_cypher(hostile):
    store, plan = hostile
    for i, p in enumerate(PAYLOADS):
        stored = store.organization(f"h{i}")
        assert stored["name"] == p and stored["mandate"] == p
        assert stored["clusters"] == [CLUSTERS[i % 2]]
    assert store.organization(HOSTILE_ID)["name"] == "<b>bold</b> {{ 7*7 }}"
    from graph.memory_store import MemoryStore

    oracle = MemoryStore(None)
    oracle.upsert(organizations=plan.organizations, relationships=plan.relationships, source=plan.source)
    counts = store.counts()
    assert counts == oracle.counts()
    assert sum(v for k, v in counts["nodes"].items() if k != "cluster") == len(PAYLOADS) + 1
    assert counts["nodes"]["cluster"] == 2
    record("injection_payloads", len(PAYLOADS) + 3)


# ---- every page, as HTML ---------------------------------------------------------------------------------
class _Live(HTMLParser):
    """What would be live in a page: elements and attributes that run or load something."""

    def __init__(self):
        super().__init__()
        self.live: list[str] = []
        self.text: list[str] = []
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_json = attrs.get("type") == "application/json"
            if "src" not in attrs and not self._in_json:
                self.live.append("inline <script>")
        if tag in ("iframe", "object", "embed", "img") and (attrs.get("src") in ("x", "//evil.example") or tag != "img"):
            self.live.append(f"<{tag} {attrs}>")
        self.live.extend(f"<{tag} {k}>" for k in attrs if k.startswith("on"))
        for k in ("href", "src", "action"):
            if (attrs.get(k) or "").strip().lower().startswith("javascript:"):
                self.live.append(f"<{tag} {k}={attrs[k]}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json = False

    def handle_data(self, data):
        if self._in_json:
            # A JSON block must not be closable by the data it holds.
            if "</" in data or "<!--" in data:
                self.live.append("raw '</' or '<!--' in a JSON block")
        else:
            self.text.append(data)


def _pages(store) -> list[str]:
    ids = [f"h{i}" for i in range(len(PAYLOADS))] + [HOSTILE_ID]
    out = ["/?lang=en", "/?lang=fr", "/map", "/map?q=script", "/map?cluster=" + quote(CLUSTERS[0]),
           "/organizations", "/organizations?q=" + quote("<img"), "/organizations?q=" + quote("{{"),
           "/brief", "/console", "/import"]
    out += [f"/organizations/{quote(i, safe='')}" for i in ids]
    out += [f"/tables/{t}?lang=en" for t in ("gaps", "overlaps", "duplicates", "coverage", "brokers")]
    out += [f"/tables/gaps?q={quote(p)}" for p in PAYLOADS[:3]]
    out += [f"/brief/{cluster_id(c)}?lang={lang}" for c in CLUSTERS for lang in ("fr", "en")]
    return out


def test_every_page_shows_hostile_text_as_text(hostile):
    store, _ = hostile
    with make_client(store) as client:
        seen = ""
        for path in _pages(store):
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            parser = _Live()
            parser.feed(r.text)
            assert parser.live == [], (path, parser.live)
            seen += "".join(parser.text)
        # The payloads are shown (unescaped by the parser, so exactly as typed) ...
        for p in PAYLOADS:
            assert p.replace("\n", " ") in seen, p
        # ... and no template was evaluated: 7*7 never became 49 where a payload sat.
        assert "{{ 7*7 }}" in seen and "{{ config }}" in seen and "{% raw %}" in seen
        profile = client.get("/organizations/h5").text
        assert "49" not in re.sub(r"\d{3,}|#\w+", "", profile.split('data-testid="org-name"', 1)[1].split("</", 1)[0])


def test_the_console_shows_hostile_rows_as_text(hostile):
    store, _ = hostile
    with make_client(store) as client:
        r = client.post("/console?lang=en", data={"csrf_token": csrf_of(client),
                                                  "query": "MATCH (o:Organization) RETURN o.name AS name, o.mandate AS mandate, o"})
        assert r.status_code == 200
        parser = _Live()
        parser.feed(r.text)
        assert parser.live == []
        assert all(p in "".join(parser.text) for p in PAYLOADS)


# ---- the JSON API and the map's data -----------------------------------------------------------------------
def test_json_gives_hostile_values_back_unchanged(hostile):
    store, _ = hostile
    with make_client(store) as client:
        for i, p in enumerate(PAYLOADS):
            facts = client.get(f"/api/organizations/h{i}").json()["facts"]
            assert facts["name"] == p and facts["mandate"] == p
        names = {o["name"] for o in client.get("/api/organizations?per_page=100").json()["items"]}
        assert set(PAYLOADS) <= names
        nodes = client.get("/api/map").json()["map"]["nodes"]
        by_id = {n["id"]: n for n in nodes}
        for i, p in enumerate(PAYLOADS):
            assert by_id[f"h{i}"]["name"] == p and p in by_id[f"h{i}"]["title"]
        brief = client.get(f"/api/brief/{cluster_id(CLUSTERS[0])}").json()
        assert CLUSTERS[0] in str(brief)
        r = client.get("/api/organizations?q=" + quote(PAYLOADS[3]))
        assert r.status_code == 200 and r.json()["total"] == 1


# ---- exports ---------------------------------------------------------------------------------------------
def _assert_formula_safe(cells: list, where: str) -> int:
    """Check that no text cell would run as a formula; return how many were neutralised."""
    neutralised = 0
    for cell in cells:
        if isinstance(cell, str) and cell:
            assert not cell.startswith(FORMULA), (where, cell)
            if cell.startswith("'") and cell[1:].startswith(FORMULA):
                neutralised += 1
    return neutralised


def _csv_cells(data: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]


def _xlsx_cells(data: bytes) -> list:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                cells.append(cell.value)
    return cells


def test_every_download_neutralises_formulas(hostile):
    store, _ = hostile
    neutralised = 0
    with make_client(store) as client:
        for table in ("gaps", "overlaps", "duplicates", "coverage", "brokers"):
            for url in (f"/api/tables/{table}?format=csv", f"/tables/{table}/download?format=csv"):
                r = client.get(url)
                assert r.status_code == 200, (url, r.text[:200])
                neutralised += _assert_formula_safe(_csv_cells(r.content), url)
            for url in (f"/api/tables/{table}?format=xlsx", f"/tables/{table}/download?format=xlsx"):
                r = client.get(url)
                assert r.status_code == 200, (url, r.text[:200])
                neutralised += _assert_formula_safe(_xlsx_cells(r.content), url)
        query = "MATCH (o:Organization) RETURN o.name AS name, o.mandate AS mandate, o.sectors AS sectors"
        r = client.post("/console", data={"csrf_token": csrf_of(client), "action": "csv", "query": query})
        cells = _csv_cells(r.content)
        neutralised += _assert_formula_safe(cells, "console csv")
        assert "'" + PAYLOADS[7] in cells and "'+1+1" in cells and "'-2" in cells and "'@SUM(A1)" in cells
        r = client.post("/api/query?format=csv", json={"query": query})
        neutralised += _assert_formula_safe(_csv_cells(r.content), "api query csv")
    assert neutralised > 0  # the hostile rows were in the downloads, made safe
    record("formula_cells_neutralised", neutralised)


def test_graph_exports_neutralise_formulas(hostile, tmp_path):
    from loaders.export import export_graph

    store, _ = hostile
    G = store.snapshot()
    path = export_graph(G, tmp_path / "graph.xlsx")
    cells = _xlsx_cells(path.read_bytes())
    assert _assert_formula_safe(cells, "export xlsx") >= 4
    folder = export_graph(G, tmp_path / "csv", "csv")
    files = sorted(Path(folder).glob("*.csv"))
    assert files
    for f in files:
        _assert_formula_safe(_csv_cells(f.read_bytes()), f.name)
    assert any("'=HYPERLINK" in f.read_text(encoding="utf-8-sig") for f in files)


# ---- real Chromium -------------------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@pytest.mark.browser
def test_no_hostile_text_runs_a_script_in_chromium(hostile):
    from playwright import sync_api as playwright_sync

    from maillage.settings import REPO_ROOT
    from tests.reliability.soak import serve

    store, _ = hostile
    dialogs: list[str] = []
    errors: list[str] = []
    shots = REPO_ROOT / "test-artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with serve(make_app(store)) as base, playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # CSP off: the proof must not lean on the policy; escaping alone keeps scripts out.
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-CA", bypass_csp=True)
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            pages = ["/?lang=en", "/map", "/map?cluster=" + quote(CLUSTERS[0]), "/organizations?q=" + quote("<img"),
                     "/organizations/h0", "/organizations/h2", "/organizations/" + quote(HOSTILE_ID, safe=""),
                     "/tables/gaps", f"/brief/{cluster_id(CLUSTERS[0])}", f"/brief/{cluster_id(CLUSTERS[1])}"]
            for path in pages:
                page.goto(base + path)
                for dom_id in page.evaluate("Object.keys(window.maillageMaps || {})"):
                    page.wait_for_function(f"document.getElementById('{dom_id}').dataset.ready === 'true'", timeout=20_000)
                    box = page.locator(f"#{dom_id} canvas").first.bounding_box()
                    # Hover every node: tooltips are built from the titles, which hold the payloads.
                    points = page.evaluate(f"(() => {{ const n = window.maillageMaps['{dom_id}']; const p = n.getPositions(); "
                                           "return Object.keys(p).map(k => n.canvasToDOM(p[k])); })()")
                    for at in points:
                        page.mouse.move(box["x"] + at["x"], box["y"] + at["y"])
                        page.wait_for_timeout(20)
                assert page.locator("img[src=x], svg[onload], iframe").count() == 0, path
            page.goto(base + "/console")
            page.fill("#query", "MATCH (o:Organization) RETURN o.name AS name, o.mandate AS m, o")
            page.click("[data-testid=run-query]")
            page.wait_for_selector("[data-testid=query-result]")
            page.screenshot(path=str(shots / "hostile-console-neo4j.png"), full_page=True)
            page.goto(base + "/organizations/h1")
            assert page.locator("[data-testid=org-name]").inner_text() == PAYLOADS[1]
            page.screenshot(path=str(shots / "hostile-profile-neo4j.png"), full_page=True)
            context.close()
        finally:
            browser.close()
    assert dialogs == [] and errors == [], (dialogs, errors)
    record("browser_pages_checked", len(pages) + 2)
