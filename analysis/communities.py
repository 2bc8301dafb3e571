"""Communities found in the partnership network, set against the declared clusters.

A cluster is a grouping that the data declares (an organization's ``clusters`` attribute or its
``PART_OF`` edges); a community is a grouping that the relationships reveal. Where the two
disagree, a secretariat learns which organizations actually work with another cluster than
their own, and whether its clusters match how the ecosystem really works.
"""

from __future__ import annotations

import random

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from analysis._graphops import _edges, _names, _row_lists
from analysis._network import paused_gc
from maillage.errors import InputError

__all__ = ["communities", "modularity", "METHODS"]

#: Community detection methods: Louvain from NetworKit (its PLM, C++) and Leiden from
#: python-igraph (C), tens of times faster than networkx, and networkx's own Louvain as the
#: reference.
METHODS = ("louvain", "leiden", "networkx")


@paused_gc
def communities(
    G: nx.Graph,
    *,
    resolution: float = 1.0,
    seed: int | None = 0,
    method: str = "louvain",
    weight: str | None = None,
) -> pd.DataFrame:
    """Return each organization's community and whether it sits apart from its cluster.

    Communities maximise modularity (Newman 2006) on the partnership network (undirected,
    relationships between one pair summed into one tie) with the given resolution
    (Reichardt & Bornholdt 2006): Louvain (Blondel et al. 2008) or Leiden (Traag et al.
    2019). They are then set against the declared clusters:

    - **dominant community of a cluster**: the community holding most of the cluster's members
      (every member counts, including those with several clusters; a tie goes to the larger
      community);
    - **misplaced**: an organization with a declared cluster whose community is not that
      cluster's dominant community. An organization in several clusters is misplaced only
      when its community is the dominant community of none of them;
    - **adjusted Rand index** (Hubert & Arabie 1985) and **normalised mutual information**
      (arithmetic mean normalisation, scikit-learn's default) between communities and
      clusters, over the organizations that declare **exactly one** cluster: an organization
      in several clusters has no single label to compare, and one in none has none.

    Parameters
    ----------
    G : networkx graph
        A snapshot or any networkx graph.
    resolution : float, default 1.0
        Modularity resolution: above 1 gives more, smaller communities; below 1 fewer, larger.
    seed : int or None, default 0
        Seed of the node order the algorithm visits; the same seed gives the same communities.
    method : {"louvain", "leiden", "networkx"}, default "louvain"
        ``"louvain"``: NetworKit's ``PLM`` (the Louvain method, one thread so that a seed
        gives one answer; about five times faster than igraph's ``community_multilevel``,
        with the same modularity on the demo ecosystem); ``"leiden"``: igraph's
        ``community_leiden`` on modularity, two iterations (igraph's default: iterating
        until stable costs ten times more for a few thousandths of modularity); usually a
        little better than Louvain, and its communities are guaranteed connected; ``"networkx"``:
        ``networkx.community.louvain_communities``, the slow reference.
    weight : str, optional
        Edge attribute holding tie strength (summed per pair; missing counts 1).

    Returns
    -------
    pandas.DataFrame
        One row per organization, by community then id:

        ================================  ===========================================================
        ``id``                            node key
        ``name``                          ``name`` attribute, else the id
        ``type``                          canonical type; missing (NaN) when the node has none
        ``community``                     community number: 0 is the largest (ties: the one
                                          holding the earliest node of ``G``)
        ``community_size``                organizations in that community
        ``declared_clusters``             every cluster it declares (sorted list of names)
        ``declared_cluster``              its one cluster; with several, the first (by name)
                                          whose dominant community it sits in, else the first by
                                          name; missing (NaN) with none
        ``dominant_community_of_cluster`` the dominant community of ``declared_cluster``
                                          (nullable integer)
        ``misplaced``                     ``community != dominant_community_of_cluster``; False
                                          without a cluster
        ================================  ===========================================================

        ``df.attrs``: ``ari`` and ``nmi`` (NaN when fewer than two organizations have one
        cluster), ``n_compared`` (how many did), ``modularity`` (of the communities, at
        ``resolution``, equal to ``networkx.community.modularity``), ``n_communities``,
        ``method``, ``resolution``, ``seed``, ``weight``.

    Raises
    ------
    maillage.errors.InputError
        For an unknown ``method``.

    References
    ----------
    .. [1] Blondel, V. D., Guillaume, J.-L., Lambiotte, R., & Lefebvre, E. (2008). Fast
       unfolding of communities in large networks. *J. Stat. Mech.* P10008.
    .. [2] Traag, V. A., Waltman, L., & van Eck, N. J. (2019). From Louvain to Leiden:
       guaranteeing well-connected communities. *Scientific Reports* 9, 5233.
    .. [3] Hubert, L., & Arabie, P. (1985). Comparing partitions. *Journal of
       Classification* 2, 193-218.

    Examples
    --------
    Two triangles joined by one tie; ``c`` declares cluster B but works with cluster A:

    >>> G = nx.Graph([("a", "b"), ("b", "c"), ("a", "c"), ("c", "d"),
    ...               ("d", "e"), ("e", "f"), ("d", "f")])
    >>> for n, c in zip("abcdef", "AABBBB"):
    ...     G.nodes[n]["clusters"] = [c]
    >>> df = communities(G)
    >>> df[["id", "community", "declared_cluster", "dominant_community_of_cluster", "misplaced"]]
      id  community declared_cluster  dominant_community_of_cluster  misplaced
    0  a          0                A                              0      False
    1  b          0                A                              0      False
    2  c          0                B                              1       True
    3  d          1                B                              1      False
    4  e          1                B                              1      False
    5  f          1                B                              1      False
    >>> round(df.attrs["modularity"], 4), round(df.attrs["ari"], 3)
    (0.3571, 0.324)
    """
    if method not in METHODS:
        raise InputError(f"Unknown community method {method!r}; use one of {', '.join(METHODS)}.")
    E, S = _edges(G, weight=weight)
    n = E.n
    membership = _detect(E, resolution=resolution, seed=seed, method=method, weighted=weight is not None)
    community, sizes = _renumber(membership, n)
    q = modularity(E.u, E.v, E.w, community, resolution=resolution)

    C = S.clusters.X.tocsr()
    k = C.shape[1]
    labels = S.clusters.labels
    K = len(sizes)
    # Members of each cluster in each community; the dominant community is the row's maximum,
    # ties to the lowest number (the larger community).
    onehot = sp.csr_array((np.ones(n), (np.arange(n), community)), shape=(n, K))
    counts = (C.T @ onehot).tocoo()
    dominant = np.full(k, -1, dtype=np.int64)
    if counts.nnz:
        order = np.lexsort((counts.col, -counts.data, counts.row))
        rows = counts.row[order]
        first = np.r_[True, rows[1:] != rows[:-1]]
        dominant[rows[first]] = counts.col[order][first]

    # One cluster: that one (vectorised; the common case). Several: a loop over those few.
    C.sort_indices()
    n_declared = np.diff(C.indptr)
    single = n_declared == 1
    chosen = np.full(n, -1, dtype=np.int64)
    chosen[single] = C.indices[C.indptr[:-1][single]]
    for i in np.flatnonzero(n_declared > 1).tolist():
        row = sorted(C.indices[C.indptr[i]:C.indptr[i + 1]].tolist(), key=lambda j: labels[j])
        home = [j for j in row if dominant[j] == community[i]]
        chosen[i] = home[0] if home else row[0]
    has = chosen >= 0
    dom = np.full(n, -1, dtype=np.int64)
    dom[has] = dominant[chosen[has]]
    misplaced = has & (dom != community)

    n_compared = int(single.sum())
    if n_compared >= 2:
        ari = float(adjusted_rand_score(chosen[single], community[single]))
        nmi = float(normalized_mutual_info_score(chosen[single], community[single]))
    else:
        ari = nmi = float("nan")

    df = pd.DataFrame(
        {
            "id": S.nodes,
            "name": _names(S),
            "type": S.types,
            "community": community,
            "community_size": sizes[community] if n else np.zeros(0, dtype=np.int64),
            "declared_clusters": _row_lists(C, labels),
            "declared_cluster": [labels[j] if j >= 0 else None for j in chosen],
            "dominant_community_of_cluster": pd.arrays.IntegerArray(np.where(has, dom, 0), ~has),
            "misplaced": misplaced,
        }
    )
    df["_key"] = df["id"].astype(str)
    df = df.sort_values(["community", "_key"], kind="stable").drop(columns="_key").reset_index(drop=True)
    df.attrs.update(
        ari=ari,
        nmi=nmi,
        n_compared=n_compared,
        modularity=q,
        n_communities=K,
        method=method,
        resolution=resolution,
        seed=seed,
        weight=weight,
    )
    return df


