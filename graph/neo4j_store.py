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

from graph._snapshot import CHUNK as SNAPSHOT_CHUNK, read_snapshot
from graph._records import (
    missing_endpoints_error,
    organization_row,
    plain_properties,
    relationship_key,
    relationship_row,
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
)

__all__ = ["Neo4jStore"]


log = logging.getLogger(__name__)

# One query per batch reads what is stored and writes only what is new or changed: unchanged
# rows are not touched at all (provenance included). It returns one count per status (and
# type), so the client never reads hashes back. The unit subqueries keep every row, changed or
# not, for the counts; the relationship query also tells how many rows found both ends.
_WRITE_ORGANIZATIONS = """
UNWIND $rows AS row
OPTIONAL MATCH (old:Organization {id: row.id})
WITH row, CASE WHEN old IS NULL THEN 'created' WHEN old.contentHash = row.hash THEN 'unchanged'
               ELSE 'updated' END AS status
CALL (row, status) {
  WITH row, status WHERE status <> 'unchanged'
  MERGE (o:Organization {id: row.id})
  SET o = row.props
  REMOVE o:Company:Association:WorkforceCommittee:Government:Institution:Structure
  SET o:$(row.label)
  WITH o, row, status
  CALL (o, row, status) {
    WITH o, row WHERE status = 'updated'
    // No label on c: an index on Cluster(id) would tempt the planner to scan every cluster
    // for each organization, rather than follow the organization's few PART_OF.
    MATCH (o)-[stale:PART_OF]->(c)
    WHERE NOT c.id IN row.clusterIds
    DELETE stale
  }
  WITH o, row
  UNWIND row.clusters AS cluster
  MERGE (c:Cluster {id: cluster.id})
    ON CREATE SET c.name = cluster.name, c.type = 'cluster'
  MERGE (o)-[p:PART_OF]->(c)
    ON CREATE SET p = row.partOf
}
RETURN status, row.type AS type, count(*) AS n
"""

_WRITE_RELATIONSHIPS_TEMPLATE = """
UNWIND $rows AS row
MATCH (a:Organization {id: row.source})
MATCH (b:TARGET_LABEL {id: row.target})
WITH row, a, b, [(a)-[old:REL_TYPE]->(b) | old.contentHash] AS stored
WITH row, a, b, CASE WHEN stored = [] THEN 'created' WHEN stored[0] = row.hash THEN 'unchanged'
                     ELSE 'updated' END AS status
CALL (row, a, b, status) {
  WITH row, a, b WHERE status <> 'unchanged'
  MERGE (a)-[r:REL_TYPE]->(b)
  SET r = row.props, r.since = coalesce(date(row.since), row.props.since),
      r.until = coalesce(date(row.until), row.props.until)
}
RETURN status, count(*) AS n
"""

# The same writes when nothing of the kind is stored yet (a first import, the usual bulk load):
# every row is new, so nothing is read back, no stale PART_OF is looked for, and no Eager
# barrier stops the rows streaming through. MERGE (not CREATE) still keeps a key written twice,
# or by a concurrent import, to one node or relationship.
_WRITE_NEW_ORGANIZATIONS = """
UNWIND $rows AS row
MERGE (o:Organization {id: row.id})
SET o = row.props
REMOVE o:Company:Association:WorkforceCommittee:Government:Institution:Structure
SET o:$(row.label)
WITH o, row
CALL (o, row) {
  UNWIND row.clusters AS cluster
  MERGE (c:Cluster {id: cluster.id})
    ON CREATE SET c.name = cluster.name, c.type = 'cluster'
  MERGE (o)-[p:PART_OF]->(c)
    ON CREATE SET p = row.partOf
}
RETURN 'created' AS status, row.type AS type, count(*) AS n
"""

_WRITE_NEW_RELATIONSHIPS_TEMPLATE = """
UNWIND $rows AS row
MATCH (a:Organization {id: row.source})
MATCH (b:TARGET_LABEL {id: row.target})
MERGE (a)-[r:REL_TYPE]->(b)
SET r = row.props, r.since = coalesce(date(row.since), row.props.since),
    r.until = coalesce(date(row.until), row.props.until)
RETURN 'created' AS status, count(*) AS n
"""

# Read in the import's transaction before its first write, from Neo4j's count store.
_COUNT_ORGANIZATIONS_STORED = "MATCH (o:Organization) RETURN count(o) AS n"
_COUNT_TYPE_TEMPLATE = "MATCH ()-[r:REL_TYPE]->() RETURN count(r) AS n"


