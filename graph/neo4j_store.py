"""The Neo4j store: maillage's system of record, through the official Python driver.

Writes go through managed transactions (``session.execute_write``), which the driver retries
on transient errors; an import is one transaction holding every UNWIND batch, so it lands
whole or not at all. Analysts' queries run in sessions opened in READ access mode, so that
Neo4j itself refuses any write, with a server-side timeout and a row cap.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
import neo4j
from neo4j import GraphDatabase
from neo4j import exceptions as neo4j_errors

from graph._records import (
    missing_endpoints_error,
    organization_row,
    plain_properties,
    relationship_key,
    relationship_row,
    row_status,
)
from graph.base import AnalysisResults, ImportSummary, Progress, QueryResult, Store, now_iso
from graph.schema import SCHEMA_STATEMENTS
from maillage.errors import ImportFailed, QueryRefused, StoreUnavailable
from maillage.model import (
    CLUSTER,
    ORGANIZATION,
    RELATIONSHIP_TYPES,
    RESULT_RELATIONSHIP_TYPES,
    OrganizationRecord,
    RelationshipRecord,
    cluster_id,
)

__all__ = ["Neo4jStore"]


log = logging.getLogger(__name__)

_ORGANIZATION_HASHES = """
UNWIND $ids AS id
MATCH (o:Organization {id: id})
RETURN o.id AS id, o.contentHash AS hash
"""

_WRITE_ORGANIZATIONS = """
UNWIND $rows AS row
MERGE (o:Organization {id: row.id})
SET o = row.props
REMOVE o:Company:Association:WorkforceCommittee:Government:Institution:Structure
SET o:$(row.label)
WITH o, row
OPTIONAL MATCH (o)-[stale:PART_OF]->(c:Cluster)
WHERE NOT c.id IN row.clusterIds
DELETE stale
WITH DISTINCT o, row
UNWIND row.clusters AS cluster
MERGE (c:Cluster {id: cluster.id})
  ON CREATE SET c.name = cluster.name, c.type = 'cluster'
MERGE (o)-[p:PART_OF]->(c)
  ON CREATE SET p = row.partOf
"""

_RELATIONSHIP_HASHES_TEMPLATE = """
UNWIND $rows AS row
MATCH (a:Organization {id: row.source})-[r:REL_TYPE]->(b:TARGET_LABEL {id: row.target})
RETURN row.source AS source, row.target AS target, r.contentHash AS hash
"""

_WRITE_RELATIONSHIPS_TEMPLATE = """
UNWIND $rows AS row
MATCH (a:Organization {id: row.source})
MATCH (b:TARGET_LABEL {id: row.target})
MERGE (a)-[r:REL_TYPE]->(b)
SET r = row.props
RETURN count(*) AS n
"""


def _per_type(template: str) -> dict[tuple[str, str], str]:
    # One query text per (relationship type, target label), made once from fixed whitelists:
    # MERGE with a dynamic type ($(row.type)) is about thirty times slower in Neo4j 5.26 than
    # with a static one. No value from the data ever enters a query text; rows come as $rows.
    return {
        (rel_type, label): template.replace("REL_TYPE", rel_type).replace("TARGET_LABEL", label)
        for rel_type in RELATIONSHIP_TYPES
        for label in (ORGANIZATION, CLUSTER)
    }


_RELATIONSHIP_HASHES = _per_type(_RELATIONSHIP_HASHES_TEMPLATE)
_WRITE_RELATIONSHIPS = _per_type(_WRITE_RELATIONSHIPS_TEMPLATE)

_MISSING_ENDPOINTS = """
UNWIND $rows AS row
OPTIONAL MATCH (a:Organization {id: row.source})
OPTIONAL MATCH (b:Organization {id: row.target})
OPTIONAL MATCH (c:Cluster {id: row.target})
WITH row, a, CASE row.targetKind WHEN 'Cluster' THEN c ELSE b END AS target
WHERE a IS NULL OR target IS NULL
RETURN row.source AS source, row.type AS type, row.target AS target,
       a IS NULL AS sourceMissing, target IS NULL AS targetMissing
