"""Communities against declared clusters: modularity, ARI and NMI against their reference
implementations, planted partitions, and the classic networks."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from analysis import communities
from analysis.communities import METHODS, modularity
from maillage.errors import InputError
from tests.analysis.classic import load_classic
from tests.analysis.random_snapshots import make_snapshot, oracle_network


def make_planted(sizes=(20, 20, 20), p_in=0.5, p_out=0.01, *, seed=0, names=("A", "B", "C")) -> nx.Graph:
    """Dense groups, sparse between; each node declares the cluster of its group."""
    G = nx.random_partition_graph(list(sizes), p_in, p_out, seed=seed)
    for node in G:
        G.nodes[node]["clusters"] = [names[G.nodes[node]["block"]]]
    return G


@pytest.mark.parametrize("resolution", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_modularity_equals_networkx(resolution, weighted):
    G = make_snapshot(80, 0.08, seed=1)
    H = oracle_network(G, weighted=weighted)
    df = communities(G, resolution=resolution, weight="weight" if weighted else None)
    parts = [set(g.id) for _, g in df.groupby("community")]
    expected = nx.community.modularity(H, parts, weight="weight" if weighted else None, resolution=resolution)
    assert df.attrs["modularity"] == pytest.approx(expected, abs=1e-9)


def test_modularity_of_a_random_partition_equals_networkx():
    G = nx.gnm_random_graph(50, 200, seed=2)
    rng = np.random.default_rng(0)
    label = rng.integers(0, 4, 50)
    u, v = np.array(G.edges()).T
    parts = [set(np.flatnonzero(label == c)) for c in range(4)]
    assert modularity(u, v, np.ones(len(u)), label) == pytest.approx(nx.community.modularity(G, parts))


@pytest.mark.parametrize("method", METHODS)
def test_planted_clusters_are_recovered(method):
    df = communities(make_planted(), method=method)
    assert df.attrs["ari"] == pytest.approx(1.0)
    assert df.attrs["nmi"] == pytest.approx(1.0)
    assert df.attrs["n_communities"] == 3
    assert not df.misplaced.any()


@pytest.mark.parametrize("method", METHODS)
def test_an_organization_declared_in_the_wrong_cluster_is_misplaced(method):
    G = make_planted()
    G.nodes[0]["clusters"] = ["B"]  # node 0 works inside group A
    df = communities(G, method=method).set_index("id")
    assert df.index[df.misplaced].tolist() == [0]
    assert df.loc[0, "declared_cluster"] == "B"
    assert df.loc[0, "dominant_community_of_cluster"] == df.loc[25, "community"]  # group B's
    assert df.loc[0, "community"] == df.loc[1, "community"]  # with group A


def test_ari_and_nmi_compare_only_organizations_with_exactly_one_cluster():
    G = make_planted(seed=3)
    G.nodes[1]["clusters"] = ["A", "B"]  # multi-cluster: left out of the comparison
    G.nodes[2]["clusters"] = []  # no cluster: left out, never misplaced
    G.nodes[3]["clusters"] = ["C"]  # a mistake: counts against the score
    df = communities(G)
    single = df[df.declared_clusters.map(len) == 1]
    assert df.attrs["n_compared"] == len(single) == 58
    assert df.attrs["ari"] == pytest.approx(adjusted_rand_score(single.declared_cluster, single.community))
    assert df.attrs["nmi"] == pytest.approx(normalized_mutual_info_score(single.declared_cluster, single.community))
    assert df.attrs["ari"] < 1.0
    rows = df.set_index("id")
    # Node 1 sits in A's dominant community, so A is its declared_cluster and it is not misplaced.
    assert rows.loc[1, "declared_clusters"] == ["A", "B"]
    assert rows.loc[1, "declared_cluster"] == "A" and not rows.loc[1, "misplaced"]
    assert pd.isna(rows.loc[2, "declared_cluster"]) and not rows.loc[2, "misplaced"]
    assert rows.loc[2, "dominant_community_of_cluster"] is pd.NA
    assert rows.loc[3, "misplaced"]


def test_a_multi_cluster_organization_outside_all_its_clusters_is_misplaced():
    G = make_planted(seed=4)
    G.nodes[0]["clusters"] = ["B", "C"]  # works in A
    rows = communities(G).set_index("id")
    assert rows.loc[0, "misplaced"]
    assert rows.loc[0, "declared_cluster"] == "B"  # first by name when none is home


def test_communities_are_numbered_by_size():
    df = communities(make_planted(sizes=(10, 30, 20), seed=5))
    sizes = df.groupby("community").size()
    assert list(sizes) == sorted(sizes, reverse=True) == [30, 20, 10]
    assert (df.community_size == df.community.map(sizes)).all()


def test_same_seed_same_communities_and_caller_random_state_untouched():
    G = make_snapshot(150, 0.03, seed=6)
    random.seed(123)
    expected_next = random.random()
    random.seed(123)
    a = communities(G, seed=11)
    assert random.random() == expected_next
    b = communities(G, seed=11)
    assert a.equals(b)


def test_igraph_louvain_matches_networkx_modularity():
    # The fast methods must be as good as the reference: within 0.01 of networkx's Louvain.
    G = nx.powerlaw_cluster_graph(800, 3, 0.4, seed=7)
    ref = communities(G, method="networkx").attrs["modularity"]
    for method in ("louvain", "leiden"):
        assert communities(G, method=method).attrs["modularity"] >= ref - 0.01


def test_unknown_method_is_refused_with_the_choices():
    with pytest.raises(InputError, match="louvain, leiden, networkx"):
        communities(nx.path_graph(3), method="spectral")


def test_graph_without_clusters_has_no_comparison():
    df = communities(load_classic("galaskiewicz"))
    assert np.isnan(df.attrs["ari"]) and np.isnan(df.attrs["nmi"])
    assert df.attrs["n_compared"] == 0 and not df.misplaced.any()


def test_empty_graph_gives_an_empty_frame():
    df = communities(nx.Graph())
    assert df.empty and df.attrs["n_communities"] == 0


# --- the classic networks -------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_knokes_city_has_no_community_structure_and_sectors_do_not_divide_it(method):
    # Knoke's ten organizations of one policy domain exchange information and money across
    # sectors (public, private, voluntary) with nearly everyone: modularity is close to zero
    # (nothing to find), and the communities found say nothing about sector (|ARI| small).
    G = load_classic("knoke")
    for _, d in G.nodes(data=True):
        d["clusters"] = [d["sector"]]
    df = communities(G, method=method)
    assert df.attrs["modularity"] < 0.1
    assert abs(df.attrs["ari"]) < 0.2
    assert df.attrs["nmi"] < 0.2


@pytest.mark.parametrize("method", METHODS)
def test_emon_communities_never_mix_two_disasters(method):
    # The seven disasters never shared an organization or a tie, so no community can span two
    # (homogeneity 1), and communities match the networks closely (NMI above 0.9). They are
    # not identical: Mt. Si's search had five organizations with no recorded tie, each a
    # community of its own, and Wichita had one.
    G = load_classic("emon")
    df = communities(G, method=method)
    assert df.groupby("community").declared_cluster.nunique().max() == 1
    assert df.attrs["nmi"] > 0.9
    assert df.attrs["modularity"] > 0.7
    # Each disaster's dominant community holds all its connected organizations except where
    # Louvain splits a network: every organization outside its dominant community is a
    # misplaced one, and isolated organizations always are.
    isolated = df[df.community_size == 1]
    assert len(isolated) == 6 and isolated.misplaced.all()


def test_galaskiewicz_clubs_group_with_their_members():
    # An affiliation network: every community that holds a club also holds CEOs who belong to
    # it, and every CEO shares a community with at least one of its clubs.
    G = load_classic("galaskiewicz")
    df = communities(G).set_index("id")
    for ceo in (n for n in df.index if n.startswith("CEO")):
        clubs = list(G.successors(ceo))
        assert any(df.loc[c, "community"] == df.loc[ceo, "community"] for c in clubs), ceo
    assert df.attrs["modularity"] > 0.25
