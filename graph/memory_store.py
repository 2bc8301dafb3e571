"""The memory store: the same interface as Neo4j, in memory, persisted to a JSON file.

For a machine without Java. Writes are applied to a copy and swapped in only when the whole
import succeeded, then the file is replaced atomically (write, fsync, rename), so an import
lands whole or not at all here too. Everything but Cypher works.
"""

from __future__ import annotations

import copy
import datetime as _dt
import itertools
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from graph._records import (
    missing_endpoints_error,
    organization_row,
    plain_properties,
    relationship_key,
    relationship_row,
    row_status,
)
from graph.base import PROVENANCE_PROPERTIES, AnalysisResults, ImportSummary, Progress, Store, now_iso
from maillage.errors import ImportFailed, StoreError
from maillage.model import CLUSTER, RESULT_RELATIONSHIP_TYPES, OrganizationRecord, RelationshipRecord, cluster_id

__all__ = ["MemoryStore"]

_FORMAT = "maillage-memory-store/1"


def _encode(value: Any) -> Any:
    if isinstance(value, _dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return _dt.date.fromisoformat(value["$date"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _empty() -> dict[str, Any]:
    return {"organizations": {}, "clusters": {}, "relationships": {}, "results": {}}


class MemoryStore(Store):
    """A :class:`~graph.base.Store` held in memory and saved to ``path`` after each write.

    Parameters
    ----------
    path : path-like or None
        The JSON file; ``None`` keeps the graph in memory only (tests).

    Examples
    --------
    >>> from maillage.model import OrganizationRecord
    >>> store = MemoryStore(None)
    >>> s = store.upsert(organizations=[OrganizationRecord(id="a", name="Aéro Nord", type="company")])
    >>> s.organizations_created, store.snapshot().nodes["a"]["name"]
    (1, 'Aéro Nord')
    """

    def __init__(self, path: str | os.PathLike[str] | None):
        self.path = Path(path) if path is not None else None
        self._lock = threading.RLock()
        self._data = _empty()
        if self.path is not None and self.path.exists():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise StoreError(f"The memory store file {self.path} cannot be read ({err}); move it away to start afresh.") from err
            if raw.get("format") != _FORMAT:
                raise StoreError(f"{self.path} is not a maillage memory store file (format {raw.get('format')!r}).")
            self._data = _decode(raw["data"])

    def describe(self) -> str:
        return f"memory store ({self.path})" if self.path else "memory store (not saved)"

    def _save(self, data: dict[str, Any]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".graph-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"format": _FORMAT, "data": _encode(data)}, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _commit(self, data: dict[str, Any]) -> None:
        self._save(data)
        self._data = data

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
        sources = {r["props"]["source"] for r in org_rows + rel_rows if "source" in r["props"]} | ({source} if source else set())
        summary = ImportSummary(import_id=import_id, source=source, imported_at=imported_at)
        total = len(org_rows) + len(rel_rows)
        with self._lock:
            data = copy.deepcopy(self._data)
            orgs, clusters, rels = data["organizations"], data["clusters"], data["relationships"]
            for done, row in enumerate(org_rows, 1):
                old = orgs.get(row["id"])
                status = row_status(old and old.get("contentHash"), row, stored=old is not None)
                if status != "unchanged":
                    orgs[row["id"]] = dict(row["props"])
                    oid = row["id"]
                    wanted = set(row["clusterIds"])
                    for key in [k for k in rels if k.startswith(oid + "|PART_OF|")]:
                        if rels[key].get("derived") and key.split("|", 2)[2] not in wanted:
                            del rels[key]
                    for c in row["clusters"]:
                        clusters.setdefault(c["id"], {"id": c["id"], "name": c["name"], "type": "cluster"})
                        rels.setdefault(relationship_key(oid, "PART_OF", c["id"]), dict(row["partOf"]))
                summary.count("organizations", status, row["type"])
                if progress and done % 5000 == 0:
                    progress(done, total)
            missing = []
            for done, row in enumerate(rel_rows, len(org_rows) + 1):
                target_ok = row["target"] in (clusters if row["targetKind"] == CLUSTER else orgs)
                if row["source"] not in orgs or not target_ok:
                    missing.append(row)
                    continue
                key = relationship_key(row["source"], row["type"], row["target"])
                old = rels.get(key)
                status = row_status(old and old.get("contentHash"), row, stored=old is not None)
                if status != "unchanged":
                    rels[key] = dict(row["props"])
                summary.count("relationships", status, row["type"])
                if progress and done % 5000 == 0:
                    progress(done, total)
            if missing:
                raise missing_endpoints_error(len(missing), [
                    (m["source"], m["type"], m["target"], "source" if m["source"] not in orgs else "target")
                    for m in missing[:20]
                ])
            if replace_source and sources:
                keep_ids = {r["id"] for r in org_rows}
                stale = [i for i, p in orgs.items() if p.get("source") in sources and i not in keep_ids]
                for i in stale:
                    del orgs[i]
                summary.organizations_removed = len(stale)
                stale_set = set(stale)
                for key in [k for k in rels if k.split("|", 1)[0] in stale_set or k.rsplit("|", 1)[1] in stale_set]:
                    del rels[key]
                keep_keys = {relationship_key(r["source"], r["type"], r["target"]) for r in rel_rows}
                stale_rels = [k for k, p in rels.items() if p.get("source") in sources and not p.get("derived") and k not in keep_keys]
                for k in stale_rels:
                    del rels[k]
                summary.relationships_removed = len(stale_rels)
                self._drop_results_of(data, stale_set)
            if progress:
                progress(total, total)
            try:
                self._commit(data)
            except OSError as err:
                raise ImportFailed(f"Could not save the memory store to {self.path} ({err}); nothing was written.") from err
        return summary

    @staticmethod
    def _drop_results_of(data: dict[str, Any], ids: set[str]) -> None:
        if not ids:
            return
        for res in data["results"].values():
            res["relationships"] = [r for r in res["relationships"] if r["source"] not in ids and r["target"] not in ids]
            for g in res["groups"]:
                g["members"] = [m for m in g["members"] if m not in ids]


    def clear(self) -> None:
        with self._lock:
            self._commit(_empty())

    # ---- reads ---------------------------------------------------------------------
    def snapshot(self, *, clusters: Iterable[str] | None = None, types: Iterable[str] | None = None,
                 provenance: bool = True) -> nx.MultiDiGraph:
        cluster_ids = None if clusters is None else {cluster_id(c) for c in clusters}
        types = None if types is None else set(types)
        with self._lock:
            data = self._data
            G = nx.MultiDiGraph()
            for oid, props in data["organizations"].items():
                if types is not None and props.get("type") not in types:
                    continue
                if cluster_ids is not None and not cluster_ids & {cluster_id(c) for c in props.get("clusters", [])}:
                    continue
                G.add_node(oid, **copy.deepcopy(props))
            for cid, props in data["clusters"].items():
                if cluster_ids is None or cid in cluster_ids:
                    G.add_node(cid, **dict(props))
            for key, props in data["relationships"].items():
                s, t, o = key.split("|", 2)
                if s in G and o in G:
                    G.add_edge(s, o, key=t, **(copy.deepcopy(props) | {"type": t}))
        if not provenance:
            for attrs in itertools.chain((d for _, d in G.nodes(data=True)), (d for *_, d in G.edges(keys=True, data=True))):
                for key in PROVENANCE_PROPERTIES:
                    attrs.pop(key, None)
        return G

    def counts(self) -> dict[str, dict[str, int]]:
        with self._lock:
            nodes: dict[str, int] = {}
            for props in self._data["organizations"].values():
                nodes[props["type"]] = nodes.get(props["type"], 0) + 1
            if self._data["clusters"]:
                nodes["cluster"] = len(self._data["clusters"])
            rels: dict[str, int] = {}
            for key in self._data["relationships"]:
                t = key.split("|", 2)[1]
                rels[t] = rels.get(t, 0) + 1
            for res in self._data["results"].values():
                for r in res["relationships"]:
                    rels[r["type"]] = rels.get(r["type"], 0) + 1
                if res["groups"]:
                    nodes["DuplicateGroup"] = nodes.get("DuplicateGroup", 0) + len(res["groups"])
                    rels["IN_DUPLICATE_GROUP"] = rels.get("IN_DUPLICATE_GROUP", 0) + sum(len(g["members"]) for g in res["groups"])
                if res.get("run"):
                    nodes["AnalysisRun"] = nodes.get("AnalysisRun", 0) + 1
        return {"nodes": nodes, "relationships": rels}

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        with self._lock:
            orgs, clusters = self._data["organizations"], self._data["clusters"]
            return {i for i in ids if i in orgs or i in clusters}

    def organization_names(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return [(i, p.get("name"), p.get("type")) for i, p in self._data["organizations"].items()]

    def organization(self, id: str) -> dict[str, Any] | None:
        with self._lock:
            props = self._data["organizations"].get(id)
            return copy.deepcopy(props) if props is not None else None

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
        with self._lock:
            orgs = self._data["organizations"]
            rel_rows = []
            for r in relationships:
                if r["type"] not in RESULT_RELATIONSHIP_TYPES:
                    raise ValueError(f"result relationships must be {RESULT_RELATIONSHIP_TYPES}, not {r['type']!r}")
                s, t = str(r["source"]), str(r["target"])
                if s in orgs and t in orgs:  # as Neo4j's MATCH would: results about unknown nodes vanish
                    props = plain_properties(r.get("properties", {})) | {"analysis": analysis, "runId": run_id}
                    rel_rows.append({"type": r["type"], "source": s, "target": t, "properties": props})
            group_rows = []
            for g in groups:
                props = plain_properties(g.get("properties", {})) | {"id": f"{analysis}:{g['id']}", "analysis": analysis, "runId": run_id}
                members = sorted(str(m) for m in g["members"] if str(m) in orgs)
                group_rows.append({"id": props["id"], "members": members, "properties": props})
            run = {
                "id": run_id,
                "analysis": analysis,
                "parameters": json.dumps(plain_properties(parameters), default=str, sort_keys=True),
                "startedAt": started,
                "finishedAt": now_iso(),
                "resultCount": len(rel_rows) + len(group_rows),
            }
            data = dict(self._data)
            data["results"] = dict(self._data["results"])
            data["results"][analysis] = {"run": run, "relationships": rel_rows, "groups": group_rows}
            self._commit(data)
        return run_id

    def analysis_results(self, analysis: str) -> AnalysisResults:
        with self._lock:
            res = self._data["results"].get(analysis)
            if res is None:
                return AnalysisResults(run=None, relationships=[], groups=[])
            res = copy.deepcopy(res)
        return AnalysisResults(run=res["run"], relationships=res["relationships"], groups=res["groups"])
