"""The JSON API: every endpoint, its pages and filters, downloads and errors."""

from __future__ import annotations

import io

import networkx as nx
import openpyxl
import pytest

from tests.api.factory import HOSTILE_MANDATE, HOSTILE_NAME, ORGANIZATIONS, make_client


@pytest.fixture(scope="module")
def client():
    with make_client() as c:
        yield c


def test_health(client):
    assert client.get("/api/health").json() == {"status": "ok", "version": "0.1.0"}


def test_me_says_open_editor_and_language(client):
    me = client.get("/api/me", headers={"Accept-Language": "en"}).json()
    assert me["role"] == "editor" and me["open"] and me["lang"] == "en" and me["csrf_token"]


def test_dashboard_counts_by_type_and_cluster(client):
    d = client.get("/api/dashboard").json()
    assert d["organizations"] == 11 and d["relationships"] == 13 and d["clusters"] == 3
    assert d["by_type"] == {"company": 4, "institution": 2, "structure": 2, "association": 1, "government": 1,
                            "workforce_committee": 1}
    assert d["by_cluster"]["Aérospatiale"] == 8
    cov = d["coverage"]
    row = cov["counts"][cov["clusters"].index("Sciences de la vie")]
    assert dict(zip(cov["types"], row))["company"] == 2
    assert d["top_gaps"] and {"source", "target", "score", "reasons"} <= set(d["top_gaps"][0])


def test_clusters_are_listed_with_their_size(client):
    body = client.get("/api/clusters").json()
    assert [(c["id"], c["organizations"]) for c in body["items"]] == [
        ("aerospatiale", 8), ("sciences-de-la-vie", 4), ("technologies-de-l-information", 1)]
    assert body["total"] == 3 and body["pages"] == 1


def test_facets(client):
    f = client.get("/api/facets").json()
    assert f["regions"] == ["Laval", "Montréal", "Québec"] and "aerospace" in f["sectors"]


def test_organizations_paginate_and_cap_per_page():
    with make_client(max_page_size=10) as c:
        first = c.get("/api/organizations?per_page=4").json()
        assert first["total"] == 11 and first["pages"] == 3 and len(first["items"]) == 4
        last = c.get("/api/organizations?per_page=4&page=3").json()
        assert len(last["items"]) == 3
        assert c.get("/api/organizations?per_page=500").json()["per_page"] == 10
        beyond = c.get("/api/organizations?page=99").json()
        assert beyond["items"] == [] and beyond["total"] == 11


def test_organizations_search_ignores_accents_and_case(client):
    names = [o["name"] for o in client.get("/api/organizations?q=MONTREAL").json()["items"]]
    assert names == ["Aéro Montréal", "Polytechnique Montréal"] or set(names) == {"Aéro Montréal", "Polytechnique Montréal"}


def test_organizations_filters_match_networkx(client):
    body = client.get("/api/organizations?cluster=Aérospatiale&type=company&type=institution").json()
    expected = {o.id for o in ORGANIZATIONS if "Aérospatiale" in o.clusters and o.type in ("company", "institution")}
    assert {o["id"] for o in body["items"]} == expected == {"aero-1", "aero-2", "poly"}


def test_organization_profile(client):
    p = client.get("/api/organizations/aero-1").json()
    assert p["facts"]["name"] == "Aéro Boréal inc." and p["facts"]["clusters"] == ["Aérospatiale"]
    partners = {(r["type"], r["direction"], r["id"]) for r in p["relationships"]}
    assert ("MEMBER_OF", "out", "assoc") in partners and ("PARTNERS_WITH", "in", "poly") in partners
    assert {s["id"] for s in p["structures"]} == {"assoc", "wg1", "wg2"}
    assert all(s["source"] == "aero-1" for s in p["suggestions"])
    assert "map" not in p
    with_map = client.get("/api/organizations/aero-1?map=true").json()
    assert with_map["map"]["highlight"] == ["aero-1"]


def test_unknown_organization_is_a_json_404(client):
    r = client.get("/api/organizations/nobody")
    assert r.status_code == 404
    assert r.json() == {"error": {"status": 404, "message": 'No organization has the id "nobody"; search the organization list for it.'}}


