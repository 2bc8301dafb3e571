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
from itertools import chain, repeat
from dataclasses import dataclass

import igraph as ig
import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from analysis._matrices import Snapshot, Tokens, _items, snapshot_matrices, sorted_unique, token_matrix
from analysis._network import RESULT_TYPES, paused_gc

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


class _Network:
    """What brokers, communities and simulate read of a snapshot besides its edges: the
    :class:`~analysis._matrices.Snapshot` fields they use (``nodes``, ``types``, ``clusters``,
    ``A``, ``sectors``, ``name``), built without the membership and sector matrices unless
    asked for."""

    def __init__(self, G: nx.Graph, nodes: list, types: list, E: "_Edges", clusters: Tokens):
        self.G = G
        self.nodes = nodes
        self.types = types
        self.clusters = clusters
        self._E = E
        self._A: sp.csr_array | None = None
        self._sectors: Tokens | None = None

    @property
    def n(self) -> int:
        return len(self.nodes)

    @property
    def index(self) -> dict:
        return {v: i for i, v in enumerate(self.nodes)}

    @property
    def A(self) -> sp.csr_array:
        """0/1 adjacency of the partnership network (sorted indices)."""
        if self._A is None:
            self._A = self._E.csr()
        return self._A

    @property
    def sectors(self) -> Tokens:
        if self._sectors is None:
            node = self.G.nodes
            self._sectors = token_matrix([_items(node[v].get("sectors")) for v in self.nodes])
        return self._sectors

    name = Snapshot.name
    attr = Snapshot.attr


def _edges(G: nx.Graph, *, weight: str | None = None) -> tuple[_Edges, Snapshot | _Network]:
    """Return the partnership network of ``G`` as edge arrays, and the nodes' clusters, types
    and names (a :class:`Snapshot`, or a :class:`_Network` holding the same fields).

    Same nodes, order and summed weights as
    ``adjacency(partnership_network(G, weight=weight))``, built without the intermediate
    networkx graph. A directed graph (every snapshot) is read by :func:`_directed_edges`;
    an undirected one by :func:`analysis._matrices.snapshot_matrices`.

    Raises
    ------
    ValueError
        When ``weight`` is given and a summed edge weight is not a positive number: Burt's
        measures divide by each node's total and largest weight.
    """
    # Views (subgraph_view, restricted_view) hold filtering wrappers, not dicts: they take the
    # general path below.
    if G.is_directed() and type(G._node) is dict and type(G._succ) is dict:
        return _directed_edges(G, weight=weight)
    S = snapshot_matrices(G, weight=weight)
    M = S.A if weight is None else S.W
    T = sp.triu(M, k=1).tocoo()
    u = T.row.astype(np.int64)
    v = T.col.astype(np.int64)
    w = T.data.astype(np.float64) if weight is not None else np.ones(len(u))
    return _Edges(S.nodes, u, v, w), S


