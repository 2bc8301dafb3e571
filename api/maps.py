"""Network maps: a snapshot graph drawn with vis-network, laid out once on the server.

How a page embeds a map
-----------------------
::

    from api import maps

    view = maps.render_map(G, size_by="betweenness", suggestions=gaps_df, overlaps=overlaps_df,
                           lang="fr", link_prefix="/org/")
    # in the page's template (Jinja2, autoescape on):
    #   <head> ... {% include "map/_assets.html" %} ... </head>      (needs ``map_assets``)
    #   <body> ... {% include "map/_map.html" %} ...                 (needs ``map``)
    templates.TemplateResponse(request, "map.html",
                               {"map": view, "map_assets": maps.asset_urls(), ...})

or, without includes, ``{{ map_html }}`` with ``map_html = maps.map_fragment(view)`` (a
``Markup``: assets and map together). The JSON API can return ``view.to_dict()``.

Functions
    :func:`render_map` (a snapshot, filtered or not), :func:`ego_map` (an organization's
    neighbourhood, for its profile), :func:`query_map` (a Cypher console result),
    :func:`filter_graph` (the map's server-side filters: cluster, type, sector, region),
    :func:`asset_urls`, :func:`map_fragment`, :func:`write_standalone` (a self-contained
    folder: tests, benchmarks, offline briefs), :func:`clear_layout_cache`.

:class:`MapView` fields
    ``nodes`` and ``edges`` (JSON-safe dicts, see :class:`MapView`), ``options`` (vis-network
    options from pyvis), ``legend`` (node types: ``type``, ``label``, ``colour``, ``count``),
    ``edge_legend`` (``kind``, ``label``, ``colour``, ``dashed``, ``count``), ``drawn_nodes``,
    ``total_nodes``, ``drawn_edges``, ``aggregated``, ``aggregate_by``, ``message`` (why the map
    is aggregated, in ``lang``; ``None`` otherwise), ``size_by``, ``size_label``, ``lang``,
    ``text`` (the controls' labels in ``lang``), ``highlight``, ``dom_id``, ``paint_links``;
    ``edge_counts`` (a property: edges per kind); :meth:`MapView.json_script` gives the
    escaped payload for the page.

Static files the app must serve (nothing comes from the internet)
    - ``/static/map/maillage-map.js`` and ``/static/map/maillage-map.css``: files of
      :data:`STATIC_DIR` (``api/static``), under the app's usual ``/static`` mount;
    - ``/vendor/vis-network/vis-network.min.js`` and ``vis-network.css``: served straight from
      pyvis's own copy of vis-network 9.1.2 (:data:`VIS_NETWORK_DIR`), so that the version
      we draw with is the one pyvis was released with and no vendored copy drifts from it::

          for url, directory, name in maps.STATIC_MOUNTS:
              app.mount(url, StaticFiles(directory=directory), name=name)

      :data:`STATIC_MOUNTS` holds that ``/vendor/vis-network`` mount; its prefix lies outside
      ``/static``, so the order of mounts does not matter.

The page needs no inline script: our script reads the data from
``<script type="application/json" id="{dom_id}-data">`` (``map-data`` by default), so a CSP
of ``script-src 'self'; style-src 'self'; img-src 'self' data:`` holds (vis-network's CSS
draws its few icons from ``data:`` URLs).

Why not pyvis's page
    pyvis builds the network (nodes, edges, options: :func:`render_map` uses
    ``pyvis.network.Network``), but its template loads vis-network, tom-select and bootstrap
    from CDNs and, with its custom popup, writes a node's ``title`` with ``innerHTML``.
    Our template and ``maillage-map.js`` instead hand vis-network each tooltip as a DOM element
    filled through ``textContent`` (vis-network 9.1.2 would itself use ``innerText`` for a
    string, ``Popup.setText``; building the element ourselves keeps text as text whatever
    vis-network version is served), and labels are drawn on the canvas as text.

Layout
    Positions are computed on the server with igraph's Fruchterman–Reingold (C code, grid
    variant above 1,000 nodes: a fraction of a second for 2,000 organizations), seeded, with
    each organization pulled towards an invisible anchor per cluster so that clusters read as
    regions, then frozen: the browser runs no physics and draws at once. Layouts are cached
    in-process, keyed by a hash of the drawn graph. Above 1,500 links the page paints plain
    links itself in one canvas path rather than as vis-network edges (see :class:`MapView`):
    2,000 organizations and 20,000 links are drawn in well under a second.

Above ``max_nodes`` organizations the map is aggregated: one node per cluster (or community),
sized by its number of organizations, edges counting the links between groups, and a message
says so; clicking a group opens the map filtered to it.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import threading
import unicodedata
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import igraph as ig
import networkx as nx
import numpy as np
import pyvis
from markupsafe import Markup
from pyvis.edge import Edge as _PyvisEdge
from pyvis.network import Network
from scipy.spatial import cKDTree

from analysis._network import RESULT_TYPES, as_list, node_clusters
from api.i18n import LANGUAGES, relation_label, translate, type_label
from maillage.errors import InputError, NotFound
from maillage.model import LABEL_TYPES, NODE_TYPES, cluster_id

__all__ = [
    "MapView",
    "render_map",
    "ego_map",
    "query_map",
    "filter_graph",
    "asset_urls",
    "map_fragment",
    "write_standalone",
    "clear_layout_cache",
    "fold",
    "SIZE_MEASURES",
    "TYPE_COLOURS",
    "EDGE_COLOURS",
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "VIS_NETWORK_DIR",
    "STATIC_MOUNTS",
]

_HERE = Path(__file__).resolve().parent
#: ``api/static``: the app's ``/static`` mount (our map script and stylesheet are in ``map/``).
STATIC_DIR = _HERE / "static"
#: ``api/templates``: ``map/_assets.html``, ``map/_map.html`` and ``map/standalone.html``.
TEMPLATES_DIR = _HERE / "templates"
#: pyvis's own copy of vis-network 9.1.2 (``vis-network.min.js``, ``vis-network.css``).
VIS_NETWORK_DIR = Path(pyvis.__file__).resolve().parent / "lib" / "vis-9.1.2"
#: ``(url, directory, name)`` mounts the app adds besides ``/static``.
STATIC_MOUNTS: list[tuple[str, Path, str]] = [("/vendor/vis-network", VIS_NETWORK_DIR, "vis-network")]

#: Node colour per canonical type: the Okabe–Ito palette, told apart by colour-blind readers.
#: ``maillage-map.css`` repeats them for the legend swatches (a test keeps both in step).
TYPE_COLOURS: dict[str, str] = {
    "company": "#0072B2",
    "association": "#E69F00",
    "workforce_committee": "#009E73",
    "government": "#D55E00",
    "institution": "#CC79A7",
    "structure": "#8C6D1F",
    "cluster": "#4D4D4D",
    "unknown": "#999999",
}
#: Edge colour per kind: ordinary links, suggested partnerships, overlaps, links between groups.
EDGE_COLOURS: dict[str, str] = {
    "link": "#B8B8B8",
    "suggestion": "#1B7F3B",
    "overlap": "#C2185B",
    "group": "#8A8A8A",
}
#: Centralities :func:`render_map` can size nodes by (any numeric node attribute works too).
SIZE_MEASURES: tuple[str, ...] = ("degree", "betweenness", "pagerank", "eigenvector", "closeness", "none")

_MIN_SIZE, _MAX_SIZE = 8.0, 40.0
_LABEL_CHARS = 40
# Above this many drawn edges, hide edges while the user drags or zooms: redrawing thousands
# of vis-network edges per frame is what makes a large map feel stuck.
_HIDE_EDGES_ABOVE = 3000
# Above this many plain links, the page paints them itself in one canvas path (vis-network's
# "beforeDrawing" hook) instead of making each a vis-network edge: vis-network spends ~50 µs
# setting up each edge (options, label module), close to a second for 20,000 links, while one
# path of 20,000 segments strokes in milliseconds. Below it, links stay vis-network edges,
# with their tooltips (relationship types) and selection.
_PAINT_LINKS_ABOVE = 1500
# What the page's script reads of a node: vis-network's drawing keys, the tooltip, the link
# and what the search shows and compares.
_PAGE_NODE_KEYS = ("id", "label", "x", "y", "size", "color", "borderWidth", "title", "url", "name", "search")
_LAYOUT_VERSION = "fr-anchors-3"  # part of the cache key: change it when the layout changes
_NEIGHBOUR_DISTANCE = 60.0
_LAYOUT_CACHE_SIZE = 16

# Map-only messages (the shared catalogue, api/i18n.py, has the common ones).
_TEXT: dict[str, tuple[str, str]] = {
    "search_label": ("Trouver une organisation", "Find an organization"),
    "search_placeholder": ("Nom (les accents sont facultatifs)", "Name (accents optional)"),
    "search_button": ("Chercher", "Find"),
    "no_match": ("Aucune organisation ne correspond.", "No organization matches."),
    "legend": ("Légende", "Legend"),
    "links": ("Liens entre organisations", "Links between organizations"),
    "group_links": ("Liens entre groupes", "Links between groups"),
    "suggestion": ("Partenariat suggéré", "Suggested partnership"),
    "overlap": ("Chevauchement", "Overlap"),
    "show_suggestions": ("Afficher les partenariats suggérés", "Show suggested partnerships"),
    "show_overlaps": ("Afficher les chevauchements", "Show overlaps"),
    "group_cluster": ("Grappe (groupe d'organisations)", "Cluster (group of organizations)"),
    "group_community": ("Communauté (groupe d'organisations)", "Community (group of organizations)"),
    "no_cluster": ("Sans grappe", "No cluster"),
    "community": ("Communauté {n}", "Community {n}"),
    "members": ("{n} organisations", "{n} organizations"),
    "open_group": ("Cliquer pour ouvrir la carte de ce groupe", "Click to open this group's map"),
    "group_edge": ("{n} liens entre {a} et {b}", "{n} links between {a} and {b}"),
    "group_suggestions": ("{n} partenariats suggérés entre {a} et {b}", "{n} suggested partnerships between {a} and {b}"),
    "group_overlaps": ("{n} chevauchements entre {a} et {b}", "{n} overlaps between {a} and {b}"),
    "counts": ("{drawn} nœuds affichés sur {total} organisations", "{drawn} nodes drawn for {total} organizations"),
    "size_by": ("Taille des nœuds : {measure}", "Node size: {measure}"),
    "aria": ("Carte du réseau : {drawn} nœuds et {edges} liens", "Network map: {drawn} nodes and {edges} links"),
    "aggregated": (
        "Carte agrégée : {total} organisations dépassent les {limit} qu'une carte affiche à la fois. "
        "Chaque nœud est donc {what} (sa taille suit son nombre d'organisations) et chaque ligne compte "
        "les liens entre deux groupes. Cliquez sur un groupe pour ouvrir sa propre carte.",
        "Aggregated map: {total} organizations exceed the {limit} a map draws at once, so each node is "
        "{what} (sized by its number of organizations) and each line counts the links between two "
        "groups. Click a group to open its own map.",
    ),
    "what_cluster": ("une grappe", "a cluster"),
    "what_community": ("une communauté détectée dans le réseau", "a community detected in the network"),
    "one_cluster": (
        " Ces organisations étant toutes dans une même grappe, elles sont groupées par communauté.",
        " As these organizations all sit in one cluster, they are grouped by community.",
    ),
    "primary_cluster": (
        " Une organisation membre de plusieurs grappes compte dans la première de sa liste.",
        " An organization in several clusters counts in the first of its list.",
    ),
    "why": ("Pourquoi : {reason}", "Why: {reason}"),
    "score": ("Score : {score}", "Score: {score}"),
}
_MEASURE_KEYS = {m: f"map.centrality.{m}" for m in SIZE_MEASURES}


def _t(lang: str, key: str, /, **fields: object) -> str:
    text = _TEXT[key][0 if lang == "fr" else 1] if key in _TEXT else translate(lang, key)
    return text.format(**fields) if fields else text


def _number(value: float, lang: str) -> str:
    """Format a count as people read it: 12,345 in English, 12 345 in French."""
    text = f"{int(value):,}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def fold(text: object) -> str:
    """Return ``text`` without accents, in lower case: the key the map's search compares.

    The browser folds the query the same way (``normalize("NFD")`` without combining marks,
    ``toLowerCase``), so "montreal" finds "Montréal".

    Examples
    --------
    >>> fold("Montréal Œuvre")
    'montreal oeuvre'
    """
    decomposed = unicodedata.normalize("NFKD", str(text).replace("Œ", "Oe").replace("œ", "oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# ---- the view --------------------------------------------------------------------------------


@dataclass
class MapView:
    """Everything a page needs to draw one map, as JSON-safe values.

    ``nodes``: ``{"id", "label", "name", "title", "x", "y", "size", "color", "type", "kind",
    "url", "search", "measure", "shape"}`` (``kind`` is ``"organization"`` or ``"group"``;
    ``label`` the name cut to 40 characters; ``title`` plain text, lines separated by
    ``\\n``; ``url`` the profile, or the group's map, or ``None``; ``search`` the folded name;
    ``measure`` the value nodes are sized by, or a group's member count; group nodes add
    ``members``; highlighted nodes ``borderWidth``). ``edges``: ``{"id", "from", "to", "kind", "title"}`` with
    ``kind`` in ``link``, ``suggestion``, ``overlap``, ``group``; all but plain links add
    ``color``, ``dashes`` and ``width`` (a link's come from ``options``).
    ``total_nodes`` counts the organizations given (cluster nodes excluded unless drawn),
    ``drawn_nodes`` the nodes drawn: equal unless ``aggregated``. ``paint_links``: above
    1,500 plain links the page paints them in one canvas path under vis-network's nodes
    rather than as vis-network edges (a second saved at 20,000 links; such links show no
    tooltip, and those of a selected node are drawn darker instead of selected).
    """

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    options: dict[str, Any]
    legend: list[dict[str, Any]]
    edge_legend: list[dict[str, Any]]
    drawn_nodes: int
    total_nodes: int
    drawn_edges: int
    aggregated: bool = False
    aggregate_by: str | None = None
    message: str | None = None
    size_by: str = "degree"
    size_label: str = ""
    lang: str = "en"
    text: dict[str, str] = field(default_factory=dict)
    highlight: list[Any] = field(default_factory=list)
    dom_id: str = "map"
    paint_links: bool = False

    @property
    def edge_counts(self) -> dict[str, int]:
        """Return how many edges of each kind are drawn."""
        return dict(Counter(e["kind"] for e in self.edges))

    def payload(self) -> dict[str, Any]:
        """Return what the browser script reads, and only that.

        ``nodes`` keep the keys the page uses (:data:`_PAGE_NODE_KEYS`); ``edges`` are every
        edge, or with ``paint_links`` every edge but plain links, which come as ``links``:
        pairs of positions in ``nodes`` (12 bytes a link instead of about 90: a 20,000-link
        page shrinks by three quarters).
        """
        nodes = [{k: n[k] for k in _PAGE_NODE_KEYS if n.get(k) is not None} for n in self.nodes]
        edges, links = self.edges, []
        if self.paint_links:
            index = {n["id"]: i for i, n in enumerate(self.nodes)}
            links = [[index[e["from"]], index[e["to"]]] for e in self.edges if e["kind"] == "link"]
            edges = [e for e in self.edges if e["kind"] != "link"]
        return {"nodes": nodes, "edges": edges, "links": links, "options": self.options, "highlight": self.highlight}

    def json_script(self) -> Markup:
        """Return the payload as JSON safe inside ``<script type="application/json">``.

        ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e``, ``\\u0026``, so no value can
        close the script element or open a comment, and ``JSON.parse`` gives the same text back.

        Examples
        --------
        >>> view = MapView([{"id": "a", "label": "</script><b>"}], [], {}, [], [], 1, 1, 0)
        >>> "<" in view.json_script()
        False
        """
        return Markup(_json_for_script(self.payload()))

    def to_dict(self) -> dict[str, Any]:
        """Return the whole view as JSON-friendly values (for the JSON API)."""
        out = {k: v for k, v in self.__dict__.items()}
        out["edge_counts"] = self.edge_counts
        return out


def _json_for_script(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # U+2028/2029 are valid in JSON but some parsers treat them as line ends; escape them too.
    return (
        text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


# ---- graph helpers ---------------------------------------------------------------------------


def _node_type(data: Mapping[str, Any]) -> str:
    t = data.get("type")
    return t if t in NODE_TYPES else "unknown"


def _is_cluster(data: Mapping[str, Any]) -> bool:
    return data.get("type") == "cluster"


def _edge_type(key: Any, data: Mapping[str, Any]) -> str | None:
    t = data.get("type", key if isinstance(key, str) else None)
    return None if t is None else str(t)


def _iter_edges(G: nx.Graph) -> Iterable[tuple[Any, Any, str | None, Mapping[str, Any]]]:
    """Yield ``(u, v, type, data)`` for any networkx graph, multi or not."""
    if G.is_multigraph():
        for u, v, k, d in G.edges(keys=True, data=True):
            yield u, v, _edge_type(k, d), d
    else:
        for u, v, d in G.edges(data=True):
            yield u, v, _edge_type(None, d), d


def _pair(u: Any, v: Any) -> tuple[Any, Any]:
    return (u, v) if _sort_key(u) <= _sort_key(v) else (v, u)


def _sort_key(n: Any) -> tuple[str, str]:
    return (type(n).__name__, str(n))


def filter_graph(
    G: nx.Graph,
    *,
    clusters: Iterable[str] | None = None,
    types: Iterable[str] | None = None,
    sectors: Iterable[str] | None = None,
    regions: Iterable[str] | None = None,
) -> nx.Graph:
    """Return the part of a snapshot the map's filters keep (a subgraph view).

    An organization stays when it matches every facet given, and a facet when any of its
    values matches; names compare without accents or case (``"aerospatiale"`` matches the
    cluster ``"Aérospatiale"``, as does its id). Cluster nodes of the kept clusters stay, so
    that ``PART_OF`` edges still say where each organization belongs.

    Parameters
    ----------
    G : networkx graph
        A snapshot.
    clusters, types, sectors, regions : iterables of str, optional
        Allowed values; ``None`` or empty means no filter on that facet.

    Returns
    -------
    networkx graph
        ``G.subgraph(kept)``.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", type="company", clusters=["Aérospatiale"], region="Montréal")
    >>> G.add_node("b", type="institution", clusters=["Mode"], region="Laval")
    >>> sorted(filter_graph(G, clusters=["aerospatiale"]))
    ['a']
    >>> sorted(filter_graph(G, regions=["montreal", "laval"], types=["institution"]))
    ['b']
    """
    want_clusters = {cluster_id(c) for c in clusters or () if str(c).strip()}
    want_types = {str(t).strip().lower() for t in types or () if str(t).strip()}
    want_sectors = {fold(s).strip() for s in sectors or () if str(s).strip()}
    want_regions = {fold(r).strip() for r in regions or () if str(r).strip()}
    member_of = node_clusters(G) if want_clusters else {}
    keep = []
    kept_clusters: set[str] = set()
    for n, data in G.nodes(data=True):
        if _is_cluster(data):
            continue
        if want_types and _node_type(data) not in want_types:
            continue
        if want_sectors and not want_sectors & {fold(s).strip() for s in as_list(data.get("sectors"))}:
            continue
        if want_regions and fold(data.get("region") or "").strip() not in want_regions:
            continue
        if want_clusters:
            mine = {cluster_id(c) for c in member_of.get(n, ())}
            if not want_clusters & mine:
                continue
        keep.append(n)
        kept_clusters.update(cluster_id(str(c)) for c in as_list(data.get("clusters")))
    wanted = want_clusters or kept_clusters
    keep.extend(
        n for n, d in G.nodes(data=True)
        if _is_cluster(d) and (cluster_id(str(n)) in wanted or cluster_id(str(d.get("name", n))) in wanted)
    )
    return G.subgraph(keep)


# ---- sizes -------------------------------------------------------------------------------------


def _measure(
    nodes: Sequence[Any], links: Iterable[tuple[Any, Any]], size_by: str | Mapping[Any, float] | None, G: nx.Graph
) -> tuple[str, dict[Any, float]]:
    """Return ``(name, values)`` of the measure nodes are sized by, on the drawn network
    (``nodes`` joined by ``links``)."""
    if isinstance(size_by, Mapping):
        return "custom", {n: float(size_by.get(n, 0.0) or 0.0) for n in nodes}
    if size_by is None or size_by == "none":
        return "none", {n: 1.0 for n in nodes}
    if size_by not in SIZE_MEASURES:
        # A numeric node attribute (e.g. written by an analysis) is used as given.
        values = {n: G.nodes[n].get(size_by) for n in nodes}
        given = [v for v in values.values() if v is not None]
        if given and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in given):
            return size_by, {n: float(v or 0.0) for n, v in values.items()}
        raise InputError(
            f'Cannot size the map by "{size_by}": use one of {", ".join(SIZE_MEASURES)} '
            "or a numeric node attribute."
        )
    if size_by == "degree":
        degree = Counter(n for pair in links for n in pair)
        return size_by, {n: float(degree[n]) for n in nodes}
    H = nx.Graph()
    H.add_nodes_from(nodes)
    H.add_edges_from(links)
    if len(nodes) < 2 or H.number_of_edges() == 0:
        return size_by, {n: 0.0 for n in nodes}
    if size_by == "pagerank":
        return size_by, dict(nx.pagerank(H))  # scipy-backed in networkx: fast enough here
    if size_by == "eigenvector":
        return size_by, dict(nx.eigenvector_centrality_numpy(H))
    # Betweenness and closeness: networkx is pure Python (seconds at 2,000 nodes); igraph
    # computes the same definitions in C. Values are scaled as networkx's defaults.
    g, _ = _igraph(nodes, H.edges())
    n = len(nodes)
    if size_by == "betweenness":
        raw = np.asarray(g.betweenness(directed=False), dtype=float)
        scale = 2.0 / ((n - 1) * (n - 2)) if n > 2 else 1.0
        return size_by, dict(zip(nodes, (raw * scale).tolist()))
    # closeness, with networkx's Wasserman–Faust scaling for graphs in several pieces.
    raw = np.nan_to_num(np.asarray(g.closeness(normalized=True), dtype=float))
    components = g.connected_components()
    comp_size = np.asarray(components.sizes(), dtype=float)[components.membership]
    return size_by, dict(zip(nodes, (raw * (comp_size - 1) / (n - 1)).tolist()))


def _sizes(values: Mapping[Any, float]) -> dict[Any, float]:
    """Map values to dot sizes; area rather than radius follows the value (square root)."""
    if not values:
        return {}
    lo, hi = min(values.values()), max(values.values())
    if hi <= lo:
        return {n: (_MIN_SIZE + _MAX_SIZE) / 3 for n in values}
    return {n: _MIN_SIZE + (_MAX_SIZE - _MIN_SIZE) * math.sqrt((v - lo) / (hi - lo)) for n, v in values.items()}


def _igraph(nodes: Sequence[Any], edges: Iterable[tuple[Any, Any]]) -> tuple[ig.Graph, dict[Any, int]]:
    index = {n: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[u], index[v]) for u, v in edges])
    return g, index


# ---- layout ---------------------------------------------------------------------------------

_LAYOUT_CACHE: OrderedDict[str, dict[Any, tuple[float, float]]] = OrderedDict()
_LAYOUT_LOCK = threading.Lock()


def clear_layout_cache() -> None:
    """Forget every cached layout (after an import, or in tests)."""
    with _LAYOUT_LOCK:
        _LAYOUT_CACHE.clear()


def _layout_key(nodes: Sequence[Any], edges: Sequence[tuple[Any, Any, float]], seed: int) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{_LAYOUT_VERSION}|{seed}|".encode())
    for n in sorted(map(repr, nodes)):
        h.update(n.encode("utf-8", "surrogatepass") + b"\x00")
    h.update(b"\x01")
    for line in sorted(f"{u!r}\x00{v!r}\x00{w:.6g}" for u, v, w in edges):
        h.update(line.encode("utf-8", "surrogatepass") + b"\x00")
    return h.hexdigest()


def _layout(
    nodes: Sequence[Any],
    edges: Sequence[tuple[Any, Any, float]],
    *,
    anchors: Sequence[Any] = (),
    seed: int = 0,
) -> dict[Any, tuple[float, float]]:
    """Return frozen positions of ``nodes`` (anchors are laid out but not returned).

    Cached by the content of the graph: the same nodes and edges give the same positions,
    in this process, without recomputing.
    """
    everything = list(nodes) + list(anchors)
    key = _layout_key(everything, edges, seed)
    with _LAYOUT_LOCK:
        hit = _LAYOUT_CACHE.get(key)
        if hit is not None:
            _LAYOUT_CACHE.move_to_end(key)
            return hit
    positions = _compute_layout(everything, edges, n_anchors=len(anchors), seed=seed)
    out = {n: positions[i] for i, n in enumerate(nodes)}
    with _LAYOUT_LOCK:
        _LAYOUT_CACHE[key] = out
        while len(_LAYOUT_CACHE) > _LAYOUT_CACHE_SIZE:
            _LAYOUT_CACHE.popitem(last=False)
    return out


_IGRAPH_RNG_LOCK = threading.Lock()


def _compute_layout(
    nodes: Sequence[Any], edges: Sequence[tuple[Any, Any, float]], *, n_anchors: int, seed: int
) -> list[tuple[float, float]]:
    """Fruchterman–Reingold positions; the last ``n_anchors`` nodes are cluster anchors."""
    n = len(nodes)
    if n == 0:
        return []
    if n == 1:
        return [(0.0, 0.0)]
    index = {node: i for i, node in enumerate(nodes)}
    pairs = [(index[u], index[v]) for u, v, _ in edges if u != v]
    weights = [float(w) for u, v, w in edges if u != v]
    g = ig.Graph(n=n, edges=pairs)
    rng = np.random.default_rng(seed)
    radius = math.sqrt(n)
    start = rng.uniform(-radius, radius, size=(n, 2))
    if n_anchors:
        # Start each cluster's members around their anchor, anchors on a circle: the force
        # layout then refines a picture in which clusters already occupy their own regions,
        # instead of untangling a random cloud (which leaves them mixed).
        first = n - n_anchors
        angle = 2 * math.pi * np.arange(n_anchors) / n_anchors
        centres = radius * np.column_stack([np.cos(angle), np.sin(angle)])
        start[first:] = centres
        home = np.full(first, -1)
        for (a, b), _ in zip(pairs, weights):
            lo, hi = min(a, b), max(a, b)
            if hi >= first and lo < first and home[lo] < 0:
                home[lo] = hi - first
        placed = home >= 0
        spread = radius / max(2.0, math.sqrt(n_anchors))
        start[:first][placed] = centres[home[placed]] + rng.normal(0, spread / 2, size=(int(placed.sum()), 2))
    start = start.tolist()
    # igraph draws from its own random generator (displacement of coincident nodes);
    # a seeded generator for the duration of the call makes the layout reproducible.
    with _IGRAPH_RNG_LOCK:
        ig.set_random_number_generator(random.Random(seed))
        try:
            coords = g.layout_fruchterman_reingold(
                seed=start, weights=weights or None, niter=500, grid="auto"
            ).coords
        finally:
            ig.set_random_number_generator(random)
    xy = np.asarray(coords, dtype=float)
    xy -= xy.mean(axis=0)
    # Scale so that the median distance from a drawn node to its nearest neighbour is set:
    # dots (radius 8 to 40) then seldom cover each other, whatever the number of nodes
    # (vis-network fits the whole map to its frame anyway). A small map, an ego map say,
    # has room to spare: its neighbours sit two largest dots apart.
    drawn = xy[: n - n_anchors]
    nearest = float(np.median(cKDTree(drawn).query(drawn, k=2)[0][:, 1])) if len(drawn) > 1 else 0.0
    if nearest <= 0:
        nearest = float(np.sqrt((xy**2).sum(axis=1).mean())) or 1.0
    wanted = _NEIGHBOUR_DISTANCE if len(drawn) > 100 else 2 * _MAX_SIZE + 10
    xy *= wanted / nearest
    return [(round(float(x), 1), round(float(y), 1)) for x, y in xy]


# ---- suggestions and overlaps -------------------------------------------------------------

_SOURCE_COLUMNS = ("source", "a", "u", "id_a", "node_a", "org_a", "organization_a", "from")
_TARGET_COLUMNS = ("target", "b", "v", "id_b", "node_b", "org_b", "organization_b", "to")
_REASON_COLUMNS = ("reason", "reasons", "why", "explanation")
_SCORE_COLUMNS = ("score", "share", "jaccard", "similarity")


def _reason_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (list, tuple, set)):
        return "; ".join(str(v) for v in value if v is not None)
    return str(value)


def _pairs(items: Any) -> list[tuple[Any, Any, str, float | None]]:
    """Normalise suggestions or overlaps to ``(a, b, reason, score)``.

    Accepts a DataFrame (columns such as ``source``/``target`` or ``id_a``/``id_b``, and
    optionally ``reason(s)`` and ``score``), dicts with those keys, or tuples ``(a, b)``,
    ``(a, b, reason)``, ``(a, b, reason, score)``.
    """
    if items is None:
        return []
    if hasattr(items, "to_dict") and hasattr(items, "columns"):
        columns = [str(c) for c in items.columns]
        if not columns:
            return []
        records = items.to_dict("records")
    else:
        records = list(items)
    out: list[tuple[Any, Any, str, float | None]] = []
    for rec in records:
        if isinstance(rec, Mapping):
            a = next((rec[c] for c in _SOURCE_COLUMNS if c in rec), None)
            b = next((rec[c] for c in _TARGET_COLUMNS if c in rec), None)
            if a is None or b is None:
                raise InputError(
                    "A suggestion or overlap needs its two organizations: name the columns "
                    f"source and target (found: {', '.join(map(str, rec))})."
                )
            reason = _reason_text(next((rec[c] for c in _REASON_COLUMNS if c in rec), None))
            score = next((rec[c] for c in _SCORE_COLUMNS if c in rec), None)
        else:
            rec = tuple(rec)
            if len(rec) < 2:
                raise InputError(f"A suggestion or overlap needs two organizations, got {rec!r}.")
            a, b = rec[0], rec[1]
            reason = _reason_text(rec[2]) if len(rec) > 2 else ""
            score = rec[3] if len(rec) > 3 else None
        try:
            score = None if score is None or score != score else float(score)
        except (TypeError, ValueError):
            score = None
        out.append((a, b, reason, score))
    return out


# ---- building the view ------------------------------------------------------------------------


def _check_lang(lang: str) -> str:
    short = (lang or "").lower()[:2]
    if short not in LANGUAGES:
        raise InputError(f'Unknown language "{lang}": use one of {", ".join(LANGUAGES)}.')
    return short


def _text(lang: str) -> dict[str, str]:
    keys = ("search_label", "search_placeholder", "search_button", "no_match", "legend",
            "show_suggestions", "show_overlaps")
    return {k: _t(lang, k) for k in keys}


def _title_lines(data: Mapping[str, Any], lang: str, measure_label: str | None, value: float | None,
                 member_of: Iterable[str]) -> str:
    colon = " : " if lang == "fr" else ": "  # French typography spaces the colon
    lines = [str(data.get("name") or "")]
    lines.append(type_label(lang, data.get("type")))
    clusters = sorted(set(map(str, member_of)))
    if clusters:
        lines.append(f"{translate(lang, 'common.clusters')}{colon}{', '.join(clusters)}")
    region = data.get("region")
    if region:
        lines.append(str(region))
    if measure_label and value is not None:
        lines.append(f"{measure_label}{colon}{value:.3g}")
    return "\n".join(line for line in lines if line)


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def _json_id(n: Any) -> str | int:
    """vis-network ids must be strings or numbers; anything else (tuples) becomes its str."""
    if isinstance(n, bool) or not isinstance(n, (str, int)):
        return str(n)
    return n


def _profile_url(link_prefix: str | None, n: Any) -> str | None:
    if link_prefix is None:
        return None
    return link_prefix + quote(str(n), safe="")


def _options(net: Network, *, edges: int) -> dict[str, Any]:
    """vis-network options: pyvis's, with physics off and what keeps large maps fluid."""
    net.toggle_physics(False)
    options = json.loads(net.options.to_json())
    options["edges"]["smooth"] = {"enabled": False}  # straight lines draw much faster
    options["edges"]["color"] = {"color": EDGE_COLOURS["link"], "inherit": False}
    options["edges"]["width"] = 1
    options["edges"]["selectionWidth"] = 1
    options["edges"]["arrows"] = {"to": {"enabled": False}}
    options["nodes"] = {
        "shape": "dot",
        "borderWidth": 1,
        "borderWidthSelected": 3,
        "font": {"size": 14, "face": "system-ui, sans-serif", "strokeWidth": 3, "strokeColor": "#ffffff"},
        # Labels of small dots only appear once zoomed in: 2,000 labels at once are unreadable.
        "scaling": {"label": {"enabled": False, "drawThreshold": 7}},
    }
    options["physics"] = {"enabled": False}
    options["layout"] = {"improvedLayout": False, "randomSeed": 1}
    big = edges > _HIDE_EDGES_ABOVE
    options["interaction"] = {
        "dragNodes": True,
        "hideEdgesOnDrag": big,
        "hideEdgesOnZoom": big,
        "hover": False,
        "tooltipDelay": 150,
        "navigationButtons": False,
        "keyboard": False,
        "multiselect": False,
        "selectConnectedEdges": not big,
    }
    options["configure"] = {"enabled": False}
    return options


def _new_network() -> Network:
    # Undirected: a line per linked pair, whatever the direction of the relationships.
    return Network(height="100%", width="100%", directed=False, cdn_resources="local")


def _add_node(net: Network, n: Any, **attrs: Any) -> None:
    net.add_node(_json_id(n), **attrs)


def _add_edge(net: Network, u: Any, v: Any, **attrs: Any) -> None:
    # pyvis's add_edge scans the node list and, for undirected networks, every earlier edge
    # (quadratic: minutes at 10,000 edges). Both ends are known nodes and pairs are unique
    # here, so the edge goes in as pyvis would store it, through pyvis's own Edge.
    net.edges.append(_PyvisEdge(_json_id(u), _json_id(v), False, **attrs).options)


def _legend(counts: Mapping[str, int], lang: str, *, group_kind: str | None = None) -> list[dict[str, Any]]:
    order = list(TYPE_COLOURS)
    out = []
    for t in sorted(counts, key=lambda t: order.index(t) if t in order else len(order)):
        label = type_label(lang, None if t == "unknown" else t)
        if t == "cluster" and group_kind:
            label = _t(lang, f"group_{group_kind}")
        out.append({"type": t, "label": label, "colour": TYPE_COLOURS.get(t, TYPE_COLOURS["unknown"]),
                    "count": int(counts[t])})
    return out


def _edge_legend(edges: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    counts = Counter(e["kind"] for e in edges)
    labels = {"link": _t(lang, "links"), "group": _t(lang, "group_links"),
              "suggestion": _t(lang, "suggestion"), "overlap": _t(lang, "overlap")}
    return [
        {"kind": k, "label": labels[k], "colour": EDGE_COLOURS[k], "dashed": k in ("suggestion", "overlap"),
         "count": counts[k]}
        for k in ("link", "group", "suggestion", "overlap") if counts[k]
    ]


def _extra_edges(
    kind: str,
    pairs: Sequence[tuple[Any, Any, str, float | None]],
    drawn: Mapping[Any, Any],
    names: Mapping[Any, str],
    lang: str,
) -> list[dict[str, Any]]:
    """Dashed edges for suggestions or overlaps whose both ends are drawn (one per pair)."""
    seen: set[tuple[Any, Any]] = set()
    out = []
    for a, b, reason, score in pairs:
        if a == b or a not in drawn or b not in drawn:
            continue
        key = _pair(a, b)
        if key in seen:
            continue
        seen.add(key)
        lines = [f"{_t(lang, kind)}: {names.get(a, a)} — {names.get(b, b)}"]
        if reason:
            lines.append(_t(lang, "why", reason=reason))
        if score is not None:
            lines.append(_t(lang, "score", score=f"{score:.3g}"))
        out.append({"u": a, "v": b, "kind": kind, "title": "\n".join(lines)})
    return out


_STORED_KINDS = {"SUGGESTED_PARTNER": "suggestion", "OVERLAPS_WITH": "overlap"}


def _scan_edges(
    G: nx.Graph, drawn: Mapping[Any, Any]
) -> tuple[dict[tuple[Any, Any], list[str]], dict[str, list[tuple[Any, Any, str, float | None]]]]:
    """Read the edges of ``G`` once and return ``(links, stored)``.

    ``links``: each pair of ``drawn`` nodes linked by any input relationship, in the
    orientation first met, with the relationship types linking them. ``stored``: suggestions
    and overlaps held as ``SUGGESTED_PARTNER`` / ``OVERLAPS_WITH`` edges (a Cypher result holds
    them so), whatever their ends.
    """
    links: dict[tuple[Any, Any], list[str]] = {}
    stored: dict[str, list[tuple[Any, Any, str, float | None]]] = {"suggestion": [], "overlap": []}
    for u, v, t, d in _iter_edges(G):
        if t in _STORED_KINDS:
            reason = _reason_text(next((d[c] for c in _REASON_COLUMNS if c in d), None))
            score = next((d[c] for c in _SCORE_COLUMNS if c in d), None)
            stored[_STORED_KINDS[t]].append((u, v, reason, score if isinstance(score, (int, float)) else None))
            continue
        if u == v or t in RESULT_TYPES or u not in drawn or v not in drawn:
            continue
        types = links.get((u, v))
        if types is None:
            types = links.get((v, u))
            if types is None:
                types = links[(u, v)] = []
        if t and t not in types:
            types.append(t)
    return links, stored


def render_map(
    G: nx.Graph,
    *,
    size_by: str | Mapping[Any, float] | None = "degree",
    suggestions: Any = None,
    overlaps: Any = None,
    lang: str = "en",
    max_nodes: int = 2000,
    aggregate_by: str = "cluster",
    groups: Mapping[Any, Hashable] | None = None,
    highlight: Any = None,
    link_prefix: str | None = "/org/",
    group_link: str | None = "/map?{by}={key}",
    include_clusters: bool = False,
    seed: int = 0,
    dom_id: str = "map",
) -> MapView:
    """Return the map of a snapshot: nodes coloured by type, sized by a centrality, laid out.

    Organizations (every node but cluster nodes) are drawn, joined by one line per linked
    pair whatever the number and direction of relationships between them; suggested
    partnerships and overlaps are added as dashed lines of their own colours when both ends
    are drawn. Above ``max_nodes`` organizations the map is aggregated instead (see below).

    Parameters
    ----------
    G : networkx graph
        A snapshot (``MultiDiGraph``), filtered or not (:func:`filter_graph`), or any networkx
        graph: untyped nodes are drawn as organizations of unknown type. ``SUGGESTED_PARTNER``
        and ``OVERLAPS_WITH`` edges found in ``G`` are drawn as suggestions and overlaps.
    size_by : str or mapping, default "degree"
        A measure of :data:`SIZE_MEASURES` computed on the drawn network, the name of a
        numeric node attribute, a mapping ``node -> value`` (e.g. centralities of the whole
        graph for an ego map), or ``None`` / ``"none"`` for equal sizes.
    suggestions, overlaps : DataFrame or iterable, optional
        Pairs ``(a, b[, reason[, score]])`` or records with ``source``/``target`` (or
        ``id_a``/``id_b``), ``reason(s)`` and ``score``; pairs with an end not drawn are left out.
    lang : {"en", "fr"}
        Language of the legend, tooltips, message and controls.
    max_nodes : int, default 2000
        Most organizations drawn one by one; above it the map is aggregated.
    aggregate_by : {"cluster", "community"}
        How to group when aggregating. By cluster, an organization in several clusters counts
        in the first of its list; when all fall in one cluster, communities are used instead.
    groups : mapping, optional
        ``node -> group key`` to aggregate by (e.g. communities already computed by the
        analyses); without it communities come from :func:`analysis.communities` (Louvain).
    highlight : node or list of nodes, optional
        Nodes drawn larger with a thick border and selected when the map opens.
    link_prefix : str or None, default "/org/"
        Clicking a node opens ``link_prefix + url-encoded id``; ``None`` makes nodes not links.
    group_link : str or None, default "/map?{by}={key}"
        Link of a group node, with ``{by}`` the grouping and ``{key}`` its url-encoded key.
    include_clusters : bool, default False
        Draw cluster nodes and ``PART_OF`` edges too (a Cypher result may hold them).
    seed : int, default 0
        Seed of the layout.
    dom_id : str, default "map"
        Id of the map's element in the page (the data element is ``{dom_id}-data``).

    Returns
    -------
    MapView

    Raises
    ------
    InputError
        An unknown language or measure, or suggestions without their two organizations.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", name="Aéro Boréal", type="company")
    >>> G.add_node("b", name="Polytechnique", type="institution")
    >>> G.add_node("c", name="<img src=x>", type="company")
    >>> G.add_edge("a", "b", key="PARTNERS_WITH", type="PARTNERS_WITH")
    'PARTNERS_WITH'
    >>> view = render_map(G, suggestions=[("a", "c", "same sector")], lang="fr")
    >>> view.drawn_nodes, view.total_nodes, view.aggregated, view.edge_counts
    (3, 3, False, {'link': 1, 'suggestion': 1})
    >>> [entry["label"] for entry in view.legend]
    ['Entreprise', "Établissement d'enseignement ou de recherche"]
    >>> render_map(G, max_nodes=2).aggregated
    True
    """
    lang = _check_lang(lang)
    if aggregate_by not in ("cluster", "community"):
        raise InputError(f'Cannot aggregate the map by "{aggregate_by}": use cluster or community.')
    highlight_list = [] if highlight is None else (list(highlight) if isinstance(highlight, (list, tuple, set)) else [highlight])
    orgs = [n for n, d in G.nodes(data=True) if include_clusters or not _is_cluster(d)]
    drawn = {n: G.nodes[n] for n in orgs}
    links, stored = _scan_edges(G, drawn)
    sugg = _pairs(suggestions) + stored["suggestion"]
    over = _pairs(overlaps) + stored["overlap"]
    if len(orgs) > max_nodes:
        return _aggregated(G, orgs, links=links, sugg=sugg, over=over, lang=lang, max_nodes=max_nodes,
                           aggregate_by=aggregate_by, groups=groups, group_link=group_link,
                           seed=seed, dom_id=dom_id)

    measure, values = _measure(orgs, links, size_by, G)
    sizes = _sizes(values)
    measure_label = (translate(lang, _MEASURE_KEYS[measure]) if measure in _MEASURE_KEYS
                     else translate(lang, "common.score") if measure == "custom" else measure)
    member_of = node_clusters(G)

    # Layout: real edges, plus (for organizations) a weaker pull towards one invisible anchor per
    # cluster, so that each cluster's members gather in one region of the map.
    layout_edges: list[tuple[Any, Any, float]] = [(u, v, 1.0) for u, v in links]
    anchors: list[Any] = []
    if not include_clusters:
        anchor_of: dict[str, tuple[str, str]] = {}
        for n in orgs:
            for c in member_of.get(n, ()):
                anchor = anchor_of.setdefault(cluster_id(c), ("\x00cluster", cluster_id(c)))
                layout_edges.append((n, anchor, 0.3))
        anchors = sorted(set(anchor_of.values()))
    positions = _layout(orgs, layout_edges, anchors=anchors, seed=seed)

    net = _new_network()
    names = {}
    counts: Counter[str] = Counter()
    wanted = set(highlight_list)
    for n in orgs:
        data = drawn[n]
        t = _node_type(data)
        counts[t] += 1
        name = str(data.get("name") or n)
        names[n] = name
        x, y = positions[n]
        size = sizes.get(n, _MIN_SIZE)
        extra = {"borderWidth": 4, "color": {"background": TYPE_COLOURS.get(t), "border": "#000000"}} if n in wanted else {}
        if n in wanted:
            size = max(size, _MAX_SIZE * 0.75)
        url = _profile_url(link_prefix, n)
        attrs = dict(label=_short(name), title=_title_lines(data, lang, measure_label if measure != "none" else None,
                                                               values.get(n), member_of.get(n, ())),
                     x=x, y=y, size=round(size, 1), color=TYPE_COLOURS.get(t, TYPE_COLOURS["unknown"]),
                     type=t, kind="organization", url=url, name=name, search=fold(name), measure=values.get(n))
        attrs.update(extra)
        _add_node(net, n, **attrs)

    titles: dict[tuple[str, ...], str] = {}  # a few combinations of types for thousands of links
    for i, ((u, v), types) in enumerate(links.items()):
        # Colour, width and dashes of plain links come from the options: ten thousand edges
        # need not each repeat them, nor the names their ends' tooltips already give.
        key = tuple(types)
        title = titles.get(key)
        if title is None:
            title = titles[key] = ", ".join(relation_label(lang, t) for t in types)
        _add_edge(net, u, v, id=f"e{i}", kind="link", title=title)
    extra_edges = _extra_edges("suggestion", sugg, drawn, names, lang) + _extra_edges("overlap", over, drawn, names, lang)
    for i, e in enumerate(extra_edges):
        _add_edge(net, e["u"], e["v"], id=f"{e['kind'][0]}{i}", kind=e["kind"], title=e["title"],
                  color=EDGE_COLOURS[e["kind"]], dashes=[6, 4] if e["kind"] == "suggestion" else [2, 4], width=2)

    return _view(net, counts=counts, total=len(orgs), lang=lang, measure=measure, measure_label=measure_label,
                 highlight=[_json_id(n) for n in highlight_list if n in drawn], dom_id=dom_id)


def _view(net: Network, *, counts: Mapping[str, int], total: int, lang: str, measure: str, measure_label: str,
          highlight: list[Any], dom_id: str, aggregated: bool = False, aggregate_by: str | None = None,
          message: str | None = None) -> MapView:
    # pyvis's node and edge dicts, as they are: the page script hands vis-network only the
    # keys it draws with (id, label, x, y, size, color...), and keeps the rest (url, search).
    nodes, edges = net.nodes, net.edges
    links = sum(e["kind"] == "link" for e in edges)
    paint = links > _PAINT_LINKS_ABOVE
    options = _options(net, edges=len(edges) - links if paint else len(edges))
    text = _text(lang)
    text["counts"] = _t(lang, "counts", drawn=_number(len(nodes), lang), total=_number(total, lang))
    text["size_by"] = _t(lang, "size_by", measure=measure_label) if measure not in ("none", "members") else ""
    text["aria"] = _t(lang, "aria", drawn=_number(len(nodes), lang), edges=_number(len(edges), lang))
    return MapView(
        nodes=nodes, edges=edges, options=options,
        legend=_legend(counts, lang, group_kind=aggregate_by if aggregated else None),
        edge_legend=_edge_legend(edges, lang),
        drawn_nodes=len(nodes), total_nodes=total, drawn_edges=len(edges),
        aggregated=aggregated, aggregate_by=aggregate_by, message=message,
        size_by=measure, size_label=measure_label, lang=lang, text=text, highlight=highlight, dom_id=dom_id,
        paint_links=paint,
    )


# ---- aggregation ------------------------------------------------------------------------------


def _communities(G: nx.Graph, orgs: Sequence[Any], seed: int) -> dict[Any, int]:
    """Each organization's community, as the analyses number them (0 is the largest), so
    that the map and the communities table speak of the same community numbers."""
    from analysis.communities import communities

    df = communities(G.subgraph(orgs), seed=seed)
    return dict(zip(df["id"], df["community"].astype(int)))


def _aggregated(G: nx.Graph, orgs: Sequence[Any], *, links, sugg, over, lang: str, max_nodes: int, aggregate_by: str,
                groups: Mapping[Any, Hashable] | None, group_link: str | None, seed: int, dom_id: str) -> MapView:
    note = ""
    key_of: dict[Any, Hashable]
    labels: dict[Hashable, str] = {}
    if groups is not None:
        key_of = {n: groups.get(n, "") for n in orgs}
        labels = {k: _t(lang, "community", n=k) if aggregate_by == "community" else str(k) for k in set(key_of.values())}
    elif aggregate_by == "cluster":
        cluster_names = {cluster_id(str(d.get("name", n))): str(d.get("name", n))
                         for n, d in G.nodes(data=True) if _is_cluster(d)}
        member_of = node_clusters(G)
        key_of = {}
        for n in orgs:
            listed = [str(c) for c in as_list(G.nodes[n].get("clusters"))] or sorted(member_of.get(n, ()))
            key = cluster_id(listed[0]) if listed else ""
            key_of[n] = key
            if key and key not in labels:
                labels[key] = cluster_names.get(key, listed[0])
        if any(len(member_of.get(n, ())) > 1 for n in orgs):
            note = _t(lang, "primary_cluster")
        if len(set(key_of.values())) <= 1:
            aggregate_by, note = "community", _t(lang, "one_cluster")
    if groups is None and aggregate_by == "community":
        key_of = _communities(G, orgs, seed)
        labels = {k: _t(lang, "community", n=k) for k in set(key_of.values())}
    labels[""] = _t(lang, "no_cluster")

    members: Counter[Hashable] = Counter(key_of.values())
    types: dict[Hashable, Counter[str]] = defaultdict(Counter)
    for n in orgs:
        types[key_of[n]][_node_type(G.nodes[n])] += 1
    group_ids = {k: f"group:{k}" for k in members}

    between: Counter[tuple[Hashable, Hashable]] = Counter()
    for (u, v) in links:
        a, b = key_of[u], key_of[v]
        if a != b:
            between[_pair(a, b)] += 1
    extra: dict[str, Counter[tuple[Hashable, Hashable]]] = {"suggestion": Counter(), "overlap": Counter()}
    for kind, pairs in (("suggestion", sugg), ("overlap", over)):
        seen = set()
        for a, b, _, _ in pairs:
            if a in key_of and b in key_of and key_of[a] != key_of[b] and _pair(a, b) not in seen:
                seen.add(_pair(a, b))
                extra[kind][_pair(key_of[a], key_of[b])] += 1

    order = sorted(members, key=lambda k: (-members[k], str(k)))
    positions = _layout([group_ids[k] for k in order],
                        [(group_ids[a], group_ids[b], float(math.log1p(c))) for (a, b), c in between.items()],
                        seed=seed)
    sizes = _sizes({k: float(members[k]) for k in order})
    net = _new_network()
    for k in order:
        x, y = positions[group_ids[k]]
        mix = ", ".join(f"{type_label(lang, t if t != 'unknown' else None)} {c}" for t, c in types[k].most_common(3))
        title = "\n".join([labels.get(k, str(k)), _t(lang, "members", n=_number(members[k], lang)), mix,
                           _t(lang, "open_group") if group_link else ""]).strip()
        url = group_link.format(by=quote(aggregate_by, safe=""),
                                key=quote(str(k), safe="")) if group_link and k != "" else None
        label = f"{labels.get(k, str(k))} ({_number(members[k], lang)})"
        net.add_node(group_ids[k], label=_short(label), title=title, x=x, y=y, size=round(sizes[k], 1),
                     color=TYPE_COLOURS["cluster"], type="cluster", kind="group", url=url,
                     name=labels.get(k, str(k)), search=fold(labels.get(k, str(k))), measure=members[k],
                     members=members[k])
    i = 0
    for (a, b), c in sorted(between.items(), key=lambda kv: -kv[1]):
        _add_edge(net, group_ids[a], group_ids[b], id=f"g{i}", kind="group",
                  title=_t(lang, "group_edge", n=_number(c, lang), a=labels.get(a, a), b=labels.get(b, b)),
                  color=EDGE_COLOURS["group"], dashes=False, width=round(1 + math.log1p(c), 2))
        i += 1
    for kind, counter in extra.items():
        for (a, b), c in counter.items():
            _add_edge(net, group_ids[a], group_ids[b], id=f"{kind[0]}{i}", kind=kind,
                      title=_t(lang, f"group_{kind}s", n=_number(c, lang), a=labels.get(a, a), b=labels.get(b, b)),
                      color=EDGE_COLOURS[kind], dashes=[6, 4] if kind == "suggestion" else [2, 4],
                      width=round(1 + math.log1p(c), 2))
            i += 1
    what = _t(lang, "what_cluster") if aggregate_by == "cluster" and groups is None else _t(lang, "what_community")
    message = _t(lang, "aggregated", total=_number(len(orgs), lang), limit=_number(max_nodes, lang), what=what) + note
    counts = Counter({"cluster": len(order)})
    return _view(net, counts=counts, total=len(orgs), lang=lang, measure="members",
                 measure_label=translate(lang, "common.members"), highlight=[], dom_id=dom_id,
                 aggregated=True, aggregate_by=aggregate_by, message=message)


# ---- ego and query maps -----------------------------------------------------------------------


def _neighbours(G: nx.Graph, n: Any) -> Iterable[Any]:
    """Stakeholder neighbours of ``n`` in either direction, through input relationships only."""
    adjs = [G.succ[n], G.pred[n]] if G.is_directed() else [G.adj[n]]
    for adj in adjs:
        for m, edata in adj.items():
            if m == n or _is_cluster(G.nodes[m]):
                continue
            kinds = ([_edge_type(k, d) for k, d in edata.items()] if G.is_multigraph() else [_edge_type(None, edata)])
            if any(k not in RESULT_TYPES for k in kinds):
                yield m


def ego_map(
    G: nx.Graph,
    node: Any,
    radius: int = 1,
    *,
    suggestions: Any = None,
    overlaps: Any = None,
    **options: Any,
) -> MapView:
    """Return the map of one organization's neighbourhood, for its profile.

    The organization, every organization within ``radius`` links of it (cluster nodes do not
    count as links), and the other ends of its suggested partnerships and overlaps, drawn
    with the organization highlighted.

    Parameters
    ----------
    G : networkx graph
        A snapshot.
    node
        The organization's id.
    radius : int, default 1
        How many links away to go.
    suggestions, overlaps : optional
        As for :func:`render_map`; only those touching the drawn organizations are drawn.
    **options
        Passed to :func:`render_map` (``size_by``, ``lang``, ``link_prefix``...). Pass
        ``size_by`` a mapping of centralities of the whole graph to size nodes by their
        standing in the network rather than in the neighbourhood.

    Raises
    ------
    NotFound
        ``node`` is not an organization of ``G``.

    Examples
    --------
    >>> G = nx.path_graph(["a", "b", "c", "d"])
    >>> view = ego_map(G, "b", suggestions=[("b", "d", "shared sector")])
    >>> sorted(n["id"] for n in view.nodes), view.highlight, view.edge_counts["suggestion"]
    (['a', 'b', 'c', 'd'], ['b'], 1)
    """
    if node not in G or _is_cluster(G.nodes[node]):
        raise NotFound(f'No organization has the id "{node}": check the id in the organization list.')
    keep = {node}
    frontier = {node}
    for _ in range(max(0, int(radius))):
        frontier = {m for n in frontier for m in _neighbours(G, n)} - keep
        keep |= frontier
        if not frontier:
            break
    sugg, over = _pairs(suggestions), _pairs(overlaps)
    for a, b, _, _ in sugg + over:
        for x, y in ((a, b), (b, a)):
            if x == node and y in G and not _is_cluster(G.nodes[y]):
                keep.add(y)
    clusters = [n for n, d in G.nodes(data=True) if _is_cluster(d)]
    options.setdefault("highlight", node)
    return render_map(G.subgraph(list(keep) + clusters), suggestions=sugg, overlaps=over, **options)


def query_map(result: Any, *, lang: str = "en", link_prefix: str | None = "/org/",
              group_link: str | None = "/map?{by}={key}", max_nodes: int = 2000, dom_id: str = "map") -> MapView:
    """Return the map of the nodes and relationships a Cypher console query returned.

    Nodes keep their labels' type (``:Company`` is a company, ``:Cluster`` a cluster, other
    labels an unknown type shown by name); organizations link to their profile by their
    ``id`` property, clusters to their map. ``SUGGESTED_PARTNER`` and ``OVERLAPS_WITH``
    relationships are drawn as suggestions and overlaps, every other one as a link.

    Parameters
    ----------
    result : graph.base.QueryResult
        Or anything with ``nodes`` and ``relationships`` mappings of that shape.
    lang, link_prefix, group_link, max_nodes, dom_id
        As for :func:`render_map`.

    Examples
    --------
    >>> from graph.base import QueryResult
    >>> r = QueryResult(columns=["o"], rows=[], nodes={
    ...     "4:x:1": {"labels": ["Organization", "Company"], "properties": {"id": "o1", "name": "Aéro"}},
    ...     "4:x:2": {"labels": ["Cluster"], "properties": {"id": "aero", "name": "Aérospatiale"}}},
    ...     relationships={"5:x:1": {"type": "PART_OF", "start": "4:x:1", "end": "4:x:2", "properties": {}}})
    >>> view = query_map(r)
    >>> sorted((n["type"], n["url"]) for n in view.nodes)
    [('cluster', '/map?cluster=aero'), ('company', '/org/o1')]
    """
    M = nx.MultiDiGraph()
    urls: dict[Any, str | None] = {}
    for element_id, node in (getattr(result, "nodes", None) or {}).items():
        labels = list(node.get("labels") or [])
        props = dict(node.get("properties") or {})
        t = next((LABEL_TYPES[lbl] for lbl in labels if lbl in LABEL_TYPES), None)
        if t is None:
            t = props.get("type") if props.get("type") in NODE_TYPES else (
                "unknown" if not labels or labels == ["Organization"] else labels[0])
        name = props.get("name") or props.get("id") or (labels[0] if labels else element_id)
        attrs = {k: v for k, v in props.items() if k not in ("type", "name")}
        M.add_node(element_id, **attrs, name=str(name), type=t)
        pid = props.get("id")
        if t == "cluster":
            key = pid or cluster_id(str(name))
            urls[element_id] = group_link.format(by="cluster", key=quote(str(key), safe="")) if group_link else None
        elif pid is not None and ("Organization" in labels or t in NODE_TYPES):
            urls[element_id] = _profile_url(link_prefix, pid)
        else:
            urls[element_id] = None
    for element_id, rel in (getattr(result, "relationships", None) or {}).items():
        s, e = rel.get("start"), rel.get("end")
        if s in M and e in M:
            M.add_edge(s, e, key=element_id, type=rel.get("type"), **dict(rel.get("properties") or {}))
    view = render_map(M, lang=lang, link_prefix=link_prefix, group_link=group_link, max_nodes=max_nodes,
                      include_clusters=True, dom_id=dom_id)
    if not view.aggregated:
        # Element ids are the node keys; links go by the organizations' own ids.
        for node in view.nodes:
            node["url"] = urls.get(node["id"])
    return view


# ---- pages -----------------------------------------------------------------------------------------


def asset_urls(static_prefix: str = "/static", vendor_prefix: str = "/vendor/vis-network") -> dict[str, str]:
    """Return the URLs of the four files a map page loads (for ``map/_assets.html``).

    Examples
    --------
    >>> asset_urls()["vis_js"]
    '/vendor/vis-network/vis-network.min.js'
    """
    s, v = static_prefix.rstrip("/"), vendor_prefix.rstrip("/")
    return {
        "vis_css": f"{v}/vis-network.css",
        "vis_js": f"{v}/vis-network.min.js",
        "map_css": f"{s}/map/maillage-map.css",
        "map_js": f"{s}/map/maillage-map.js",
    }


def _environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]))