def _per_type(template: str) -> dict[tuple[str, str], str]:
    # One query text per (relationship type, target label), made once from fixed whitelists:
    # MERGE with a dynamic type ($(row.type)) is about thirty times slower in Neo4j 5.26 than
    # with a static one. No value from the data ever enters a query text; rows come as $rows.
    return {
        (rel_type, label): template.replace("REL_TYPE", rel_type).replace("TARGET_LABEL", label)
        for rel_type in RELATIONSHIP_TYPES
        for label in (ORGANIZATION, CLUSTER)
    }


_WRITE_RELATIONSHIPS = _per_type(_WRITE_RELATIONSHIPS_TEMPLATE)
_WRITE_NEW_RELATIONSHIPS = _per_type(_WRITE_NEW_RELATIONSHIPS_TEMPLATE)
_COUNT_TYPE = _per_type(_COUNT_TYPE_TEMPLATE)

# The empty lists Neo4j's bulk importer cannot write (see Neo4jStore.set_empty_lists).
_SET_EMPTY_LIST_ORGANIZATIONS = """
MATCH (x:Organization) WHERE x[$key] IS NULL
CALL (x) { SET x[$key] = [] } IN TRANSACTIONS OF 50000 ROWS
RETURN count(*) AS n
"""
_SET_EMPTY_LIST_TEMPLATE = """
MATCH (:Organization)-[x:REL_TYPE]->(:TARGET_LABEL) WHERE x[$key] IS NULL
CALL (x) { SET x[$key] = [] } IN TRANSACTIONS OF 50000 ROWS
RETURN count(*) AS n
"""
_SET_EMPTY_LIST = _per_type(_SET_EMPTY_LIST_TEMPLATE)

_MISSING_ENDPOINTS = """
UNWIND $rows AS row
OPTIONAL MATCH (a:Organization {id: row.source})
OPTIONAL MATCH (b:Organization {id: row.target})
OPTIONAL MATCH (c:Cluster {id: row.target})
WITH row, a, CASE $targetKind WHEN 'Cluster' THEN c ELSE b END AS target
WHERE a IS NULL OR target IS NULL
RETURN row.source AS source, $type AS type, row.target AS target,
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


def _native_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``props`` with driver values made plain (a dict from the driver is converted in
    place: most values are already plain, and a snapshot converts millions of maps)."""
    out = props if type(props) is dict else dict(props)
    for k, v in out.items():
        if type(v) not in _PLAIN_TYPES:
            out[k] = _native(v)  # same key: the dict does not change size while iterated
    return out


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


_DATE = _dt.date


