"""Brokers and structural holes: who holds the network together, and where it would tear.

Three questions a secretariat asks of its network, each answered on the *partnership network*
(every relationship between two organizations or structures, in either direction, as one
undirected tie; cluster nodes are attributes, not neighbours; see
:mod:`analysis._network`):

- :func:`brokerage`: per organization, Burt's constraint and effective size, betweenness,
  the clusters it reaches beyond its own, and whether its loss would split the network;
- :func:`cluster_bridges`: pairs of clusters that work in the same sectors but barely link;
- :func:`critical_links`: the single relationships (bridges) and organizations (articulation
  points) whose loss would split the network, with the sizes of the pieces.

Burt's measures are computed from the triangles of the network with numpy
(:func:`analysis._graphops._structural_holes`), betweenness, bridges and articulation
points with python-igraph (C code); the values equal networkx's.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from analysis import _wording as wd
from analysis._graphops import _betweenness, _components, _edges, _names, _row_lists, _structural_holes
from analysis._network import paused_gc

__all__ = ["brokerage", "cluster_bridges", "critical_links"]

#: Networks up to this many organizations get exact betweenness: one breadth-first search
#: per organization, about a second at 2,000 organizations and 20,000 ties.
DEFAULT_BETWEENNESS_EXACT_UP_TO = 2000
#: Sources sampled for betweenness above that size. Each is one search over the whole
#: network (tens of milliseconds at a million ties); 100 sources rank the main brokers of a
#: large network reliably, since their betweenness is far above everyone else's.
DEFAULT_BETWEENNESS_SAMPLE = 100


@paused_gc
def brokerage(
    G: nx.Graph,
    *,
    weight: str | None = None,
    betweenness_sample: int | None = DEFAULT_BETWEENNESS_SAMPLE,
    betweenness_exact_up_to: int = DEFAULT_BETWEENNESS_EXACT_UP_TO,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Return each organization's brokerage: structural holes, betweenness, clusters bridged.

    On the partnership network (undirected; parallel relationships between one pair are one
    tie whose weight is their summed ``weight``):

    - **constraint** (Burt 1992): ``c(i) = sum_j (p_ij + sum_q p_iq p_qj)^2`` over the
      partners ``j`` of ``i``, where ``p_ij`` is the share of ``i``'s ties (by weight) that
      go to ``j``. Near 1 for an organization whose partners all know each other (or that
      has one partner); low for one whose partners are otherwise unconnected: a broker.
    - **effective size** (Burt 1992): ``e(i) = sum_j (1 - sum_q p_iq m_jq)``, where
      ``m_jq`` is ``j``'s tie to ``q`` divided by ``j``'s strongest tie: the number of
      partners, less their redundancy. Unweighted, it is Borgatti's ``n - 2t/n``.
    - **betweenness** (Freeman 1977, Brandes 2001): the share of shortest paths between
      other pairs that pass through ``i``, normalised by ``(n-1)(n-2)/2`` as networkx does;
      always on hop counts, because relationship weights here are tie strengths, not
      distances.

    Parameters
    ----------
    G : networkx graph
        A snapshot or any networkx graph; untyped nodes count as organizations.
    weight : str, optional
        Edge attribute holding tie strength for constraint and effective size (missing or
        None counts as 1; weights must be positive). Default: every relationship counts 1.
    betweenness_sample : int or None, default 100
        Above ``betweenness_exact_up_to`` organizations, betweenness is estimated from this
        many source nodes drawn at random (Brandes & Pich 2007), exactly as
        ``networkx.betweenness_centrality(H, k=betweenness_sample, seed=seed)`` draws and
        rescales them. None, or a sample at least the network's size: always exact.
    betweenness_exact_up_to : int, default 2000
        Networks with at most this many organizations get exact betweenness.
    seed : int or None, default 0
        Seed of the source sample.

    Returns
    -------
    pandas.DataFrame
        One row per organization or structure, best brokers first (betweenness descending,
        then constraint ascending, then id):

        ======================  ===============================================================
        ``id``                  node key
        ``name``                ``name`` attribute, else the id
        ``type``                canonical type; missing (NaN) when the node has none
        ``clusters``            the organization's own clusters (sorted list of names)
        ``degree``              number of distinct partners (any relationship, either way)
        ``constraint``          Burt's constraint; NaN for an isolated organization
        ``effective_size``      Burt's effective size; NaN for an isolated organization
        ``efficiency``          effective size / degree; NaN for an isolated organization
        ``betweenness``         normalised betweenness (exact or sampled, see attrs)
        ``clusters_bridged``    clusters of its partners that are not its own (sorted list)
        ``n_clusters_bridged``  length of ``clusters_bridged``
        ``is_articulation_point`` True when removing it splits its connected component
        ======================  ===============================================================

        ``df.attrs``: ``betweenness_exact`` (bool), ``betweenness_sources`` (number of source
        nodes used), ``betweenness_sample``, ``betweenness_exact_up_to`` and ``seed`` (as
        given), ``weight``.

    Raises
    ------
    ValueError
        When ``weight`` is given and some tie's summed weight is not a positive number.

    Notes
    -----
    networkx 3.6's ``effective_size(G, weight=...)`` over all nodes (its sparse-matrix path)
    normalises ``m_jq`` by the wrong axis (networkx pull request #8906); the values here
    equal its per-node path, ``effective_size(G, nodes=list(G), weight=...)``, which follows
    Burt's definition. Unweighted, both paths agree.

    References
    ----------
    .. [1] Burt, R. S. (1992). *Structural Holes: The Social Structure of Competition*.
       Harvard University Press.
    .. [2] Borgatti, S. P. (1997). Structural holes: unpacking Burt's redundancy measures.
       *Connections* 20(1), 35-38.
    .. [3] Brandes, U. (2001). A faster algorithm for betweenness centrality. *Journal of
       Mathematical Sociology* 25(2), 163-177.
    .. [4] Brandes, U., & Pich, C. (2007). Centrality estimation in large networks.
       *International Journal of Bifurcation and Chaos* 17(7), 2303-2318.

    Examples
    --------
    Two triangles joined by one relationship, ``c``–``d``: ``c`` and ``d`` are the brokers.
    By hand: ``c`` gives a third of its ties to each of ``a``, ``b``, ``d``; ``a`` and ``b``
    also reach each other, so ``c(c) = 2 (1/3 + 1/3 * 1/2)^2 + (1/3)^2 = 0.611`` and
    ``e(c) = 3 - 2*1/3 = 2.333`` (Borgatti: 3 partners, 1 tie among them); the shortest
    paths of 6 of the 10 pairs of other nodes (``a`` or ``b`` with ``d``, ``e`` or ``f``) go
    through ``c``: betweenness 0.6.

    >>> G = nx.Graph([("a", "b"), ("b", "c"), ("a", "c"), ("c", "d"),
    ...               ("d", "e"), ("e", "f"), ("d", "f")])
    >>> df = brokerage(G)
    >>> df[["id", "degree", "constraint", "effective_size", "betweenness"]].round(3)
      id  degree  constraint  effective_size  betweenness
    0  c       3       0.611           2.333          0.6
    1  d       3       0.611           2.333          0.6
    2  a       2       1.007           1.000          0.0
    3  b       2       1.007           1.000          0.0
    4  e       2       1.007           1.000          0.0
    5  f       2       1.007           1.000          0.0
    >>> df.loc[df.is_articulation_point, "id"].tolist()
    ['c', 'd']
    """
    E, S = _edges(G, weight=weight)
    n = E.n
    constraint, effective, _ = _structural_holes(E)
    degree = E.degree()
    with np.errstate(divide="ignore", invalid="ignore"):
        efficiency = effective / degree
    sample = None if n <= betweenness_exact_up_to else betweenness_sample
    g = E.igraph()  # built once: betweenness and articulation points both need it
    betweenness, sources = _betweenness(E, sample=sample, seed=seed, g=g)

    # Clusters among each node's partners, less its own: (A @ C) > 0 minus C.
    C = S.clusters.X
    reach = (S.A @ C).tocsr()
    reach.data[:] = 1.0
    other = (reach - reach.multiply(C)).tocsr()
    other.eliminate_zeros()
    labels = S.clusters.labels
    bridged = _row_lists(other, labels)
    own = _row_lists(C.tocsr(), labels)

    is_ap = np.zeros(n, dtype=bool)
    if n:
        is_ap[g.articulation_points()] = True

    df = pd.DataFrame(
        {
            "id": S.nodes,
            "name": _names(S),
            "type": S.types,
            "clusters": own,
            "degree": degree.astype(np.int64),
            "constraint": constraint,
            "effective_size": effective,
            "efficiency": efficiency,
            "betweenness": betweenness,
            "clusters_bridged": bridged,
            "n_clusters_bridged": np.array([len(b) for b in bridged], dtype=np.int64),
            "is_articulation_point": is_ap,
        }
    )
    df["_key"] = df["id"].astype(str)
    df = df.sort_values(
        ["betweenness", "constraint", "_key"], ascending=[False, True, True], na_position="last", kind="stable"
    ).drop(columns="_key").reset_index(drop=True)
    df.attrs.update(
        betweenness_exact=sources is None,
        betweenness_sources=n if sources is None else len(sources),
        betweenness_sample=betweenness_sample,
        betweenness_exact_up_to=betweenness_exact_up_to,
        seed=seed,
        weight=weight,
    )
    return df


