"""Partnership gaps: networkx's link-prediction scores, complementarity, reasons, real networks.

Every network score is checked against networkx (the oracle) on random graphs of several
sizes and densities; complementarity and reasons on small named graphs checked by hand; and
suggestions on the classic inter-organizational networks against what an analyst expects.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import random

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from analysis import DEFAULT_COMPLEMENTARITY, suggest_partnerships
from analysis._matrices import snapshot_matrices
from analysis._network import adjacency, partnership_network
from analysis.gaps import DEFAULT_WEIGHTS, candidate_pairs, load_complementarity, score_pairs
from maillage.errors import ConfigError, InputError
from tests.analysis.classic import CLASSIC_DIR, load_classic
from tests.analysis.random_snapshots import make_snapshot

TOL = 1e-9
GNP = [(15, 0.3, 1), (40, 0.1, 2), (80, 0.05, 3), (120, 0.02, 4), (60, 0.4, 5)]


def _nx_scores(H: nx.Graph, pairs: list) -> dict[str, np.ndarray]:
    return {
        "common_partners": np.array([len(nx.common_neighbors(H, u, v)) for u, v in pairs]),
        "jaccard": np.array([p for *_, p in nx.jaccard_coefficient(H, pairs)]),
        "adamic_adar": np.array([p for *_, p in nx.adamic_adar_index(H, pairs)]),
        "resource_allocation": np.array([p for *_, p in nx.resource_allocation_index(H, pairs)]),
    }


def _assert_equal_networkx(df, H: nx.Graph, u="source", v="target") -> None:
    pairs = list(zip(df[u], df[v]))
    ref = _nx_scores(H, pairs)
    assert (df["common_partners"].to_numpy() == ref["common_partners"]).all()
    for col in ("jaccard", "adamic_adar", "resource_allocation"):
        assert np.abs(df[col].to_numpy() - ref[col]).max(initial=0) <= TOL, col


def _snapshot(edges, **nodes) -> nx.MultiDiGraph:
    """A snapshot from ``(u, v, type)`` edges and ``node=dict(attrs)`` keywords."""
    G = nx.MultiDiGraph()
    for n, attrs in nodes.items():
        G.add_node(n, **attrs)
    for u, v, t in edges:
        G.add_edge(u, v, key=t, type=t)
    return G


def _two_hop_unlinked(H: nx.Graph) -> set[frozenset]:
    return {frozenset((u, v)) for u, v in nx.non_edges(H) if nx.common_neighbors(H, u, v)}


# --- the matrices --------------------------------------------------------------------------


@pytest.mark.parametrize("n, p, seed", [(30, 0.1, 1), (60, 0.08, 2), (25, 0.4, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_snapshot_matrices_equal_the_partnership_network(n, p, seed, weighted):
    G = make_snapshot(n, p, seed=seed)
    weight = "weight" if weighted else None
    S = snapshot_matrices(G, weight=weight)
    nodes, A = adjacency(partnership_network(G, weight=weight), weight=weight)
    assert S.nodes == nodes
    assert (S.A != (A != 0)).nnz == 0
    if weighted:
        assert np.abs((S.W - A).toarray()).max() <= TOL


def test_snapshot_matrices_read_undirected_and_simple_graphs():
    for G in (nx.karate_club_graph(), nx.MultiGraph(nx.karate_club_graph()), nx.DiGraph(nx.path_graph(6))):
        S = snapshot_matrices(G)
        nodes, A = adjacency(partnership_network(G))
        assert S.nodes == nodes and (S.A != (A != 0)).nnz == 0


def test_non_positive_weights_are_refused_with_the_pair_named():
    G = _snapshot([("a", "b", "PARTNERS_WITH")], a={}, b={})
    G.edges["a", "b", "PARTNERS_WITH"]["weight"] = -1.0
    with pytest.raises(ValueError, match="'a' and 'b'"):
        suggest_partnerships(G, weight="weight")


def _same_snapshot(S, T) -> None:
    assert S.nodes == T.nodes and S.types == T.types
    for a, b in ((S.A, T.A), (S.members.X, T.members.X), (S.sectors.X, T.sectors.X),
                 (S.clusters.X, T.clusters.X)):
        assert a.shape == b.shape and (a != b).nnz == 0
    assert S.sectors.labels == T.sectors.labels and S.clusters.labels == T.clusters.labels
    assert (S.W is None) == (T.W is None)
    if S.W is not None:
        assert np.abs((S.W - T.W).toarray()).max(initial=0) == 0


def _cached_graph() -> nx.MultiDiGraph:
    G = _snapshot([("a", "d", "MEMBER_OF"), ("b", "d", "PARTNERS_WITH"), ("c", "b", "PARTNERS_WITH"),
                   ("a", "cl", "PART_OF"), ("c", "d", "MEMBER_OF")],
                  a=dict(type="company", sectors=["aero"]), b=dict(type="institution", sectors=["aero"]),
                  c=dict(type="company"), d=dict(type="structure"), cl=dict(type="cluster", name="Old name"))
    for _, _, d in G.edges(data=True):
        d["weight"] = 1.0
    return G


#: In-place changes a cached snapshot must notice (the graph object stays the same).
_MUTATIONS = {
    "edge_type": lambda G: G.edges["a", "d", "MEMBER_OF"].update(type="PARTNERS_WITH"),
    "edge_weight": lambda G: G.edges["b", "d", "PARTNERS_WITH"].update(weight=7.5),
    "sector_list": lambda G: G.nodes["a"]["sectors"].append("space"),
    "node_type": lambda G: G.nodes["a"].update(type="government"),
    # As many nodes and edges as before.
    "swap_an_edge": lambda G: (G.remove_edge("c", "b", "PARTNERS_WITH"),
                               G.add_edge("c", "a", key="PARTNERS_WITH", type="PARTNERS_WITH", weight=1.0)),
    "cluster_renamed": lambda G: G.nodes["cl"].update(name="New name"),
}


@pytest.mark.parametrize("change", sorted(_MUTATIONS))
@pytest.mark.parametrize("weight", [None, "weight"])
def test_snapshots_are_reused_until_the_graph_changes_even_in_place(change, weight):
    G = _cached_graph()
    first = snapshot_matrices(G, weight=weight)
    again = snapshot_matrices(G, weight=weight)
    assert again.A is first.A  # unchanged graph: the matrices are reused
    assert not again.A.data.flags.writeable  # shared, so read-only
    suggest_partnerships(G, per_node=3, weight=weight)
    _MUTATIONS[change](G)
    fresh = snapshot_matrices(G.copy(), weight=weight)  # a new graph: nothing cached
    if not (change == "edge_weight" and weight is None):
        with pytest.raises(AssertionError):  # the change shows in the matrices...
            _same_snapshot(first, fresh)
    _same_snapshot(snapshot_matrices(G, weight=weight), fresh)  # ...and the cache sees it
    after = suggest_partnerships(G, top=None, weight=weight)
    assert after.equals(suggest_partnerships(G.copy(), top=None, weight=weight))


def test_the_snapshot_cache_lets_its_graph_go():
    import gc
    import weakref

    from analysis import _matrices

    G = make_snapshot(20, 0.2, seed=1)
    snapshot_matrices(G)
    ref = weakref.ref(G)
    del G
    gc.collect()
    assert ref() is None and ref not in _matrices._CACHE


# --- the four network scores against networkx ---------------------------------------------------


@pytest.mark.parametrize("n, p, seed", GNP)
@pytest.mark.parametrize("method", ["elementwise", "products"])
def test_score_pairs_equal_networkx_on_every_pair(n, p, seed, method):
    H = nx.gnp_random_graph(n, p, seed=seed)
    pairs = list(itertools.combinations(H.nodes, 2))
    df = score_pairs(H, pairs, method=method)
    assert list(zip(df.u, df.v)) == pairs
    _assert_equal_networkx(df, H, "u", "v")


@pytest.mark.parametrize("method", ["elementwise", "products", "auto"])
def test_score_pairs_match_networkx_with_self_loops_and_linked_pairs(method):
    # networkx leaves u and v out of their common neighbours but counts a self-loop twice in
    # a degree and once in a neighbour set: the corrections must follow it exactly.
    H = nx.gnp_random_graph(30, 0.2, seed=9)
    H.add_edges_from([(0, 0), (3, 3), (7, 7)])
    pairs = list(itertools.combinations(H.nodes, 2)) + [(0, 0), (5, 5)]
    pairs = [pr for pr in pairs if pr[0] != pr[1] or H.degree(pr[0]) > 1]
    df = score_pairs(H, pairs, method=method)
    _assert_equal_networkx(df, H, "u", "v")


@pytest.mark.parametrize("method", ["elementwise", "products"])
def test_weighted_adamic_adar_equals_lu_and_zhou(method):
    # networkx has no weighted link prediction: the oracle is the definition, summed by hand
    # over networkx's common neighbours and weighted degrees.
    rng = random.Random(3)
    H = nx.gnp_random_graph(50, 0.12, seed=3)
    for u, v in H.edges:
        H.edges[u, v]["w"] = rng.choice([0.5, 1.0, 2.0, 3.5])
    s = dict(H.degree(weight="w"))
    pairs = list(itertools.combinations(H.nodes, 2))
    df = score_pairs(H, pairs, weight="w", method=method)
    expected = [sum((H[u][z]["w"] + H[z][v]["w"]) / math.log1p(s[z]) for z in nx.common_neighbors(H, u, v))
                for u, v in pairs]
    assert np.abs(df["weighted_adamic_adar"].to_numpy() - expected).max() <= TOL


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_products_read_sparse_blocks_of_pairs_in_any_order_and_repeated(monkeypatch, seed):
    # At scale the products are too sparse to read densely: the pairs are then read off them
    # through a matrix numbering the pairs. Small blocks and no dense reading force that
    # path here, with shuffled pairs, repeated pairs, self-loops and weights.
    import analysis.gaps as gaps

    monkeypatch.setattr(gaps, "_DENSE_CELLS", 0)
    monkeypatch.setattr(gaps, "_BLOCK_PAIRS", 60)
    rng = random.Random(seed)
    H = nx.gnp_random_graph(70, 0.1, seed=seed)
    H.add_edges_from([(0, 0), (5, 5)])
    for u, v in H.edges:
        H.edges[u, v]["w"] = rng.choice([0.5, 1.0, 2.0])
    pairs = [pr for pr in itertools.combinations(H.nodes, 2)] + [(0, 0)]
    pairs += rng.sample(pairs, 300) + [(v, u) for u, v in rng.sample(pairs, 100)]
    rng.shuffle(pairs)
    df = score_pairs(H, pairs, weight="w", method="products")
    assert list(zip(df.u, df.v)) == pairs
    _assert_equal_networkx(df, H, "u", "v")
    ref = score_pairs(H, pairs, weight="w", method="elementwise")
    assert np.abs(df["weighted_adamic_adar"].to_numpy() - ref["weighted_adamic_adar"].to_numpy()).max() <= TOL
    assert (df["common_partners"] > 0).sum() > len(pairs) // 4  # the products did hold them


def test_score_pairs_refuses_directed_graphs_and_unknown_nodes():
    with pytest.raises(InputError, match="partnership_network"):
        score_pairs(nx.DiGraph([(1, 2)]), [(1, 2)])
    with pytest.raises(InputError, match="not in the partnership network"):
        score_pairs(nx.Graph([(1, 2)]), [(1, 9)])


@pytest.mark.parametrize("n, p, seed", [(40, 0.1, 11), (80, 0.04, 12), (30, 0.3, 13)])
@pytest.mark.parametrize("weighted", [False, True])
def test_suggestions_carry_networkx_scores_and_every_two_hop_pair(n, p, seed, weighted):
    G = make_snapshot(n, p, seed=seed)
    H = partnership_network(G)
    df = suggest_partnerships(G, top=None, candidates="network", weight="weight" if weighted else None)
    _assert_equal_networkx(df, H)
    assert {frozenset(pr) for pr in zip(df.source, df.target)} == _two_hop_unlinked(H)
    assert len(df) == len({frozenset(pr) for pr in zip(df.source, df.target)})
    if weighted:
        Hw = partnership_network(G, weight="weight")
        s = dict(Hw.degree(weight="weight"))
        expected = [sum((Hw[u][z]["weight"] + Hw[z][v]["weight"]) / math.log1p(s[z])
                        for z in nx.common_neighbors(Hw, u, v)) for u, v in zip(df.source, df.target)]
        assert np.abs(df["weighted_adamic_adar"].to_numpy() - expected).max() <= TOL


@pytest.mark.parametrize("seed", [21, 22])
def test_score_is_the_documented_blend(seed):
    G = make_snapshot(60, 0.08, seed=seed)
    df = suggest_partnerships(G, top=None)
    w = DEFAULT_WEIGHTS
    expected = (w["network"] * (1 - np.exp(-df["adamic_adar"] / 2)) + w["complementarity"] * df["complementarity"]
                + w["sectors"] * df["shared_sectors"].map(bool) + w["clusters"] * df["shared_clusters"].map(bool))
    assert np.abs(df["score"] - expected).max() <= TOL
    assert df["score"].is_monotonic_decreasing


# --- candidates ------------------------------------------------------------------------------


def test_pairs_sharing_a_sector_are_candidates_when_the_network_says_nothing():
    G = _snapshot([("a", "x", "PARTNERS_WITH"), ("b", "y", "PARTNERS_WITH")],
                  a=dict(type="company", sectors=["Aérospatiale"]), b=dict(type="institution", sectors=["aerospatiale"]),
                  x=dict(type="company"), y=dict(type="company"))
    df = suggest_partnerships(G, top=None)
    row = df[df.source.eq("a") & df.target.eq("b")].iloc[0]
    # No common partner; sectors match once accents and case are folded.
    assert row.common_partners == 0 and row.adamic_adar == 0 and row.shared_sectors == ["Aérospatiale"]
    assert row.complementarity == 1.0
    assert row.score == pytest.approx(0.2 * 1.0 + 0.05)
    assert suggest_partnerships(G, top=None, candidates="network").empty


def test_a_large_sector_is_sampled_but_its_rare_types_are_always_met():
    # 600 companies and one workforce committee in one sector: not 180,000 pairs, yet every
    # company meets the committee (the sample spreads over the types present).
    nodes = {f"c{i}": dict(type="company", sectors=["bio"]) for i in range(600)}
    nodes["wfc"] = dict(type="workforce_committee", sectors=["bio"], name="CSMO Bio")
    G = _snapshot([], **nodes)
    cand = candidate_pairs(G, block_cap=100, block_sample=10)
    assert len(cand) <= 601 * 10 * 2
    met = {s for s, t in zip(cand.source, cand.target) if t == "wfc"} | \
          {t for s, t in zip(cand.source, cand.target) if s == "wfc"}
    assert met == {f"c{i}" for i in range(600)}
    small = candidate_pairs(G, block_cap=1000)
    assert len(small) == 601 * 600 // 2


def test_hubs_find_no_pairs_but_count_in_every_score():
    H = nx.barabasi_albert_graph(300, 3, seed=5)
    G = nx.MultiDiGraph()
    G.add_nodes_from(H)
    G.add_edges_from((u, v, "PARTNERS_WITH", {"type": "PARTNERS_WITH"}) for u, v in H.edges)
    cap = 8
    df = suggest_partnerships(G, top=None, candidates="network", hub_cap=cap)
    _assert_equal_networkx(df, H)
    for u, v in zip(df.source, df.target):
        assert any(H.degree(w) <= cap for w in nx.common_neighbors(H, u, v))
    found = {frozenset(pr) for pr in zip(df.source, df.target)}
    expected = {frozenset((u, v)) for u, v in nx.non_edges(H)
                if any(H.degree(w) <= cap for w in nx.common_neighbors(H, u, v))}
    assert found == expected


@pytest.mark.parametrize("seed", [3, 4, 5])
@pytest.mark.parametrize("weight", [None, "weight"])
def test_bounding_the_hubs_evidence_keeps_exactly_the_best_rows(monkeypatch, seed, weight):
    # A heavy-tailed network with a low hub cap: nearly every pair touches a hub, as at a
    # million organizations. Asking for the best rows bounds the hubs' evidence and settles
    # it only for pairs that can still make the cut; the rows must be those of the run that
    # settles every pair.
    import analysis.gaps as gaps

    G = make_snapshot(160, 0.02, seed=seed)
    rng = random.Random(seed)
    H = nx.barabasi_albert_graph(160, 2, seed=seed)
    for u, v in H.edges:
        G.add_edge(f"o{u}", f"o{v}", key="PARTNERS_WITH", type="PARTNERS_WITH",
                   weight=rng.choice([0.5, 1.0, 3.0]))
    settled = []
    real_hub_part = gaps._Gaps.hub_part

    def counting(self, I, J):
        settled.append(len(I))
        return real_hub_part(self, I, J)

    monkeypatch.setattr(gaps._Gaps, "hub_part", counting)
    kw = dict(hub_cap=6, weight=weight)
    cols = ["source", "target", "score", "complementarity", "adamic_adar", "reasons"]
    best = suggest_partnerships(G, top=25, **kw)
    per = suggest_partnerships(G, per_node=3, **kw)
    bounded = list(settled)
    settled.clear()
    monkeypatch.setattr(gaps, "_floor", lambda *a, **k: None)
    assert best[cols].equals(suggest_partnerships(G, top=25, **kw)[cols])
    assert per[cols].equals(suggest_partnerships(G, per_node=3, **kw)[cols])
    # The bound spared some of the work in both (most of it when far fewer rows are wanted
    # than there are candidates, as at scale).
    assert len(bounded) == len(settled) == 2
    assert all(0 < b < s for b, s in zip(bounded, settled))
    assert (best["score"] > 0).all() and len(best) == 25


def test_explicit_candidates_are_scored_as_given_without_linked_pairs():
    G = make_snapshot(40, 0.1, seed=31)
    H = partnership_network(G)
    pairs = list(itertools.islice(nx.non_edges(H), 50)) + [next(iter(H.edges))]
    df = suggest_partnerships(G, top=None, candidates=pairs)
    assert len(df) == 50
    _assert_equal_networkx(df, H)


# --- ranking ---------------------------------------------------------------------------------


def test_top_keeps_the_best_rows_overall():
    G = make_snapshot(70, 0.07, seed=41)
    everything = suggest_partnerships(G, top=None)
    best = suggest_partnerships(G, top=7)
    assert best[["source", "target", "score"]].equals(everything[["source", "target", "score"]].head(7))


@pytest.mark.parametrize("k", [1, 3, 10])
def test_per_node_gives_each_organization_its_own_best(k):
    G = make_snapshot(60, 0.08, seed=42)
    every = suggest_partnerships(G, top=None)
    both = [(s, t, sc) for s, t, sc in zip(every.source, every.target, every.score)]
    both += [(t, s, sc) for s, t, sc in both]
    per = suggest_partnerships(G, per_node=k)
    for org, rows in per.groupby("source", sort=False):
        mine = sorted((sc for s, _, sc in both if s == org), reverse=True)
        assert len(rows) == min(k, len(mine))
        assert rows["score"].tolist() == pytest.approx(mine[:k], abs=1e-12)
    assert set(per.source) == {s for s, _, _ in both}


def test_nodes_limits_the_suggestions_to_their_sources():
    G = make_snapshot(50, 0.1, seed=43)
    df = suggest_partnerships(G, per_node=5, nodes=["o1", "o2"])
    assert set(df.source) <= {"o1", "o2"} and len(df) <= 10
    assert df.equals(suggest_partnerships(G, per_node=5).query("source in ['o1', 'o2']").reset_index(drop=True))


def test_bad_options_are_refused():
    G = make_snapshot(10, 0.3, seed=1)
    with pytest.raises(InputError, match="'en' or 'fr'"):
        suggest_partnerships(G, lang="de")
    with pytest.raises(InputError, match="top"):
        suggest_partnerships(G, top=0)
    with pytest.raises(InputError, match="candidates"):
        suggest_partnerships(G, candidates="everything")
    with pytest.raises(InputError, match="Unknown score weights"):
        suggest_partnerships(G, weights={"luck": 1})
    with pytest.raises(InputError, match="not in the partnership network"):
        suggest_partnerships(G, nodes=["nobody"])


def test_empty_and_attribute_free_graphs_give_empty_or_plain_results():
    assert suggest_partnerships(nx.MultiDiGraph()).empty
    df = suggest_partnerships(nx.path_graph(4), top=None)
    assert sorted(map(sorted, zip(df.source, df.target))) == [[0, 2], [1, 3]]
    assert (df.complementarity == 0).all() and df.source_type.isna().all()


# --- complementarity ---------------------------------------------------------------------------


def test_default_table_loads_in_canonical_form():
    table = load_complementarity(DEFAULT_COMPLEMENTARITY)
    assert table["company+institution"] == {"score": 1.0, "requires": None}
    assert table["company+workforce_committee"] == {"score": 0.9, "requires": "shared_sector"}
    assert table["triple_helix"] == 1.0
    json.dumps(DEFAULT_COMPLEMENTARITY)  # a secretariat starts from a copy of it


def test_complementarity_reads_json_and_toml_files(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"institution+company": 0.7}), encoding="utf-8")
    (tmp_path / "c.toml").write_text('[complementarity]\n"company+government" = { score = 0.8 }\n'
                                     'triple_helix = 0.9\n', encoding="utf-8")
    assert load_complementarity(tmp_path / "c.json")["company+institution"]["score"] == 0.7
    toml = load_complementarity(str(tmp_path / "c.toml"))
    assert toml["company+government"] == {"score": 0.8, "requires": None} and toml["triple_helix"] == 0.9


@pytest.mark.parametrize("table, message", [
    ({"company+university": 1}, "unknown type 'university'"),
    ({"company": 1}, "two types joined by"),
    ({"company+institution": 1.5}, "from 0 to 1"),
    ({"company+institution": True}, "from 0 to 1"),
    ({"company+institution": {"score": 1, "requires": "same_city"}}, "requires 'same_city'"),
    ({"company+institution": {"weight": 1}}, "must be a score"),
    ({"company+institution": 1, "institution+company": 0.5}, "given twice"),
    ({"triple_helix": -1}, "from 0 to 1"),
])
def test_invalid_complementarity_tables_are_explained(table, message):
    with pytest.raises(ConfigError, match=message):
        load_complementarity(table)


def test_unreadable_complementarity_files_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="check the path"):
        load_complementarity(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.json is not valid JSON"):
        load_complementarity(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match=".json or .toml"):
        load_complementarity(tmp_path / "table.yaml")


def _pair(G, a, b, **kw):
    df = suggest_partnerships(G, top=None, **kw)
    hit = df[(df.source.eq(a) & df.target.eq(b)) | (df.source.eq(b) & df.target.eq(a))]
    assert len(hit) == 1
    return hit.iloc[0]


def test_a_company_and_its_sectors_workforce_committee_complement_each_other():
    nodes = dict(acme=dict(type="company", sectors=["aéro"]), csmo=dict(type="workforce_committee", sectors=["aéro"]),
                 other=dict(type="workforce_committee", sectors=["mode"]), hub=dict(type="association"))
    G = _snapshot([(x, "hub", "MEMBER_OF") for x in ("acme", "csmo", "other")], **nodes)
    assert _pair(G, "acme", "csmo").complementarity == 0.9
    # The committee of another sector does nothing for this company's workforce.
    assert _pair(G, "acme", "other").complementarity == 0.0


def test_a_common_partner_of_the_third_kind_closes_the_triple_helix():
    nodes = dict(acme=dict(type="company", name="Acme"), gov=dict(type="government", name="Ministère X"),
                 uni=dict(type="institution", name="Université Y"), assoc=dict(type="association", name="Z"))
    G = _snapshot([("acme", "uni", "PARTNERS_WITH"), ("gov", "uni", "FUNDS"),
                   ("acme", "assoc", "MEMBER_OF"), ("gov", "assoc", "FUNDS")], **nodes)
    row = _pair(G, "acme", "gov")
    # industry-government scores 0.6 in the table; with the university as common partner the
    # pair closes an industry-academia-government triangle: 1.0.
    assert row.complementarity == 1.0
    assert "with Université Y they would close a triple helix" in row.reasons
    fr = _pair(G, "acme", "gov", lang="fr").reasons
    assert "avec Université Y, ils boucleraient une triple hélice" in fr
    without = _pair(G, "acme", "gov", complementarity={"company+government": 0.6})
    assert without.complementarity == 0.6 and "helix" not in without.reasons


def test_a_custom_table_changes_the_ranking(tmp_path):
    # Same network evidence for both pairs: the table decides. By default industry-government
    # (0.6) beats a company and an association (0.4); a secretariat that values its
    # associations more says so in a file.
    G = _snapshot([("a", "hub", "MEMBER_OF"), ("b", "hub", "MEMBER_OF"), ("c", "hub", "MEMBER_OF")],
                  a=dict(type="company"), b=dict(type="association"), c=dict(type="government"),
                  hub=dict(type="structure"))
    default = suggest_partnerships(G, top=1).iloc[0]
    assert {default.source, default.target} == {"a", "c"} and default.complementarity == 0.6
    path = tmp_path / "table.json"
    path.write_text(json.dumps({"association+company": 1.0}), encoding="utf-8")
    custom = suggest_partnerships(G, top=1, complementarity=path).iloc[0]
    assert {custom.source, custom.target} == {"a", "b"} and custom.complementarity == 1.0


# --- reasons ------------------------------------------------------------------------------------


def _aero():
    nodes = dict(
        acme=dict(name="Acme Aérostructures", type="company", sectors=["aérospatiale"], clusters=["Aéro Montréal"]),
        poly=dict(name="Polytechnique Montréal", type="institution"),
        criaq=dict(name="CRIAQ", type="structure"),
        ets=dict(name="ÉTS", type="institution", sectors=["aérospatiale"], clusters=["Aéro Montréal"]),
    )
    edges = [("acme", "criaq", "MEMBER_OF"), ("ets", "criaq", "MEMBER_OF"),
             ("acme", "poly", "PARTNERS_WITH"), ("poly", "ets", "PARTNERS_WITH"), ("poly", "criaq", "MEMBER_OF")]
    return _snapshot(edges, **nodes)


def test_reasons_name_partners_complementarity_sectors_and_clusters_in_english():
    row = _pair(_aero(), "acme", "ets")
    assert row.reasons == ("Both work with CRIAQ and Polytechnique Montréal; a company and a research institution; "
                           "both in aérospatiale; both in the Aéro Montréal cluster.")
    assert row.common_partner_names == ["CRIAQ", "Polytechnique Montréal"]
    assert (row.source_name, row.target_name) == ("Acme Aérostructures", "ÉTS")


def test_reasons_in_french():
    row = _pair(_aero(), "acme", "ets", lang="fr")
    assert row.reasons == ("Travaillent tous deux avec CRIAQ et Polytechnique Montréal ; une entreprise et un "
                           "établissement de recherche ; secteur commun : aérospatiale ; grappe commune : Aéro Montréal.")


def test_reasons_name_three_partners_most_specific_first_and_count_the_rest():
    # "Big" has many partners of its own: it says least about the pair and is named last.
    nodes = {f"p{i}": dict(name=f"Partner {i}") for i in range(4)}
    nodes.update(a=dict(name="A"), b=dict(name="B"), big=dict(name="Big"))
    edges = [(x, f"p{i}", "PARTNERS_WITH") for x in "ab" for i in range(4)]
    edges += [(x, "big", "PARTNERS_WITH") for x in "ab"] + [(f"q{i}", "big", "PARTNERS_WITH") for i in range(5)]
    G = _snapshot(edges, **nodes)
    row = _pair(G, "a", "b")
    assert row.reasons == "Both work with Partner 0, Partner 1, Partner 2 and 2 others."
    assert row.common_partner_names[-1] == "Big"
    fr = _pair(G, "a", "b", lang="fr")
    assert fr.reasons == "Travaillent tous deux avec Partner 0, Partner 1, Partner 2 et 2 autres."


def test_a_pair_with_nothing_in_common_says_so():
    G = _snapshot([], a=dict(name="A"), b=dict(name="B"))
    assert suggest_partnerships(G, candidates=[("a", "b")]).reasons[0] == "Nothing in common yet."


# --- the classic networks --------------------------------------------------------------------------


def test_dutch_interlocks_suggest_abn_and_amro_first():
    # ABN and AMRO, the two largest Dutch banks of the data, share no director but sit on
    # boards with nine of the same firms: the strongest missing tie of the network (they merged
    # into ABN AMRO in 1991). Weighted by shared directors, they still lead.
    G = load_classic("interlocks_nl")
    for kw in ({}, {"weight": "weight"}, {"weights": {"network": 1}}):
        top = suggest_partnerships(G, top=1, **kw).iloc[0]
        assert {top.source, top.target} == {"ABN", "AMRO"} and top.common_partners == 9
    H = partnership_network(G)
    _assert_equal_networkx(suggest_partnerships(G, top=None), H)


def test_german_interlocks_suggest_the_two_big_banks_first():
    # Deutsche Bank and Dresdner Bank interlock with nine common firms and not with each other.
    G = load_classic("interlocks_de")
    top = suggest_partnerships(G, top=1).iloc[0]
    assert {top.source, top.target} == {"DEUBK", "DRESB"} and top.common_partners == 9


def test_galaskiewicz_clubs_sharing_most_ceos_are_the_top_suggestion():
    # In an affiliation network, two hops apart means two CEOs in a club or two clubs with a
    # CEO in common; CEO-club pairs are never candidates (an odd distance). No type pair here
    # is complementary (companies need a shared sector, which the data lacks), so the ranking is
    # Adamic-Adar's: the top pair must be networkx's best non-edge.
    G = load_classic("galaskiewicz")
    H = partnership_network(G)
    df = suggest_partnerships(G, top=None)
    assert (df.complementarity == 0).all()
    assert all((s.startswith("CEO")) == (t.startswith("CEO")) for s, t in zip(df.source, df.target))
    best = max(nx.adamic_adar_index(H), key=lambda x: x[2])
    assert {df.source[0], df.target[0]} == {best[0], best[1]} == {"club2", "club3"}
    # Counted by hand from the incidence matrix: 11 CEOs belong to both club 2 and club 3.
    with open(CLASSIC_DIR / "galaskiewicz_ceos_clubs_incidence.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert df.common_partners[0] == sum(r["club2"] == "1" and r["club3"] == "1" for r in rows) == 11


def test_padgett_families_without_types_get_network_reasons_only():
    # The Florentine families carry no stakeholder type: complementarity is 0 everywhere and
    # the reasons speak of common partners only. The two best suggestions close triangles in
    # the oligarch bloc around the Peruzzi (three common partners each).
    G = load_classic("padgett")
    df = suggest_partnerships(G, top=None)
    assert (df.complementarity == 0).all() and df.reasons.str.startswith("Both work with").all()
    assert {frozenset(p) for p in zip(df.source[:2], df.target[:2])} == {
        frozenset(("Strozzi", "Lamberteschi")), frozenset(("Castellani", "Bischeri"))}
    _assert_equal_networkx(df, partnership_network(G))


def test_emon_suggestions_stay_inside_each_disaster():
    # The seven emergent networks answered seven different disasters: no organization of one
    # works with an organization of another, and each network is its own cluster. Nothing can
    # suggest a tie across disasters, and every suggestion names its disaster's cluster.
    G = load_classic("emon")
    df = suggest_partnerships(G, top=None)
    assert len(df) > 100
    assert all(s.split(":")[0] == t.split(":")[0] for s, t in zip(df.source, df.target))
    assert all(c == [s.split(":")[0]] for s, c in zip(df.source, df.shared_clusters))
    _assert_equal_networkx(df, partnership_network(G))


def test_knoke_scores_equal_networkx_and_money_ties_count_as_links():
    # Money flows (FUNDS) and information exchanges are both relationships: a pair linked by
    # either is never suggested.
    G = load_classic("knoke")
    H = partnership_network(G)
    df = suggest_partnerships(G, top=None)
    assert not any(H.has_edge(s, t) for s, t in zip(df.source, df.target))
    assert {frozenset(p) for p in zip(df.source, df.target)} == _two_hop_unlinked(H)
    _assert_equal_networkx(df, H)


@pytest.mark.parametrize("budget", [1, 7, 10_000])
@pytest.mark.parametrize("seed", [0, 1])
def test_pair_intersections_in_blocks_equal_scipys_elementwise_product(budget, seed):
    from analysis._matrices import pair_products, pair_sums

    rng = np.random.default_rng(seed)
    X = sp.random_array((60, 40), density=0.15, format="lil", rng=rng)
    X[3] = 1.0  # a row holding every column, like a hub
    X = sp.csr_array(X)
    I = rng.integers(0, 60, 500)
    J = np.where(rng.random(500) < 0.1, I, rng.integers(0, 60, 500))  # some (i, i) pairs
    expected = X[I].multiply(X[J]).tocsr()
    expected.sort_indices()
    got = sp.vstack([M for _, M in pair_products(X, I, J, budget=budget)], format="csr")
    assert (got != expected).nnz == 0 and got.shape == expected.shape
    w = rng.random(40)
    assert np.array_equal(pair_sums(X, I, J, budget=budget), np.asarray(expected.sum(axis=1)).ravel())
    assert np.allclose(pair_sums(X, I, J, w, budget=budget), expected @ w, rtol=0, atol=1e-12)
