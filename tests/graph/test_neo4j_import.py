"""How Neo4j writes an import, checked against the memory store as the oracle.

The Neo4j store writes in batches and takes one of two queries per kind of row: write-only when
nothing of that kind is stored yet (a first import), read-compare-write otherwise. Small batches
and a sequence of imports (first load; edits, moves and new types; the same again; a replacing
import) go through every path; after each, the summary, the counts and the snapshot must be
those of the memory store.
"""

from __future__ import annotations

import datetime as dt

import pytest

from graph.memory_store import MemoryStore
from maillage.errors import ImportFailed
from tests.conftest import TEST_NEO4J_URI, make_org, make_rel, test_neo4j_password

pytestmark = pytest.mark.neo4j

CLUSTERS = ("Aérospatiale", "Sciences de la vie", "Mode")
TYPES = ("company", "association", "institution", "structure", "government", "workforce_committee")


@pytest.fixture
def small_batches(neo4j_store):
    """The test server, emptied, through a store writing three rows per batch."""
    from graph.neo4j_store import Neo4jStore

    store = Neo4jStore(TEST_NEO4J_URI, user="neo4j", password=test_neo4j_password(), batch_size=3)
    yield store
    store.close()


def _orgs(n: int, *, region: str = "Montréal", shift: int = 0):
    return [make_org(id=f"o{i}", name=f"Organisation n° {i}", type=TYPES[(i + shift) % len(TYPES)],
                     clusters=(CLUSTERS[(i + shift) % 3],) + ((CLUSTERS[(i + 1) % 3],) if i % 4 == 0 else ()),
                     region=region, extra={"employees": i}, source_file="membres.csv", row=i + 2)
            for i in range(n)]


def _rels(n: int, types=("PARTNERS_WITH", "MEMBER_OF"), weight: float = 1.0):
    rels = []
    for i in range(n):
        for k, t in enumerate(types):
            rels.append(make_rel(source=f"o{i}", target=f"o{(i + 1 + k) % n}", type=t, weight=weight + i,
                                 since=dt.date(2020, 1, 1 + i % 28), source_file="relations.csv", row=i + 2))
    rels.append(make_rel(source="o0", target="mode", type="COORDINATES", target_kind="Cluster", weight=None))
    return rels


def _summary(s):
    d = s.as_dict()
    del d["import_id"], d["imported_at"]
    return d


def _graph(store):
    G = store.snapshot()
    drop = {"importedAt"}
    nodes = sorted((n, sorted((k, repr(v)) for k, v in d.items() if k not in drop)) for n, d in G.nodes(data=True))
    edges = sorted((u, v, k, sorted((a, repr(b)) for a, b in d.items() if a not in drop))
                   for u, v, k, d in G.edges(keys=True, data=True))
    return store.counts(), nodes, edges


def _both(neo4j, oracle, **kwargs):
    ours = neo4j.upsert(import_id=kwargs.pop("import_id"), **kwargs)
    theirs = oracle.upsert(import_id=ours.import_id, **kwargs)
    assert _summary(ours) == _summary(theirs)
    assert _graph(neo4j) == _graph(oracle)
    return ours


def test_a_sequence_of_imports_matches_the_memory_store(small_batches):
    oracle = MemoryStore(None)
    first = _both(small_batches, oracle, organizations=_orgs(20), relationships=_rels(20), source="lot.csv",
                  import_id="i1")
    assert first.organizations_created == 20 and first.relationships_created == 41
    # Edits (region of every other organization, types and clusters moved on some), new
    # organizations, relationships re-weighted, a type never stored before (FUNDS).
    orgs = _orgs(25, region="Montréal")[:10] + _orgs(25, region="Laval", shift=1)[10:]
    rels = _rels(20)[:15] + _rels(25, weight=2.0)[15:] + _rels(25, types=("FUNDS",))[:-1]
    second = _both(small_batches, oracle, organizations=orgs, relationships=rels, source="lot.csv", import_id="i2")
    assert second.organizations_unchanged == 10 and second.organizations_updated == 10
    assert second.organizations_created == 5 and second.relationships_unchanged == 16
    assert second.by_type["FUNDS"] == 25
    third = _both(small_batches, oracle, organizations=orgs, relationships=rels, source="lot.csv", import_id="i3")
    assert not third.changed
    # Replacing the source with a smaller file removes what it no longer holds.
    fourth = _both(small_batches, oracle, organizations=orgs[:12], relationships=_rels(12), source="lot.csv",
                   replace_source=True, import_id="i4")
    assert fourth.organizations_removed == 13 and fourth.relationships_removed > 0


def test_dates_stay_dates_when_a_relationship_is_rewritten(small_batches):
    small_batches.upsert(organizations=_orgs(3), relationships=[make_rel(source="o0", target="o1", since=dt.date(2019, 5, 1))])
    small_batches.upsert(organizations=_orgs(3), relationships=[
        make_rel(source="o0", target="o1", since=dt.date(2021, 2, 3), until=dt.date(2022, 1, 1))])
    rows = small_batches.run_query("MATCH (:Organization {id: 'o0'})-[r:PARTNERS_WITH]->() "
                                   "RETURN valueType(r.since) AS s, valueType(r.until) AS u, toString(r.since) AS t").rows
    assert rows == [["DATE NOT NULL", "DATE NOT NULL", "2021-02-03"]]
    small_batches.upsert(organizations=_orgs(3), relationships=[make_rel(source="o0", target="o1")])
    edge = small_batches.snapshot().edges["o0", "o1", "PARTNERS_WITH"]
    assert "since" not in edge and "until" not in edge


@pytest.mark.parametrize("stored_first", [False, True], ids=["into an empty graph", "into a stored graph"])
def test_a_missing_end_in_a_late_batch_refuses_the_whole_import(small_batches, stored_first):
    if stored_first:
        small_batches.upsert(organizations=_orgs(4), relationships=_rels(4), source="a.csv")
    before = _graph(small_batches)
    rels = _rels(10) + [make_rel(source="o3", target="nowhere", type="PARTNERS_WITH")]
    with pytest.raises(ImportFailed, match=r"o3 -\[PARTNERS_WITH\]-> nowhere \(target not in the graph\)"):
        small_batches.upsert(organizations=_orgs(10), relationships=rels, source="b.csv")
    assert _graph(small_batches) == before


def test_part_of_rows_next_to_organizations_count_like_the_memory_store(small_batches):
    oracle = MemoryStore(None)
    # Explicit PART_OF rows for links the organizations' clusters also make (derived ones).
    rels = [make_rel(source="o1", target="sciences-de-la-vie", type="PART_OF", target_kind="Cluster", weight=None),
            make_rel(source="o2", target="aerospatiale", type="PART_OF", target_kind="Cluster", weight=3.0)]
    _both(small_batches, oracle, organizations=_orgs(6), relationships=rels, source="c.csv", import_id="p1")
    _both(small_batches, oracle, organizations=_orgs(6), relationships=rels, source="c.csv", import_id="p2")