@paused_gc
def cluster_bridges(G: nx.Graph, *, lang: str = "en", max_relative_density: float = 1.0) -> pd.DataFrame:
    """Return pairs of clusters that work in the same sectors but barely link.

    For clusters ``A`` and ``B`` (members: organizations whose ``clusters`` attribute or
    ``PART_OF`` edges name them; names matched without regard to accents and case):

    - **sector similarity**: cosine similarity of their sector profiles, the number of
      members of each cluster in each sector; 0 when they share no sector. Counting members
      keeps one stray sector of a large cluster from making it look like every other.
    - **links**: relationships of the partnership network with one end in ``A`` and the
      other in ``B`` (a relationship between two organizations that are in both counts once);
      **link density**: links over the possible pairs, ``|A||B| - s - s(s-1)/2`` where ``s``
      is the number of shared members (an organization is not paired with itself, and a pair
      of two shared members counts once);
    - **relative density**: link density over the density of the whole network
      (``m / (n(n-1)/2)``): below 1, the two clusters are less linked than two organizations
      taken at random;
    - **score**: ``sector_similarity * (1 - relative_density)``, in ``(0, 1]``: high when the
      clusters look alike and hardly talk.

    Parameters
    ----------
    G : networkx graph
        A snapshot or any networkx graph.
    lang : {"en", "fr"}
        Language of ``reasons``.
    max_relative_density : float, default 1.0
        Report only pairs whose relative density is below this.

    Returns
    -------
    pandas.DataFrame
        One row per pair that shares at least one sector and is below
        ``max_relative_density``, highest ``score`` first:

        =====================  ================================================================
        ``cluster_a``          cluster name (the pair in alphabetical order)
        ``cluster_b``          cluster name
        ``members_a``          number of members of ``cluster_a``
        ``members_b``          number of members of ``cluster_b``
        ``shared_members``     organizations in both
        ``shared_sectors``     sectors with members in both, most common first (list)
        ``sector_similarity``  cosine of the sector profiles, in ``(0, 1]``
        ``links``              relationships between a member of one and a member of the other
        ``link_density``       ``links`` over possible pairs
        ``relative_density``   ``link_density`` over the network's density
        ``score``              ``sector_similarity * (1 - relative_density)``
        ``reasons``            one sentence in ``lang``
        =====================  ================================================================

    Raises
    ------
    maillage.errors.InputError
        For a ``lang`` other than ``"en"`` or ``"fr"``.

    Examples
    --------
    Two clusters of two companies each, all four in aerospace, one relationship across:

    >>> G = nx.Graph()
    >>> for n, c in [("a1", "Aero"), ("a2", "Aero"), ("t1", "Transport"), ("t2", "Transport")]:
    ...     G.add_node(n, type="company", clusters=[c], sectors=["aerospace"])
    >>> G.add_edges_from([("a1", "a2"), ("t1", "t2"), ("a2", "t1")])
    >>> df = cluster_bridges(G)
    >>> df[["cluster_a", "cluster_b", "links", "link_density", "relative_density"]]
      cluster_a  cluster_b  links  link_density  relative_density
    0      Aero  Transport      1          0.25               0.5
    >>> df.reasons[0]
    'Aero and Transport share the sector aerospace (similarity 1.00), but 1 relationship links their 2 and 2 members: 25.00% of possible pairs, against 50.00% across the network.'
    """
    wd.check_lang(lang)
    E, S = _edges(G)
    n, m = E.n, E.m
    C = S.clusters.X.tocsc()
    k = C.shape[1]
    labels = S.clusters.labels
    size = np.asarray(C.sum(axis=0)).ravel()
    X = S.sectors.X
    profile = (C.T @ X).toarray() if k else np.zeros((0, 0))
    norm = np.linalg.norm(profile, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(norm[:, None] > 0, profile / norm[:, None], 0.0)
    similarity = unit @ unit.T

    # Links between A and B: edges (u, v) with u in A and v in B, or u in B and v in A;
    # inclusion-exclusion removes the edges counted twice (both ends in both clusters).
    Cr = S.clusters.X.tocsr()
    Xu, Xv = Cr[E.u], Cr[E.v]
    Z = Xu.multiply(Xv)
    links = (Xu.T @ Xv + Xv.T @ Xu - Z.T @ Z).toarray() if k else np.zeros((0, 0))
    shared = (C.T @ C).toarray() if k else np.zeros((0, 0))
    density = m / (n * (n - 1) / 2) if n > 1 else 0.0

    ia, ib = np.triu_indices(k, 1)
    keep = similarity[ia, ib] > 1e-12
    ia, ib = ia[keep], ib[keep]
    s = shared[ia, ib]
    possible = size[ia] * size[ib] - s - s * (s - 1) / 2
    lk = links[ia, ib]
    with np.errstate(divide="ignore", invalid="ignore"):
        link_density = np.where(possible > 0, lk / possible, 0.0)
        relative = link_density / density if density > 0 else np.zeros_like(link_density)
    sim = similarity[ia, ib]
    below = relative < max_relative_density
    rows = []
    for a, b, sh, sm, l, ld, rd in zip(ia[below], ib[below], s[below], sim[below], lk[below],
                                       link_density[below], relative[below]):
        a, b = (a, b) if labels[a] <= labels[b] else (b, a)
        both = np.minimum(profile[a], profile[b])
        sectors = [S.sectors.labels[t] for t in np.argsort(-both, kind="stable") if both[t] > 0]
        rows.append(
            {
                "cluster_a": labels[a],
                "cluster_b": labels[b],
                "members_a": int(size[a]),
                "members_b": int(size[b]),
                "shared_members": int(sh),
                "shared_sectors": sectors,
                "sector_similarity": float(sm),
                "links": int(l),
                "link_density": float(ld),
                "relative_density": float(rd),
                "score": float(sm * max(0.0, 1.0 - rd)),
                "reasons": _bridge_reason(labels[a], labels[b], int(size[a]), int(size[b]), sectors,
                                          float(sm), int(l), float(ld), density, lang),
            }
        )
    columns = ["cluster_a", "cluster_b", "members_a", "members_b", "shared_members", "shared_sectors",
               "sector_similarity", "links", "link_density", "relative_density", "score", "reasons"]
    df = pd.DataFrame(rows, columns=columns)
    return df.sort_values(["score", "cluster_a", "cluster_b"], ascending=[False, True, True],
                          kind="stable").reset_index(drop=True)


def _pct(x: float, lang: str) -> str:
    # Two decimals: cross-cluster densities are often well under one percent.
    return wd.number(100 * x, lang, 2) + ("%" if lang == "en" else " %")


def _bridge_reason(a, b, na, nb, sectors, sim, links, ld, density, lang) -> str:
    shown = wd.name_list(sectors, len(sectors), lang)
    if lang == "en":
        word = "sector" if len(sectors) == 1 else "sectors"
        rel = "no relationship links" if links == 0 else "1 relationship links" if links == 1 else f"{links} relationships link"
        return (f"{a} and {b} share the {word} {shown} (similarity {wd.number(sim, lang)}), but "
                f"{rel} their {na} and {nb} members: {_pct(ld, lang)} of possible pairs, "
                f"against {_pct(density, lang)} across the network.")
    word = "le secteur" if len(sectors) == 1 else "les secteurs"
    rel = "aucune relation ne relie" if links == 0 else "1 relation relie" if links == 1 else f"{links} relations relient"
    return (f"{a} et {b} partagent {word} {shown} (similarité {wd.number(sim, lang)}), mais "
            f"{rel} leurs {na} et {nb} membres : {_pct(ld, lang)} des paires possibles, "
            f"contre {_pct(density, lang)} dans l'ensemble du réseau.")


@paused_gc
def critical_links(G: nx.Graph, *, lang: str = "en") -> pd.DataFrame:
    """Return the bridges and articulation points of the partnership network and what they cut.

    A **bridge** is a relationship whose loss splits its connected component in two; an
    **articulation point** is an organization whose loss splits its component into two or
    more pieces (Hopcroft & Tarjan 1973). Piece sizes come from the bridge tree (components
    left when every bridge is removed, joined by the bridges) and the block-cut tree
    (biconnected components joined by the articulation points), each rooted once, so no
    removal is simulated.

    Parameters
    ----------
    G : networkx graph
        A snapshot or any networkx graph.
    lang : {"en", "fr"}
        Language of ``reasons``.

    Returns
    -------
    pandas.DataFrame
        One row per bridge and per articulation point, the most damaging first (``cut_off``
        descending, then articulation points before bridges, then names):

        ==================  ===================================================================
        ``kind``            ``"bridge"`` or ``"articulation_point"``
        ``source``          id of the articulation point, or of one end of the bridge
        ``target``          id of the other end of the bridge; missing for an articulation point
        ``source_name``     its name
        ``target_name``     the other end's name; missing for an articulation point
        ``component_size``  organizations in the connected component before the loss
        ``pieces``          sizes of the pieces after the loss, largest first (list of int);
                            an articulation point is in none of its pieces
        ``cut_off``         organizations no longer reachable from the largest piece: the sum
                            of every piece but the largest
        ``reasons``         one sentence in ``lang``
        ==================  ===================================================================

    Raises
    ------
    maillage.errors.InputError
        For a ``lang`` other than ``"en"`` or ``"fr"``.

    References
    ----------
    .. [1] Hopcroft, J., & Tarjan, R. (1973). Algorithm 447: efficient algorithms for graph
       manipulation. *Communications of the ACM* 16(6), 372-378.

    Examples
    --------
    A path ``a``–``b``–``c`` with a triangle ``c``, ``d``, ``e``:

    >>> G = nx.Graph([("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("c", "e")])
    >>> critical_links(G)[["kind", "source", "target", "pieces", "cut_off"]]
                     kind source target  pieces  cut_off
    0  articulation_point      c    NaN  [2, 2]        2
    1              bridge      b      c  [3, 2]        2
    2  articulation_point      b    NaN  [3, 1]        1
    3              bridge      a      b  [4, 1]        1
    """
    wd.check_lang(lang)
    E, S = _edges(G)
    n = E.n
    _, comp = _components(E)
    comp_size = np.bincount(comp, minlength=n) if n else np.zeros(0, dtype=np.int64)
    g = E.igraph()
    rows = []

    # Bridges: contract the 2-edge-connected pieces, root the resulting forest, read subtree sizes.
    bridge_ids = np.asarray(g.bridges(), dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    if bridge_ids.size:
        keep = np.ones(E.m, dtype=bool)
        keep[bridge_ids] = False
        A = sp.coo_array((np.ones(int(keep.sum())), (E.u[keep], E.v[keep])), shape=(n, n))
        nb, blob = csgraph.connected_components(A, directed=False)
        bu, bv = blob[E.u[bridge_ids]], blob[E.v[bridge_ids]]
        weight = np.bincount(blob, minlength=nb)
        parent, sub = _rooted_subtree_sizes(nb, bu, bv, weight)
        for e, x, y in zip(bridge_ids, bu, bv):
            child = y if parent[y] == x else x
            total = int(comp_size[comp[E.u[e]]])
            low = int(sub[child])
            pieces = sorted([low, total - low], reverse=True)
            rows.append(("bridge", int(E.u[e]), int(E.v[e]), total, pieces))

    # Articulation points: the block-cut tree, blocks weighted by the nodes they alone hold.
    if n:
        blocks, aps = g.biconnected_components(return_articulation_points=True)
        aps = list(aps)
    else:
        blocks, aps = [], []
    if aps:
        nbk = len(blocks)
        ap_index = {a: nbk + i for i, a in enumerate(aps)}
        weight = np.zeros(nbk + len(aps), dtype=np.int64)
        weight[nbk:] = 1
        tu, tv = [], []
        for b, members in enumerate(blocks):
            for x in members:
                t = ap_index.get(x)
                if t is None:
                    weight[b] += 1
                else:
                    tu.append(b)
                    tv.append(t)
        parent, sub = _rooted_subtree_sizes(len(weight), np.asarray(tu), np.asarray(tv), weight)
        children: dict[int, list[int]] = {}
        for b, t in zip(tu, tv):
            if parent[b] == t:
                children.setdefault(t, []).append(b)
        for a in aps:
            t = ap_index[a]
            total = int(comp_size[comp[a]])
            pieces = [int(sub[b]) for b in children.get(t, [])]
            if parent[t] >= 0:
                pieces.append(total - int(sub[t]))
            rows.append(("articulation_point", int(a), None, total, sorted(pieces, reverse=True)))

    records = []
    for kind, a, b, total, pieces in rows:
        src_name = S.name(a)
        tgt_name = None if b is None else S.name(b)
        records.append(
            {
                "kind": kind,
                "source": S.nodes[a],
                "target": None if b is None else S.nodes[b],
                "source_name": src_name,
                "target_name": tgt_name,
                "component_size": total,
                "pieces": pieces,
                "cut_off": int(sum(pieces[1:])),
                "reasons": _critical_reason(kind, src_name, tgt_name, pieces, lang),
            }
        )
    columns = ["kind", "source", "target", "source_name", "target_name", "component_size", "pieces",
               "cut_off", "reasons"]
    df = pd.DataFrame(records, columns=columns)
    if df.empty:
        return df
    df["_kind"] = (df["kind"] == "bridge").astype(int)
    df["_names"] = df["source_name"].astype(str) + "\x00" + df["target_name"].fillna("").astype(str)
    df = df.sort_values(["cut_off", "_kind", "_names"], ascending=[False, True, True], kind="stable")
    return df.drop(columns=["_kind", "_names"]).reset_index(drop=True)


def _rooted_subtree_sizes(n: int, tu: np.ndarray, tv: np.ndarray, weight: np.ndarray):
    """Root every tree of the forest ``(n, tu–tv)`` and return ``(parent, subtree weight)``.

    ``parent`` is -1 at roots. One breadth-first search from a virtual root joined to one node
    of each tree orders the nodes; subtree weights then add up in reverse order (a loop over
    tree nodes, which are components or blocks, not edges).
    """
    ncomp, label = csgraph.connected_components(
        sp.coo_array((np.ones(len(tu)), (tu, tv)), shape=(n, n)), directed=False
    )
    roots = np.unique(label, return_index=True)[1]
    virtual = n
    rows = np.concatenate([tu, np.full(len(roots), virtual)])
    cols = np.concatenate([tv, roots])
    T = sp.coo_array((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1)).tocsr()
    order, pred = csgraph.breadth_first_order(T, virtual, directed=False, return_predecessors=True)
    parent = pred[:n].copy()
    parent[parent == virtual] = -1
    parent[parent < 0] = -1
    sub = weight.astype(np.int64).copy()
    par = parent.tolist()
    acc = sub.tolist()
    for x in order[::-1].tolist():
        if x != virtual and par[x] >= 0:
            acc[par[x]] += acc[x]
    return parent, np.asarray(acc, dtype=np.int64)


def _critical_reason(kind: str, a: str, b: str | None, pieces: list[int], lang: str) -> str:
    cut = sum(pieces[1:])
    sizes = wd.join([str(p) for p in pieces], lang)
    if lang == "en":
        orgs = "organization" if cut == 1 else "organizations"
        if kind == "bridge":
            return (f"Without the relationship between {a} and {b}, {cut} {orgs} would be cut off "
                    f"(pieces of {sizes}).")
        return f"Without {a}, {cut} {orgs} would be cut off (pieces of {sizes})."
    orgs = "organisation serait coupée" if cut == 1 else "organisations seraient coupées"
    if kind == "bridge":
        return (f"Sans la relation entre {a} et {b}, {cut} {orgs} du reste "
                f"(morceaux de {sizes}).")
    return f"Sans {a}, {cut} {orgs} du reste (morceaux de {sizes})."
