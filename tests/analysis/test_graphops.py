"""The edge arrays of a snapshot (analysis._graphops._edges): a directed snapshot is read by a
fast path of its own, which must give what analysis._matrices.snapshot_matrices gives (the
adjacency matrix of partnership_network, the clusters with PART_OF targets, types, names)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from analysis import _graphops
from analysis._matrices import snapshot_matrices
from analysis._network import adjacency, partnership_network
from tests.analysis.random_snapshots import make_snapshot


def _reference(G, weight=None):
    S = snapshot_matrices(G, weight=weight)
    T = sp.triu(S.A if weight is None else S.W, k=1).tocoo()
    return S, T.row, T.col, T.data


def _assert_same(G, weight=None):
    E, N = _graphops._edges(G, weight=weight)
    S, u, v, w = _reference(G, weight)
    assert E.nodes == S.nodes
    assert np.array_equal(E.u, u) and np.array_equal(E.v, v)
    if weight is None:
        assert np.all(E.w == 1.0)
    else:
        assert E.w == pytest.approx(w, rel=1e-15, abs=0)
    assert N.types == S.types
    assert N.clusters.labels == S.clusters.labels and (N.clusters.X != S.clusters.X).nnz == 0
    assert (N.A != S.A).nnz == 0 and N.A.has_sorted_indices
    assert N.sectors.labels == S.sectors.labels and (N.sectors.X != S.sectors.X).nnz == 0
    assert _graphops._names(N) == [S.name(i) for i in range(S.n)]


@pytest.mark.parametrize(("n", "p"), [(0, 0.0), (1, 0.0), (12, 0.4), (60, 0.5), (150, 0.04)])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weight", [None, "weight"])
def test_directed_snapshot_edges_equal_snapshot_matrices(n, p, seed, weight):
    _assert_same(make_snapshot(n, p, seed=seed), weight)


def test_awkward_edges_are_read_as_partnership_network_reads_them():
    G = make_snapshot(30, 0.3, seed=4)
    G.add_edge("o1", "o1", key="PARTNERS_WITH", type="PARTNERS_WITH")  # self-loop: no tie
    G.add_edge("o2", "o3", key="SUGGESTED_PARTNER", type="SUGGESTED_PARTNER")  # a result
    G.add_edge("aero", "o4", key="PART_OF", type="PART_OF")  # from a cluster: ignored
    G.add_edge("o5", "o6", key="x", type="FUNDS", weight=2.0)  # key is not the type
    G.add_edge("o6", "o5", key="y", type="FUNDS", weight=None)  # both ways: one tie, summed
    G.add_edge("o7", "bio", key="MEMBER_OF", type="MEMBER_OF")  # to a cluster, not PART_OF
    G.add_node("untyped")
    G.add_edge("untyped", "o8", key="PARTNERS_WITH")  # no type attribute at all
    for weight in (None, "weight"):
        _assert_same(G, weight)
    E, _ = _graphops._edges(G)
    H = partnership_network(G)
    nodes, A = adjacency(H)
    assert nodes == E.nodes and (A != E.csr()).nnz == 0


def test_simple_digraph_is_read_too():
    G = nx.DiGraph()
    G.add_node("c", type="cluster", name="C")
    G.add_edge("a", "b", type="PARTNERS_WITH", weight=2.0)
    G.add_edge("b", "a", type="FUNDS", weight=3.0)
    G.add_edge("a", "c", type="PART_OF")
    _assert_same(G, None)
    _assert_same(G, "weight")
    E, N = _graphops._edges(G, weight="weight")
    assert E.w.tolist() == [5.0] and N.clusters.labels == ["C"]


def test_a_non_positive_summed_weight_names_the_pair():
    G = make_snapshot(10, 0.5, seed=2)
    u, v = next((u, v) for u, v, d in G.edges(data=True) if d["type"] != "PART_OF")
    G.add_edge(v, u, key="extra", type="FUNDS", weight=-100.0)
    with pytest.raises(ValueError, match=r"weight=None") as err:
        _graphops._edges(G, weight="weight")
    with pytest.raises(ValueError) as expected:
        snapshot_matrices(G, weight="weight")
    assert str(err.value) == str(expected.value)


@pytest.mark.parametrize("multi", [False, True])
def test_subgraph_views_take_the_general_path(multi):
    # A subgraph view's adjacency is a filtering wrapper, not a dict: reading it with dict
    # methods raised TypeError (the map's community aggregation passes such views).
    G = (nx.MultiDiGraph if multi else nx.DiGraph)()
    G.add_nodes_from([("a", {"type": "company"}), ("b", {"type": "association"}),
                      ("c", {"type": "company"}), ("d", {"type": "company"})])
    G.add_edge("a", "b", type="MEMBER_OF")
    G.add_edge("c", "b", type="MEMBER_OF")
    G.add_edge("c", "d", type="PARTNERS_WITH")
    view = G.subgraph(["a", "b", "c"])
    E, _ = _graphops._edges(view)
    copy, _ = _graphops._edges(view.copy())
    assert list(E.nodes) == list(copy.nodes)
    assert sorted(zip(E.u.tolist(), E.v.tolist())) == sorted(zip(copy.u.tolist(), copy.v.tolist()))
    assert len(E.u) == 2
