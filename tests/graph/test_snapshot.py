"""The Neo4j snapshot reader (graph/_snapshot.py): several readers, small chunks and unusual
values give the graph networkx's own ``add_edges_from`` would build from the same rows."""

from __future__ import annotations

import datetime as dt

import networkx as nx
import pytest

from graph import _snapshot
from tests.conftest import make_org, make_rel

pytestmark = pytest.mark.neo4j


def _fingerprint(G: nx.MultiDiGraph):
    return (
        type(G),
        sorted((n, sorted(d.items(), key=repr)) for n, d in G.nodes(data=True)),
        sorted((u, v, k, sorted(d.items(), key=repr)) for u, v, k, d in G.edges(keys=True, data=True)),
        # In and out views agree: a MultiDiGraph keeps one attribute dict per edge for both.
        sorted((v, u, k) for v in G for u, keys in G.pred[v].items() for k in keys),
    )


def _reference(session) -> nx.MultiDiGraph:
    """The graph from one record per node and relationship, built by networkx's own methods."""
    G = nx.MultiDiGraph()
    with session("READ") as s:
        for r in s.run("MATCH (o:Organization) RETURN o.id AS id, properties(o) AS p"):
            G.add_node(r["id"], **{k: _snapshot.native(v) for k, v in r["p"].items()})
        for r in s.run("MATCH (c:Cluster) RETURN c.id AS id, properties(c) AS p"):
            G.add_node(r["id"], **(dict(r["p"]) | {"type": "cluster"}))
        for r in s.run("MATCH (a:Organization)-[r]->(b) WHERE b:Organization OR b:Cluster "
                       "RETURN a.id AS s, type(r) AS t, b.id AS d, properties(r) AS p"):
            G.add_edge(r["s"], r["d"], key=r["t"], type=r["t"], **{k: _snapshot.native(v) for k, v in r["p"].items()})
    return G


@pytest.fixture
def ecosystem(neo4j_store):
    orgs = [make_org(id=f"o{i}", name=f"Org {i}", clusters=[f"C{i % 3}"], sectors=["aero", f"s{i % 4}"])
            for i in range(40)]
    rels = [make_rel(source=f"o{i}", target=f"o{(i * 7 + 3) % 40}", type="PARTNERS_WITH", weight=1.0 + i,
                     since=dt.date(2020, 1, 1 + i % 28)) for i in range(40) if i != (i * 7 + 3) % 40]
    rels += [make_rel(source=f"o{i}", target=f"o{(i + 1) % 40}", type="MEMBER_OF") for i in range(0, 40, 3)]
    neo4j_store.upsert(organizations=orgs, relationships=rels, source="test.csv")
    # Values a loader never writes but another tool might: a date-time, a list of dates, a
    # ``since`` that is text.
    neo4j_store._driver.execute_query(
        "MATCH (a:Organization {id: 'o1'})-[r:PARTNERS_WITH]->() "
        "SET r.since = 'spring 2020', r.seen = datetime('2021-02-03T04:05:06Z'), r.dates = [date('2022-01-02')]",
        database_=neo4j_store.database)
    neo4j_store._driver.execute_query(
        "MATCH (a:Organization {id: 'o2'})-[r:PARTNERS_WITH]->() SET r.until = date('2031-05-06')",
        database_=neo4j_store.database)
    return neo4j_store


@pytest.mark.parametrize("readers, chunk", [(1, 500), (2, 7), (3, 1), (4, 1000)])
def test_readers_and_chunks_give_networkx_graph(ecosystem, monkeypatch, readers, chunk):
    monkeypatch.setattr(_snapshot, "_MIN_PER_READER", 1)
    G = _snapshot.read_snapshot(ecosystem._session, readers=readers, chunk=chunk)
    assert _fingerprint(G) == _fingerprint(_reference(ecosystem._session))
    edge = G.edges["o1", "o10", "PARTNERS_WITH"]
    assert edge["since"] == "spring 2020" and edge["seen"] == "2021-02-03T04:05:06.000000000+00:00"
    assert edge["dates"] == [dt.date(2022, 1, 2)] and "until" not in edge
    assert G.edges["o2", "o17", "PARTNERS_WITH"]["until"] == dt.date(2031, 5, 6)
    assert G.edges["o0", "o3", "PARTNERS_WITH"]["since"] == dt.date(2020, 1, 1)


def test_filtered_snapshot_with_readers(ecosystem, monkeypatch):
    monkeypatch.setattr(_snapshot, "_MIN_PER_READER", 1)
    G = _snapshot.read_snapshot(ecosystem._session, clusters=["C1"], readers=2, chunk=3)
    members = {f"o{i}" for i in range(40) if i % 3 == 1}
    assert set(G) == members | {"c1"}
    full = _reference(ecosystem._session)
    expected = {(u, v, k) for u, v, k in full.edges(keys=True) if u in members and v in G}
    assert set(G.edges(keys=True)) == expected


def test_a_failing_reader_raises(ecosystem, monkeypatch):
    monkeypatch.setattr(_snapshot, "_MIN_PER_READER", 1)
    monkeypatch.setattr(_snapshot, "_EDGES_FROM", "RETURN 1/0 AS s")
    with pytest.raises(Exception, match="/ by zero|division"):
        _snapshot.read_snapshot(ecosystem._session, readers=2, chunk=5)


def test_relationships_are_read_by_seeking_the_id_index(ecosystem):
    # Scanning the index once per organization would make the snapshot quadratic.
    with ecosystem._session("READ") as s:
        plan = s.run("EXPLAIN " + _snapshot._EDGES_FROM, ids=["o1", "o2"], chunk=10,
                     resultTypes=_snapshot._RESULT_TYPES).consume().plan
    operators = []

    def walk(p):
        operators.append(p["operatorType"].split("@")[0])
        for child in p.get("children", []):
            walk(child)

    walk(plan)
    assert "NodeUniqueIndexSeek" in operators and "NodeIndexScan" not in operators, operators
