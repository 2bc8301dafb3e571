"""What the pages and the JSON API show, computed once for both from the cached workspace.

Each function takes the :class:`~api.services.Workspace` and the request's choices and
returns plain values (dicts, lists, DataFrames, :class:`~api.maps.MapView`); pages render
them with templates and the API returns them as JSON. Heavy work (analyses, layouts) runs in
the thread pool through the workspace's cache.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd

from analysis._network import RESULT_TYPES, as_list, node_clusters
from api import maps
from api.services import Workspace, fold
from api.tables import TableQuery, apply, get_spec
from maillage.errors import InputError, NotFound
from maillage.model import STAKEHOLDER_TYPES, cluster_id

__all__ = [
    "PROFILE_PREFIX",
    "GROUP_LINK",
    "MapFilters",
    "analysis",
    "TablePage",
    "table_page",
    "jsonable",
    "records",
    "dashboard",
    "facets",
    "organizations",
    "profile",
    "map_view",
    "cluster_list",
    "brief",
    "bar_chart",
    "heat_level",
    "involving",
]

#: Where a map node links to: the organization's profile.
PROFILE_PREFIX = "/organizations/"
#: Where an aggregated map's group links to: the map filtered to that group.
GROUP_LINK = "/map?{by}={key}"
#: Suggestions kept for the tables, the dashboard and the maps (best first).
GAPS_TOP = 1000
_KNOWN_FACTS = {"name", "type", "sectors", "clusters", "region", "mandate", "source", "row", "importId",
                "importedAt", "contentHash", "id"}


# ---- analyses, cached -------------------------------------------------------------------
def _gaps(G: nx.Graph, lang: str) -> pd.DataFrame:
    from analysis import suggest_partnerships

    return suggest_partnerships(G, top=GAPS_TOP, lang=lang)


_PAIR_NAMES = {"id_a": "source", "id_b": "target", "a": "source", "b": "target", "u": "source", "v": "target",
               "name_a": "source_name", "name_b": "target_name", "type_a": "source_type", "type_b": "target_type",
               "reason": "reasons", "similarity": "score"}
_GROUP_NAMES = {"member_ids": "members", "ids": "members", "member_names": "names", "reason": "reasons",
                "similarity": "score", "group_id": "group", "id": "group"}


def _with_lang(fn: Any, G: nx.Graph, lang: str) -> pd.DataFrame:
    """Call an analysis, asking for its sentences in ``lang`` when it writes any."""
    import inspect

    accepts = "lang" in inspect.signature(fn).parameters
    return fn(G, lang=lang) if accepts else fn(G)


def _renamed(df: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Return ``df`` with the pages' column names (``source``, ``target``, ``members``...),
    whatever spelling the analysis uses, without overwriting a column already so named."""
    rename = {k: v for k, v in names.items() if k in df.columns and v not in df.columns}
    return df.rename(columns=rename) if rename else df


def _overlaps(G: nx.Graph, lang: str) -> pd.DataFrame:
    from analysis import find_overlaps

    return _renamed(_with_lang(find_overlaps, G, lang), _PAIR_NAMES)


def _duplicates(G: nx.Graph, lang: str) -> pd.DataFrame:
    from analysis import find_duplicate_structures

    df = _renamed(_with_lang(find_duplicate_structures, G, lang), _GROUP_NAMES)
    if "members" in df.columns and "names" not in df.columns:
        df = df.assign(names=df["members"].map(lambda ms: [_name(G, m) for m in as_list(ms)]))
    if "members" in df.columns and "size" not in df.columns:
        df = df.assign(size=df["members"].map(lambda ms: len(as_list(ms))))
    return df


def _coverage(G: nx.Graph, lang: str) -> pd.DataFrame:
    from analysis import coverage_gaps

    return coverage_gaps(G, lang=lang)


def _coverage_matrix(G: nx.Graph, lang: str) -> pd.DataFrame:
    from analysis.coverage import coverage_matrix

    return coverage_matrix(G)


def _brokers(G: nx.Graph, lang: str) -> pd.DataFrame:
    from analysis import brokerage

    return brokerage(G)


def _communities(G: nx.Graph, lang: str) -> pd.DataFrame:
    from analysis import communities

    return communities(G)


