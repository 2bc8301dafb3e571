"""The HTML pages: each renders what it should, in French and English, with text kept as text."""

from __future__ import annotations

import re

import pytest

from tests.api.factory import make_client

PAGES = ["/", "/map", "/organizations", "/organizations/aero-1", "/tables/gaps", "/tables/overlaps", "/tables/duplicates",
         "/tables/coverage", "/tables/brokers", "/console", "/import", "/brief", "/brief/aerospatiale", "/login", "/docs"]


@pytest.fixture(scope="module")
def client():
    with make_client() as c:
        yield c


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")


def test_dashboard_counts_and_heat_map(client):
    html = client.get("/?lang=en").text
    assert re.search(r'data-testid="count-organizations">11<', html)
    # The coverage heat map: the IT cluster has no company, a pale "0" cell of shade 0.
    row = re.search(r"Technologies de l&#39;information</a></th>(.*?)</tr>", html, re.S).group(1)
    assert 'class="heat heat-0"' in row
    assert "<svg class=\"bars\"" in html


@pytest.mark.parametrize("lang, word", [("fr", "Tableau de bord"), ("en", "Dashboard")])
def test_language_follows_the_switch_and_sticks(lang, word):
    with make_client() as c:
        r = c.get(f"/?lang={lang}")
        assert f'<html lang="{lang}">' in r.text and word in r.text
        assert f'<html lang="{lang}">' in c.get("/map").text  # the cookie keeps the choice


def test_language_comes_from_the_browser_by_default():
    with make_client() as c:
        assert '<html lang="en">' in c.get("/", headers={"Accept-Language": "en-CA,en;q=0.9"}).text
        assert '<html lang="fr">' in c.get("/", headers={"Accept-Language": "fr-CA"}).text
        assert '<html lang="fr">' in c.get("/", headers={"Accept-Language": "de"}).text


def test_accent_insensitive_search_finds_montreal(client):
    html = client.get("/organizations?q=montreal").text
    assert "Polytechnique Montréal" in html and "Aéro Montréal" in html
    assert "BioNova" not in html
    assert "Génome Québec" in client.get("/organizations?q=GENOME%20quebec").text


@pytest.mark.parametrize("path", ["/", "/organizations", "/organizations/evil", "/organizations/bio-1", "/tables/gaps",
                                  "/tables/brokers", "/brief/sciences-de-la-vie", "/map", "/map?q=img", "/organizations?q=onerror"])
def test_hostile_text_is_escaped_everywhere(client, path):
    html = client.get(path).text
    assert "<img src=x" not in html and "<script>alert" not in html
    # Present as text (escaped) in the pages that show the organization.
    if path in ("/organizations/evil", "/organizations?q=onerror"):
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_hostile_mandate_is_text_and_templates_are_not_evaluated(client):
    html = client.get("/organizations/evil").text
    assert "&lt;script&gt;alert(&#39;mandate&#39;)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html


def test_map_json_cannot_close_its_script_element(client):
    html = client.get("/organizations/evil").text
    payload = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S).group(1)
    assert "<" not in payload and "\\u003cimg src=x onerror=alert(1)\\u003e" in payload


def test_map_is_filtered_on_the_server(client):
    whole = client.get("/map").text
    aero = client.get("/map?cluster=aerospatiale").text
    drawn = lambda html: int(re.search(r'data-drawn-nodes="(\d+)"', html).group(1))  # noqa: E731
    assert drawn(whole) == 11
    # Aérospatiale members: aero-1, aero-2, poly, csmo, gov, assoc, wg1, wg2.
    assert drawn(aero) == 8
    assert drawn(client.get("/map?type=institution").text) == 2
    assert drawn(client.get("/map?region=quebec").text) == 2  # accents ignored: Québec


def test_map_search_lists_matches(client):
    html = client.get("/map?q=montreal").text
    assert "Polytechnique Montréal" in html and 'data-testid="map-matches"' in html