LIMIT 20
"""

_REMOVE_STALE_ORGANIZATIONS = """
MATCH (o:Organization)
WHERE o.source IN $sources AND NOT o.id IN $keep
DETACH DELETE o
RETURN count(*) AS n
"""

_REMOVE_STALE_RELATIONSHIPS = """
MATCH (a:Organization)-[r]->(b)
WHERE r.source IN $sources
  AND NOT type(r) IN $resultTypes
  AND coalesce(r.derived, false) = false
  AND NOT (a.id + '|' + type(r) + '|' + b.id) IN $keep
DELETE r
RETURN count(*) AS n
"""

# Snapshot reads return a few large records rather than one per node or relationship: much of
# the driver's cost is per record (socket reads, a Record, field look-ups), so columns of up to
# $chunk organizations per record cost a fraction of it (bench/neo4j_cases.py measures the
# snapshot against one record per relationship). Only node references are collected on the
# server; properties are read chunk by chunk.
_SNAPSHOT_NODES = """
MATCH (o:Organization)
WHERE ($types IS NULL OR o.type IN $types)
  AND ($clusterIds IS NULL OR EXISTS { (o)-[:PART_OF]->(c:Cluster) WHERE c.id IN $clusterIds })
WITH collect(o) AS nodes
UNWIND range(0, size(nodes) - 1, $chunk) AS start
WITH nodes[start..start + $chunk] AS chunk
RETURN [o IN chunk | o.id] AS ids, [o IN chunk | properties(o)] AS props
"""

_SNAPSHOT_CLUSTERS = """
MATCH (c:Cluster)
WHERE $clusterIds IS NULL OR c.id IN $clusterIds
RETURN c.id AS id, properties(c) AS props
"""

_SNAPSHOT_EDGES = """
MATCH (a:Organization)
WITH collect(a) AS sources
UNWIND range(0, size(sources) - 1, $chunk) AS start
CALL (sources, start) {
  UNWIND sources[start..start + $chunk] AS a
  MATCH (a)-[r]->(b)
  WHERE NOT type(r) IN $resultTypes AND (b:Organization OR b:Cluster)
  RETURN collect(a.id) AS s, collect(type(r)) AS t, collect(b.id) AS d, collect(r {.*, since: null, until: null}) AS p,
         collect(_SINCE) AS since, collect(_UNTIL) AS until
}
RETURN s, t, d, p, since, until
"""

_SNAPSHOT_EDGES_FROM = """
UNWIND range(0, size($ids) - 1, $chunk) AS start
CALL (start) {
  UNWIND $ids[start..start + $chunk] AS id
  MATCH (a:Organization {id: id})-[r]->(b)
  WHERE NOT type(r) IN $resultTypes AND (b:Organization OR b:Cluster)
  RETURN collect(a.id) AS s, collect(type(r)) AS t, collect(b.id) AS d, collect(r {.*, since: null, until: null}) AS p,
         collect(_SINCE) AS since, collect(_UNTIL) AS until
}
RETURN s, t, d, p, since, until
"""

# ``since`` and ``until`` travel apart from the other properties: a date as its ISO text (the
# driver's Date objects cost more to build than the rest of the relationship), any other value
# wrapped in a one-item list, and 0 when absent (collect() would drop a null and shift the rows).
_TEMPORAL_COLUMN = ("CASE WHEN r.KEY IS NULL THEN 0 WHEN valueType(r.KEY) = 'DATE NOT NULL' "
                    "THEN toString(r.KEY) ELSE [r.KEY] END")
_SNAPSHOT_EDGES = _SNAPSHOT_EDGES.replace("_SINCE", _TEMPORAL_COLUMN.replace("KEY", "since")).replace(
    "_UNTIL", _TEMPORAL_COLUMN.replace("KEY", "until"))
_SNAPSHOT_EDGES_FROM = _SNAPSHOT_EDGES_FROM.replace("_SINCE", _TEMPORAL_COLUMN.replace("KEY", "since")).replace(
    "_UNTIL", _TEMPORAL_COLUMN.replace("KEY", "until"))

#: Organizations per snapshot record (their relationships come in the same record).
_SNAPSHOT_CHUNK = 2000

_COUNT_ORGANIZATIONS = """
MATCH (o:Organization)
RETURN o.type AS type, count(*) AS n
"""

_COUNT_CLUSTERS = "MATCH (c:Cluster) RETURN count(c) AS n"

_RELATIONSHIP_TYPES = "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType"

_COUNT_RELATIONSHIPS = "MATCH ()-[r:$($type)]->() RETURN count(r) AS n"

_EXISTING_IDS = """
UNWIND $ids AS id
OPTIONAL MATCH (o:Organization {id: id})
OPTIONAL MATCH (c:Cluster {id: id})
WITH id, o, c
WHERE o IS NOT NULL OR c IS NOT NULL
RETURN collect(id) AS ids
"""

_ORGANIZATION_NAMES = "MATCH (o:Organization) RETURN o.id AS id, o.name AS name, o.type AS type"

_ORGANIZATION = "MATCH (o:Organization {id: $id}) RETURN properties(o) AS props"

_DELETE_RESULTS = """
MATCH ()-[r:SUGGESTED_PARTNER|OVERLAPS_WITH]->()
WHERE r.analysis = $analysis
DELETE r
"""

_DELETE_GROUPS = """
MATCH (g:DuplicateGroup {analysis: $analysis})
DETACH DELETE g
"""

_DELETE_RUNS = """
MATCH (run:AnalysisRun {analysis: $analysis})
DETACH DELETE run
"""

_CREATE_RUN = """
CREATE (run:AnalysisRun)
SET run = $props
"""

_CREATE_RESULT_RELATIONSHIPS = """
UNWIND $rows AS row
MATCH (a:Organization {id: row.source})
MATCH (b:Organization {id: row.target})
CREATE (a)-[r:$(row.type)]->(b)
SET r = row.props
RETURN count(*) AS n
"""

_CREATE_GROUPS = """
UNWIND $rows AS row
CREATE (g:DuplicateGroup)
SET g = row.props
WITH g, row
UNWIND row.members AS member
MATCH (o:Organization {id: member})
CREATE (o)-[:IN_DUPLICATE_GROUP {analysis: row.props.analysis, runId: row.props.runId}]->(g)
RETURN count(*) AS n
"""

_READ_RUN = "MATCH (run:AnalysisRun {analysis: $analysis}) RETURN properties(run) AS props"

_READ_RESULT_RELATIONSHIPS = """
MATCH (a:Organization)-[r:SUGGESTED_PARTNER|OVERLAPS_WITH]->(b:Organization)
WHERE r.analysis = $analysis
RETURN type(r) AS type, a.id AS source, b.id AS target, properties(r) AS props
"""

_READ_GROUPS = """
MATCH (g:DuplicateGroup {analysis: $analysis})
OPTIONAL MATCH (o:Organization)-[:IN_DUPLICATE_GROUP]->(g)
WITH g, o
ORDER BY o.id
RETURN properties(g) AS props, collect(o.id) AS members
"""

_CLEAR = """
MATCH (n)
CALL (n) {
  DETACH DELETE n
} IN TRANSACTIONS OF 10000 ROWS
"""


def _native(value: Any) -> Any:
    """Convert driver values (neo4j.time types, lists) to plain Python ones."""
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, neo4j.time.Date):
        return value.to_native()
    if isinstance(value, (neo4j.time.DateTime, neo4j.time.Time, neo4j.time.Duration)):
        return value.iso_format()
    return value


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), _dt.date})
_FROM_ISO = _dt.date.fromisoformat


def _native_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``props`` with driver values made plain (a dict from the driver is converted in
    place: most values are already plain, and a snapshot converts millions of maps)."""
    out = props if type(props) is dict else dict(props)
    for k, v in out.items():
        if type(v) not in _PLAIN_TYPES:
            out[k] = _native(v)  # same key: the dict does not change size while iterated
    return out