#: name -> (function of (snapshot, lang), whether its text depends on the language)
ANALYSES: dict[str, tuple[Any, bool]] = {
    "gaps": (_gaps, True),
    "overlaps": (_overlaps, True),
    "duplicates": (_duplicates, True),
    "coverage": (_coverage, True),
    "coverage_matrix": (_coverage_matrix, False),
    "brokers": (_brokers, False),
    "communities": (_communities, False),
}


def _analysis_key(name: str, lang: str) -> tuple:
    return ("analysis", name, lang if ANALYSES[name][1] else None)


def _analysis_sync(ws: Workspace, name: str, lang: str) -> pd.DataFrame:
    return ws.cached_sync(_analysis_key(name, lang), lambda: ws.analyse_sync(name, lang))


async def analysis(ws: Workspace, name: str, lang: str) -> pd.DataFrame:
    """Return analysis ``name`` of the current graph (cached; computed in the worker process)."""
    return await ws.cached(_analysis_key(name, lang), lambda: ws.analyse_sync(name, lang))


@dataclass(frozen=True)
class TablePage:
    """One page of a result table, ready to show: its rows as JSON-friendly dicts, and the
    JSON API's whole answer already serialised."""

    total: int
    columns: list[str]
    rows: list[dict[str, Any]]
    body: bytes
    #: The page's key in the workspace's cache of pages.
    key: tuple = ()
    #: The cache key and version of the analysis the page comes from.
    source: tuple = ()


async def table_page(ws: Workspace, name: str, query: TableQuery, page: Any, lang: str) -> TablePage:
    """Return a page of table ``name`` (filtered and sorted by ``query``), cached.

    The page is serialised once per version of the analysis it comes from: a read of a cached
    page does no pandas and no JSON work. ``page`` is an :class:`api.deps.Paging`.

    Raises
    ------
    maillage.errors.NotFound
        No such table.
    maillage.errors.InputError
        The query sorts by a column the table does not have.
    """
    spec = get_spec(name)
    source = _analysis_key(spec.analysis, lang)
    result = await ws.entry(source, lambda: ws.analyse_sync(spec.analysis, lang))
    key = ("table", spec.name, result.version, lang, query.key(), page.page, page.per_page)
    found = ws.page(key)
    if found is not None:
        return found

    def build() -> TablePage:
        df = apply(result.value, spec, query)
        start, stop = page.slice(len(df))
        columns = [str(c) for c in df.columns]
        rows = records(df.iloc[start:stop])
        body = {"table": spec.name, "query": query.as_dict(), "columns": columns, "items": rows, **page.meta(len(df))}
        # As Starlette's JSONResponse writes it.
        raw = json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")
        return TablePage(total=len(df), columns=columns, rows=rows, body=raw, key=key, source=(source, result.version))

    built = await ws.run(build)
    # The rows as dicts weigh about thrice their JSON.
    ws.keep_page(key, built, 4 * len(built.body), built.source)
    return built


# ---- JSON-friendly values ---------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """Return ``value`` as JSON-friendly Python: NaN and NA become None, numpy scalars plain.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.int64(2), "b": float("nan"), "c": [np.float64(0.5)], "d": (1, 2)})
    {'a': 2, 'b': None, 'c': [0.5], 'd': [1, 2]}
    """
    if value is None:
        return None
    if isinstance(value, (bool, str)):
        return bool(value) if isinstance(value, bool) else str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):  # numpy's float64 too: a float subclass
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return jsonable(value.tolist())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``df`` as JSON-friendly dicts."""
    return [jsonable(r) for r in df.to_dict("records")]


# ---- helpers on the snapshot ---------------------------------------------------------
def _organizations(G: nx.Graph) -> list[Any]:
    return [n for n, d in G.nodes(data=True) if d.get("type") != "cluster"]


def _name(G: nx.Graph, n: Any) -> str:
    return str(G.nodes[n].get("name") or n) if n in G else str(n)


def involving(df: pd.DataFrame, ids: Iterable[Any], columns: Sequence[str] = ("source", "target")) -> pd.DataFrame:
    """Return the rows of ``df`` where any of ``columns`` holds one of ``ids``."""
    ids = set(ids)
    if df.empty:
        return df
    mask = pd.Series(False, index=df.index)
    for c in columns:
        if c in df.columns:
            mask |= df[c].isin(ids)
    return df[mask]


