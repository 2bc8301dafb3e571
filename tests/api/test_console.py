"""The Cypher console against the real Neo4j test server: reads work, writes are refused by Neo4j."""

from __future__ import annotations

import pytest

from tests.api.factory import TOKENS, csrf_of, make_client, make_store

pytestmark = pytest.mark.neo4j


@pytest.fixture
def client(neo4j_store):
    make_store(neo4j_store)
    with make_client(neo4j_store) as c:
        yield c


def _count(client) -> int:
    r = client.post("/api/query", json={"query": "MATCH (n) RETURN count(n) AS n"})
    return r.json()["rows"][0][0]


def test_query_returns_rows_and_a_map(client):
    r = client.post("/api/query", json={"query": "MATCH (o:Organization)-[r:MEMBER_OF]->(a) RETURN o, r, a",
                                        "parameters": {}})
    body = r.json()
    assert r.status_code == 200 and body["columns"] == ["o", "r", "a"] and len(body["rows"]) == 2
    assert {n["properties"]["id"] for n in body["nodes"].values()} == {"aero-1", "aero-2", "assoc"}
    assert body["map"]["drawn_nodes"] == 3


def test_parameters_reach_the_query(client):
    r = client.post("/api/query", json={"query": "MATCH (o:Organization {id: $id}) RETURN o.name AS name",
                                        "parameters": {"id": "poly"}})
    assert r.json()["rows"] == [["Polytechnique Montréal"]]


@pytest.mark.parametrize("write", [
    "CREATE (:Organization {id: 'intruder'})",
    "MERGE (:Organization {id: 'intruder'})",
    "MATCH (o:Organization {id: 'poly'}) SET o.name = 'x'",
    "MATCH (n) DETACH DELETE n",
])
def test_writes_are_refused_and_nothing_changes(client, write):
    before = _count(client)
    r = client.post("/api/query", json={"query": write})
    assert r.status_code == 400 and "read-only" in r.json()["error"]["message"]
    assert _count(client) == before


def test_console_page_runs_a_query_and_refuses_a_create(client):
    token = csrf_of(client)
    r = client.post("/console?lang=en", data={"csrf_token": token, "query": "MATCH (o:Organization) RETURN o.name AS name ORDER BY name"})
    assert r.status_code == 200 and "11 rows" in r.text and "Polytechnique Montréal" in r.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in r.text
    r = client.post("/console?lang=en", data={"csrf_token": token, "query": "CREATE (n:Organization {id: 'x'}) RETURN n"})
    assert r.status_code == 400 and "read-only" in r.text
    assert _count(client) == 11 + 3  # organizations and clusters, unchanged


def test_console_csv_download_is_formula_safe(client):
    token = csrf_of(client)
    r = client.post("/console", data={"csrf_token": token, "action": "csv",
                                      "query": "RETURN '=1+2' AS formula, 'plain' AS text"})
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.decode("utf-8-sig").splitlines()[1].split(",")[0] != "=1+2"


def test_bad_parameters_are_explained(client):
    r = client.post("/console?lang=en", data={"csrf_token": csrf_of(client), "query": "RETURN $x", "parameters": "{not json"})
    assert r.status_code == 400 and "not valid JSON" in r.text


def test_viewer_cannot_use_the_console(neo4j_store):
    make_store(neo4j_store)
    with make_client(neo4j_store, role_tokens=True) as c:
        r = c.post("/api/query", json={"query": "RETURN 1"}, headers={"Authorization": f"Bearer {TOKENS['viewer']}"})
        assert r.status_code == 403
        r = c.post("/api/query", json={"query": "RETURN 1 AS one"}, headers={"Authorization": f"Bearer {TOKENS['analyst']}"})
        assert r.json()["rows"] == [[1]]


def test_parameters_neo4j_cannot_take_are_refused_not_a_server_error(client):
    r = client.post("/api/query", json={"query": "RETURN $big AS big", "parameters": {"big": 2**70}})
    assert r.status_code == 400 and "64 bits" in r.json()["error"]["message"]