def modularity(u: np.ndarray, v: np.ndarray, w: np.ndarray, community: np.ndarray, *, resolution: float = 1.0) -> float:
    """Return the modularity of a partition of an undirected graph given as edge arrays.

    ``Q = sum_c [ L_c / m - resolution * (D_c / 2m)^2 ]``, with ``m`` the total edge weight,
    ``L_c`` the weight inside community ``c`` and ``D_c`` its total degree: the same value as
    ``networkx.community.modularity`` (NaN for a graph without edges, where networkx raises).

    Examples
    --------
    Two triangles joined by one edge, split between them: ``2 * (3/7 - (7/14)^2)``.

    >>> u = np.array([0, 1, 0, 2, 3, 4, 3]); v = np.array([1, 2, 2, 3, 4, 5, 5])
    >>> round(modularity(u, v, np.ones(7), np.array([0, 0, 0, 1, 1, 1])), 6)
    0.357143
    """
    m = float(np.sum(w))
    if m == 0:
        return float("nan")
    K = int(community.max()) + 1 if len(community) else 0
    inside = community[u] == community[v]
    L = np.bincount(community[u[inside]], w[inside], minlength=K)
    D = np.bincount(community[u], w, minlength=K) + np.bincount(community[v], w, minlength=K)
    return float(np.sum(L / m - resolution * (D / (2 * m)) ** 2))


