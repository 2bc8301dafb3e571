"""What-if simulation: every measure against networkx before and after, the path sample, the
summary sentences, and proposed programmes on the classic networks."""

from __future__ import annotations

import math
import random

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from analysis import brokerage, simulate
from analysis.simulate import MEASURES
from maillage.errors import InputError
from tests.analysis.classic import load_classic
from tests.analysis.random_snapshots import make_snapshot, oracle_network


def _reference(H: nx.Graph, clusters: dict, *, weight=None) -> dict[str, float]:
    """The measures computed with networkx, as the docstring defines them."""
    lcc = max(nx.connected_components(H), key=len)
    constraint = [c for c in nx.constraint(H, weight=weight).values() if not math.isnan(c)]
    cross = sum(1 for u, v in H.edges() if clusters[u] and clusters[v] and not clusters[u] & clusters[v])
    return {
        "components": nx.number_connected_components(H),
        "largest_component": len(lcc),
        "average_shortest_path": nx.average_shortest_path_length(H.subgraph(lcc)) if len(lcc) > 1 else 0.0,
        "mean_constraint": float(np.mean(constraint)),
        "density": nx.density(H),
        "cross_cluster_links": cross,
        "transitivity": nx.transitivity(H),
    }


def _clusters(G):
    from analysis._network import node_clusters

    return {n: {c.casefold() for c in cs} for n, cs in node_clusters(G).items()}


def _random_pairs(G, k, seed):
    rng = random.Random(seed)
    nodes = [n for n, t in G.nodes(data="type") if t != "cluster"]
    return [tuple(rng.sample(nodes, 2)) for _ in range(k)]


@pytest.mark.parametrize(("n", "p"), [(30, 0.08), (80, 0.03), (120, 0.06)])
@pytest.mark.parametrize("weighted", [False, True])
def test_measures_before_and_after_equal_networkx(n, p, weighted):
    G = make_snapshot(n, p, seed=n)
    pairs = _random_pairs(G, 12, seed=1)
    w = "weight" if weighted else None
    df = simulate(G, pairs, weight=w, path_sample=None)
    H = oracle_network(G, weighted=weighted)
    clusters = _clusters(G)
    before = _reference(H, clusters, weight=w)
    for a, b in pairs:
        if not H.has_edge(a, b):
            H.add_edge(a, b, **({"weight": 1.0} if weighted else {}))  # a new partnership weighs 1
    after = _reference(H, clusters, weight=w)
    assert list(df.index) == list(MEASURES)
    for measure in MEASURES:
        assert df.loc[measure, "before"] == pytest.approx(before[measure], abs=1e-9), measure
        assert df.loc[measure, "after"] == pytest.approx(after[measure], abs=1e-9), measure
    assert (df["change"] == df["after"] - df["before"]).all()


def test_sampled_average_path_is_the_mean_over_the_sampled_sources():
    G = nx.connected_watts_strogatz_graph(300, 6, 0.1, seed=2)
    df = simulate(G, [(0, 150)], path_sample=40, path_exact_up_to=100, seed=5)
    assert df.attrs["path_exact"] == {"before": False, "after": False}
    assert df.attrs["path_sources"] == {"before": 40, "after": 40}
    sources = random.Random(5).sample(list(G.nodes()), 40)
    expected = np.mean([d for s in sources for t, d in nx.single_source_shortest_path_length(G, s).items() if t != s])
    assert df.loc["average_shortest_path", "before"] == pytest.approx(expected)
    # The estimate is close to the exact value, and the change is measured on the same sources.
    exact = nx.average_shortest_path_length(G)
    assert df.loc["average_shortest_path", "before"] == pytest.approx(exact, rel=0.03)
    H = G.copy()
    H.add_edge(0, 150)
    after = np.mean([d for s in sources for t, d in nx.single_source_shortest_path_length(H, s).items() if t != s])
    assert df.loc["average_shortest_path", "after"] == pytest.approx(after)


def test_average_path_is_exact_up_to_the_size_or_when_the_sample_covers_everyone():
    G = nx.connected_watts_strogatz_graph(60, 4, 0.1, seed=1)
    exact = nx.average_shortest_path_length(G)
    for kwargs in ({"path_sample": 5, "path_exact_up_to": 60}, {"path_sample": 60, "path_exact_up_to": 10},
                   {"path_sample": None, "path_exact_up_to": 10}):
        df = simulate(G, [], **kwargs)
        assert df.attrs["path_exact"] == {"before": True, "after": True}, kwargs
        assert df.loc["average_shortest_path", "before"] == pytest.approx(exact)
    sampled = simulate(G, [], path_sample=5, path_exact_up_to=59)
    assert sampled.attrs["path_exact"]["before"] is False