def _group_members(df: pd.DataFrame) -> str | None:
    """The column of a duplicates frame that lists each group's members."""
    for c in ("members", "member_ids", "ids"):
        if c in df.columns:
            return c
    return None


def _groups_with(df: pd.DataFrame, ids: Iterable[Any]) -> pd.DataFrame:
    col = _group_members(df)
    if col is None or df.empty:
        return df.iloc[0:0]
    ids = set(ids)
    return df[df[col].map(lambda ms: bool(ids & set(as_list(ms))))]


def bar_chart(items: Sequence[tuple[str, int | float]], *, width: int = 560, bar_height: int = 22, label_width: int = 210) -> dict[str, Any]:
    """Return the geometry of a horizontal bar chart, for an inline SVG in a template.

    Examples
    --------
    >>> chart = bar_chart([("A", 4), ("B", 2)], width=300, label_width=100)
    >>> [(b["label"], b["width"]) for b in chart["bars"]]
    [('A', 150.0), ('B', 75.0)]
    """
    top = max((v for _, v in items), default=0) or 1
    room = width - label_width - 50
    bars = []
    for i, (label, value) in enumerate(items):
        bars.append({
            "label": label if len(label) <= 32 else label[:31] + "…",
            "full_label": label,
            "value": value,
            "y": i * (bar_height + 6),
            "width": round(room * value / top, 1),
        })
    return {"bars": bars, "width": width, "height": max(1, len(bars) * (bar_height + 6)), "label_width": label_width,
            "bar_height": bar_height, "room": room}


def heat_level(value: int | float, top: int | float) -> int:
    """Return the shade (0-9) of a heat-map cell: 0 for nothing, then by share of the top.

    Examples
    --------
    >>> heat_level(0, 10), heat_level(1, 10), heat_level(10, 10)
    (0, 1, 9)
    """
    if not value or value <= 0:
        return 0
    if top <= 0:
        return 1
    return min(9, 1 + int(8 * value / top))


# ---- dashboard --------------------------------------------------------------------------
def _cluster_counts(G: nx.Graph) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _, clusters in node_clusters(G).items():
        for c in {cluster_id(x): x for x in clusters}.values():
            counts[c] += 1
    return counts


async def dashboard(ws: Workspace, lang: str, *, top: int = 8) -> dict[str, Any]:
    """Return what the dashboard shows: counts, top gaps, overlaps, duplicates, coverage matrix."""
    G = await ws.snapshot()
    orgs = _organizations(G)
    by_type = Counter(G.nodes[n].get("type") or "unknown" for n in orgs)
    by_cluster = _cluster_counts(G)
    relationships = sum(1 for _, _, d in G.edges(data=True) if d.get("type") not in ("PART_OF", *RESULT_TYPES))
    out: dict[str, Any] = {
        "organizations": len(orgs),
        "relationships": relationships,
        "clusters": len(by_cluster),
        "by_type": dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_cluster": dict(sorted(by_cluster.items(), key=lambda kv: (-kv[1], fold(kv[0])))),
        "top_gaps": [],
        "top_overlaps": [],
        "top_duplicates": [],
        "coverage": {"clusters": [], "types": [], "counts": []},
    }
    if not orgs:
        return out
    gaps = await analysis(ws, "gaps", lang)
    overlaps = await analysis(ws, "overlaps", lang)
    duplicates = await analysis(ws, "duplicates", lang)
    matrix = await analysis(ws, "coverage_matrix", lang)
    out["top_gaps"] = records(gaps.head(top))
    out["top_overlaps"] = records(overlaps.head(top))
    out["top_duplicates"] = records(duplicates.head(top))
    out["coverage"] = {
        "clusters": [str(c) for c in matrix.index],
        "types": [str(t) for t in matrix.columns],
        "counts": [[int(v) for v in row] for row in matrix.to_numpy().tolist()],
    }
    return out