def test_map_counts_equal_the_filtered_graph(client):
    from api.maps import filter_graph
    from tests.api.factory import make_store

    G = make_store().snapshot()
    for query, kwargs in [("", {}), ("cluster=aerospatiale", {"clusters": ["aerospatiale"]}),
                          ("type=company&region=Montreal", {"types": ["company"], "regions": ["Montreal"]})]:
        body = client.get(f"/api/map?{query}").json()
        H = filter_graph(G, **kwargs) if kwargs else G
        expected = sum(1 for _, d in H.nodes(data=True) if d.get("type") != "cluster")
        assert body["map"]["drawn_nodes"] == body["organizations"] == expected


def test_map_toggles_suggestions_and_overlaps(client):
    on = client.get("/api/map").json()["map"]["edge_counts"]
    off = client.get("/api/map?suggestions=0&overlaps=0").json()["map"]["edge_counts"]
    assert on.get("suggestion", 0) > 0 and "suggestion" not in off


def test_map_search_highlights_matches(client):
    body = client.get("/api/map?q=genome").json()
    assert [m["id"] for m in body["matches"]] == ["bio-2"] and body["map"]["highlight"] == ["bio-2"]


@pytest.mark.parametrize("name", ["gaps", "overlaps", "duplicates", "coverage", "brokers"])
def test_tables_answer_pages(client, name):
    body = client.get(f"/api/tables/{name}?per_page=3").json()
    assert body["table"] == name and body["per_page"] == 3 and len(body["items"]) <= 3
    assert body["total"] >= len(body["items"])


def test_gaps_are_sorted_and_filtered(client):
    desc = client.get("/api/tables/gaps?per_page=200").json()["items"]
    scores = [r["score"] for r in desc]
    assert scores == sorted(scores, reverse=True)
    asc = client.get("/api/tables/gaps?sort=score&order=asc&per_page=200").json()["items"]
    assert [r["score"] for r in asc] == sorted(scores)
    about = client.get("/api/tables/gaps?organization=poly&per_page=200").json()["items"]
    assert about and all("poly" in (r["source"], r["target"]) for r in about)
    typed = client.get("/api/tables/gaps?type=government&per_page=200").json()["items"]
    assert typed and all("government" in (r["source_type"], r["target_type"]) for r in typed)


def test_brokers_match_networkx_betweenness(client):
    from analysis._network import partnership_network
    from tests.api.factory import make_store

    H = partnership_network(make_store().snapshot())
    expected = nx.betweenness_centrality(H)
    rows = client.get("/api/tables/brokers?per_page=200").json()["items"]
    assert {r["id"]: r["betweenness"] for r in rows} == pytest.approx(expected)


def test_unknown_table_name_is_a_422(client):
    r = client.get("/api/tables/nope")
    assert r.status_code == 422 and r.json()["error"]["status"] == 422


def test_csv_download_is_formula_safe(client):
    r = client.get("/api/tables/gaps?format=csv&organization=evil")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="maillage-gaps.csv"' == r.headers["content-disposition"]
    text = r.content.decode("utf-8-sig")
    assert HOSTILE_NAME in text
    for line in text.splitlines():
        for cell in line.split(","):
            assert not cell.strip('"').startswith(("=", "+", "@")), cell


def test_xlsx_download_holds_no_formula(client):
    r = client.get("/api/tables/brokers?format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert cells and all(c.data_type != "f" for c in cells)
    assert HOSTILE_NAME in {c.value for c in cells}


def test_formula_in_a_name_is_neutralised_in_downloads():
    from maillage.model import OrganizationRecord
    from tests.api.factory import make_store

    store = make_store()
    store.upsert(organizations=[OrganizationRecord(id="f", name='=HYPERLINK("http://x","y")', type="company", clusters=("Aérospatiale",))])
    with make_client(store) as c:
        text = c.get("/api/tables/brokers?format=csv").content.decode("utf-8-sig")
        assert '=HYPERLINK' in text and '\n=HYPERLINK' not in text and ',=HYPERLINK' not in text
        book = openpyxl.load_workbook(io.BytesIO(c.get("/api/tables/brokers?format=xlsx").content))
        assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)


def test_brief(client):
    b = client.get("/api/brief/sciences-de-la-vie").json()
    assert b["cluster"]["name"] == "Sciences de la vie" and b["organizations"] == 4
    assert b["by_type"]["company"] == 2
    members = {"gov", "bio-1", "bio-2", "evil"}
    assert all(r["source"] in members or r["target"] in members for r in b["top_gaps"])
    assert client.get("/api/brief/Sciences%20de%20la%20Vie").json()["cluster"]["id"] == "sciences-de-la-vie"


