"""Overlapping organizations and duplicated structures: exact set arithmetic, explained."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pandas as pd
import pytest

from analysis import duplicate_records, find_duplicate_structures, find_overlaps
from analysis._network import partnership_network
from analysis.overlaps import mandate_similarity
from tests.analysis.classic import load_classic


def _random_snapshot(n: int, p: float, seed: int) -> nx.MultiDiGraph:
    rng = random.Random(seed)
    base = nx.gnp_random_graph(n, p, seed=seed)
    G = nx.MultiDiGraph()
    sectors = ["aéro", "santé", "TI", "mode"]
    for v in base:
        G.add_node(v, name=f"Org {v}", type=rng.choice(["company", "institution", "association"]),
                   sectors=rng.sample(sectors, rng.randint(0, 2)), region=rng.choice(["Laval", "Montréal", None]))
    for u, v in base.edges():
        G.add_edge(u, v, type=rng.choice(["PARTNERS_WITH", "MEMBER_OF", "FUNDS"]))
    return G


@pytest.mark.parametrize("n, p, seed", [(30, 0.1, 1), (60, 0.05, 2), (40, 0.3, 3)])
def test_indexes_equal_set_arithmetic_and_networkx(n, p, seed):
    G = _random_snapshot(n, p, seed)
    df = find_overlaps(G, min_score=0.0)
    H = partnership_network(G)
    members = {v: {t for _, t, d in G.out_edges(v, data=True) if d["type"] in ("MEMBER_OF", "PARTICIPATES_IN")} for v in G}
    assert len(df) > 0
    for row in df.itertuples():
        a, b = row.a, row.b
        na, nb = set(H[a]) - {b}, set(H[b]) - {a}
        union = na | nb
        assert row.partner_jaccard == pytest.approx(len(na & nb) / len(union) if union else 0.0, abs=1e-12)
        if not H.has_edge(a, b):
            # For unlinked pairs, the partner index is networkx's Jaccard coefficient.
            nxj = next(nx.jaccard_coefficient(H, [(a, b)]))[2]
            assert row.partner_jaccard == pytest.approx(nxj, abs=1e-9)
        mu = members[a] | members[b]
        assert row.membership_jaccard == pytest.approx(len(members[a] & members[b]) / len(mu) if mu else 0.0, abs=1e-12)
        sa, sb = {s.lower() for s in G.nodes[a]["sectors"]}, {s.lower() for s in G.nodes[b]["sectors"]}
        assert row.sector_jaccard == pytest.approx(len(sa & sb) / len(sa | sb) if sa | sb else 0.0, abs=1e-12)
        assert row.same_region == (G.nodes[a]["region"] is not None and G.nodes[a]["region"] == G.nodes[b]["region"])


def test_every_pair_sharing_a_partner_is_a_candidate():
    G = _random_snapshot(50, 0.08, 7)
    df = find_overlaps(G, min_score=0.0)
    H = partnership_network(G)
    found = {frozenset((r.a, r.b)) for r in df.itertuples()}
    for a, b in itertools.combinations(H.nodes, 2):
        if set(H[a]) & set(H[b]):
            assert frozenset((a, b)) in found


def test_min_score_filters_and_rows_are_sorted():
    G = _random_snapshot(60, 0.1, 4)
    df = find_overlaps(G, min_score=0.3)
    assert (df["score"] >= 0.3).all()
    assert list(df["score"]) == sorted(df["score"], reverse=True)


def test_reasons_in_both_languages():
    G = nx.MultiDiGraph()
    for n in ("a", "b"):
        G.add_node(n, name=f"Chambre {n.upper()}", type="association", sectors=["Commerce"], region="Longueuil",
                   mandate="Représenter les entreprises de la Rive-Sud")
    G.add_node("f", name="Fédération des chambres", type="association")
    G.add_edge("a", "f", type="MEMBER_OF")
    G.add_edge("b", "f", type="MEMBER_OF")
    en = find_overlaps(G).loc[0, "reasons"]
    fr = find_overlaps(G, lang="fr").loc[0, "reasons"]
    assert en == ("Both are members of Fédération des chambres; 1 partner in common (100% of their partners); "
                  "same sectors (Commerce); both in Longueuil; mandates 100% alike.")
    assert fr == ("Sont tous deux membres de Fédération des chambres ; 1 partenaire en commun (100 % de leurs partenaires) ; "
                  "mêmes secteurs (Commerce) ; tous deux en région : Longueuil ; mandats semblables à 100 %.")


def test_mandate_similarity_folds_accents_and_french_stop_words():
    assert mandate_similarity("Le développement de la main-d'œuvre", "developpement main d'oeuvre") == pytest.approx(1.0)
    assert mandate_similarity("", "quelque chose") == 0.0


def test_galaskiewicz_ceos_sharing_most_clubs_overlap_most():
    # In the CEOs-and-clubs affiliation network the only signal is membership: the pair with
    # the highest membership Jaccard index, computed by hand from the incidence matrix, must
    # lead the overlap table.
    G = load_classic("galaskiewicz")
    ceos = [v for v, d in G.nodes(data=True) if d["type"] == "company"]
    clubs = {v: {t for _, t in G.out_edges(v)} for v in ceos}
    best = max(itertools.combinations(sorted(ceos), 2),
               key=lambda p: len(clubs[p[0]] & clubs[p[1]]) / len(clubs[p[0]] | clubs[p[1]]))
    best_j = len(clubs[best[0]] & clubs[best[1]]) / len(clubs[best[0]] | clubs[best[1]])
    df = find_overlaps(G, min_score=0.0)
    ceo_pairs = df[df["a_type"].eq("company") & df["b_type"].eq("company")]
    assert ceo_pairs["membership_jaccard"].max() == pytest.approx(best_j)


def test_duplicate_structures_group_three_copies():
    G = nx.MultiDiGraph()
    mandate = "Attirer et retenir les talents en aérospatiale"
    for s in ("wg1", "wg2", "wg3"):
        G.add_node(s, name=f"Groupe {s}", type="structure", mandate=mandate)
    G.add_node("other", name="Comité export", type="structure", mandate="Exporter vers l'Europe")
    for m in range(6):
        G.add_node(m, name=f"Membre {m}", type="company")
        for s in ("wg1", "wg2", "wg3"):
            G.add_edge(m, s, type="MEMBER_OF")
    G.add_edge(0, "other", type="MEMBER_OF")
    df = find_duplicate_structures(G)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["members"] == ["wg1", "wg2", "wg3"] and row["shared_members"] == 6
    assert row["member_jaccard"] == pytest.approx(1.0) and row["mandate_similarity"] == pytest.approx(1.0)
    assert "candidates for a merger" in row["reasons"]
    assert "candidats à une fusion" in find_duplicate_structures(G, lang="fr").iloc[0]["reasons"]


def test_structures_with_different_members_are_not_duplicates():
    G = nx.MultiDiGraph()
    G.add_node("s1", type="structure", mandate="Same words here")
    G.add_node("s2", type="structure", mandate="Same words here")
    for m in range(4):
        G.add_edge(f"x{m}", "s1", type="MEMBER_OF")
        G.add_edge(f"y{m}", "s2", type="MEMBER_OF")
    G.add_edge("x0", "s2", type="MEMBER_OF")
    assert find_duplicate_structures(G).empty


def test_duplicate_records_reuse_the_loaders_matcher():
    G = nx.Graph()
    G.add_node("u1", name="Université de Montréal", type="institution")
    G.add_node("u2", name="Univ. de Montréal", type="institution")
    G.add_node("k", name="Aérospatiale Nord", type="cluster")
    df = duplicate_records(G)
    assert df[["id_a", "id_b"]].values.tolist() == [["u1", "u2"]]


def test_tolerates_graphs_without_attributes():
    df = find_overlaps(nx.path_graph(5), min_score=0.0)
    assert isinstance(df, pd.DataFrame) and set(df.columns) >= {"a", "b", "score", "reasons"}