# ---- filters and the organization list -------------------------------------------------------
async def facets(ws: Workspace) -> dict[str, list[str]]:
    """Return the values each filter can take: clusters, types, sectors, regions."""

    def compute() -> dict[str, list[str]]:
        G = ws.snapshot_sync()
        clusters: dict[str, str] = {}
        sectors: set[str] = set()
        regions: set[str] = set()
        types: set[str] = set()
        for n in _organizations(G):
            d = G.nodes[n]
            types.add(d.get("type") or "unknown")
            sectors.update(str(s) for s in as_list(d.get("sectors")) if s)
            if d.get("region"):
                regions.add(str(d["region"]))
        for names in node_clusters(G).values():
            for c in names:
                clusters.setdefault(cluster_id(c), c)
        order = list(STAKEHOLDER_TYPES) + ["unknown"]
        return {
            "clusters": sorted(clusters.values(), key=fold),
            "cluster_ids": [cluster_id(c) for c in sorted(clusters.values(), key=fold)],
            "types": sorted(types, key=lambda t: order.index(t) if t in order else len(order)),
            "sectors": sorted(sectors, key=fold),
            "regions": sorted(regions, key=fold),
        }

    return await ws.cached(("facets",), compute)


def _search(G: nx.Graph, nodes: Iterable[Any], q: str) -> list[Any]:
    """Organizations whose name or id contains ``q``, accents and case ignored; best first."""
    needle = fold(q)
    if not needle:
        return list(nodes)
    hits = []
    for n in nodes:
        name = fold(G.nodes[n].get("name") or n)
        if needle in name or needle == fold(n):
            # Names that start with the query first, then shorter names.
            hits.append(((not name.startswith(needle)), len(name), name, n))
    return [h[-1] for h in sorted(hits, key=lambda h: h[:3])]


def _filtered(G: nx.Graph, *, clusters=None, types=None, sectors=None, regions=None) -> nx.Graph:
    if clusters or types or sectors or regions:
        return maps.filter_graph(G, clusters=clusters, types=types, sectors=sectors, regions=regions)
    return G


async def organizations(ws: Workspace, *, q: str = "", clusters=None, types=None, sectors=None, regions=None) -> list[dict[str, Any]]:
    """Return the organizations matching a search and filters, as short records, best first."""

    def compute() -> list[dict[str, Any]]:
        G = ws.snapshot_sync()
        H = _filtered(G, clusters=clusters, types=types, sectors=sectors, regions=regions)
        found = _search(G, _organizations(H), q)
        if not q:
            found.sort(key=lambda n: (fold(G.nodes[n].get("name") or n), str(n)))
        member_of = node_clusters(G)
        return [
            {
                "id": n,
                "name": _name(G, n),
                "type": G.nodes[n].get("type"),
                "clusters": sorted(member_of.get(n, ()), key=fold),
                "sectors": [str(s) for s in as_list(G.nodes[n].get("sectors"))],
                "region": G.nodes[n].get("region"),
            }
            for n in found
        ]

    key = ("organizations", fold(q), _key(clusters), _key(types), _key(sectors), _key(regions))
    return await ws.cached(key, compute)