def test_bad_size_measure_is_a_clear_400(client):
    r = client.get("/map?size_by=telepathy")
    assert r.status_code == 400 and "degree" in r.text


def test_profile_shows_partners_suggestions_and_structures(client):
    html = client.get("/organizations/aero-1?lang=en").text
    assert "Aéro Montréal" in html  # member of
    assert "Groupe de travail talents" in html and "Comité talents aéro" in html  # structures it sits in
    assert "member of" in html
    assert 'id="ego-map"' in html


def test_unknown_organization_is_a_404_page(client):
    r = client.get("/organizations/nobody?lang=en")
    assert r.status_code == 404 and "No organization has the id" in r.text and "<html" in r.text


def test_unknown_page_is_a_404_page(client):
    r = client.get("/nowhere")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


def test_bad_parameter_is_a_422_page(client):
    r = client.get("/organizations?per_page=0")
    assert r.status_code == 422 and "per_page" in r.text and r.headers["content-type"].startswith("text/html")


def test_tables_sort_filter_and_paginate(client):
    html = client.get("/tables/gaps?sort=score&order=asc&per_page=2&lang=en").text
    assert "Page 1 of" in html and html.count("<tr>") == 3  # header + 2 rows
    html = client.get("/tables/brokers?type=institution").text
    assert "Polytechnique Montréal" in html and "BioNova" not in html
    html = client.get("/tables/gaps?cluster=sciences-de-la-vie").text
    assert "Génome Québec" in html and "Aéro Boréal" not in html


def test_table_sort_by_unknown_column_is_a_400(client):
    assert client.get("/tables/gaps?sort=nope").status_code == 400


def test_unknown_table_is_a_404(client):
    assert client.get("/tables/nope").status_code == 404


def test_brief_is_printable_and_bilingual(client):
    fr = client.get("/brief/aerospatiale?lang=fr").text
    en = client.get("/brief/aerospatiale?lang=en").text
    assert "Bilan de la grappe Aérospatiale" in fr and "Brief of the Aérospatiale cluster" in en
    assert 'data-print' in fr and 'id="brief-map"' in fr
    css = client.get("/static/maillage.css").text
    assert "@media print" in css and "break-after: page" in css


def test_unknown_cluster_brief_is_a_404(client):
    assert client.get("/brief/nowhere").status_code == 404


def test_console_says_plainly_it_needs_neo4j(client):
    html = client.get("/console?lang=en").text
    assert "The Cypher console needs Neo4j" in html


def test_console_example_fills_the_query_box(client):
    html = client.get("/console?example=by-type").text
    assert "MATCH (o:Organization)" in html


def test_login_page_says_no_login_is_needed_on_the_open_demo(client):
    assert "needs no sign-in" in client.get("/login?lang=en").text


def test_docs_page_loads_swagger_from_the_app():
    with make_client() as c:
        html = c.get("/docs").text
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith("/") for s in srcs)


def test_store_down_gives_a_503_page_that_recovers_by_itself():
    from graph.memory_store import MemoryStore
    from maillage.errors import StoreUnavailable
    from tests.api.factory import make_settings, make_store

    state = {"up": False}

    def factory(settings):
        if not state["up"]:
            raise StoreUnavailable("Neo4j is not reachable at bolt://127.0.0.1:1 (test).")
        return make_store(MemoryStore(None))

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api import services

    app = create_app(make_settings(), store_factory=factory)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        r = c.get("/?lang=en")
        assert r.status_code == 503 and 'http-equiv="refresh"' in r.text and "Neo4j is not reachable" in r.text
        assert c.get("/api/dashboard").json()["error"]["status"] == 503
        state["up"] = True
        services._RETRY_PAUSE, saved = 0.0, services._RETRY_PAUSE
        try:
            assert c.get("/").status_code == 200
        finally:
            services._RETRY_PAUSE = saved
