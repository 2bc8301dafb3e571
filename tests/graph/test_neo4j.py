"""What only the real Neo4j server can prove: schema, read-only console, timeouts."""

from __future__ import annotations

import pytest

from maillage.errors import QueryRefused
from tests.conftest import make_org

pytestmark = pytest.mark.neo4j


def test_constraints_exist(neo4j_store):
    rows = neo4j_store.run_query("SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties, type RETURN name, labelsOrTypes, properties, type").rows
    found = {(r[1][0], r[2][0]) for r in rows if r[3] == "UNIQUENESS"}
    assert {("Organization", "id"), ("Cluster", "id"), ("DuplicateGroup", "id"), ("AnalysisRun", "id")} <= found


def test_schema_creation_is_idempotent(neo4j_store):
    before = neo4j_store.run_query("SHOW INDEXES YIELD name RETURN count(*) AS n").rows
    neo4j_store.ensure_schema()
    assert neo4j_store.run_query("SHOW INDEXES YIELD name RETURN count(*) AS n").rows == before


def test_parameterised_query_returns_rows(neo4j_store):
    neo4j_store.upsert(organizations=[make_org(id="a", name="Montréal Inc."), make_org(id="b", name="Québec Ltée")])
    res = neo4j_store.run_query("MATCH (o:Organization) WHERE o.name STARTS WITH $p RETURN o.name AS name", {"p": "Mont"})
    assert res.columns == ["name"] and res.rows == [["Montréal Inc."]]


@pytest.mark.parametrize(
    "query",
    [
        "CREATE (n:Organization {id: 'x', name: 'x'})",
        "MERGE (n:Organization {id: 'x'})",
        "MATCH (o:Organization) SET o.name = 'pwned'",
        "MATCH (o:Organization) DETACH DELETE o",
        "MATCH (o:Organization) REMOVE o:Organization",
        "CALL db.createLabel('Pwned')",
        "CALL db.createProperty('pwned')",
        "CREATE INDEX pwned IF NOT EXISTS FOR (n:Organization) ON (n.pwned)",
    ],
)
def test_console_refuses_writes(neo4j_store, query):
    neo4j_store.upsert(organizations=[make_org(id="a", name="Montréal Inc.")])
    before = (neo4j_store.counts(), neo4j_store.snapshot().nodes["a"])
    with pytest.raises(QueryRefused, match="read-only|refused"):
        neo4j_store.run_query(query)
    assert (neo4j_store.counts(), neo4j_store.snapshot().nodes["a"]) == before
    labels = neo4j_store.run_query("CALL db.labels() YIELD label RETURN collect(label) AS l").rows[0][0]
    assert "Pwned" not in labels


def test_console_refuses_load_csv(neo4j_store):
    with pytest.raises(QueryRefused, match="LOAD CSV"):
        neo4j_store.run_query("LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line")


def test_slow_query_stops_at_timeout(neo4j_store):
    with pytest.raises(QueryRefused, match="time limit"):
        neo4j_store.run_query("UNWIND range(1, 2000000000) AS x WITH x WHERE x = -1 RETURN x", timeout=1.0)


def test_row_cap_truncates(neo4j_store):
    res = neo4j_store.run_query("UNWIND range(1, 50) AS x RETURN x", row_cap=10)
    assert len(res.rows) == 10 and res.truncated
    res = neo4j_store.run_query("UNWIND range(1, 10) AS x RETURN x", row_cap=10)
    assert len(res.rows) == 10 and not res.truncated


def test_query_result_collects_nodes_and_relationships(neo4j_store):
    from tests.conftest import make_rel

    neo4j_store.upsert(organizations=[make_org(id="a"), make_org(id="b", name="B")], relationships=[make_rel(source="a", target="b")])
    res = neo4j_store.run_query("MATCH p = (a:Organization {id: 'a'})-[r:PARTNERS_WITH]->(b) RETURN a, r, b, p")
    assert len(res.nodes) == 2 and len(res.relationships) == 1
    rel = next(iter(res.relationships.values()))
    assert rel["type"] == "PARTNERS_WITH" and rel["start"] in res.nodes


def test_neo4j_uri_schemes_accepted():
    from maillage.settings import load_settings

    for uri in ("bolt://127.0.0.1:7688", "neo4j://127.0.0.1:7688", "neo4j+s://example.databases.neo4j.io"):
        assert load_settings(NEO4J_URI=uri).neo4j_uri == uri


def test_routing_uri_works_against_local_server(neo4j_store):
    """neo4j:// asks the server for a routing table: the advertised address must be right."""
    from graph.neo4j_store import Neo4jStore
    from tests.conftest import TEST_NEO4J_URI, test_neo4j_password

    uri = TEST_NEO4J_URI.replace("bolt://", "neo4j://")
    with Neo4jStore(uri, user="neo4j", password=test_neo4j_password()) as routed:
        routed.upsert(organizations=[make_org(id="r1", name="Routée")])
        assert routed.organization("r1")["name"] == "Routée"


def test_bad_password_is_a_clear_error():
    from graph.neo4j_store import Neo4jStore
    from maillage.errors import StoreUnavailable
    from tests.conftest import TEST_NEO4J_URI

    with pytest.raises(StoreUnavailable, match="refused the credentials"):
        Neo4jStore(TEST_NEO4J_URI, user="neo4j", password="definitely-wrong")


def test_unreachable_server_is_a_clear_error():
    from graph.neo4j_store import Neo4jStore
    from maillage.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable, match="not reachable"):
        Neo4jStore("bolt://127.0.0.1:1", user="neo4j", password="whatever1")