# Lists of every edge's attribute dict would set off the cyclic garbage collector again and
# again, each time walking the whole graph for nothing (no cycles are made).
@paused_gc
def _directed_edges(G: nx.DiGraph, *, weight: str | None = None) -> tuple[_Edges, _Network]:
    """:func:`_edges` of a directed graph (or multigraph), with the same rules as
    :func:`analysis._matrices.snapshot_matrices`: cluster nodes are left out (a ``PART_OF``
    edge to one adds its name to the source's clusters), and so are self-loops and result
    relationships; ties are unordered and their weights summed.

    Every pass over the edges is a ``map`` or ``chain`` of builtins (``len``, ``dict.get``,
    ``dict.values``), which run without a Python step per edge, and the rest is numpy: several times faster than reading
    the edges one by one, which :func:`partnership_network` does.
    """
    node_data = G._node
    ntypes = list(map(dict.get, node_data.values(), repeat("type")))
    nodes = [v for v, t in zip(node_data, ntypes) if t != "cluster"]
    index = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    types = [t if isinstance(t, str) and t else None for t in ntypes if t != "cluster"]
    get = index.get
    succ = G._succ
    # Sources: non-cluster nodes (a cluster's own out-edges do not count, as in _matrices).
    src_nodes = [u for u in succ if u in index]
    nbr_dicts = list(map(succ.__getitem__, src_nodes))
    per_src = np.fromiter(map(len, nbr_dicts), np.int64, len(nbr_dicts))
    targets = list(chain.from_iterable(nbr_dicts))
    pair_src = np.repeat(np.fromiter(map(get, src_nodes), np.int64, len(src_nodes)), per_src)
    pair_dst = np.fromiter(map(get, targets, repeat(-1)), np.int64, len(targets))
    if G.is_multigraph():
        keydicts = list(chain.from_iterable(map(dict.values, nbr_dicts)))
        per_pair = np.fromiter(map(len, keydicts), np.int64, len(keydicts))
        datas = list(chain.from_iterable(map(dict.values, keydicts)))
        src = np.repeat(pair_src, per_pair)
        dst = np.repeat(pair_dst, per_pair)
        pair_of = np.repeat(np.arange(len(targets)), per_pair)
    else:
        datas = list(chain.from_iterable(map(dict.values, nbr_dicts)))
        src, dst, pair_of = pair_src, pair_dst, None
    etypes = list(map(dict.get, datas, repeat("type")))
    if RESULT_TYPES.isdisjoint(etypes):  # a snapshot never holds analysis results
        result = np.zeros(len(etypes), dtype=bool)
    else:
        result = np.fromiter(map(RESULT_TYPES.__contains__, etypes), bool, len(etypes))
    keep = (dst >= 0) & (src != dst) & ~result

    # Clusters: the ``clusters`` attribute, then the names of PART_OF targets that are clusters.
    cluster_lists = [list(_items(node_data[v].get("clusters"))) for v in nodes]
    for k in np.flatnonzero((dst < 0) & ~result).tolist():
        if etypes[k] == "PART_OF":
            c = targets[k if pair_of is None else pair_of[k]]
            cd = node_data.get(c)
            if cd is not None and cd.get("type") == "cluster":
                cluster_lists[src[k]].append(cd.get("name", c))
    clusters = token_matrix(cluster_lists)

    lo = np.minimum(src[keep], dst[keep])
    hi = np.maximum(src[keep], dst[keep])
    keys = lo * n + hi
    if weight is None:
        uniq = sorted_unique(keys)
        w = np.ones(len(uniq))
    else:
        wts = np.fromiter((1.0 if x is None else x for x in map(dict.get, datas, repeat(weight), repeat(1))),
                          np.float64, len(datas))[keep]
        order = np.argsort(keys, kind="stable")
        ks = keys[order]
        first = np.flatnonzero(np.concatenate(([True], ks[1:] != ks[:-1]))) if len(ks) else np.zeros(0, np.int64)
        uniq = ks[first]
        w = np.add.reduceat(wts[order], first) if len(ks) else np.zeros(0)
        bad = np.flatnonzero(~(w > 0))
        if len(bad):
            b = bad[0]
            raise ValueError(
                f"Edge weights must be positive numbers; the relationships between "
                f"{nodes[uniq[b] // n]!r} and {nodes[uniq[b] % n]!r} sum to {w[b]!r} in "
                f"attribute {weight!r}. Fix the data or pass weight=None to count every "
                "relationship as 1."
            )
    E = _Edges(nodes, uniq // n, uniq % n, w)
    return E, _Network(G, nodes, types, E, clusters)


@dataclass(frozen=True)
class _Oriented:
    """The edges oriented from lower to higher (degree, index) rank and sorted by
    ``(lo, hi)``: oriented edge ``j`` is ``lo[j] → hi[j]``, original edge ``order[j]``."""

    lo: np.ndarray
    hi: np.ndarray
    order: np.ndarray
    ptr: np.ndarray  # CSR row pointers of the oriented edges (by ``lo``)


def _orient(n: int, u: np.ndarray, v: np.ndarray) -> _Oriented:
    deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), deg))] = np.arange(n)
    flip = rank[u] > rank[v]
    lo = np.where(flip, v, u)
    hi = np.where(flip, u, v)
    order = np.argsort(lo * n + hi, kind="stable")
    lo, hi = lo[order], hi[order]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(lo, minlength=n), out=ptr[1:])
    return _Oriented(lo, hi, order, ptr)


