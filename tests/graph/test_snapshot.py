"""The Neo4j snapshot reader (graph/_snapshot.py): chunks of any size and unusual
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


@pytest.mark.parametrize("chunk", [500, 7, 1, 1000])
def test_chunks_give_networkx_graph(ecosystem, chunk):
    G = _snapshot.read_snapshot(ecosystem._session, chunk=chunk)
    assert _fingerprint(G) == _fingerprint(_reference(ecosystem._session))
    edge = G.edges["o1", "o10", "PARTNERS_WITH"]
    assert edge["since"] == "spring 2020" and edge["seen"] == "2021-02-03T04:05:06.000000000+00:00"
    assert edge["dates"] == [dt.date(2022, 1, 2)] and "until" not in edge
    assert G.edges["o2", "o17", "PARTNERS_WITH"]["until"] == dt.date(2031, 5, 6)
    assert G.edges["o0", "o3", "PARTNERS_WITH"]["since"] == dt.date(2020, 1, 1)


def test_filtered_snapshot(ecosystem):
    G = _snapshot.read_snapshot(ecosystem._session, clusters=["C1"], chunk=3)
    members = {f"o{i}" for i in range(40) if i % 3 == 1}
    assert set(G) == members | {"c1"}
    full = _reference(ecosystem._session)
    expected = {(u, v, k) for u, v, k in full.edges(keys=True) if u in members and v in G}
    assert set(G.edges(keys=True)) == expected


def test_a_failing_query_raises(ecosystem, monkeypatch):
    monkeypatch.setattr(_snapshot, "_EDGES", "RETURN 1/0 AS s")
    with pytest.raises(Exception, match="/ by zero|division"):
        _snapshot.read_snapshot(ecosystem._session, chunk=5)


def test_relationships_are_read_from_node_references_not_looked_up(ecosystem):
    # A lookup per organization relied on the planner seeking the unique index; after a large
    # import it sometimes scanned instead (quadratic). The organizations are scanned once.
    with ecosystem._session("READ") as s:
        plan = s.run("EXPLAIN " + _snapshot._EDGES, types=None, clusterIds=None, chunk=10,
                     resultTypes=_snapshot._RESULT_TYPES).consume().plan
    operators = []

    def walk(p):
        operators.append((p["operatorType"].split("@")[0], p.get("args", {}).get("Details", "")))
        for child in p.get("children", []):
            walk(child)

    walk(plan)
    assert [op for op, _ in operators].count("NodeByLabelScan") == 1, str(operators)
    # The cluster filter may seek the Cluster id index; organizations are never looked up.
    assert not [(op, d) for op, d in operators if "Index" in op and ":Organization" in d], str(operators)


def test_an_edge_whose_ends_were_not_read_is_left_out():
    # Organizations imported between the node query and the relationship query.
    G = nx.MultiDiGraph()
    G.add_node("a")
    _snapshot._add_edges(G, {}, ["new", "a", "a"], ["PARTNERS_WITH"] * 3, ["a", "new", "a"],
                         [{"since": None, "until": None} for _ in range(3)], [0, 0, 0], [0, 0, 0])
    assert list(G.edges(keys=True)) == [("a", "a", "PARTNERS_WITH")]


def test_repeated_provenance_text_is_held_once_and_unique_text_is_not_shared():
    # The driver makes a new string per value: eleven million copies of one import id at 1M.
    G = nx.MultiDiGraph()
    G.add_nodes_from("abc")
    ids = ["".join(["imp", "ort-1"]) for _ in range(2)]  # equal, distinct objects
    assert ids[0] is not ids[1]
    props = [{"importId": ids[k], "contentHash": f"h{k}", "note": "".join(["x", "y"]), "since": None,
              "until": None} for k in range(2)]
    shared: dict = {}
    _snapshot._add_edges(G, shared, ["a", "b"], ["FUNDS", "".join(["FUN", "DS"])], ["b", "c"], props,
                         [0, 0], [0, 0])
    (e1, e2) = (G.edges["a", "b", "FUNDS"], G.edges["b", "c", "FUNDS"])
    assert e1["importId"] is e2["importId"] and e1["type"] is e2["type"]
    assert e1["note"] == e2["note"] and e1["note"] is not e2["note"]  # not provenance: left alone
    assert set(shared) == {"import-1", "FUNDS"}
