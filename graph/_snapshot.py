"""Reading the whole Neo4j graph (or a filtered part) into a networkx graph, fast.

:meth:`graph.neo4j_store.Neo4jStore.snapshot` calls :func:`read_snapshot`. Three costs
dominate a snapshot, and each is cut here:

- **per record, in the driver** (socket reads, a ``Record``, field look-ups): the queries
  return a few large records, columns of up to ``chunk`` organizations and their
  relationships each, instead of one record per relationship;
- **per value, in the driver**: dates cost more to build as the driver's ``Date`` objects
  than all the other properties of a relationship, so ``since`` and ``until`` travel as ISO
  text (see :data:`_TEMPORAL_COLUMN`);
- **per edge, in networkx**: ``add_edges_from`` checks and wraps every edge (an
  ``AdjacencyView`` per call, for one); the edges go straight into the graph's
  dict-of-dicts instead (:func:`_add_edges`), the structure networkx documents for its
  graph classes, with the same merging rules; records are pulled two at a time, so that
  Neo4j reads the next ones while this graph fills.

``bench/neo4j_cases.py`` measures the snapshot against one record per relationship through
``result.data()`` and checks that both hold the same nodes, edges and attributes.
"""

from __future__ import annotations

import datetime as _dt
import gc
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import neo4j
import networkx as nx

from graph.base import PROVENANCE_PROPERTIES
from maillage.model import RESULT_RELATIONSHIP_TYPES, cluster_id

__all__ = ["read_snapshot", "native", "native_props"]

#: Organizations per snapshot record (their relationships come in the same record): small
#: enough that the graph fills while Neo4j reads the next records.
CHUNK = 500
# Only node references are collected on the server; properties are read chunk by chunk.
_NODES = """
MATCH (o:Organization)
WHERE ($types IS NULL OR o.type IN $types)
  AND ($clusterIds IS NULL OR EXISTS { (o)-[:PART_OF]->(c:Cluster) WHERE c.id IN $clusterIds })
WITH collect(o) AS nodes
UNWIND range(0, size(nodes) - 1, $chunk) AS start
WITH nodes[start..start + $chunk] AS chunk
RETURN [o IN chunk | o.id] AS ids, [o IN chunk | properties(o)] AS props
"""

_CLUSTERS = """
MATCH (c:Cluster)
WHERE $clusterIds IS NULL OR c.id IN $clusterIds
RETURN c.id AS id, properties(c) AS props
"""

_EDGE_COLUMNS = """
  MATCH (a)-[r]->(b)
  WHERE NOT type(r) IN $resultTypes AND (b:Organization OR b:Cluster)
  RETURN collect(a.id) AS s, collect(type(r)) AS t, collect(b.id) AS d, collect(r {.*, since: null, until: null}) AS p,
         collect(_SINCE) AS since, collect(_UNTIL) AS until
"""

# Each organization's relationships are read from its node reference, under the same filter
# as _NODES: no lookup by id. Reading by id (UNWIND of the ids read first, then a MATCH on
# each) depended on the planner choosing a seek of the unique index: after a large import it
# sometimes did not, and a 10,000-organization snapshot cost Neo4j 25 s of CPU instead of 4.
_EDGES = """
MATCH (a:Organization)
WHERE ($types IS NULL OR a.type IN $types)
  AND ($clusterIds IS NULL OR EXISTS { (a)-[:PART_OF]->(c:Cluster) WHERE c.id IN $clusterIds })
WITH collect(a) AS sources
UNWIND range(0, size(sources) - 1, $chunk) AS start
CALL (sources, start) {
  UNWIND sources[start..start + $chunk] AS a
""" + _EDGE_COLUMNS + """}
RETURN s, t, d, p, since, until
"""

#: ``since`` and ``until`` travel apart from the other properties: a date as its ISO text
#: (the driver's Date objects cost more to build than the rest of the relationship), any
#: other value wrapped in a one-item list, and 0 when absent (collect() would drop a null
#: and shift the rows).
_TEMPORAL_COLUMN = ("CASE WHEN r.KEY IS NULL THEN 0 WHEN valueType(r.KEY) = 'DATE NOT NULL' "
                    "THEN toString(r.KEY) ELSE [r.KEY] END")


