"""Brokerage, cluster bridges and critical links: networkx as the oracle, hand-checked graphs,
and the classic networks where the answer is known."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from analysis import _graphops, brokerage, cluster_bridges
from analysis._network import partnership_network
from analysis.brokers import critical_links
from maillage.errors import InputError
from tests.analysis.classic import load_classic
from tests.analysis.random_snapshots import make_snapshot, oracle_network

SHAPES = [(12, 0.4), (40, 0.05), (60, 0.5), (150, 0.04), (250, 0.1)]


def _by_id(df, column):
    return dict(zip(df["id"], df[column]))


def _assert_same(ours: dict, theirs: dict, tol=1e-9):
    assert set(ours) == set(theirs)
    for node, expected in theirs.items():
        if math.isnan(expected):
            assert math.isnan(ours[node]), node
        else:
            assert ours[node] == pytest.approx(expected, abs=tol, rel=tol), node


# --- Burt's measures against networkx ------------------------------------------------------


@pytest.mark.parametrize(("n", "p"), SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_unweighted_constraint_and_effective_size_equal_networkx(n, p, seed):
    G = make_snapshot(n, p, seed=seed)
    H = oracle_network(G, weighted=False)
    df = brokerage(G)
    _assert_same(_by_id(df, "constraint"), nx.constraint(H))
    _assert_same(_by_id(df, "effective_size"), nx.effective_size(H))


@pytest.mark.parametrize(("n", "p"), [(12, 0.4), (40, 0.05), (50, 0.2), (150, 0.04)])
@pytest.mark.parametrize("seed", [0, 1])
def test_weighted_constraint_and_effective_size_equal_networkx(n, p, seed):
    # Parallel relationships between a pair sum into one tie weight, missing weights count 1:
    # partnership_network(G, weight=...) builds exactly that graph for networkx.
    G = make_snapshot(n, p, seed=seed, parallel=0.5)
    H = oracle_network(G, weighted=True)
    df = brokerage(G, weight="weight")
    _assert_same(_by_id(df, "constraint"), nx.constraint(H, weight="weight"))
    # networkx 3.6's all-nodes effective_size normalises by the wrong axis when weighted
    # (networkx PR #8906); its per-node path follows Burt and is the oracle here.
    _assert_same(_by_id(df, "effective_size"), nx.effective_size(H, nodes=list(H), weight="weight"))


def test_triangles_found_in_many_small_chunks_give_the_same_measures(monkeypatch):
    # A hub-heavy graph (many triangles through high-degree nodes) processed a few wedges at a
    # time must give the values of a single pass: no triangle lost or counted twice.
    G = nx.powerlaw_cluster_graph(300, 4, 0.6, seed=3)
    expected = brokerage(G)
    monkeypatch.setattr(_graphops, "_WEDGE_CHUNK", 7)
    chunked = brokerage(G)
    _assert_same(_by_id(chunked, "constraint"), _by_id(expected, "constraint"), tol=1e-12)
    _assert_same(_by_id(chunked, "effective_size"), nx.effective_size(G))


def test_star_center_has_constraint_one_over_k_and_leaves_one():
    # By hand: the center gives 1/k of its ties to each of k unconnected leaves, so
    # c = k * (1/k)^2 = 1/k and e = k; a leaf has one tie: c = 1, e = 1.
    k = 5
    df = brokerage(nx.star_graph(k))
    c, e = _by_id(df, "constraint"), _by_id(df, "effective_size")
    assert c[0] == pytest.approx(1 / k)
    assert e[0] == pytest.approx(k)
    assert all(c[i] == pytest.approx(1.0) and e[i] == pytest.approx(1.0) for i in range(1, k + 1))
    assert _by_id(df, "efficiency")[0] == pytest.approx(1.0)


def test_weighted_constraint_of_a_path_by_hand():
    # a -1- b -3- c: b gives 1/4 of its tie weight to a and 3/4 to c, who do not know each
    # other, so c(b) = (1/4)^2 + (3/4)^2 = 0.625; a and c have a single tie: constraint 1.
    # Effective size of b: a and c are not tied, so nothing is redundant: 2.
    G = nx.Graph()
    G.add_edge("a", "b", weight=1)
    G.add_edge("b", "c", weight=3)
    df = brokerage(G, weight="weight")
    assert _by_id(df, "constraint") == pytest.approx({"a": 1.0, "b": 0.625, "c": 1.0})
    assert _by_id(df, "effective_size")["b"] == pytest.approx(2.0)


def test_isolated_organization_has_nan_measures_and_degree_zero():
    G = nx.Graph([("a", "b")])
    G.add_node("lonely")
    row = brokerage(G).set_index("id").loc["lonely"]
    assert row["degree"] == 0
    assert math.isnan(row["constraint"]) and math.isnan(row["effective_size"])
    assert row["betweenness"] == 0.0


def test_non_positive_weight_is_refused_with_the_fix():
    G = nx.Graph()
    G.add_edge("a", "b", weight=0)
    with pytest.raises(ValueError, match="weight=None"):
        brokerage(G, weight="weight")


# --- betweenness ----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "p"), SHAPES)
def test_exact_betweenness_equals_networkx(n, p):
    G = make_snapshot(n, p, seed=5)
    H = oracle_network(G, weighted=False)
    df = brokerage(G, betweenness_sample=None)
    _assert_same(_by_id(df, "betweenness"), nx.betweenness_centrality(H))
    assert df.attrs["betweenness_exact"] is True
    assert df.attrs["betweenness_sources"] == H.number_of_nodes()


@pytest.mark.parametrize("seed", [0, 7])
def test_sampled_betweenness_equals_networkx_with_the_same_sample(seed):
    # Above the sample size networkx draws random.Random(seed).sample(nodes, k) sources and
    # rescales source and non-source nodes apart; brokerage draws and rescales the same way.
    G = make_snapshot(120, 0.05, seed=2)
    H = oracle_network(G, weighted=False)
    df = brokerage(G, betweenness_sample=30, betweenness_exact_up_to=100, seed=seed)
    _assert_same(_by_id(df, "betweenness"), nx.betweenness_centrality(H, k=30, seed=seed))
    assert df.attrs["betweenness_exact"] is False
    assert df.attrs["betweenness_sources"] == 30


def test_betweenness_is_exact_up_to_the_size_or_when_the_sample_covers_everyone():
    G = make_snapshot(40, 0.1, seed=4)  # 40 + 2 isolated organizations
    assert brokerage(G, betweenness_sample=5, betweenness_exact_up_to=42).attrs["betweenness_exact"] is True
    assert brokerage(G, betweenness_sample=5, betweenness_exact_up_to=41).attrs["betweenness_exact"] is False
    assert brokerage(G, betweenness_sample=42, betweenness_exact_up_to=10).attrs["betweenness_exact"] is True
    assert brokerage(G, betweenness_sample=None, betweenness_exact_up_to=10).attrs["betweenness_exact"] is True


# --- clusters bridged, articulation points -------------------------------------------------


def test_clusters_bridged_are_partners_clusters_other_than_its_own():
    G = nx.Graph()
    G.add_node("hub", clusters=["Aero"])
    G.add_node("x", clusters=["Aero"])
    G.add_node("y", clusters=["Bio", "TIC"])
    G.add_node("z")  # no cluster: bridges nothing
    G.add_edges_from([("hub", "x"), ("hub", "y"), ("hub", "z")])
    df = brokerage(G).set_index("id")
    assert df.loc["hub", "clusters_bridged"] == ["Bio", "TIC"]
    assert df.loc["hub", "n_clusters_bridged"] == 2
    assert df.loc["y", "clusters_bridged"] == ["Aero"]
    assert df.loc["z", "clusters_bridged"] == ["Aero"]


def test_part_of_edges_count_as_clusters():
    G = nx.MultiDiGraph()
    G.add_node("aero", type="cluster", name="Aérospatiale")
    G.add_node("a", type="company")
    G.add_node("b", type="company")
    G.add_edge("a", "aero", key="PART_OF", type="PART_OF")
    G.add_edge("b", "a", key="PARTNERS_WITH", type="PARTNERS_WITH")
    df = brokerage(G).set_index("id")
    assert "aero" not in df.index  # cluster nodes are not organizations
    assert df.loc["a", "clusters"] == ["Aérospatiale"]
    assert df.loc["b", "clusters_bridged"] == ["Aérospatiale"]


@pytest.mark.parametrize("seed", range(4))
def test_articulation_points_equal_networkx(seed):
    G = make_snapshot(80, 0.03, seed=seed)
    H = oracle_network(G, weighted=False)
    df = brokerage(G)
    assert set(df.loc[df.is_articulation_point, "id"]) == set(nx.articulation_points(H))


# --- critical links -------------------------------------------------------------------------


def _pieces_after(H: nx.Graph, *, node=None, edge=None) -> tuple[int, list[int]]:
    """Brute force: remove the node or edge and measure the pieces of its component."""
    anchor = node if node is not None else edge[0]
    comp = nx.node_connected_component(H, anchor)
    K = H.subgraph(comp).copy()
    if node is not None:
        K.remove_node(node)
    else:
        K.remove_edge(*edge)
    return len(comp), sorted((len(c) for c in nx.connected_components(K)), reverse=True)


@pytest.mark.parametrize("seed", range(5))
def test_critical_links_equal_brute_force_removal(seed):
    # Sparse random graphs: several components, trees hanging off cycles, isolated nodes.
    G = make_snapshot(70, 0.035, seed=seed)
    H = oracle_network(G, weighted=False)
    df = critical_links(G)
    bridges = df[df.kind == "bridge"]
    points = df[df.kind == "articulation_point"]
    assert {frozenset(e) for e in zip(bridges.source, bridges.target)} == {frozenset(e) for e in nx.bridges(H)}
    assert set(points.source) == set(nx.articulation_points(H))
    for row in df.itertuples():
        if row.kind == "bridge":
            size, pieces = _pieces_after(H, edge=(row.source, row.target))
        else:
            size, pieces = _pieces_after(H, node=row.source)
        assert (row.component_size, row.pieces) == (size, pieces)
        assert row.cut_off == sum(pieces[1:])
    assert list(df.cut_off) == sorted(df.cut_off, reverse=True)


def test_critical_links_reasons_in_both_languages():
    # Triangle a, b, Centre with Détour hanging off Centre: losing Centre leaves {a, b} and
    # {Détour}; losing the Centre–Détour tie leaves the triangle and Détour.
    G = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    G.nodes["c"]["name"] = "Centre"
    G.nodes["d"]["name"] = "Détour"
    en = critical_links(G)
    fr = critical_links(G, lang="fr")
    assert en.reasons.tolist() == [
        "Without Centre, 1 organization would be cut off (pieces of 2 and 1).",
        "Without the relationship between Centre and Détour, 1 organization would be cut off "
        "(pieces of 3 and 1).",
    ]
    assert fr.reasons.tolist() == [
        "Sans Centre, 1 organisation serait coupée du reste (morceaux de 2 et 1).",
        "Sans la relation entre Centre et Détour, 1 organisation serait coupée du reste "
        "(morceaux de 3 et 1).",
    ]


def test_critical_links_of_a_network_without_any_is_empty():
    df = critical_links(nx.cycle_graph(5))
    assert df.empty and "pieces" in df.columns


# --- cluster bridges ------------------------------------------------------------------------


def _members(G, name):
    H = partnership_network(G)
    out = set()
    for node in H:
        names = set(G.nodes[node].get("clusters", []))
        names |= {G.nodes[c]["name"] for _, c, k in G.out_edges(node, keys=True) if k == "PART_OF"} \
            if G.is_directed() else set()
        if name in names:
            out.add(node)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_cluster_bridge_links_and_density_equal_brute_force(seed):
    # Organizations in two clusters make the counting subtle: each relationship counts once
    # per pair of clusters, and a shared member is not paired with itself.
    G = make_snapshot(60, 0.08, seed=seed)
    H = partnership_network(G)
    df = cluster_bridges(G, max_relative_density=math.inf)
    assert len(df) > 0
    density = nx.density(H)
    for row in df.itertuples():
        A, B = _members(G, row.cluster_a), _members(G, row.cluster_b)
        links = sum(1 for u, v in H.edges() if (u in A and v in B) or (u in B and v in A))
        pairs = {frozenset((u, v)) for u in A for v in B if u != v}
        assert (row.members_a, row.members_b, row.shared_members) == (len(A), len(B), len(A & B))
        assert row.links == links
        assert row.link_density == pytest.approx(links / len(pairs))
        assert row.relative_density == pytest.approx(links / len(pairs) / density)
        assert row.score == pytest.approx(row.sector_similarity * max(0.0, 1 - row.relative_density))


def test_cluster_bridges_skips_pairs_without_a_shared_sector_or_well_linked():
    G = nx.Graph()
    for node, cluster, sector in [("a1", "A", "x"), ("a2", "A", "x"), ("b1", "B", "x"),
                                  ("b2", "B", "x"), ("c1", "C", "y"), ("c2", "C", "y")]:
        G.add_node(node, clusters=[cluster], sectors=[sector])
    # A and B: every possible cross pair linked (density above the network's); C shares no sector.
    G.add_edges_from([("a1", "b1"), ("a1", "b2"), ("a2", "b1"), ("a2", "b2"), ("c1", "c2")])
    assert cluster_bridges(G).empty
    assert len(cluster_bridges(G, max_relative_density=math.inf)) == 1


def test_cluster_bridges_reasons_name_sectors_in_both_languages():
    G = nx.Graph()
    for node, cluster in [("a1", "Aéro"), ("a2", "Aéro"), ("t1", "Transport"), ("t2", "Transport")]:
        G.add_node(node, clusters=[cluster], sectors=["aérospatiale", "logistique"])
    G.add_edges_from([("a1", "a2"), ("t1", "t2")])
    en = cluster_bridges(G).reasons[0]
    fr = cluster_bridges(G, lang="fr").reasons[0]
    assert en == ("Aéro and Transport share the sectors aérospatiale and logistique (similarity "
                  "1.00), but no relationship links their 2 and 2 members: 0.00% of possible pairs, "
                  "against 33.33% across the network.")
    assert fr == ("Aéro et Transport partagent les secteurs aérospatiale et logistique (similarité "
                  "1,00), mais aucune relation ne relie leurs 2 et 2 membres : 0,00 % des paires "
                  "possibles, contre 33,33 % dans l'ensemble du réseau.")
    with pytest.raises(InputError):
        cluster_bridges(G, lang="de")


# --- the classic networks -------------------------------------------------------------------


def _padgett_marriages() -> nx.MultiDiGraph:
    G = load_classic("padgett")
    M = nx.MultiDiGraph()
    M.add_nodes_from(G.nodes(data=True))
    M.add_edges_from((u, v, k, d) for u, v, k, d in G.edges(keys=True, data=True) if "marital" in d["relations"])
    return M


def test_medici_are_the_brokers_of_florence():
    # Padgett & Ansell (1993): the Medici rose by marrying into families that did not marry
    # each other. In the marriage network they have the most partners, the lowest constraint,
    # the largest effective size and by far the highest betweenness (0.522, the textbook value
    # that networkx also gives on florentine_families_graph()).
    df = brokerage(_padgett_marriages())
    top = df.iloc[0]
    assert top["id"] == "Medici"
    assert top["betweenness"] == pytest.approx(nx.betweenness_centrality(nx.florentine_families_graph())["Medici"])
    assert top["betweenness"] == pytest.approx(0.521978, abs=1e-6)
    assert df.loc[df.constraint.idxmin(), "id"] == "Medici"
    assert df.loc[df.effective_size.idxmax(), "id"] == "Medici"
    assert top["betweenness"] > 2 * df.iloc[1]["betweenness"]
    # Marriages and business ties together (weighted by how many): still the Medici.
    both = brokerage(load_classic("padgett"), weight="weight")
    assert both.iloc[0]["id"] == "Medici"
    assert both.loc[both.constraint.idxmin(), "id"] == "Medici"


def test_florence_falls_apart_without_the_medici():
    # The Medici are the marriage network's main articulation point: without them Acciaiuoli
    # (married only to a Medici) and the Salviati-Pazzi pair lose touch with the other 11.
    df = critical_links(_padgett_marriages())
    top = df.iloc[0]
    assert (top["kind"], top["source"], top["pieces"]) == ("articulation_point", "Medici", [11, 2, 1])
    assert set(df.loc[df.kind == "articulation_point", "source"]) == {"Medici", "Guadagni", "Albizzi", "Salviati"}


def test_no_one_is_indispensable_in_knokes_dense_city_network():
    # Knoke's ten organizations all exchange information or money with most others (density
    # about 0.8): no articulation point, no bridge, low betweenness everywhere; the Welfare
    # Rights Organization, the known outsider, has the fewest partners and the most constraint.
    G = load_classic("knoke")
    df = brokerage(G)
    assert not df.is_articulation_point.any()
    assert critical_links(G).empty
    assert df.betweenness.max() < 0.1
    assert df.loc[df.degree.idxmin(), "id"] == "WRO"
    assert df.loc[df.constraint.idxmax(), "id"] == "WRO"


def test_the_big_dutch_banks_broker_the_board_interlocks():
    # Stokman, Ziegler & Scott (1985): banks sit at the centre of national interlock networks.
    # In the Dutch network, AMRO and ABN are the two least constrained firms, AMRO the highest
    # in betweenness.
    df = brokerage(load_classic("interlocks_nl"), weight="weight")
    assert list(df.sort_values("constraint").id[:2]) == ["AMRO", "ABN"]
    assert df.iloc[0]["id"] == "AMRO"


def test_emon_bridges_stay_inside_one_disaster():
    # Seven disasters in seven places: no organization took part in two, so every bridge and
    # articulation point lies inside one network (its cluster) and cuts off pieces no larger
    # than that network. The Mt. St. Helens search had two organizations hanging by one tie.
    G = load_classic("emon")
    df = critical_links(G)
    cluster = {n: d.get("clusters", [None])[0] for n, d in G.nodes(data=True) if d.get("type") != "cluster"}
    assert len(df) > 0
    for row in df.itertuples():
        if row.kind == "bridge":
            assert cluster[row.source] == cluster[row.target]
        size = sum(1 for c in cluster.values() if c == cluster[row.source])
        assert row.component_size <= size
    helens = df[(df.kind == "bridge") & df.source.str.startswith("MtStHelens:")]
    assert len(helens) == 2 and all(p == [26, 1] for p in helens.pieces)
    # No organization bridges two disasters.
    assert brokerage(G).n_clusters_bridged.max() == 0


def test_emon_disasters_share_sponsors_but_never_link():
    # Read sponsorship (federal, state, county, city, private) as the sector: every disaster
    # mixes the same kinds of sponsor, yet no relationship crosses two disasters, so all 21
    # pairs are reported, unlinked, and the most alike pair comes first.
    G = load_classic("emon")
    for _, d in G.nodes(data=True):
        if d.get("type") != "cluster":
            d["sectors"] = [d["sponsorship"]]
    df = cluster_bridges(G)
    assert len(df) == math.comb(7, 2)
    assert (df.links == 0).all() and (df.relative_density == 0).all()
    assert list(df.score) == sorted(df.score, reverse=True)
    assert (df.score == df.sector_similarity).all()


def test_every_classic_network_gets_a_brokerage_row_per_organization():
    for name in ("knoke", "galaskiewicz", "padgett", "emon", "interlocks_nl", "interlocks_de"):
        G = load_classic(name)
        df = brokerage(G)
        organizations = [n for n, t in G.nodes(data="type") if t != "cluster"]
        assert sorted(df.id) == sorted(organizations), name
        # Only organizations without any tie (six in EMON: five at Mt. Si, one at Wichita)
        # have no constraint.
        assert (np.isnan(df.constraint) == (df.degree == 0)).all(), name
    emon = brokerage(load_classic("emon"))
    assert (emon.degree == 0).sum() == 6


def test_brokerage_tolerates_an_empty_graph():
    df = brokerage(nx.Graph())
    assert df.empty and "constraint" in df.columns


@pytest.mark.parametrize(("n", "p"), [(30, 0.2)])
def test_brokerage_is_deterministic(n, p):
    G = make_snapshot(n, p, seed=9)
    a = brokerage(G, betweenness_sample=10, betweenness_exact_up_to=10, seed=3)
    b = brokerage(G, betweenness_sample=10, betweenness_exact_up_to=10, seed=3)
    assert a.attrs["betweenness_exact"] is False
    assert a.equals(b)
    assert list(itertools.islice(a.columns, 3)) == ["id", "name", "type"]