def test_pairs_from_a_dataframe_and_skipped_pairs_are_counted():
    G = nx.Graph([("a", "b"), ("c", "d")])
    proposals = pd.DataFrame({"source": ["b", "a", "c", "d"], "target": ["c", "b", "b", "d"], "score": [1, 2, 3, 4]})
    df = simulate(G, proposals)
    # b–c is new; a–b exists; c–b repeats b–c; d–d joins d to itself.
    assert (df.attrs["proposed"], df.attrs["added"], df.attrs["already_linked"]) == (4, 1, 3)
    assert df.loc["components", "after"] == 1


def test_unknown_ids_and_missing_columns_are_refused_with_the_fix():
    G = nx.MultiDiGraph()
    G.add_node("a", type="company")
    G.add_node("b", type="company")
    G.add_node("aero", type="cluster", name="Aéro")
    with pytest.raises(InputError, match="Unknown organization id.*zz.*cluster nodes cannot"):
        simulate(G, [("a", "zz")])
    with pytest.raises(InputError, match="aero"):
        simulate(G, [("a", "aero")])
    with pytest.raises(InputError, match=r"source, target missing .*found: a, b"):
        simulate(G, pd.DataFrame({"a": ["a"], "b": ["b"]}))


def test_summary_in_english_and_french():
    # Two pairs of organizations in different clusters; the new tie joins them into a path
    # a–b–c–d: one group of four, longer average distance (5/3 steps), mean constraint down
    # from 1 to 0.75 (b and c now split their ties in two), one link across clusters.
    G = nx.Graph()
    for n, c in zip("abcd", ["A", "A", "B", "B"]):
        G.add_node(n, clusters=[c])
    G.add_edges_from([("a", "b"), ("c", "d")])
    en = simulate(G, [("b", "c"), ("a", "b")]).attrs["summary"]
    fr = simulate(G, [("b", "c"), ("a", "b")], lang="fr").attrs["summary"]
    assert en == ("Adding 1 partnership (1 of the 2 proposed already linked or repeated) would merge "
                  "separate groups (2 → 1), bring 2 more organizations into the largest connected group "
                  "(2 → 4), lengthen the average distance in it from 1.00 to 1.67 steps, lower the mean "
                  "constraint from 1.000 to 0.750 and add 1 link between clusters (0 → 1).")
    assert fr == ("Ajouter 1 partenariat (sur 2 proposés, 1 déjà en place ou en double) réunirait des "
                  "groupes séparés (2 → 1), amènerait 2 organisations de plus dans le plus grand groupe "
                  "connecté (2 → 4), allongerait la distance moyenne entre elles de 1,00 à 1,67 étapes, "
                  "abaisserait la contrainte moyenne de 1,000 à 0,750 et ajouterait 1 lien entre grappes "
                  "(0 → 1).")


def test_nothing_new_changes_nothing():
    G = nx.Graph([("a", "b")])
    df = simulate(G, [("a", "b")])
    assert (df["change"] == 0).all()
    assert df.attrs["summary"] == "None of the 1 proposed partnerships is new: nothing would change."


# --- the classic networks -------------------------------------------------------------------


def test_linking_the_emon_coordinators_joins_seven_disasters_into_one_network():
    # A what-if a state emergency office might ask: if the best-connected agency of each
    # disaster had worked with the next one's, the seven networks (plus their six isolated
    # organizations, which stay apart) would become one: 13 components down to 7, the largest
    # holding all 134 connected organizations; each new tie crosses two clusters; adding six
    # ties to a dense network barely moves constraint and transitivity.
    G = load_classic("emon")
    b = brokerage(G)
    hubs = b[b.degree > 0].sort_values("degree", ascending=False).groupby(b.clusters.str[0]).head(1)
    hubs = hubs.sort_values("id").id.tolist()
    assert len(hubs) == 7
    df = simulate(G, list(zip(hubs, hubs[1:])))
    assert df.loc["components", "before"] == 13 and df.loc["components", "after"] == 7
    assert df.loc["largest_component", "after"] == 134
    assert df.loc["cross_cluster_links", "change"] == 6
    assert abs(df.loc["mean_constraint", "change"]) < 0.01
    assert abs(df.loc["transitivity", "change"]) < 0.02
    # Joining far-apart networks lengthens the average path: more pairs, farther apart.
    assert df.loc["average_shortest_path", "after"] > df.loc["average_shortest_path", "before"]


def test_marrying_the_medicis_rivals_lowers_their_brokerage():
    # Padgett's Florence: the Medici brokered between families that did not marry each other.
    # A marriage between the Albizzi and the Tornabuoni, both Medici in-laws, closes a
    # structural hole: transitivity rises, and the Medici's constraint rises with it.
    G = load_classic("padgett")
    df = simulate(G, [("Albizzi", "Tornabuoni")])
    assert df.loc["transitivity", "change"] > 0
    assert df.loc["components", "after"] == df.loc["components", "before"] == 1
    H = G.copy()
    H.add_edge("Albizzi", "Tornabuoni", key="PARTNERS_WITH", type="PARTNERS_WITH")
    before = brokerage(G).set_index("id").loc["Medici", "constraint"]
    after = brokerage(H).set_index("id").loc["Medici", "constraint"]
    assert after > before