def _key(values: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(sorted({fold(v) for v in values or () if str(v).strip()}))


# ---- organization profile ------------------------------------------------------------------
async def profile(ws: Workspace, org_id: str, lang: str, *, with_map: bool = True) -> dict[str, Any]:
    """Return an organization's facts, partners, suggestions, overlaps, structures and ego map.

    Raises
    ------
    maillage.errors.NotFound
        No organization has this id.
    """
    G = await ws.snapshot()
    if org_id not in G or G.nodes[org_id].get("type") == "cluster":
        raise NotFound(f'No organization has the id "{org_id}"; search the organization list for it.')

    def compute() -> dict[str, Any]:
        from analysis import suggest_partnerships

        data = dict(G.nodes[org_id])
        member_of = node_clusters(G)
        relations = []
        for u, v, d in list(G.out_edges(org_id, data=True)) + list(G.in_edges(org_id, data=True)):
            t = d.get("type")
            if t == "PART_OF" or t in RESULT_TYPES:
                continue
            other = v if u == org_id else u
            relations.append({
                "type": t,
                "direction": "out" if u == org_id else "in",
                "id": other,
                "name": _name(G, other),
                "other_type": G.nodes[other].get("type") if other in G else None,
                "weight": d.get("weight"),
                "since": d.get("since"),
                "until": d.get("until"),
            })
        relations.sort(key=lambda r: (r["type"] or "", fold(r["name"])))
        structures = [
            r for r in relations
            if r["direction"] == "out" and r["type"] in ("MEMBER_OF", "PARTICIPATES_IN")
        ]
        try:
            suggestions = suggest_partnerships(G, nodes=[org_id], per_node=10, lang=lang)
        except InputError:
            suggestions = pd.DataFrame(columns=["source", "target"])
        overlaps = involving(_analysis_sync(ws, "overlaps", lang), [org_id])
        duplicates = _analysis_sync(ws, "duplicates", lang)
        groups = _groups_with(duplicates, [org_id] + [s["id"] for s in structures])
        brokers = _analysis_sync(ws, "brokers", lang)
        broker = brokers[brokers["id"] == org_id]
        extra = {k: v for k, v in data.items() if k not in _KNOWN_FACTS}
        facts = {
            "id": org_id,
            "name": data.get("name") or org_id,
            "type": data.get("type"),
            "clusters": sorted(member_of.get(org_id, ()), key=fold),
            "sectors": [str(s) for s in as_list(data.get("sectors"))],
            "region": data.get("region"),
            "mandate": data.get("mandate"),
            "provenance": {k: data.get(k) for k in ("source", "row", "importId", "importedAt") if data.get(k) is not None},
            "extra": extra,
        }
        out = {
            "facts": facts,
            "relationships": relations,
            "structures": structures,
            "suggestions": records(suggestions),
            "overlaps": records(overlaps),
            "duplicate_groups": records(groups),
            "brokerage": records(broker)[0] if len(broker) else None,
        }
        if with_map:
            out["map"] = maps.ego_map(
                G, org_id, suggestions=suggestions, overlaps=overlaps, lang=lang,
                link_prefix=PROFILE_PREFIX, group_link=GROUP_LINK, dom_id="ego-map",
            )
        return out

    return await ws.cached(("profile", org_id, lang, with_map), compute)


# ---- the map ---------------------------------------------------------------------------
def _community_of(ws: Workspace, lang: str) -> dict[Any, str]:
    comm = _analysis_sync(ws, "communities", lang)
    return {n: str(c) for n, c in zip(comm["id"], comm["community"])}


def _render(ws: Workspace, H: nx.Graph, *, lang: str, max_nodes: int = 2000, **options: Any) -> maps.MapView:
    """Draw ``H``; above ``max_nodes`` group by cluster, or by the analyses' communities when
    the organizations share one cluster, so that a group's link (``/map?community=3``) opens
    the very community the map filter knows."""
    orgs = _organizations(H)
    groups = None
    aggregate_by = "cluster"
    if len(orgs) > max_nodes:
        member_of = node_clusters(H)
        present = {cluster_id(c) for n in orgs for c in member_of.get(n, ())}
        if len(present) <= 1:
            community = _community_of(ws, lang)
            groups = {n: community.get(n, "") for n in orgs}
            aggregate_by = "community"
    return maps.render_map(H, lang=lang, max_nodes=max_nodes, groups=groups, aggregate_by=aggregate_by,
                           link_prefix=PROFILE_PREFIX, group_link=GROUP_LINK, **options)


class MapFilters:
    """The map page's choices, read from the query string."""

    def __init__(self, *, clusters=None, types=None, sectors=None, regions=None, community: str | None = None,
                 q: str = "", size_by: str = "degree", suggestions: bool = False, overlaps: bool = False):
        self.clusters = [c for c in clusters or [] if c]
        self.types = [t for t in types or [] if t]
        self.sectors = [s for s in sectors or [] if s]
        self.regions = [r for r in regions or [] if r]
        self.community = community or None
        self.q = (q or "").strip()
        if size_by not in maps.SIZE_MEASURES:
            raise InputError(f'Cannot size the map by "{size_by}": use one of {", ".join(maps.SIZE_MEASURES)}.')
        self.size_by = size_by
        self.suggestions = suggestions
        self.overlaps = overlaps

    def key(self) -> tuple:
        """Return a hashable key of these choices (for the cache)."""
        return (_key(self.clusters), _key(self.types), _key(self.sectors), _key(self.regions), self.community,
                fold(self.q), self.size_by, self.suggestions, self.overlaps)

    def as_dict(self) -> dict[str, Any]:
        """Return the choices as JSON-friendly values."""
        return {"cluster": self.clusters, "type": self.types, "sector": self.sectors, "region": self.regions,
                "community": self.community, "q": self.q, "size_by": self.size_by,
                "suggestions": self.suggestions, "overlaps": self.overlaps}


async def map_view(ws: Workspace, filters: MapFilters, lang: str, *, max_nodes: int = 2000, dom_id: str = "map") -> dict[str, Any]:
    """Return the network map for the filters, the organizations drawn and the search matches."""

    def compute() -> dict[str, Any]:
        G = ws.snapshot_sync()
        H = _filtered(G, clusters=filters.clusters, types=filters.types, sectors=filters.sectors, regions=filters.regions)
        if filters.community is not None:
            groups = _community_of(ws, lang)
            keep = [n for n in H if H.nodes[n].get("type") == "cluster" or groups.get(n) == filters.community]
            H = H.subgraph(keep)
        organizations_drawn = _organizations(H)
        matches = _search(G, organizations_drawn, filters.q) if filters.q else []
        suggestions = _analysis_sync(ws, "gaps", lang) if filters.suggestions else None
        overlaps = _analysis_sync(ws, "overlaps", lang) if filters.overlaps else None
        view = _render(ws, H, lang=lang, size_by=filters.size_by, suggestions=suggestions, overlaps=overlaps,
                       max_nodes=max_nodes, highlight=matches[:50] or None, dom_id=dom_id)
        return {
            "map": view,
            "organizations": len(organizations_drawn),
            "matches": [{"id": n, "name": _name(G, n), "type": G.nodes[n].get("type")} for n in matches[:50]],
            "match_count": len(matches),
        }

    return await ws.cached(("map", filters.key(), lang, max_nodes, dom_id), compute)


# ---- clusters and their briefs ------------------------------------------------------------------
async def cluster_list(ws: Workspace) -> list[dict[str, Any]]:
    """Return every cluster: id, name and number of member organizations."""
    G = await ws.snapshot()
    counts = _cluster_counts(G)
    return sorted(
        ({"id": cluster_id(name), "name": name, "organizations": n} for name, n in counts.items()),
        key=lambda c: fold(c["name"]),
    )


async def brief(ws: Workspace, cluster: str, lang: str, *, top: int = 10, with_map: bool = True) -> dict[str, Any]:
    """Return one cluster's brief: members by type, coverage gaps, top gaps, overlaps, duplicates, map.

    Raises
    ------
    maillage.errors.NotFound
        No cluster has this id or name.
    """
    wanted = cluster_id(cluster)
    clusters = {c["id"]: c for c in await cluster_list(ws)}
    if wanted not in clusters:
        raise NotFound(f'No cluster is called "{cluster}"; the brief index lists them.')
    info = clusters[wanted]

    def compute() -> dict[str, Any]:
        G = ws.snapshot_sync()
        H = maps.filter_graph(G, clusters=[wanted])
        members = set(_organizations(H))
        by_type = Counter(H.nodes[n].get("type") or "unknown" for n in members)
        coverage = _analysis_sync(ws, "coverage", lang)
        row = coverage[coverage["cluster"].map(cluster_id) == wanted] if "cluster" in coverage.columns else coverage.iloc[0:0]
        all_gaps = _analysis_sync(ws, "gaps", lang)
        # Pairs inside the cluster first, then pairs reaching outside it (both by score).
        inside = all_gaps[all_gaps["source"].isin(members) & all_gaps["target"].isin(members)] if len(all_gaps) else all_gaps
        gaps = pd.concat([inside, involving(all_gaps, members).drop(index=inside.index)]) if len(all_gaps) else all_gaps
        overlaps = involving(_analysis_sync(ws, "overlaps", lang), members)
        duplicates = _groups_with(_analysis_sync(ws, "duplicates", lang), members)
        out = {
            "cluster": info,
            "organizations": len(members),
            "by_type": {t: by_type.get(t, 0) for t in [*STAKEHOLDER_TYPES, *(["unknown"] if by_type.get("unknown") else [])]},
            "coverage": records(row)[0] if len(row) else None,
            "top_gaps": records(gaps.head(top)),
            "top_overlaps": records(overlaps.head(top)),
            "duplicates": records(duplicates.head(top)),
        }
        if with_map:
            out["map"] = _render(ws, H, lang=lang, suggestions=gaps.head(top), overlaps=overlaps.head(top), dom_id="brief-map")
        return out

    return await ws.cached(("brief", wanted, lang, top, with_map), compute)
