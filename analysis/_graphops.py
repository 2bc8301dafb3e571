"""Vectorised kernels over the partnership network, shared by brokers, communities and simulate.

The partnership network (:func:`analysis._network.partnership_network`) is turned once into
integer edge arrays (:class:`_Edges`); every measure here works on those arrays with numpy,
scipy.sparse or python-igraph (C code), never with a Python loop over nodes or edges.

Why not networkx: its ``constraint`` and ``effective_size`` compute a full ``P @ P`` product
(and ``effective_size`` a dense ``n x n`` array: 80 GB at 100,000 nodes), and its betweenness
is pure Python. The values here are the same definitions, checked against networkx in
``tests/analysis/test_brokers.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import igraph as ig
import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from analysis._matrices import Snapshot, snapshot_matrices

__all__: list[str] = []

#: Wedges examined per chunk when listing triangles: bounds memory (~10 arrays of this length).
_WEDGE_CHUNK = 4_000_000


@dataclass(frozen=True)
class _Edges:
    """The partnership network as arrays: node ``i`` is ``nodes[i]``; edge ``e`` joins
    ``u[e] < v[e]`` with weight ``w[e]`` (all ones when unweighted)."""

    nodes: list
    u: np.ndarray
    v: np.ndarray
    w: np.ndarray

    @property
    def n(self) -> int:
        return len(self.nodes)

    @property
    def m(self) -> int:
        return len(self.u)

    def degree(self) -> np.ndarray:
        return np.bincount(self.u, minlength=self.n) + np.bincount(self.v, minlength=self.n)

    def csr(self, *, weighted: bool = False) -> sp.csr_array:
        """Symmetric adjacency matrix (0/1, or weights)."""
        vals = self.w if weighted else np.ones(self.m)
        A = sp.coo_array(
            (np.concatenate([vals, vals]), (np.concatenate([self.u, self.v]), np.concatenate([self.v, self.u]))),
            shape=(self.n, self.n),
        ).tocsr()
        A.sum_duplicates()
        return A

    def igraph(self) -> ig.Graph:
        # A list of tuples converts several times faster than a numpy array.
        return ig.Graph(n=self.n, edges=list(zip(self.u.tolist(), self.v.tolist())), directed=False)

    def with_edges(self, a: np.ndarray, b: np.ndarray, w: np.ndarray | None = None) -> "_Edges":
        """Return a copy with the edges ``a[i]–b[i]`` added (duplicates and loops dropped)."""
        lo = np.minimum(a, b)
        hi = np.maximum(a, b)
        keep = lo != hi
        lo, hi = lo[keep], hi[keep]
        w = np.ones(len(lo)) if w is None else np.asarray(w, dtype=float)[keep]
        u = np.concatenate([self.u, lo])
        v = np.concatenate([self.v, hi])
        ww = np.concatenate([self.w, w])
        # Keep the first occurrence: an existing edge keeps its weight.
        _, first = np.unique(u.astype(np.int64) * self.n + v, return_index=True)
        first.sort()
        return _Edges(self.nodes, u[first], v[first], ww[first])


def _edges(G: nx.Graph, *, weight: str | None = None) -> tuple[_Edges, Snapshot]:
    """Return the partnership network of ``G`` as edge arrays, and the :class:`Snapshot`
    (sectors, clusters, names) it was read from.

    Same nodes, order and summed weights as
    ``adjacency(partnership_network(G, weight=weight))``, built without the intermediate
    networkx graph (see :mod:`analysis._matrices`).

    Raises
    ------
    ValueError
        When ``weight`` is given and a summed edge weight is not a positive number: Burt's
        measures divide by each node's total and largest weight.
    """
    S = snapshot_matrices(G, weight=weight)
    M = S.A if weight is None else S.W
    T = sp.triu(M, k=1).tocoo()
    u = T.row.astype(np.int64)
    v = T.col.astype(np.int64)
    w = T.data.astype(np.float64) if weight is not None else np.ones(len(u))
    return _Edges(S.nodes, u, v, w), S


def _triangles(n: int, u: np.ndarray, v: np.ndarray):
    """Yield chunks ``(a, b, c, e_ab, e_bc, e_ac)``: nodes and edge ids, one per triangle.

    Each triangle is listed exactly once: edges are oriented from lower to higher
    (degree, index) rank, and a triangle ``a < b < c`` is found as the wedge ``a→b→c``
    closed by ``a→c``. The orientation bounds every out-degree by ``sqrt(2m)``, so the
    wedges examined are ``O(m^1.5)`` even with hubs (Chiba & Nishizeki), and they are
    examined in chunks of :data:`_WEDGE_CHUNK` to bound memory.
    """
    m = len(u)
    if m == 0:
        return
    deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), deg))] = np.arange(n)
    flip = rank[u] > rank[v]
    lo = np.where(flip, v, u)
    hi = np.where(flip, u, v)
    keys = lo * n + hi
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    lo_s, hi_s = lo[order], hi[order]
    outdeg = np.bincount(lo_s, minlength=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(outdeg, out=ptr[1:])
    # Wedges a→b→c: oriented edge j = (a→b) continues along each out-edge of b.
    count = outdeg[hi_s]
    ends = np.cumsum(count)
    start = 0
    while start < m:
        stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + _WEDGE_CHUNK, side="right"))
        stop = max(stop, start + 1)
        j = np.arange(start, stop)
        cj = count[j]
        total = int(cj.sum())
        start = stop
        if total == 0:
            continue
        jj = np.repeat(j, cj)
        first = np.cumsum(cj) - cj
        within = np.arange(total) - np.repeat(first, cj)
        pos_bc = ptr[hi_s[jj]] + within
        key_ac = lo_s[jj] * n + hi_s[pos_bc]
        pos_ac = np.searchsorted(keys, key_ac)
        pos_ac[pos_ac == m] = m - 1
        hit = keys[pos_ac] == key_ac
        if hit.any():
            jj, pos_bc, pos_ac = jj[hit], pos_bc[hit], pos_ac[hit]
            yield lo_s[jj], hi_s[jj], hi_s[pos_bc], order[jj], order[pos_bc], order[pos_ac]


def _structural_holes(E: _Edges) -> tuple[np.ndarray, np.ndarray, int]:
    """Return Burt's ``(constraint, effective_size)`` of every node, as networkx defines them,
    and the number of triangles of the graph (listed on the way; transitivity needs it).

    With ``p[x→y] = w_xy / sum_z w_xz`` (proportional tie strength) and
    ``r[y→z] = w_yz / max_z w_yz`` (tie strength relative to ``y``'s strongest),

    - constraint ``c(x) = sum_y (p[x→y] + sum_z p[x→z] p[z→y])^2``,
    - effective size ``e(x) = sum_y (1 - sum_z p[x→z] r[y→z])``,

    over neighbours ``y`` of ``x``. The inner sums run over the common neighbours ``z`` of
    ``x`` and ``y``, that is over the triangles, so listing triangles once gives every term;
    networkx multiplies whole matrices instead. Isolated nodes get NaN, as in networkx.
    """
    n, m = E.n, E.m
    u, v, w = E.u, E.v, E.w
    strength = (np.bincount(u, w, minlength=n) + np.bincount(v, w, minlength=n)).astype(np.float64)
    strongest = np.zeros(n)
    np.maximum.at(strongest, u, w)
    np.maximum.at(strongest, v, w)
    # Directed copies of each edge: id e is u[e]→v[e], id e + m is v[e]→u[e].
    src = np.concatenate([u, v])
    ww = np.concatenate([w, w])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = ww / strength[src]
        r = ww / strongest[src]
    indirect = np.zeros(2 * m)  # sum_z p[x→z] p[z→y] on directed edge x→y
    redundancy = np.zeros(2 * m)  # sum_z p[x→z] r[y→z]
    triangles = 0

    def d(e, x):  # directed id of edge e leaving node x
        return e + m * (x != u[e])

    for a, b, c, e_ab, e_bc, e_ac in _triangles(n, u, v):
        triangles += len(a)
        ab, ba = d(e_ab, a), d(e_ab, b)
        bc, cb = d(e_bc, b), d(e_bc, c)
        ac, ca = d(e_ac, a), d(e_ac, c)
        # Each of the six ordered pairs (x, y) of a triangle, via its third node z:
        # columns are x→y, x→z, z→y and y→z.
        xy = np.concatenate([ab, ba, ac, ca, bc, cb])
        xz = np.concatenate([ac, bc, ab, cb, ba, ca])
        zy = np.concatenate([cb, ca, bc, ba, ac, ab])
        yz = np.concatenate([bc, ac, cb, ab, ca, ba])
        pxz = p[xz]
        indirect += np.bincount(xy, pxz * p[zy], minlength=2 * m)
        redundancy += np.bincount(xy, pxz * r[yz], minlength=2 * m)
    # astype: bincount of an empty array is integer.
    constraint = np.bincount(src, (p + indirect) ** 2, minlength=n).astype(np.float64)
    effective = np.bincount(src, 1.0 - redundancy, minlength=n).astype(np.float64)
    isolated = strength == 0
    constraint[isolated] = np.nan
    effective[isolated] = np.nan
    return constraint, effective, triangles


def _betweenness(
    E: _Edges, *, sample: int | None, seed: int | None, g: ig.Graph | None = None
) -> tuple[np.ndarray, list | None]:
    """Return normalised shortest-path betweenness (hop counts) and the sampled sources.

    Exact (``sources is None``) when ``sample`` is None or at least the node count; otherwise
    the paths from ``sample`` sources drawn as networkx draws them
    (``random.Random(seed).sample(nodes, k)``) and rescaled as networkx 3.6 rescales them,
    so the values equal ``nx.betweenness_centrality(H, k=sample, seed=seed)``.
    """
    n = E.n
    if n < 3:
        return np.zeros(n), None
    g = E.igraph() if g is None else g
    if sample is None or sample >= n:
        # igraph counts each unordered pair once; networkx normalises by (n-1)(n-2)/2 pairs.
        raw = np.asarray(g.betweenness(directed=False), dtype=float)
        return raw * 2.0 / ((n - 1) * (n - 2)), None
    sources = random.Random(seed).sample(range(n), sample)
    raw = np.asarray(g.betweenness(directed=False, sources=sources), dtype=float)
    # igraph halves subset betweenness on undirected graphs; networkx sums over ordered (s, t).
    raw *= 2.0
    is_source = np.zeros(n, dtype=bool)
    is_source[sources] = True
    scale = np.where(
        is_source,
        1.0 / ((sample - 1) * (n - 2)) if sample > 1 else np.nan,
        1.0 / (sample * (n - 2)),
    )
    return raw * scale, [E.nodes[i] for i in sources]


def _components(E: _Edges) -> tuple[int, np.ndarray]:
    """Return ``(count, label)`` of connected components (isolated nodes count)."""
    return csgraph.connected_components(E.csr(), directed=False)


def _row_lists(M: sp.csr_array, labels: list) -> list[list]:
    """Return, for each row of ``M``, the sorted labels of its stored columns."""
    M = sp.csr_array(M)
    M.sort_indices()
    cols = np.split(M.indices, M.indptr[1:-1]) if M.shape[0] else []
    return [sorted(labels[j] for j in row) for row in cols]