def _detect(E, *, resolution: float, seed: int | None, method: str, weighted: bool) -> np.ndarray:
    """Return a community label per node (arbitrary numbering)."""
    n = E.n
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if method == "networkx":
        H = nx.Graph()
        H.add_nodes_from(range(n))
        H.add_weighted_edges_from(zip(E.u.tolist(), E.v.tolist(), E.w.tolist()))
        parts = nx.community.louvain_communities(H, weight="weight", resolution=resolution, seed=seed)
        out = np.empty(n, dtype=np.int64)
        for c, part in enumerate(parts):
            out[list(part)] = c
        return out
    if method == "louvain":
        return _louvain(E, resolution=resolution, seed=seed, weighted=weighted)
    g = E.igraph()
    weights = E.w.tolist() if weighted else None
    # igraph draws from a global generator (Python's ``random`` by default): seed a private one
    # for this call and put the default back, so the caller's random state is untouched.
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g.community_leiden(objective_function="modularity", weights=weights,
                                  resolution=resolution, n_iterations=2)
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership, dtype=np.int64)


def _louvain(E, *, resolution: float, seed: int | None, weighted: bool) -> np.ndarray:
    """Louvain (NetworKit's PLM without refinement) on the edge arrays ``E``.

    PLM visits nodes in the order of their numbers; the seed draws that order (a permutation
    of the numbers), as igraph's Louvain draws its visiting order. One thread: several give
    answers that vary from run to run. NetworKit's thread count is global, and put back."""
    import networkit as nk

    n = E.n
    perm = np.random.default_rng(seed).permutation(n)  # node i is number perm[i] for PLM
    data = E.w.astype(np.float64) if weighted else np.ones(len(E.u))
    g = nk.graph.GraphFromCoo((data, (perm[E.u].astype(np.uint64), perm[E.v].astype(np.uint64))), n,
                              directed=False, weighted=weighted)
    threads = nk.getMaxNumberOfThreads()
    nk.setNumberOfThreads(1)
    try:
        plm = nk.community.PLM(g, refine=False, gamma=float(resolution))
        plm.run()
        labels = np.asarray(plm.getPartition().getVector(), dtype=np.int64)
    finally:
        nk.setNumberOfThreads(threads)
    return labels[perm]


def _renumber(membership: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber communities by size (largest 0), ties by earliest node; return labels, sizes."""
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _, inverse = np.unique(membership, return_inverse=True)
    K = int(inverse.max()) + 1
    sizes = np.bincount(inverse, minlength=K)
    earliest = np.full(K, n, dtype=np.int64)
    np.minimum.at(earliest, inverse, np.arange(n))
    order = np.lexsort((earliest, -sizes))
    new = np.empty(K, dtype=np.int64)
    new[order] = np.arange(K)
    return new[inverse], sizes[order]