def _temporal(p: dict[str, Any], key: str, value: Any) -> None:
    """Put back ``since`` or ``until`` as the snapshot query sent it apart (see _TEMPORAL_COLUMN)."""
    if value.__class__ is str:
        p[key] = _FROM_ISO(value)
    elif value.__class__ is list:
        p[key] = _native(value[0])
    else:
        del p[key]


def _edge_rows(G: nx.MultiDiGraph, sources: list, rel_types: list, targets: list, props: list, since: list,
               until: list, *, check_targets: bool):
    """Yield ``(u, v, key, attrs)`` for ``add_edges_from`` from one snapshot record's columns."""
    for u, t, v, p, s, e in zip(sources, rel_types, targets, props, since, until):
        if check_targets and v not in G:
            continue
        _temporal(p, "since", s)
        _temporal(p, "until", e)
        p = _native_props(p)
        p["type"] = t
        yield u, v, t, p


def _jsonable(value: Any) -> Any:
    """Convert a query value to JSON-friendly data for the console."""
    if isinstance(value, neo4j.graph.Node):
        return {
            "_kind": "node",
            "elementId": value.element_id,
            "labels": sorted(value.labels),
            "properties": {k: _jsonable(v) for k, v in value.items()},
        }
    if isinstance(value, neo4j.graph.Relationship):
        return {
            "_kind": "relationship",
            "elementId": value.element_id,
            "type": value.type,
            "start": value.start_node.element_id if value.start_node is not None else None,
            "end": value.end_node.element_id if value.end_node is not None else None,
            "properties": {k: _jsonable(v) for k, v in value.items()},
        }
    if isinstance(value, neo4j.graph.Path):
        return {
            "_kind": "path",
            "nodes": [_jsonable(n) for n in value.nodes],
            "relationships": [_jsonable(r) for r in value.relationships],
        }
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (neo4j.time.Date, neo4j.time.DateTime, neo4j.time.Time, neo4j.time.Duration)):
        return value.iso_format()
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "x") and hasattr(value, "srid"):  # spatial point
        return str(value)
    return value