def _relationship_wire(row: dict[str, Any]) -> dict[str, Any]:
    """Return what a relationship row sends to Neo4j: only the fields the query reads, and
    ``since`` / ``until`` dates as ISO text (the query makes them dates again), because the
    driver builds a Python object per date it sends, which costs more than the rest of the row."""
    props = row["props"]
    wire = {"source": row["source"], "target": row["target"], "hash": row["hash"], "props": props}
    for key in ("since", "until"):
        value = props.get(key)
        if value.__class__ is _DATE:
            del props[key]
            wire[key] = value.isoformat()
    return wire


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
        self._snapshot_chunk = SNAPSHOT_CHUNK
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
        organizations = list(organizations)
        groups: dict[tuple[str, str], list[RelationshipRecord]] = {}
        for r in relationships:
            groups.setdefault((r.type, r.target_kind), []).append(r)
        for recs in groups.values():  # an unknown type or target kind: ValueError before Neo4j is asked
            relationship_row(recs[0], import_id=import_id, imported_at=imported_at, source=source)
        n_rels = sum(len(g) for g in groups.values())
        total = len(organizations) + n_rels
        size = max(1, self.batch_size)
        # (records, relationship group or None for organizations), in the order they are written.
        steps = [(organizations[i : i + size], None) for i in range(0, len(organizations), size)]
        steps += [(recs[i : i + size], key) for key, recs in sorted(groups.items()) for i in range(0, len(recs), size)]

        def rows_of(records: Sequence[Any], key: tuple[str, str] | None) -> list[dict[str, Any]]:
            if key is None:
                return [organization_row(r, import_id=import_id, imported_at=imported_at, source=source) for r in records]
            return [_relationship_wire(relationship_row(r, import_id=import_id, imported_at=imported_at, source=source))
                    for r in records]

        def work(tx: neo4j.ManagedTransaction) -> ImportSummary:
            summary = ImportSummary(import_id=import_id, source=source, imported_at=imported_at)
            done = 0

            def finish(key: tuple[str, str] | None, rows: list[dict[str, Any]], result: neo4j.Result) -> None:
                nonlocal done
                if key is None:
                    for rec in result:
                        summary.count("organizations", rec["status"], rec["type"], rec["n"])
                else:
                    counts = {rec["status"]: rec["n"] for rec in result}
                    if sum(counts.values()) != len(rows):
                        missing = tx.run(_MISSING_ENDPOINTS, rows=rows, type=key[0], targetKind=key[1]).data()
                        raise missing_endpoints_error(len(rows) - sum(counts.values()), [
                            (m["source"], m["type"], m["target"], "source" if m["sourceMissing"] else "target")
                            for m in missing
                        ])
                    for status, n in counts.items():
                        summary.count("relationships", status, key[0], n)
                done += len(rows)
                if progress:
                    progress(done, total)

            # What is stored already, before anything is written: a kind with nothing stored
            # (no organization; no relationship of a type) takes the write-only queries.
            fresh = {None: not organizations or tx.run(_COUNT_ORGANIZATIONS_STORED).single()["n"] == 0}
            types = {key[0] for key in groups} | ({"PART_OF"} if organizations else set())
            empty = {t for t in types if tx.run(_COUNT_TYPE[(t, ORGANIZATION)]).single()["n"] == 0}
            for key in groups:
                fresh[key] = key[0] in empty and (key[0] != "PART_OF" or not organizations)
            # Rows are built one batch ahead: while Neo4j runs batch n (tx.run returns once the
            # query is planned and started), Python builds batch n + 1, then waits for n's counts.
            pending = None
            for records, key in steps:
                rows = rows_of(records, key)
                if pending is not None:
                    finish(*pending)
                if key is None:
                    query = _WRITE_NEW_ORGANIZATIONS if fresh[None] else _WRITE_ORGANIZATIONS
                else:
                    query = (_WRITE_NEW_RELATIONSHIPS if fresh[key] else _WRITE_RELATIONSHIPS)[key]
                pending = (key, rows, tx.run(query, rows=rows))
            if pending is not None:
                finish(*pending)
            if replace_source:
                sources = {r.source_file or source for r in organizations}
                sources |= {r.source_file or source for recs in groups.values() for r in recs}
                sources = sorted(s for s in sources if s is not None)
                if sources:
                    rec = tx.run(_REMOVE_STALE_ORGANIZATIONS, sources=sources, keep=[r.id for r in organizations]).single()
                    summary.organizations_removed = rec["n"] if rec else 0
                    keep_keys = [relationship_key(r.source, r.type, r.target) for recs in groups.values() for r in recs]
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

    def node_count(self) -> int:
        """Return how many nodes the database holds, of any label (from Neo4j's count store)."""
        return self._read("MATCH (n) RETURN count(n) AS n")[0]["n"]

    def set_empty_lists(self, label_or_type: str, key: str) -> int:
        """Set ``key`` to an empty list on every ``label_or_type`` node or relationship that lacks
        it, and return how many: Neo4j's bulk importer cannot write an empty list, which
        :meth:`upsert` stores (an organization without sectors has ``sectors: []``); used by
        :func:`graph.bulk.bulk_load`. ``label_or_type`` must be ``Organization`` or a
        relationship type of the model (it is part of the query's text)."""
        if label_or_type == ORGANIZATION:
            queries = [_SET_EMPTY_LIST_ORGANIZATIONS]
        elif label_or_type in RELATIONSHIP_TYPES:
            queries = [_SET_EMPTY_LIST[(label_or_type, label)] for label in (ORGANIZATION, CLUSTER)]
        else:
            raise ValueError(f"not a node label or relationship type of the model: {label_or_type!r}")
        with self._session() as session:
            return sum(session.run(query, key=key).single()["n"] for query in queries)

    # ---- reads ---------------------------------------------------------------------
    def snapshot(self, *, clusters: Iterable[str] | None = None, types: Iterable[str] | None = None,
                 provenance: bool = True) -> nx.MultiDiGraph:
        # graph/_snapshot.py: large columnar records.
        try:
            return read_snapshot(self._session, clusters=clusters, types=types, chunk=self._snapshot_chunk,
                                 provenance=provenance)
        except neo4j_errors.ServiceUnavailable as err:
            raise StoreUnavailable(f"Neo4j at {self.uri} became unreachable: {err}") from err

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