def _with_temporal(query: str) -> str:
    return query.replace("_SINCE", _TEMPORAL_COLUMN.replace("KEY", "since")).replace(
        "_UNTIL", _TEMPORAL_COLUMN.replace("KEY", "until"))


_EDGES = _with_temporal(_EDGES)
# The same without the provenance of each relationship (Store.snapshot(provenance=False)): its
# keys come as nulls, removed on arrival, and their values never travel.
_EDGES_WITHOUT_PROVENANCE = _EDGES.replace(
    "r {.*, since: null, until: null}",
    "r {.*, since: null, until: null, source: null, row: null, importId: null, importedAt: null, contentHash: null}")
assert _EDGES_WITHOUT_PROVENANCE != _EDGES

#: Relationships a snapshot leaves out: analysis results, which analyses must not read back.
_RESULT_TYPES = [*RESULT_RELATIONSHIP_TYPES, "IN_DUPLICATE_GROUP"]


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), _dt.date})
_FROM_ISO = _dt.date.fromisoformat


def native(value: Any) -> Any:
    """Convert driver values (neo4j.time types, lists) to plain Python ones."""
    if isinstance(value, list):
        # Most lists (sectors, clusters) hold strings only: keep them as they are.
        if {v.__class__ for v in value} <= _PLAIN_TYPES:
            return value
        return [native(v) for v in value]
    if isinstance(value, neo4j.time.Date):
        return value.to_native()
    if isinstance(value, (neo4j.time.DateTime, neo4j.time.Time, neo4j.time.Duration)):
        return value.iso_format()
    return value


