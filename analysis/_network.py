"""The partnership network that analyses score, built once from a snapshot graph.

The snapshot is a ``MultiDiGraph`` of organizations, structures and clusters. Analyses work on
the *partnership network*: the undirected simple graph on organizations and structures (every
non-cluster node), where two nodes are adjacent when any stakeholder relationship links them
in either direction. Cluster nodes and result relationships are not neighbours; a node's
clusters come from its ``clusters`` attribute and its ``PART_OF`` edges.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable
from typing import TypeVar

import networkx as nx
import numpy as np
import scipy.sparse as sp

__all__ = [
    "RESULT_TYPES",
    "partnership_network",
    "node_clusters",
    "adjacency",
    "as_list",
    "paused_gc",
]

#: Edge types that are results of analyses, never input to them.
RESULT_TYPES = frozenset({"SUGGESTED_PARTNER", "OVERLAPS_WITH", "IN_DUPLICATE_GROUP"})


_F = TypeVar("_F", bound=Callable)


def paused_gc(fn: _F) -> _F:
    """Decorate an analysis so that it runs with Python's cyclic garbage collector paused.

    A snapshot holds millions of Python objects (a dict per node, per edge and per edge's
    attributes); an analysis that builds many lists or strings (reasons, name lists, the
    result's columns) sets off full collections, each walking every one of those objects for
    nothing, since analyses make no reference cycles. One landed in a 15,000-row list in
    ``find_overlaps`` at 3,000 organizations: 146 ms instead of 1.3 ms, more than half the
    whole call. The collector is switched back on when the outermost decorated call returns
    (a nested call leaves it to its caller); cyclic garbage made meanwhile is collected then.
    """

    @functools.wraps(fn)
    def run(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return run  # type: ignore[return-value]


def as_list(value: object) -> list:
    """Return ``value`` as a list: ``None`` and NaN give ``[]``, a string gives ``[value]``."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, float) and value != value:  # NaN from pandas
        return []
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _is_cluster(G: nx.Graph, n: object) -> bool:
    return G.nodes[n].get("type") == "cluster"


def node_clusters(G: nx.Graph) -> dict[object, set[str]]:
    """Return each non-cluster node's clusters: its ``clusters`` attribute plus the
    names (or ids) of cluster nodes it points to with ``PART_OF``."""
    out: dict[object, set[str]] = {}
    for n, data in G.nodes(data=True):
        if data.get("type") == "cluster":
            continue
        out[n] = {str(c) for c in as_list(data.get("clusters"))}
    for u, v, data in G.edges(data=True):
        if data.get("type") == "PART_OF" and u in out and _is_cluster(G, v):
            out[u].add(str(G.nodes[v].get("name", v)))
    return out


def partnership_network(G: nx.Graph, *, weight: str | None = None) -> nx.Graph:
    """Return the undirected simple graph on organizations and structures of ``G``.

    Parameters
    ----------
    G : networkx graph
        A snapshot (``MultiDiGraph``) or any networkx graph; nodes without a ``type`` count
        as organizations.
    weight : str, optional
        Edge attribute to carry over; parallel edges between one pair add up. Without it the
        result is unweighted.

    Returns
    -------
    networkx.Graph
        Same node keys and node attributes (cluster nodes dropped), no self-loops.

    Examples
    --------
    >>> M = nx.MultiDiGraph()
    >>> M.add_node("a", type="company"); M.add_node("b", type="institution")
    >>> M.add_node("c1", type="cluster")
    >>> _ = M.add_edge("a", "b", type="PARTNERS_WITH"); _ = M.add_edge("b", "a", type="FUNDS")
    >>> _ = M.add_edge("a", "c1", type="PART_OF")
    >>> H = partnership_network(M)
    >>> sorted(H.nodes()), sorted(H.edges())
    (['a', 'b'], [('a', 'b')])
    """
    H = nx.Graph()
    H.add_nodes_from((n, d) for n, d in G.nodes(data=True) if d.get("type") != "cluster")
    for u, v, data in G.edges(data=True):
        if u == v or data.get("type") in RESULT_TYPES:
            continue
        if u not in H or v not in H:
            continue
        if weight is None:
            H.add_edge(u, v)
        else:
            w = data.get(weight, 1)
            w = 1 if w is None else w
            if H.has_edge(u, v):
                H[u][v][weight] += w
            else:
                H.add_edge(u, v, **{weight: w})
    return H


def adjacency(H: nx.Graph, *, weight: str | None = None) -> tuple[list, sp.csr_array]:
    """Return ``(nodes, A)``: the node order and the symmetric CSR adjacency matrix of
    ``H`` (0/1 without ``weight``), built directly from the edge list."""
    nodes = list(H.nodes())
    index = {n: i for i, n in enumerate(nodes)}
    m = H.number_of_edges()
    rows = np.empty(m, dtype=np.int64)
    cols = np.empty(m, dtype=np.int64)
    vals = np.ones(m, dtype=np.float64)
    for k, (u, v, d) in enumerate(H.edges(data=True)):
        rows[k] = index[u]
        cols[k] = index[v]
        if weight is not None:
            w = d.get(weight, 1)
            vals[k] = 1.0 if w is None else float(w)
    n = len(nodes)
    A = sp.coo_array(
        (np.concatenate([vals, vals]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
        shape=(n, n),
    ).tocsr()
    A.sum_duplicates()
    return nodes, A
