"""What if: how a programme of new partnerships would change the network's cohesion.

A secretariat proposing partnerships (say the top suggestions of
:func:`analysis.suggest_partnerships`) wants to show a board what they would change: fewer
isolated groups, shorter paths between organizations, fewer closed circles, more links across
clusters. :func:`simulate` measures the partnership network before and after adding them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csgraph

from analysis import _wording as wd
from analysis._graphops import _edges, _Edges, _structural_holes
from analysis._network import paused_gc
from maillage.errors import InputError

__all__ = ["simulate", "MEASURES", "DEFAULT_PATH_SAMPLE", "DEFAULT_PATH_EXACT_UP_TO"]

#: Rows of :func:`simulate`'s result, in order.
MEASURES = (
    "components",
    "largest_component",
    "average_shortest_path",
    "mean_constraint",
    "density",
    "cross_cluster_links",
    "transitivity",
)

#: Largest components up to this size get the exact average shortest path (one breadth-first
#: search per organization: about a second at 2,000 organizations).
DEFAULT_PATH_EXACT_UP_TO = 2000
#: Source organizations sampled above that size. Each is one breadth-first search over the
#: whole network; 50 sources times every target are millions of pairs, and the same sources
#: measure the network before and after, so the change is not sampling noise.
DEFAULT_PATH_SAMPLE = 50

#: Sources whose distances are held in memory at once (rows of a dense float array).
_PATH_CHUNK = 32


@paused_gc
def simulate(
    G: nx.Graph,
    added_partnerships: Iterable[tuple] | pd.DataFrame,
    *,
    weight: str | None = None,
    path_sample: int | None = DEFAULT_PATH_SAMPLE,
    path_exact_up_to: int = DEFAULT_PATH_EXACT_UP_TO,
    seed: int | None = 0,
    lang: str = "en",
) -> pd.DataFrame:
    """Return cohesion measures of the partnership network before and after new partnerships.

    Measures, on the partnership network (undirected; see :mod:`analysis._network`):

    ==========================  ===================================================================
    ``components``              connected components; an organization without any relationship
                                is a component of its own
    ``largest_component``       organizations in the largest component
    ``average_shortest_path``   mean number of steps between two organizations of the largest
                                component (``networkx.average_shortest_path_length`` on it);
                                above ``path_exact_up_to`` organizations, the mean over the
                                pairs whose first organization is one of ``path_sample``
                                sampled ones
    ``mean_constraint``         mean Burt constraint over organizations with at least one
                                relationship (see :func:`analysis.brokerage`); lower means more
                                open, less redundant networks
    ``density``                 ties over possible pairs, ``2m / (n(n-1))``
    ``cross_cluster_links``     ties between two organizations that both declare clusters and
                                have none in common
    ``transitivity``            3 × triangles / connected triples (``networkx.transitivity``)
    ==========================  ===================================================================

    Parameters
    ----------
    G : networkx graph
        A snapshot or any networkx graph.
    added_partnerships : iterable of (a, b) pairs, or DataFrame with ``source`` and ``target``
        Node ids of the proposed partnerships, e.g. ``suggest_partnerships(G)``. Pairs already
        linked, repeated or joining a node to itself change nothing and are skipped (counted
        in ``df.attrs``).
    weight : str, optional
        Edge attribute of tie strength for ``mean_constraint``; a new partnership weighs 1.
    path_sample : int or None, default 50
        Sources drawn (``random.Random(seed)``) for ``average_shortest_path`` when the largest
        component has more than ``path_exact_up_to`` organizations. After the change the same
        sources are kept when they all still lie in the largest component, so that the change
        is not drowned in sampling noise. None, or a sample at least the component's size:
        always exact.
    path_exact_up_to : int, default 2000
        Largest component size up to which ``average_shortest_path`` is exact.
    seed : int or None, default 0
        Seed of the path sample.
    lang : {"en", "fr"}
        Language of the summary.

    Returns
    -------
    pandas.DataFrame
        Index: the measures above (in that order); columns ``before``, ``after`` and
        ``change`` (after - before), floats. ``df.attrs``: ``summary`` (plain-language sentences
        in ``lang``), ``proposed`` (pairs given), ``added`` (new ties), ``already_linked``
        (pairs skipped as already linked, repeated or self-pairs), ``path_exact`` (dict before/
        after: bool), ``path_sources`` (dict before/after: number of sources), ``weight``.

    Raises
    ------
    maillage.errors.InputError
        When a pair names an id that is not an organization of ``G``, or a DataFrame lacks
        ``source``/``target``, or for an unknown ``lang``.

    Examples
    --------
    Two pairs, ``a``–``b`` and ``c``–``d``, joined by one new partnership ``b``–``c``:

    >>> G = nx.Graph([("a", "b"), ("c", "d")])
    >>> df = simulate(G, [("b", "c")])
    >>> df.loc[["components", "largest_component", "average_shortest_path"]].round(3)
                           before  after  change
    components                2.0  1.000  -1.000
    largest_component         2.0  4.000   2.000
    average_shortest_path     1.0  1.667   0.667
    >>> print(df.attrs["summary"])  # doctest: +NORMALIZE_WHITESPACE
    Adding 1 partnership would merge separate groups (2 → 1), bring 2 more organizations into
    the largest connected group (2 → 4), lengthen the average distance in it from 1.00 to 1.67
    steps, lower the mean constraint from 1.000 to 0.750 and add no link between clusters.
    """
    wd.check_lang(lang)
    E, S = _edges(G, weight=weight)
    pairs = _pairs(added_partnerships)
    index = {node: i for i, node in enumerate(S.nodes)}
    unknown = sorted({str(x) for p in pairs for x in p if x not in index})
    if unknown:
        raise InputError(
            f"Unknown organization id(s) in the proposed partnerships: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            + ". Use node ids of the graph (cluster nodes cannot be partners)."
        )
    a = np.array([index[x] for x, _ in pairs], dtype=np.int64)
    b = np.array([index[y] for _, y in pairs], dtype=np.int64)
    after = E.with_edges(a, b)
    added = after.m - E.m

    C = S.clusters.X.tocsr()
    k = C.sum(axis=1)
    sampling = (path_sample, path_exact_up_to, seed)
    before_vals, before_path = _measures(E, C, np.asarray(k).ravel(), sampling, None)
    after_vals, after_path = _measures(after, C, np.asarray(k).ravel(), sampling, before_path)

    df = pd.DataFrame({"before": before_vals, "after": after_vals}, index=list(MEASURES), dtype=float)
    df["change"] = df["after"] - df["before"]
    df.attrs.update(
        proposed=len(pairs),
        added=int(added),
        already_linked=len(pairs) - int(added),
        path_exact={"before": before_path[0] is None, "after": after_path[0] is None},
        path_sources={"before": before_path[1], "after": after_path[1]},
        weight=weight,
    )
    df.attrs["summary"] = _summary(df, len(pairs), int(added), lang)
    return df


def _pairs(added) -> list[tuple]:
    if isinstance(added, pd.DataFrame):
        missing = [c for c in ("source", "target") if c not in added.columns]
        if missing:
            raise InputError(
                f"Column(s) {', '.join(missing)} missing from the proposed partnerships "
                f"(found: {', '.join(map(str, added.columns))}); pass source and target columns."
            )
        return list(zip(added["source"].tolist(), added["target"].tolist()))
    return [tuple(p) for p in added]


def _measures(E: _Edges, C, n_clusters: np.ndarray, sampling: tuple, previous):
    """Return the measure values and ``(sources or None, number of sources)`` for paths."""
    n, m = E.n, E.m
    A = E.csr()  # built once: components and paths both walk it
    count, label = csgraph.connected_components(A, directed=False)
    sizes = np.bincount(label, minlength=count) if n else np.zeros(0, dtype=np.int64)
    largest = int(sizes.max()) if n else 0
    in_lcc = label == int(np.argmax(sizes)) if n else np.zeros(0, dtype=bool)
    path, sources = _average_path(A, in_lcc, sampling, previous)

    constraint, _, triangles = _structural_holes(E)
    mean_constraint = float(np.nanmean(constraint)) if np.isfinite(constraint).any() else float("nan")
    density = 2 * m / (n * (n - 1)) if n > 1 else 0.0

    both = (n_clusters[E.u] > 0) & (n_clusters[E.v] > 0)
    common = np.asarray(C[E.u].multiply(C[E.v]).sum(axis=1)).ravel() if m else np.zeros(0)
    cross = int(np.sum(both & (common == 0)))

    deg = E.degree().astype(np.float64)
    triads = float(np.sum(deg * (deg - 1) / 2))
    transitivity = 3 * triangles / triads if triads else 0.0
    values = [count, largest, path, mean_constraint, density, cross, transitivity]
    return values, (sources, len(sources) if sources is not None else int(in_lcc.sum()))


def _average_path(A, in_lcc: np.ndarray, sampling: tuple, previous):
    """Return the mean hop distance in the largest component and the sources used (None when
    every node of the component was a source)."""
    members = np.flatnonzero(in_lcc)
    size = len(members)
    if size < 2:
        return 0.0, None
    path_sample, exact_up_to, seed = sampling
    if path_sample is None or size <= max(path_sample, exact_up_to):
        sources = None
        chosen = members
    else:
        prev = previous[0] if previous is not None else None
        if prev is not None and len(prev) == path_sample and in_lcc[prev].all():
            chosen = prev
        else:
            chosen = np.sort(np.asarray(random.Random(seed).sample(members.tolist(), path_sample)))
        sources = chosen
    total = 0.0
    for s in range(0, len(chosen), _PATH_CHUNK):
        D = csgraph.shortest_path(A, directed=False, unweighted=True, indices=chosen[s:s + _PATH_CHUNK])
        # Every node of the component is reachable, so the row sum over it is finite.
        total += float(D[:, members].sum())
    return total / (len(chosen) * (size - 1)), sources


def _summary(df: pd.DataFrame, proposed: int, added: int, lang: str) -> str:
    b, a = df["before"], df["after"]
    n = wd.number
    if added == 0:
        if lang == "en":
            return f"None of the {proposed} proposed partnerships is new: nothing would change."
        return f"Aucun des {proposed} partenariats proposés n'est nouveau : rien ne changerait."
    skipped = proposed - added
    comp = (int(b["components"]), int(a["components"]))
    lcc = (int(b["largest_component"]), int(a["largest_component"]))
    path = (b["average_shortest_path"], a["average_shortest_path"])
    con = (b["mean_constraint"], a["mean_constraint"])
    cross = (int(b["cross_cluster_links"]), int(a["cross_cluster_links"]))
    parts = []
    if lang == "en":
        head = f"Adding {added} partnership{'s' if added > 1 else ''}"
        if skipped:
            head += f" ({skipped} of the {proposed} proposed already linked or repeated)"
        parts.append(f"merge separate groups ({comp[0]} → {comp[1]})" if comp[1] < comp[0]
                     else f"leave {comp[0]} separate group{'s' if comp[0] != 1 else ''}")
        grown = lcc[1] - lcc[0]
        parts.append(f"bring {grown} more organization{'s' if grown > 1 else ''} into the largest connected group "
                     f"({lcc[0]} → {lcc[1]})" if lcc[1] > lcc[0]
                     else f"leave the largest connected group at {lcc[0]} organizations")
        verb = "shorten" if path[1] < path[0] else "lengthen" if path[1] > path[0] else "keep"
        parts.append(f"{verb} the average distance in it from {n(path[0], lang)} to {n(path[1], lang)} steps"
                     if verb != "keep" else f"keep the average distance in it at {n(path[0], lang)} steps")
        verb = "lower" if con[1] < con[0] else "raise" if con[1] > con[0] else None
        parts.append(f"{verb} the mean constraint from {n(con[0], lang, 3)} to {n(con[1], lang, 3)}"
                     if verb else f"keep the mean constraint at {n(con[0], lang, 3)}")
        parts.append(f"add {cross[1] - cross[0]} link{'s' if cross[1] - cross[0] > 1 else ''} between clusters "
                     f"({cross[0]} → {cross[1]})" if cross[1] > cross[0] else "add no link between clusters")
        return f"{head} would {wd.join(parts, lang)}."
    head = f"Ajouter {added} partenariat{'s' if added > 1 else ''}"
    if skipped:
        head += f" (sur {proposed} proposés, {skipped} déjà en place ou en double)"
    parts.append(f"réunirait des groupes séparés ({comp[0]} → {comp[1]})" if comp[1] < comp[0]
                 else f"laisserait {comp[0]} groupe{'s' if comp[0] > 1 else ''} séparé{'s' if comp[0] > 1 else ''}")
    grown = lcc[1] - lcc[0]
    parts.append(f"amènerait {grown} organisation{'s' if grown > 1 else ''} de plus dans le plus grand groupe connecté "
                 f"({lcc[0]} → {lcc[1]})" if lcc[1] > lcc[0]
                 else f"laisserait le plus grand groupe connecté à {lcc[0]} organisations")
    verb = "raccourcirait" if path[1] < path[0] else "allongerait" if path[1] > path[0] else None
    parts.append(f"{verb} la distance moyenne entre elles de {n(path[0], lang)} à {n(path[1], lang)} étapes"
                 if verb else f"garderait la distance moyenne entre elles à {n(path[0], lang)} étapes")
    verb = "abaisserait" if con[1] < con[0] else "élèverait" if con[1] > con[0] else None
    parts.append(f"{verb} la contrainte moyenne de {n(con[0], lang, 3)} à {n(con[1], lang, 3)}"
                 if verb else f"garderait la contrainte moyenne à {n(con[0], lang, 3)}")
    parts.append(f"ajouterait {cross[1] - cross[0]} lien{'s' if cross[1] - cross[0] > 1 else ''} entre grappes "
                 f"({cross[0]} → {cross[1]})" if cross[1] > cross[0] else "n'ajouterait aucun lien entre grappes")
    return f"{head} {wd.join(parts, lang)}."