def map_fragment(view: MapView, *, assets: Mapping[str, str] | None = None) -> Markup:
    """Return the asset tags and the map's markup, for a page that does not include our partials."""
    env = _environment()
    assets = dict(assets or asset_urls())
    head = env.get_template("map/_assets.html").render(map_assets=assets)
    body = env.get_template("map/_map.html").render(map=view)
    return Markup(head + body)


def write_standalone(view: MapView, folder: str | Path, *, title: str = "maillage") -> Path:
    """Write a self-contained map page, its script, styles and vis-network into ``folder``.

    The page loads only files of ``folder`` (relative URLs), so it works from any static
    server on loopback; used by the browser tests and the benchmark. Returns the page's path.
    """
    folder = Path(folder)
    (folder / "static" / "map").mkdir(parents=True, exist_ok=True)
    (folder / "vendor" / "vis-network").mkdir(parents=True, exist_ok=True)
    for name in ("maillage-map.js", "maillage-map.css"):
        shutil.copyfile(STATIC_DIR / "map" / name, folder / "static" / "map" / name)
    for name in ("vis-network.min.js", "vis-network.css"):
        shutil.copyfile(VIS_NETWORK_DIR / name, folder / "vendor" / "vis-network" / name)
    html = _environment().get_template("map/standalone.html").render(
        map=view, map_assets=asset_urls("static", "vendor/vis-network"), title=title, lang=view.lang
    )
    page = folder / "index.html"
    page.write_text(html, encoding="utf-8")
    return page