def test_hostile_text_comes_back_unchanged_in_json(client):
    facts = client.get("/api/organizations/evil").json()["facts"]
    assert facts["name"] == HOSTILE_NAME and facts["mandate"] == HOSTILE_MANDATE


def test_queries_library(client):
    items = client.get("/api/queries").json()["items"]
    text = " ".join(i["query"] for i in items)
    for word in ("SUGGESTED_PARTNER", "OVERLAPS_WITH", "DuplicateGroup", "AnalysisRun", "$cluster"):
        assert word in text


def test_query_on_the_memory_store_says_it_needs_neo4j(client):
    r = client.post("/api/query", json={"query": "MATCH (n) RETURN n"})
    assert r.status_code == 501 and "needs Neo4j" in r.json()["error"]["message"]


def test_query_body_is_validated(client):
    r = client.post("/api/query", json={"query": ""})
    assert r.status_code == 422 and r.json()["error"]["details"]


def test_openapi_documents_the_api_and_bearer_auth(client):
    doc = client.get("/openapi.json").json()
    assert "/api/tables/{name}" in doc["paths"] and "/api/query" in doc["paths"]
    assert not any(p.startswith("/organizations") for p in doc["paths"])  # pages are not API
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
    assert doc["paths"]["/api/dashboard"]["get"]["description"].startswith("Return the dashboard")


def test_unexpected_error_is_a_json_500_with_headers():
    with make_client(raise_server_exceptions=False) as c:
        def boom(*a, **k):
            raise RuntimeError("boom")
        c.app.state.workspace.cached = boom
        r = c.get("/api/dashboard")
    assert r.status_code == 500 and r.json()["error"]["status"] == 500 and "boom" not in r.text
    assert "content-security-policy" in r.headers


def test_caching_computes_each_analysis_once():
    with make_client() as c:
        ws = c.app.state.workspace
        for _ in range(3):
            c.get("/api/tables/gaps")
        assert ws.computations[("analysis", "gaps", "fr")] == 1
        assert ws.computations[("snapshot",)] == 1


def test_a_table_page_is_serialised_once_per_analysis_version():
    with make_client() as c:
        ws = c.app.state.workspace
        first = c.get("/api/tables/gaps?per_page=3")
        pages = dict(ws._pages)
        again = c.get("/api/tables/gaps?per_page=3")
        assert again.content == first.content and dict(ws._pages).keys() == pages.keys()
        assert first.json()["per_page"] == 3 and len(first.json()["items"]) <= 3
        # Another page, order or language is another entry.
        assert c.get("/api/tables/gaps?per_page=3&order=asc").json()["query"]["order"] == "asc"
        assert c.get("/api/tables/gaps?per_page=3&lang=en").status_code == 200
        assert len(ws._pages) == 3


def test_a_cached_page_is_not_served_after_an_import_changed_the_graph():
    from tests.api.factory import csrf_of

    with make_client() as c:
        before = c.get("/api/tables/brokers?per_page=100").json()
        csv = b"id,name,type,clusters\nnew-1,Nouvelle organisation,company,Aerospatiale\n"
        token = c.post("/api/import", files={"files": ("n.csv", csv, "text/csv")},
                       headers={"X-CSRF-Token": csrf_of(c)}).json()["token"]
        assert c.post(f"/api/import/{token}/confirm", json={}).status_code == 200
        after = c.get("/api/tables/brokers?per_page=100").json()
        assert after["total"] == before["total"] + 1
        assert "new-1" in {row["id"] for row in after["items"]}


def test_a_cached_answer_still_needs_the_viewer_role():
    from tests.api.factory import TOKENS

    with make_client(role_tokens=True) as c:
        viewer = {"Authorization": f"Bearer {TOKENS['viewer']}"}
        assert c.get("/api/tables/gaps", headers=viewer).status_code == 200
        assert c.get("/api/tables/gaps", headers=viewer).status_code == 200  # answered from the cache
        r = c.get("/api/tables/gaps")
        assert r.status_code == 401 and "items" not in r.text
        r = c.get("/api/tables/gaps", headers={"Authorization": "Bearer not-a-token-0123456789"})
        assert r.status_code == 401


def test_a_cached_answer_carries_the_security_headers_and_the_same_body():
    with make_client() as c:
        first = c.get("/api/tables/overlaps?per_page=2")
        second = c.get("/api/tables/overlaps?per_page=2")
        assert second.content == first.content
        assert second.headers["content-type"] == "application/json"
        assert "content-security-policy" in second.headers and second.headers["x-content-type-options"] == "nosniff"
