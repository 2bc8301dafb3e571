"""The store contract, run against the real Neo4j server and the memory store alike."""

from __future__ import annotations

import datetime as dt

import networkx as nx
import pytest

from maillage.errors import ImportFailed
from tests.conftest import make_org, make_rel


def _small_graph():
    orgs = [
        make_org(id="aero", name="Aéro Boréal inc.", type="company", sectors=("aérospatiale", "matériaux"),
                 clusters=("Aérospatiale",), region="Montréal", mandate="Pièces d'œuvre pour l'aviation, Québec"),
        make_org(id="poly", name="Polytechnique Fictive", type="institution", sectors=("génie",),
                 clusters=("Aérospatiale", "Sciences de la vie"), region="Montréal", mandate=None,
                 extra={"employees": 1200, "website": "https://example.org"}),
        make_org(id="csmo", name="Comité sectoriel de main-d'œuvre en aérospatiale", type="workforce_committee",
                 sectors=("aérospatiale",), clusters=("Aérospatiale",), region="Laval"),
        make_org(id="ville", name="Ville de Longueuil", type="government", sectors=(), clusters=(), region="Longueuil"),
    ]
    rels = [
        make_rel(source="aero", target="poly", type="PARTNERS_WITH", weight=2.5, since=dt.date(2019, 5, 1)),
        make_rel(source="aero", target="csmo", type="MEMBER_OF", weight=None),
        make_rel(source="ville", target="aero", type="FUNDS", weight=100000.0, until=dt.date(2030, 12, 31)),
        make_rel(source="csmo", target="aerospatiale", type="COORDINATES", target_kind="Cluster", weight=None),
    ]
    return orgs, rels


def _fingerprint(G: nx.MultiDiGraph):
    """Everything a snapshot says, minus nothing: used to prove 'unchanged'."""
    nodes = sorted((n, sorted((k, repr(v)) for k, v in d.items())) for n, d in G.nodes(data=True))
    edges = sorted((u, v, k, sorted((a, repr(b)) for a, b in d.items())) for u, v, k, d in G.edges(keys=True, data=True))
    return nodes, edges


def test_upsert_counts_created_then_unchanged(store):
    orgs, rels = _small_graph()
    first = store.upsert(organizations=orgs, relationships=rels, source="membres.csv")
    assert (first.organizations_created, first.relationships_created) == (4, 4)
    second = store.upsert(organizations=orgs, relationships=rels, source="membres.csv")
    assert (second.organizations_unchanged, second.relationships_unchanged) == (4, 4)
    assert not second.changed


def test_loading_twice_leaves_graph_unchanged(store):
    orgs, rels = _small_graph()
    store.upsert(organizations=orgs, relationships=rels, source="membres.csv")
    before_counts, before = store.counts(), _fingerprint(store.snapshot())
    store.upsert(organizations=orgs, relationships=rels, source="membres.csv")
    assert store.counts() == before_counts
    # Provenance too: an unchanged record keeps the import id of the import that wrote it.
    assert _fingerprint(store.snapshot()) == before


def test_counts_by_type(store):
    orgs, rels = _small_graph()
    store.upsert(organizations=orgs, relationships=rels)
    counts = store.counts()
    assert counts["nodes"] == {"company": 1, "institution": 1, "workforce_committee": 1, "government": 1, "cluster": 2}
    # PART_OF: aero 1, poly 2, csmo 1 (derived from the clusters lists).
    assert counts["relationships"] == {"PARTNERS_WITH": 1, "MEMBER_OF": 1, "FUNDS": 1, "COORDINATES": 1, "PART_OF": 4}


def test_editing_one_row_changes_exactly_that(store):
    orgs, rels = _small_graph()
    store.upsert(organizations=orgs, relationships=rels, source="membres.csv")
    before = store.snapshot()
    edited = [o if o.id != "csmo" else make_org(**{**_as_fields(o), "region": "Montréal"}) for o in orgs]
    summary = store.upsert(organizations=edited, relationships=rels, source="membres.csv")
    assert (summary.organizations_updated, summary.organizations_unchanged) == (1, 3)
    after = store.snapshot()
    assert after.nodes["csmo"]["region"] == "Montréal"
    for n in ("aero", "poly", "ville"):
        assert after.nodes[n] == before.nodes[n]


def _as_fields(rec):
    return {f: getattr(rec, f) for f in rec.__dataclass_fields__}


def test_changing_clusters_moves_part_of(store):
    orgs, rels = _small_graph()
    store.upsert(organizations=orgs, relationships=rels)
    moved = [make_org(**{**_as_fields(o), "clusters": ("Sciences de la vie",)}) if o.id == "aero" else o for o in orgs]
    store.upsert(organizations=moved, relationships=rels)
    G = store.snapshot()
    assert {v for _, v, k in G.out_edges("aero", keys=True) if k == "PART_OF"} == {"sciences-de-la-vie"}