def native_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``props`` with driver values made plain (a dict from the driver is converted in
    place: most values are already plain, and a snapshot converts millions of maps)."""
    out = props if type(props) is dict else dict(props)
    for k, v in out.items():
        if v.__class__ not in _PLAIN_TYPES:
            out[k] = native(v)  # same key: the dict does not change size while iterated
    return out


def _without_provenance(props: Mapping[str, Any]) -> dict[str, Any]:
    out = props if type(props) is dict else dict(props)
    for key in PROVENANCE_PROPERTIES:
        out.pop(key, None)
    return out


def _add_nodes(G: nx.MultiDiGraph, items: Iterable[tuple[Any, dict[str, Any]]]) -> None:
    """``G.add_nodes_from(items)``, straight into the graph's dicts (an existing node's
    attributes are updated, as networkx does)."""
    node, succ, pred = G._node, G._succ, G._pred
    for n, attrs in items:
        old = node.get(n)
        if old is None:
            node[n] = attrs
            succ[n] = {}
            pred[n] = {}
        else:
            old.update(attrs)


#: Properties whose text repeats across a snapshot (an import's provenance, the relationship
#: type): the driver builds a new string for every value, so one shared copy of each is kept
#: instead (an import id is about 80 bytes, once per relationship without this).
_SHARED_TEXT = frozenset({"source", "importId", "importedAt", "type", "region"})


def _share_text(props: dict[str, Any], shared: dict[str, str]) -> dict[str, Any]:
    """Replace the values of :data:`_SHARED_TEXT` keys of ``props`` by one shared copy each."""
    for k in _SHARED_TEXT.intersection(props):
        x = props[k]
        if x.__class__ is str:
            props[k] = shared.setdefault(x, x)
    return props


def _add_edges(G: nx.MultiDiGraph, shared: dict[str, str], sources: list, rel_types: list, targets: list,
               props: list, since: list, until: list, *, drop: tuple[str, ...] = ()) -> None:
    """Add one snapshot record's relationships to ``G``, keyed by type.

    The same graph as ``G.add_edges_from((u, v, t, attrs) ...)`` for ends already in ``G``:
    a ``MultiDiGraph`` keeps ``G._succ[u][v][key]`` and ``G._pred[v][u][key]`` as one dict
    (networkx's documented dict-of-dicts), and an existing key has its attributes updated.
    An end missing from ``G`` (a target outside a filtered snapshot, or either end created
    since the nodes were read) drops the relationship. Repeated texts share one copy
    (:data:`_SHARED_TEXT`, through ``shared``); the keys ``drop`` (which every map holds) are
    removed."""
    node, succ, pred = G._node, G._succ, G._pred
    plain, from_iso, share, keep = _PLAIN_TYPES, _FROM_ISO, shared.setdefault, _SHARED_TEXT
    for u, t, v, p, s, e in zip(sources, rel_types, targets, props, since, until):
        if v not in node or u not in node:
            continue
        # since/until as the query sent them apart (see _TEMPORAL_COLUMN).
        if s.__class__ is str:
            p["since"] = from_iso(s)
        elif s.__class__ is list:
            p["since"] = native(s[0])
        else:
            del p["since"]
        if e.__class__ is str:
            p["until"] = from_iso(e)
        elif e.__class__ is list:
            p["until"] = native(e[0])
        else:
            del p["until"]
        for k in drop:
            del p[k]
        for k, x in p.items():
            c = x.__class__
            if c is str:
                if k in keep:
                    p[k] = share(x, x)
            elif c not in plain:
                p[k] = native(x)
        p["type"] = t = share(t, t)
        out = succ[u]
        keys = out.get(v)
        if keys is None:
            out[v] = pred[v][u] = {t: p}
        elif t in keys:
            keys[t].update(p)
        else:
            keys[t] = p


def read_snapshot(session: Callable[..., neo4j.Session], *, clusters: Iterable[str] | None = None,
                  types: Iterable[str] | None = None, chunk: int = CHUNK, provenance: bool = True) -> nx.MultiDiGraph:
    """Return the graph held by Neo4j as a ``networkx.MultiDiGraph`` (see
    :meth:`graph.base.Store.snapshot`).

    ``session(mode, **config)`` opens a driver session; ``chunk`` organizations travel per
    record, pulled two at a time so that the graph fills while Neo4j reads the next ones.
    Relationships whose ends were not read (outside the filter, or created between the two
    queries) are left out. Raises the driver's errors (the store turns them into its own).
    """
    cluster_ids = None if clusters is None else sorted({cluster_id(c) for c in clusters})
    types = None if types is None else sorted(set(types))
    G = nx.MultiDiGraph()
    gc_was_enabled = gc.isenabled()
    # A snapshot makes a dict per node and per relationship and no reference cycles: without
    # this, the cyclic collector would walk the growing graph again and again for nothing.
    gc.disable()
    try:
        # Records pulled two at a time: rows stream into the graph and the whole result is
        # never held twice. Notifications off: an unused key (no relationship has ``until``
        # yet) is not news.
        with session(neo4j.READ_ACCESS, fetch_size=2, notifications_min_severity="OFF") as s:
            shared: dict[str, str] = {}
            for ids, props in s.run(_NODES, types=types, clusterIds=cluster_ids, chunk=chunk):
                if not provenance:
                    props = [_without_provenance(p) for p in props]
                _add_nodes(G, zip(ids, (_share_text(native_props(p), shared) for p in props)))
            _add_nodes(G, ((rec["id"], native_props(rec["props"]) | {"type": "cluster"})
                           for rec in s.run(_CLUSTERS, clusterIds=cluster_ids)))
        with session(neo4j.READ_ACCESS, fetch_size=2, notifications_min_severity="OFF") as s:
            query, drop = (_EDGES, ()) if provenance else (_EDGES_WITHOUT_PROVENANCE, PROVENANCE_PROPERTIES)
            for rec in s.run(query, types=types, clusterIds=cluster_ids, resultTypes=_RESULT_TYPES, chunk=chunk):
                _add_edges(G, shared, *rec.values(), drop=drop)
    finally:
        if gc_was_enabled:
            gc.enable()
    return G