def _triangles(n: int, u: np.ndarray, v: np.ndarray, O: _Oriented | None = None):
    """Yield chunks ``(j_ab, j_bc, j_ac)`` of oriented edge numbers (see :class:`_Oriented`),
    one per triangle ``a → b → c`` closed by ``a → c``.

    Each triangle is listed exactly once: edges are oriented from lower to higher
    (degree, index) rank, and a triangle is found as the wedge ``a→b→c`` closed by ``a→c``.
    The orientation bounds every out-degree by ``sqrt(2m)``, so the wedges examined are
    ``O(m^1.5)`` even with hubs (Chiba & Nishizeki), and they are examined in chunks of
    :data:`_WEDGE_CHUNK` to bound memory. Whether ``a→c`` exists is looked up in the oriented
    adjacency matrix (scipy's CSR element lookup: a short search within row ``a``).
    """
    m = len(u)
    if m == 0:
        return
    O = _orient(n, u, v) if O is None else O
    lo, hi, ptr = O.lo, O.hi, O.ptr
    # Values j + 1: a missing entry reads 0.
    L = sp.csr_array((np.arange(1, m + 1, dtype=np.int64), hi, ptr), shape=(n, n))
    L.has_sorted_indices = True  # sorted by (lo, hi) above
    outdeg = np.diff(ptr)
    # Wedges a→b→c: oriented edge j = (a→b) continues along each out-edge of b.
    count = outdeg[hi]
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
        j_bc = ptr[hi[jj]] + (np.arange(total) - np.repeat(first, cj))
        found = np.asarray(L[lo[jj], hi[j_bc]]).ravel()
        hit = found > 0
        if hit.any():
            yield jj[hit], j_bc[hit], found[hit] - 1


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
    strength = (np.bincount(E.u, E.w, minlength=n) + np.bincount(E.v, E.w, minlength=n)).astype(np.float64)
    strongest = np.zeros(n)
    np.maximum.at(strongest, E.u, E.w)
    np.maximum.at(strongest, E.v, E.w)
    # Directed copies of each oriented edge j: id j is lo[j]→hi[j], id j + m is hi[j]→lo[j].
    O = _orient(n, E.u, E.v)
    src = np.concatenate([O.lo, O.hi])
    w = E.w[O.order]
    ww = np.concatenate([w, w])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = ww / strength[src]
        r = ww / strongest[src]
    indirect = np.zeros(2 * m)  # sum_z p[x→z] p[z→y] on directed edge x→y
    redundancy = np.zeros(2 * m)  # sum_z p[x→z] r[y→z]
    triangles = 0
    for ab, bc, ac in _triangles(n, E.u, E.v, O):
        triangles += len(ab)
        ba, cb, ca = ab + m, bc + m, ac + m
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


def _names(S: Snapshot | _Network) -> list[str]:
    """Display names of every node of ``S``: ``[S.name(i) for i in range(S.n)]``, faster."""
    node = S.G.nodes
    return [str(v) if (x := node[v].get("name")) is None or x != x else str(x) for v in S.nodes]


def _row_lists(M: sp.csr_array, labels: list) -> list[list]:
    """Return, for each row of ``M``, the sorted labels of its stored columns."""
    M = sp.csr_array(M)
    ptr = M.indptr.tolist()
    names = [labels[j] for j in M.indices.tolist()]
    # Plain list slices: numpy arrays per row cost more than the rows (mostly 0 to 2 labels).
    return [sorted(names[a:b]) for a, b in zip(ptr, ptr[1:])]