def test_type_change_relabels(store):
    orgs, _ = _small_graph()
    store.upsert(organizations=orgs)
    store.upsert(organizations=[make_org(**{**_as_fields(orgs[0]), "type": "association"})])
    assert store.snapshot().nodes["aero"]["type"] == "association"
    assert store.counts()["nodes"]["association"] == 1
    assert "company" not in store.counts()["nodes"]


def test_snapshot_round_trips_text_lists_and_dates(store):
    orgs, rels = _small_graph()
    store.upsert(organizations=orgs, relationships=rels, source="membres.csv")
    G = store.snapshot()
    assert isinstance(G, nx.MultiDiGraph)
    aero = G.nodes["aero"]
    assert aero["name"] == "Aéro Boréal inc."
    assert aero["type"] == "company"
    assert aero["sectors"] == ["aérospatiale", "matériaux"]
    assert aero["clusters"] == ["Aérospatiale"]
    assert aero["mandate"] == "Pièces d'œuvre pour l'aviation, Québec"
    assert aero["region"] == "Montréal"
    assert aero["source"] == "membres.csv" and "row" not in aero  # no row given: none stored
    assert G.nodes["csmo"]["name"] == "Comité sectoriel de main-d'œuvre en aérospatiale"
    assert G.nodes["poly"]["employees"] == 1200 and G.nodes["poly"]["website"] == "https://example.org"
    assert G.nodes["aerospatiale"] == {"id": "aerospatiale", "name": "Aérospatiale", "type": "cluster"}
    edge = G.edges["aero", "poly", "PARTNERS_WITH"]
    assert edge["weight"] == 2.5 and edge["since"] == dt.date(2019, 5, 1) and edge["type"] == "PARTNERS_WITH"
    assert G.edges["ville", "aero", "FUNDS"]["until"] == dt.date(2030, 12, 31)
    assert G.has_edge("csmo", "aerospatiale", "COORDINATES")
    assert G.number_of_nodes() == 6 and G.number_of_edges() == 8


def test_provenance_is_recorded(store):
    orgs, rels = _small_graph()
    orgs = [make_org(**{**_as_fields(o), "source_file": "membres.csv", "row": i + 2}) for i, o in enumerate(orgs)]
    summary = store.upsert(organizations=orgs, relationships=rels, source="lot.csv", import_id="imp-1")
    G = store.snapshot()
    assert G.nodes["poly"]["source"] == "membres.csv" and G.nodes["poly"]["row"] == 3
    assert G.nodes["poly"]["importId"] == "imp-1" and G.nodes["poly"]["importedAt"] == summary.imported_at
    edge = G.edges["aero", "poly", "PARTNERS_WITH"]
    assert edge["source"] == "lot.csv" and edge["importId"] == "imp-1"


def test_a_snapshot_without_provenance_is_the_snapshot_less_those_keys(store):
    from graph.base import PROVENANCE_PROPERTIES

    orgs, rels = _small_graph()
    orgs = [make_org(**{**_as_fields(o), "source_file": "membres.csv", "row": i + 2}) for i, o in enumerate(orgs)]
    store.upsert(organizations=orgs, relationships=rels, source="lot.csv")
    full, slim = store.snapshot(), store.snapshot(provenance=False)
    assert any("importId" in d for _, d in full.nodes(data=True))  # there was something to leave out

    def strip(d):
        return {k: v for k, v in d.items() if k not in PROVENANCE_PROPERTIES}

    assert list(slim.nodes) == list(full.nodes)
    assert [d for _, d in slim.nodes(data=True)] == [strip(d) for _, d in full.nodes(data=True)]
    assert list(slim.edges(keys=True, data=True)) == [(u, v, k, strip(d)) for u, v, k, d in full.edges(keys=True, data=True)]
    assert _has_no_provenance(slim)
    # Filters still apply.
    assert set(store.snapshot(clusters=["Sciences de la vie"], provenance=False)) == {"poly", "sciences-de-la-vie"}


def _has_no_provenance(G) -> bool:
    from graph.base import PROVENANCE_PROPERTIES

    return not any(set(PROVENANCE_PROPERTIES) & set(d) for _, d in G.nodes(data=True)) and not any(
        set(PROVENANCE_PROPERTIES) & set(d) for *_, d in G.edges(keys=True, data=True))


def test_filtered_snapshot(store):
    orgs, rels = _small_graph()
    store.upsert(organizations=orgs, relationships=rels)
    G = store.snapshot(clusters=["Sciences de la vie"])
    assert set(G.nodes) == {"poly", "sciences-de-la-vie"}
    G = store.snapshot(types=["company", "institution"])
    assert {n for n, d in G.nodes(data=True) if d["type"] != "cluster"} == {"aero", "poly"}
    assert set(G.edges(keys=True)) >= {("aero", "poly", "PARTNERS_WITH")}
    assert not any(k == "FUNDS" for _, _, k in G.edges(keys=True))


def test_failing_batch_leaves_nothing_of_the_import(store):
    orgs, rels = _small_graph()
    store.upsert(organizations=orgs[:2], relationships=rels[:1], source="first.csv")
    before_counts, before = store.counts(), _fingerprint(store.snapshot())
    # Many good rows, then one relationship to nowhere in a later batch: the whole import fails.
    many = [make_org(id=f"new-{i}", name=f"Nouvelle {i}", clusters=("Mode",)) for i in range(1200)]
    bad_rels = [make_rel(source=f"new-{i}", target="aero", type="PARTNERS_WITH") for i in range(1200)]
    bad_rels.append(make_rel(source="new-1", target="nowhere", type="PARTNERS_WITH"))
    with pytest.raises(ImportFailed, match="nowhere"):
        store.upsert(organizations=many, relationships=bad_rels, source="second.csv")
    assert store.counts() == before_counts
    assert _fingerprint(store.snapshot()) == before


def test_replace_source_removes_what_the_file_no_longer_has(store):
    orgs, rels = _small_graph()
    orgs = [make_org(**{**_as_fields(o), "source_file": "membres.csv"}) for o in orgs]
    rels = [make_rel(**{**_as_fields(r), "source_file": "liens.csv"}) for r in rels]
    store.upsert(organizations=orgs, relationships=rels)
    kept_orgs = [o for o in orgs if o.id != "ville"]
    kept_rels = [r for r in rels if r.type not in ("FUNDS", "MEMBER_OF")]
    summary = store.upsert(organizations=kept_orgs, relationships=kept_rels, replace_source=True)
    assert summary.organizations_removed == 1
    assert summary.relationships_removed == 1  # MEMBER_OF; FUNDS left with its funder
    G = store.snapshot()
    assert "ville" not in G and not G.has_edge("aero", "csmo")
    assert G.has_edge("aero", "aerospatiale", "PART_OF")


def test_analysis_results_replace_previous_run(store):
    orgs, rels = _small_graph()
    store.upsert(organizations=orgs, relationships=rels)
    first = store.write_analysis_results(
        analysis="gaps", parameters={"top": 10},
        relationships=[{"type": "SUGGESTED_PARTNER", "source": "poly", "target": "csmo", "properties": {"score": 0.9, "reasons": "Both work with Aéro Boréal inc."}}],
    )
    second = store.write_analysis_results(
        analysis="gaps", parameters={"top": 5},
        relationships=[
            {"type": "SUGGESTED_PARTNER", "source": "poly", "target": "ville", "properties": {"score": 0.5}},
            {"type": "SUGGESTED_PARTNER", "source": "csmo", "target": "ville", "properties": {"score": 0.4}},
        ],
    )
    store.write_analysis_results(
        analysis="duplicates", parameters={},
        groups=[{"id": "g1", "members": ["aero", "csmo"], "properties": {"score": 0.8}}],
    )
    assert first != second
    res = store.analysis_results("gaps")
    assert res.run["id"] == second and res.run["analysis"] == "gaps" and '"top": 5' in res.run["parameters"]
    assert sorted((r["source"], r["target"]) for r in res.relationships) == [("csmo", "ville"), ("poly", "ville")]
    assert all(r["properties"]["runId"] == second for r in res.relationships)
    dup = store.analysis_results("duplicates")
    assert dup.groups[0]["members"] == ["aero", "csmo"] and dup.groups[0]["properties"]["score"] == 0.8
    # Results are not part of the analysis graph.
    assert not any(k == "SUGGESTED_PARTNER" for _, _, k in store.snapshot().edges(keys=True))


def test_existing_ids_and_names(store):
    orgs, rels = _small_graph()
    store.upsert(organizations=orgs, relationships=rels)
    assert store.existing_ids(["aero", "aerospatiale", "missing"]) == {"aero", "aerospatiale"}
    assert ("ville", "Ville de Longueuil", "government") in store.organization_names()
    assert store.organization("poly")["name"] == "Polytechnique Fictive"
    assert store.organization("missing") is None


def test_memory_store_persists_to_its_file(tmp_path):
    from graph.memory_store import MemoryStore

    path = tmp_path / "graph.json"
    orgs, rels = _small_graph()
    MemoryStore(path).upsert(organizations=orgs, relationships=rels)
    again = MemoryStore(path)
    assert _fingerprint(again.snapshot()) == _fingerprint(MemoryStore(path).snapshot())
    assert again.snapshot().edges["aero", "poly", "PARTNERS_WITH"]["since"] == dt.date(2019, 5, 1)


def test_memory_store_has_no_cypher(memory_store):
    from maillage.errors import CypherUnavailable

    with pytest.raises(CypherUnavailable, match="needs Neo4j"):
        memory_store.run_query("MATCH (n) RETURN n")
