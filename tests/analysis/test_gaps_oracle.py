"""Partnership suggestions: every network score equals networkx's reference function.

The oracle is networkx's ``common_neighbors``, ``jaccard_coefficient``, ``adamic_adar_index``
and ``resource_allocation_index`` on the partnership network (analysis._network), evaluated on
exactly the pairs that suggest_partnerships returns.
"""

from __future__ import annotations

import random

import networkx as nx
import pytest

from analysis import suggest_partnerships
from analysis._network import partnership_network

TYPES = ["company", "institution", "government", "workforce_committee", "association", "structure"]


def _snapshot(n: int, p: float, seed: int) -> nx.MultiDiGraph:
    rng = random.Random(seed)
    base = nx.gnp_random_graph(n, p, seed=seed)
    G = nx.MultiDiGraph()
    for v in base:
        G.add_node(f"o{v}", name=f"Organisation {v}", type=rng.choice(TYPES),
                   sectors=rng.sample(["aéro", "santé", "TI"], rng.randint(0, 2)),
                   clusters=rng.sample(["Aérospatiale", "Sciences de la vie"], rng.randint(0, 1)))
    for u, v in base.edges():
        # Both directions and parallel types collapse to one tie in the partnership network.
        G.add_edge(f"o{u}", f"o{v}", type=rng.choice(["PARTNERS_WITH", "MEMBER_OF", "FUNDS", "PARTICIPATES_IN"]))
        if rng.random() < 0.2:
            G.add_edge(f"o{v}", f"o{u}", type="PARTNERS_WITH")
    return G


@pytest.mark.parametrize("n, p, seed", [(40, 0.08, 1), (80, 0.05, 2), (120, 0.03, 3), (60, 0.2, 4), (200, 0.02, 5)])
def test_scores_equal_networkx_on_random_graphs(n, p, seed):
    G = _snapshot(n, p, seed)
    H = partnership_network(G)
    df = suggest_partnerships(G, top=None)
    assert len(df) > 0
    pairs = list(zip(df["source"], df["target"]))
    assert all(not H.has_edge(a, b) and a != b for a, b in pairs), "suggested pairs must be unlinked"
    jac = {frozenset((u, v)): s for u, v, s in nx.jaccard_coefficient(H, pairs)}
    aa = {frozenset((u, v)): s for u, v, s in nx.adamic_adar_index(H, pairs)}
    ra = {frozenset((u, v)): s for u, v, s in nx.resource_allocation_index(H, pairs)}
    for row in df.itertuples():
        key = frozenset((row.source, row.target))
        assert row.common_partners == len(list(nx.common_neighbors(H, row.source, row.target)))
        assert row.jaccard == pytest.approx(jac[key], abs=1e-9)
        assert row.adamic_adar == pytest.approx(aa[key], abs=1e-9)
        assert row.resource_allocation == pytest.approx(ra[key], abs=1e-9)


def test_every_unlinked_pair_two_hops_apart_is_a_candidate():
    G = _snapshot(60, 0.06, 11)
    H = partnership_network(G)
    df = suggest_partnerships(G, top=None)
    found = {frozenset(p) for p in zip(df["source"], df["target"])}
    for u in H:
        for w in H[u]:
            for v in H[w]:
                if v != u and not H.has_edge(u, v):
                    assert frozenset((u, v)) in found


def test_clusters_are_signals_not_neighbours():
    # Two companies in one cluster and nothing else: the cluster node must not make them
    # "common partners" of each other.
    G = nx.MultiDiGraph()
    G.add_node("k", type="cluster", name="Aérospatiale")
    for n in ("a", "b"):
        G.add_node(n, name=n, type="company", clusters=["Aérospatiale"])
        G.add_edge(n, "k", type="PART_OF")
    df = suggest_partnerships(G, top=None)
    if len(df):
        row = df.iloc[0]
        assert row["common_partners"] == 0 and row["shared_clusters"]


def test_reasons_name_the_shared_partners_in_both_languages():
    G = nx.MultiDiGraph()
    G.add_node("c", name="Aéro Boréal", type="company", sectors=["aéro"])
    G.add_node("u", name="Polytechnique Fictive", type="institution", sectors=["aéro"])
    G.add_node("m", name="CRIAQ Fictif", type="structure")
    G.add_edge("c", "m", type="PARTNERS_WITH")
    G.add_edge("u", "m", type="PARTNERS_WITH")
    en = suggest_partnerships(G, top=1, lang="en").iloc[0]
    fr = suggest_partnerships(G, top=1, lang="fr").iloc[0]
    assert {en["source"], en["target"]} == {"c", "u"}
    assert "CRIAQ Fictif" in en["reasons"] and "CRIAQ Fictif" in fr["reasons"]
    assert en["reasons"] != fr["reasons"]
    assert en["complementarity"] > 0  # a company and a research institution