def _collect_elements(value: Any, nodes: dict, rels: dict) -> None:
    if isinstance(value, dict):
        kind = value.get("_kind")
        if kind == "node":
            nodes[value["elementId"]] = value
        elif kind == "relationship":
            rels[value["elementId"]] = value
        elif kind == "path":
            for n in value["nodes"]:
                nodes[n["elementId"]] = n
            for r in value["relationships"]:
                rels[r["elementId"]] = r
        else:
            for v in value.values():
                _collect_elements(v, nodes, rels)
    elif isinstance(value, list):
        for v in value:
            _collect_elements(v, nodes, rels)


def _batches(rows: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class Neo4jStore(Store):
    """A :class:`~graph.base.Store` on a Neo4j 5 server, cluster or hosted instance.

    Parameters
    ----------
    uri : str
        ``bolt://``, ``neo4j://`` or ``neo4j+s://`` (and the ``+ssc`` variants).
    user, password : str
        Credentials.
    database : str
        The database to use (Community: ``neo4j``).
    batch_size : int
        Rows per UNWIND batch.
    """

    supports_cypher = True

    def __init__(self, uri: str, *, user: str, password: str | None, database: str = "neo4j", batch_size: int = 5000):
        self.uri = uri
        self.database = database
        self.batch_size = batch_size
        self._snapshot_chunk = _SNAPSHOT_CHUNK
        self._driver = GraphDatabase.driver(uri, auth=(user, password or ""), connection_acquisition_timeout=30.0,
                                            # The driver retries a failing transaction for 30 s by default: a page or
                                            # an import would hang that long while Neo4j is down. Deadlocks and other
                                            # transient errors clear well within this.
                                            max_transaction_retry_time=5.0)
        try:
            self._driver.verify_connectivity()
        except neo4j_errors.AuthError as err:
            self._driver.close()
            raise StoreUnavailable(
                f"Neo4j at {uri} refused the credentials of user {user!r}: set NEO4J_USER and "
                "NEO4J_PASSWORD (the local server's password is in .neo4j/password)."
            ) from err
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.DriverError, OSError, ValueError) as err:
            self._driver.close()
            raise StoreUnavailable(
                f"Neo4j is not reachable at {uri} ({' '.join(str(err).split())}). Start the local server with "
                "`scripts/neo4j-local start`, or set NEO4J_URI to a running server "
                "(or MAILLAGE_STORE=memory to work without Neo4j)."
            ) from err
        self.ensure_schema()

    # ---- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        self._driver.close()

    def describe(self) -> str:
        return f"Neo4j at {self.uri} (database {self.database})"

    def _session(self, mode: str = neo4j.WRITE_ACCESS, **kwargs: Any) -> neo4j.Session:
        return self._driver.session(database=self.database, default_access_mode=mode, **kwargs)

    def _read(self, query: str, **params: Any) -> list[neo4j.Record]:
        try:
            with self._session(neo4j.READ_ACCESS) as session:
                return session.execute_read(lambda tx: list(tx.run(query, params)))
        except neo4j_errors.ServiceUnavailable as err:
            raise StoreUnavailable(f"Neo4j at {self.uri} became unreachable: {err}") from err

    def ensure_schema(self) -> None:
        """Create the constraints and indexes of the design (idempotent) and wait for them."""
        with self._session() as session:
            for statement in SCHEMA_STATEMENTS:
                session.run(statement).consume()
            session.run("CALL db.awaitIndexes(300)").consume()

    # ---- writes --------------------------------------------------------------------
    def upsert(
        self,
        *,
        organizations: Sequence[OrganizationRecord] = (),
        relationships: Sequence[RelationshipRecord] = (),
        source: str | None = None,
        replace_source: bool = False,
        import_id: str | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        import_id = import_id or uuid.uuid4().hex
        imported_at = now_iso()
        org_rows = [organization_row(r, import_id=import_id, imported_at=imported_at, source=source) for r in organizations]
        rel_rows = [relationship_row(r, import_id=import_id, imported_at=imported_at, source=source) for r in relationships]
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in rel_rows:
            groups.setdefault((r["type"], r["targetKind"]), []).append(r)
        sources = sorted({r["props"]["source"] for r in org_rows + rel_rows if "source" in r["props"]} | ({source} if source else set()))
        total = len(org_rows) + len(rel_rows)

        def work(tx: neo4j.ManagedTransaction) -> ImportSummary:
            summary = ImportSummary(import_id=import_id, source=source, imported_at=imported_at)
            done = 0
            # Read the stored content hashes first and write only what is new or changed:
            # unchanged records are not touched at all (provenance included).
            for batch in _batches(org_rows, self.batch_size):
                stored = {r["id"]: r["hash"] for r in tx.run(_ORGANIZATION_HASHES, ids=[row["id"] for row in batch])}
                changed = []
                for row in batch:
                    status = row_status(stored.get(row["id"]), row, stored=row["id"] in stored)
                    summary.count("organizations", status, row["type"])
                    if status != "unchanged":
                        changed.append(row)
                if changed:
                    tx.run(_WRITE_ORGANIZATIONS, rows=changed).consume()
                done += len(batch)
                if progress:
                    progress(done, total)
            for key, rows in sorted(groups.items()):
                for batch in _batches(rows, self.batch_size):
                    batch = list(batch)
                    stored = {(r["source"], r["target"]): r["hash"] for r in tx.run(_RELATIONSHIP_HASHES[key], rows=batch)}
                    changed = []
                    for row in batch:
                        end = (row["source"], row["target"])
                        status = row_status(stored.get(end), row, stored=end in stored)
                        summary.count("relationships", status, row["type"])
                        if status != "unchanged":
                            changed.append(row)
                    if changed:
                        written = tx.run(_WRITE_RELATIONSHIPS[key], rows=changed).single()["n"]
                        if written != len(changed):
                            missing = tx.run(_MISSING_ENDPOINTS, rows=changed).data()
                            raise missing_endpoints_error(len(changed) - written, [
                                (m["source"], m["type"], m["target"], "source" if m["sourceMissing"] else "target")
                                for m in missing
                            ])
                    done += len(batch)
                    if progress:
                        progress(done, total)
            if replace_source and sources:
                keep_ids = [r["id"] for r in org_rows]
                rec = tx.run(_REMOVE_STALE_ORGANIZATIONS, sources=sources, keep=keep_ids).single()
                summary.organizations_removed = rec["n"] if rec else 0
                keep_keys = [relationship_key(r["source"], r["type"], r["target"]) for r in rel_rows]
                rec = tx.run(
                    _REMOVE_STALE_RELATIONSHIPS, sources=sources, keep=keep_keys,
                    resultTypes=list(RESULT_RELATIONSHIP_TYPES) + ["IN_DUPLICATE_GROUP"],
                ).single()
                summary.relationships_removed = rec["n"] if rec else 0
            return summary

        try:
            with self._session() as session:
                return session.execute_write(work)
        except ImportFailed:
            raise
        except neo4j_errors.Neo4jError as err:
            if "MemoryPoolOutOfMemoryError" in (err.code or ""):
                # The whole import is one transaction, bounded by Neo4j's transaction memory.
                raise ImportFailed(
                    f"The import is too large for one Neo4j transaction ({err.message}). Nothing of it was "
                    "written. Split the files, or give Neo4j more memory (the local server: "
                    "MAILLAGE_NEO4J_HEAP=6g scripts/neo4j-local restart; another server: "
                    "db.memory.transaction.total.max)."
                ) from err
            raise ImportFailed(f"Neo4j refused the import ({err.code}): {err.message}. Nothing of it was written.") from err
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired, neo4j_errors.DriverError, OSError) as err:
            raise ImportFailed(
                f"Lost Neo4j at {self.uri} during the import ({err}). The transaction was not committed, so "
                "nothing of this import is in the graph; run it again once Neo4j is back."
            ) from err


    def clear(self) -> None:
        with self._session() as session:
            session.run(_CLEAR).consume()

    # ---- reads ---------------------------------------------------------------------
    def snapshot(self, *, clusters: Iterable[str] | None = None, types: Iterable[str] | None = None) -> nx.MultiDiGraph:
        cluster_ids = None if clusters is None else sorted({cluster_id(c) for c in clusters})
        types = None if types is None else sorted(set(types))
        G = nx.MultiDiGraph()
        result_types = list(RESULT_RELATIONSHIP_TYPES) + ["IN_DUPLICATE_GROUP"]
        try:
            # A few records of up to _SNAPSHOT_CHUNK organizations each, pulled two at a time:
            # rows stream into the graph and the whole result is never held twice.
            # Notifications off: an unused key (no relationship has ``until`` yet) is not news.
            with self._session(neo4j.READ_ACCESS, fetch_size=2, notifications_min_severity="OFF") as session:
                chunk = self._snapshot_chunk
                nodes = session.run(_SNAPSHOT_NODES, types=types, clusterIds=cluster_ids, chunk=chunk)
                for ids, props in nodes:
                    G.add_nodes_from(zip(ids, map(_native_props, props)))
                for rec in session.run(_SNAPSHOT_CLUSTERS, clusterIds=cluster_ids):
                    G.add_node(rec["id"], **(_native_props(rec["props"]) | {"type": "cluster"}))
                if cluster_ids is None and types is None:
                    edges = session.run(_SNAPSHOT_EDGES, resultTypes=result_types, chunk=chunk)
                    whole = True
                else:
                    org_ids = [n for n, d in G.nodes(data=True) if d.get("type") != "cluster"]
                    edges = session.run(_SNAPSHOT_EDGES_FROM, ids=org_ids, resultTypes=result_types, chunk=chunk)
                    whole = False
                for sources, rel_types, targets, props, since, until in edges:
                    G.add_edges_from(_edge_rows(G, sources, rel_types, targets, props, since, until,
                                                check_targets=not whole))
        except neo4j_errors.ServiceUnavailable as err:
            raise StoreUnavailable(f"Neo4j at {self.uri} became unreachable: {err}") from err
        return G

    def counts(self) -> dict[str, dict[str, int]]:
        nodes = {rec["type"]: rec["n"] for rec in self._read(_COUNT_ORGANIZATIONS)}
        n_clusters = self._read(_COUNT_CLUSTERS)[0]["n"]
        if n_clusters:
            nodes["cluster"] = n_clusters
        rels = {}
        for rec in self._read(_RELATIONSHIP_TYPES):
            t = rec["relationshipType"]
            n = self._read(_COUNT_RELATIONSHIPS, type=t)[0]["n"]
            if n:
                rels[t] = n
        return {"nodes": nodes, "relationships": rels}

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(ids))
        found: set[str] = set()
        for batch in _batches(ids, 50_000):
            found.update(self._read(_EXISTING_IDS, ids=list(batch))[0]["ids"])
        return found

    def organization_names(self) -> list[tuple[str, str, str]]:
        return [(r["id"], r["name"], r["type"]) for r in self._read(_ORGANIZATION_NAMES)]

    def organization(self, id: str) -> dict[str, Any] | None:
        records = self._read(_ORGANIZATION, id=id)
        return _native_props(records[0]["props"]) if records else None

    # ---- analysis results --------------------------------------------------------
    def write_analysis_results(
        self,
        *,
        analysis: str,
        parameters: Mapping[str, Any],
        relationships: Iterable[Mapping[str, Any]] = (),
        groups: Iterable[Mapping[str, Any]] = (),
    ) -> str:
        run_id = uuid.uuid4().hex
        started = now_iso()
        rel_rows = []
        for r in relationships:
            props = plain_properties(r.get("properties", {}))
            props.update(analysis=analysis, runId=run_id)
            rel_rows.append({"type": r["type"], "source": str(r["source"]), "target": str(r["target"]), "props": props})
        group_rows = []
        for g in groups:
            props = plain_properties(g.get("properties", {}))
            props.update(id=f"{analysis}:{g['id']}", analysis=analysis, runId=run_id)
            group_rows.append({"props": props, "members": [str(m) for m in g["members"]]})
        bad = {r["type"] for r in rel_rows} - set(RESULT_RELATIONSHIP_TYPES)
        if bad:
            raise ValueError(f"result relationships must be {RESULT_RELATIONSHIP_TYPES}, not {sorted(bad)}")

        def work(tx: neo4j.ManagedTransaction) -> str:
            tx.run(_DELETE_RESULTS, analysis=analysis).consume()
            tx.run(_DELETE_GROUPS, analysis=analysis).consume()
            tx.run(_DELETE_RUNS, analysis=analysis).consume()
            for batch in _batches(rel_rows, self.batch_size):
                tx.run(_CREATE_RESULT_RELATIONSHIPS, rows=list(batch)).consume()
            for batch in _batches(group_rows, self.batch_size):
                tx.run(_CREATE_GROUPS, rows=list(batch)).consume()
            tx.run(
                _CREATE_RUN,
                props={
                    "id": run_id,
                    "analysis": analysis,
                    "parameters": json.dumps(plain_properties(parameters), default=str, sort_keys=True),
                    "startedAt": started,
                    "finishedAt": now_iso(),
                    "resultCount": len(rel_rows) + len(group_rows),
                },
            ).consume()
            return run_id

        try:
            with self._session() as session:
                return session.execute_write(work)
        except neo4j_errors.ServiceUnavailable as err:
            raise StoreUnavailable(f"Neo4j at {self.uri} became unreachable: {err}") from err

    def analysis_results(self, analysis: str) -> AnalysisResults:
        runs = self._read(_READ_RUN, analysis=analysis)
        run = _native_props(runs[0]["props"]) if runs else None
        rels = [
            {"type": r["type"], "source": r["source"], "target": r["target"], "properties": _native_props(r["props"])}
            for r in self._read(_READ_RESULT_RELATIONSHIPS, analysis=analysis)
        ]
        groups = [
            {"id": r["props"]["id"], "members": r["members"], "properties": _native_props(r["props"])}
            for r in self._read(_READ_GROUPS, analysis=analysis)
        ]
        return AnalysisResults(run=run, relationships=rels, groups=groups)

    # ---- analysts ------------------------------------------------------------------
    def run_query(
        self,
        query: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        """Run an analyst's query in a READ access-mode session: Neo4j refuses any write.

        ``LOAD CSV`` is refused before it reaches the server, as a courtesy: it reads files
        or URLs from the server's side, which a read-only console has no business doing.
        """
        text = query.strip()
        if not text:
            raise QueryRefused("The query is empty.")
        if "LOAD CSV" in " ".join(text.upper().split()):
            raise QueryRefused("LOAD CSV is not allowed in the console: it reads files or URLs on the server. Use `maillage load` to import data.")
        timeout = 10.0 if timeout is None else timeout
        row_cap = 1000 if row_cap is None else row_cap
        params = dict(parameters or {})
        started = time.perf_counter()
        rows: list[list[Any]] = []
        truncated = False
        try:
            with self._session(neo4j.READ_ACCESS, fetch_size=min(row_cap + 1, 10_000)) as session:
                with session.begin_transaction(timeout=timeout) as tx:
                    result = tx.run(text, params)
                    columns = list(result.keys())
                    for record in result:
                        if len(rows) >= row_cap:
                            truncated = True
                            break
                        rows.append([_jsonable(v) for v in record.values()])
                    tx.rollback()
        except neo4j_errors.ClientError as err:
            code = err.code or ""
            if code.endswith("AccessMode") or "Forbidden" in code:
                raise QueryRefused(
                    "This console is read-only: Neo4j refused the write "
                    f"({err.message}). Use `maillage load` to change the graph."
                ) from err
            if "TransactionTimedOut" in code or "Terminated" in code:
                raise QueryRefused(f"The query was stopped after the {timeout:g} s time limit. Add a LIMIT or a narrower MATCH.") from err
            raise QueryRefused(f"Neo4j refused the query: {err.message}") from err
        except neo4j_errors.TransientError as err:
            if "TransactionTimedOut" in (err.code or "") or "Terminated" in (err.code or ""):
                raise QueryRefused(f"The query was stopped after the {timeout:g} s time limit. Add a LIMIT or a narrower MATCH.") from err
            raise QueryRefused(f"Neo4j could not run the query right now: {err.message}") from err
        except neo4j_errors.DatabaseError as err:
            raise QueryRefused(f"Neo4j failed on the query: {err.message}") from err
        except neo4j_errors.ServiceUnavailable as err:
            raise StoreUnavailable(f"Neo4j at {self.uri} became unreachable: {err}") from err
        except neo4j_errors.ResultError as err:
            raise QueryRefused(f"The query result could not be read: {err}") from err
        nodes: dict[str, dict[str, Any]] = {}
        rels: dict[str, dict[str, Any]] = {}
        _collect_elements(rows, nodes, rels)
        return QueryResult(
            columns=columns,
            rows=rows,
            truncated=truncated,
            nodes=nodes,
            relationships=rels,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )
