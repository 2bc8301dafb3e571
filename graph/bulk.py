"""The initial load of an empty local Neo4j through Neo4j's own bulk importer.

``maillage load --bulk`` writes a validated :class:`~loaders.plan.ImportPlan` as the CSV files
of ``neo4j-admin database import full`` and has ``scripts/neo4j-local import`` run it: the
importer builds the store files directly, without transactions: a million organizations and
ten million relationships in 318 s on two cores (35,000 rows a second, half of it writing these
files), where no single transaction can hold them and imports of 100,000 rows would take about
16 minutes at the 12,000 rows a second measured at 100k. Below a few hundred thousand rows its
fixed costs (about 30 s) make it no faster. The price is that the server is stopped while it
runs, and that it only builds a
database from nothing: the graph must be empty, and later imports go through
:meth:`graph.neo4j_store.Neo4jStore.upsert` as usual.

What it builds is exactly what ``upsert`` of the same plan into an empty graph builds: the same
nodes, labels, ``PART_OF`` links to clusters, relationships and properties, with the same
provenance and content hashes (:mod:`graph._records`), so that loading the same files again with
``maillage load`` finds every row unchanged. ``tests/graph/test_bulk.py`` checks both against
real servers.

All or nothing: every check that can fail (ends that do not exist, a property the CSV format
cannot type, a graph that is not empty) runs before the server is stopped, and the launcher
sets the previous database aside and puts it back if the importer fails.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph._records import organization_row, relationship_row
from graph.base import ImportSummary, now_iso
from maillage.errors import ImportFailed
from maillage.model import CLUSTER, ORGANIZATION, OrganizationRecord, RelationshipRecord

__all__ = ["BulkFiles", "write_bulk_files", "bulk_load", "LAUNCHER"]

#: The launcher that stops the local server, runs the importer and starts the server again.
LAUNCHER = Path(__file__).resolve().parent.parent / "scripts" / "neo4j-local"

# Array elements are separated by the ASCII unit separator, which the loaders never keep in a
# value (control characters are removed from text cells), so no element is ever split.
_ARRAY_DELIMITER = "\x1f"
_ARRAY_DELIMITER_OPTION = "U+001F"

# Python type of a property value -> the importer's column type.
_SCALAR_TYPES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "long",
    float: "double",
    _dt.date: "date",
    _dt.datetime: "localdatetime",
}


@dataclass
class BulkFiles:
    """The importer's input: ``--nodes`` and ``--relationships`` files, and what they hold."""

    folder: Path
    nodes: list[Path] = field(default_factory=list)
    relationships: list[Path] = field(default_factory=list)
    n_organizations: int = 0
    n_clusters: int = 0
    n_relationships: int = 0
    n_part_of: int = 0
    #: (label, property) pairs to set to ``[]`` after the import where the property is absent:
    #: the importer has no way to write an empty list, and ``upsert`` stores one.
    empty_lists: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self) -> list[str]:
        """The importer's options for these files."""
        args = [f"--nodes={p}" for p in self.nodes] + [f"--relationships={p}" for p in self.relationships]
        return args + [f"--array-delimiter={_ARRAY_DELIMITER_OPTION}", "--multiline-fields=true",
                       "--bad-tolerance=0", "--strict=true", "--id-type=string"]


class _Column:
    """One property column: its importer type, worked out from every value it holds."""

    __slots__ = ("key", "kind", "element", "present", "empty_list")

    def __init__(self, key: str):
        self.key = key
        self.kind: str | None = None  # "string", "long", ..., or "list"
        self.element: str | None = None  # element type of a list column
        self.present = 0
        self.empty_list = False

    def see(self, value: Any, where: str) -> None:
        self.present += 1
        if type(value) is list:
            kind = "list"
            for v in value:
                self._element(v, where)
            if not value:
                self.empty_list = True
        else:
            kind = _SCALAR_TYPES.get(type(value))
            if kind is None:
                raise ImportFailed(f"{where}: property {self.key!r} holds a {type(value).__name__}, which the bulk "
                                   "importer cannot write; load these files with `maillage load` instead.")
        if self.kind is None or {self.kind, kind} == {"long", "double"}:
            # Whole and decimal numbers in one column: a double column holds both (3 reads 3.0).
            self.kind = kind if self.kind is None else "double"
        elif self.kind != kind:
            raise ImportFailed(
                f"{where}: property {self.key!r} holds both {self.kind} and {kind} values, which one column of the "
                "bulk importer cannot; load these files with `maillage load` (without --bulk) instead.")

    def _element(self, value: Any, where: str) -> None:
        kind = _SCALAR_TYPES.get(type(value))
        if kind is not None and (self.element is None or self.element == kind):
            self.element = kind
        elif kind is not None and {self.element, kind} == {"long", "double"}:
            self.element = "double"
        else:
            raise ImportFailed(f"{where}: property {self.key!r} holds a list mixing types the bulk importer cannot "
                               "write; load these files with `maillage load` instead.")

    def header(self) -> str:
        kind = f"{self.element or 'string'}[]" if self.kind == "list" else self.kind
        return f"{self.key}:{kind}"


def _columns(rows: Iterable[dict[str, Any]], skip: frozenset[str], what: str) -> list[_Column]:
    columns: dict[str, _Column] = {}
    for i, props in enumerate(rows):
        for key, value in props.items():
            if key in skip:
                continue
            col = columns.get(key)
            if col is None:
                if ":" in key or not key.strip():
                    raise ImportFailed(f"{what}: the property name {key!r} cannot be a bulk importer column (it holds "
                                       "':' or nothing); rename the column, or load with `maillage load`.")
                col = columns[key] = _Column(key)
            col.see(value, what)
    return sorted(columns.values(), key=lambda c: c.key)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _field(value: Any) -> str:
    """One CSV field: nothing for a missing value, text always quoted (so that ``""`` stays an
    empty string), numbers, booleans and dates as the importer parses them."""
    if value is None:
        return ""
    t = type(value)
    if t is str:
        return _quote(value)
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        if math.isfinite(value):
            return repr(value)
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if t is _dt.date or t is _dt.datetime:
        return value.isoformat()
    if t is list:
        return _quote(_ARRAY_DELIMITER.join(v if type(v) is str else _field(v) for v in value))
    raise TypeError(f"no CSV form for {t.__name__}")


def _write(path: Path, header: list[str], lines: Iterable[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(_quote(h) for h in header) + "\n")
        buf = []
        for fields in lines:
            buf.append(",".join(fields))
            if len(buf) >= 10_000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            f.write("\n".join(buf) + "\n")


def _empty_lists(columns: list[_Column], n_rows: int, label: str, what: str) -> list[tuple[str, str]]:
    out = []
    for col in columns:
        if col.empty_list:
            if col.present != n_rows:
                # Absent on some rows and [] on others: after the import both would look alike.
                raise ImportFailed(f"{what}: property {col.key!r} is an empty list on some rows and missing on others, "
                                   "which the bulk importer cannot tell apart; load with `maillage load` instead.")
            out.append((label, col.key))
    return out


def write_bulk_files(
    organizations: Sequence[OrganizationRecord],
    relationships: Sequence[RelationshipRecord],
    folder: str | os.PathLike[str],
    *,
    import_id: str,
    imported_at: str,
    source: str | None,
) -> BulkFiles:
    """Write the importer's CSV files for ``organizations`` and ``relationships`` into ``folder``.

    The rows are the ones :meth:`Neo4jStore.upsert` writes (:func:`graph._records.organization_row`
    and :func:`~graph._records.relationship_row`); relationship keys must be unique, as
    :func:`loaders.prepare_import` makes them.

    Raises
    ------
    maillage.errors.ImportFailed
        A relationship end that is neither an organization of the plan nor one of its clusters,
        a repeated organization id, or a property the importer's typed columns cannot hold.
        Nothing is written to Neo4j before these checks.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = BulkFiles(folder=folder)

    org_rows = [organization_row(r, import_id=import_id, imported_at=imported_at, source=source) for r in organizations]
    ids: set[str] = set()
    for row in org_rows:
        if row["id"] in ids:
            raise ImportFailed(f"organization id {row['id']!r} appears twice; the bulk importer needs each id once.")
        ids.add(row["id"])
    clusters: dict[str, str] = {}  # id -> name, the first organization naming it wins (as upsert's ON CREATE)
    for row in org_rows:
        for c in row["clusters"]:
            clusters.setdefault(c["id"], c["name"])

    # Organizations: the id column is the importer's :ID, every other property a typed column.
    columns = _columns((row["props"] for row in org_rows), frozenset({"id"}), "organizations")
    out.empty_lists += _empty_lists(columns, len(org_rows), ORGANIZATION, "organizations")
    path = folder / "organizations.csv"
    _write(path, [f"id:ID({ORGANIZATION})", ":LABEL"] + [c.header() for c in columns],
           ([_quote(row["id"]), f"{ORGANIZATION}{_ARRAY_DELIMITER}{row['label']}"] + [_field(row["props"].get(c.key)) for c in columns]
            for row in org_rows))
    out.nodes.append(path)
    out.n_organizations = len(org_rows)

    path = folder / "clusters.csv"
    _write(path, [f"id:ID({CLUSTER})", ":LABEL", "name:string", "type:string"],
           ([_quote(cid), CLUSTER, _quote(name), _quote("cluster")] for cid, name in clusters.items()))
    out.nodes.append(path)
    out.n_clusters = len(clusters)

    # Relationships, one file per (type, target kind), each with its own typed columns.
    groups: dict[tuple[str, str], list[RelationshipRecord]] = {}
    for r in relationships:
        groups.setdefault((r.type, r.target_kind), []).append(r)
    explicit_part_of: set[tuple[str, str]] = set()
    for n, ((rel_type, kind), recs) in enumerate(sorted(groups.items())):
        targets = ids if kind == ORGANIZATION else clusters
        missing = [(r.source, r.target, "source" if r.source not in ids else "target")
                   for r in recs if r.source not in ids or r.target not in targets]
        if missing:
            detail = "; ".join(f"{s} -[{rel_type}]-> {t} ({end} not in the import)" for s, t, end in missing[:20])
            raise ImportFailed(f"{len(missing)} relationship(s) point at nodes that are not in this import: {detail}. "
                               "Nothing was written.")
        rows = [relationship_row(r, import_id=import_id, imported_at=imported_at, source=source) for r in recs]
        if rel_type == "PART_OF" and kind == CLUSTER:
            explicit_part_of.update((r.source, r.target) for r in recs)
        what = f"{rel_type} relationships"
        columns = _columns((row["props"] for row in rows), frozenset(), what)
        out.empty_lists += _empty_lists(columns, len(rows), rel_type, what)
        path = folder / f"relationships-{n:02d}-{rel_type}-{kind}.csv"
        _write(path, [f":START_ID({ORGANIZATION})", f":END_ID({kind})", ":TYPE"] + [c.header() for c in columns],
               ([_quote(row["source"]), _quote(row["target"]), rel_type] + [_field(row["props"].get(c.key))
                                                                            for c in columns] for row in rows))
        out.relationships.append(path)
        out.n_relationships += len(rows)

    # Each organization's PART_OF its clusters (upsert's derived links); a PART_OF row of the
    # files for the same pair replaces it, as upsert's later write of that row does.
    part_of = [(row, c["id"]) for row in org_rows for c in row["clusters"] if (row["id"], c["id"]) not in explicit_part_of]
    if part_of:
        columns = _columns((row["partOf"] for row, _ in part_of[:1]), frozenset(), "PART_OF links")
        path = folder / "relationships-part-of.csv"
        _write(path, [f":START_ID({ORGANIZATION})", f":END_ID({CLUSTER})", ":TYPE"] + [c.header() for c in columns],
               ([_quote(row["id"]), _quote(cid), "PART_OF"] + [_field(row["partOf"].get(c.key)) for c in columns]
                for row, cid in part_of))
        out.relationships.append(path)
    out.n_part_of = len(part_of)
    return out


def bulk_load(
    store_factory: Callable[[], Any],
    organizations: Sequence[OrganizationRecord],
    relationships: Sequence[RelationshipRecord],
    *,
    source: str | None,
    neo4j_home: str | os.PathLike[str],
    neo4j_port: int,
    import_id: str | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    launcher: Path = LAUNCHER,
    log: Callable[[str], None] | None = None,
) -> ImportSummary:
    """Load ``organizations`` and ``relationships`` into the empty database of the local server
    (``scripts/neo4j-local``, home ``neo4j_home``) with Neo4j's bulk importer.

    ``store_factory()`` opens a :class:`~graph.neo4j_store.Neo4jStore` on that server; it is
    called before the import (to check that the graph is empty) and after it (to create the
    schema, set empty lists, and count what landed). The server is stopped during the import
    and started again after it, whether the import worked or not.

    Raises
    ------
    maillage.errors.ImportFailed
        The graph is not empty, the data cannot go through the importer, the importer failed
        (the previous, empty, database is back), or the counts after the import differ from
        the plan's.
    """
    say = log or (lambda _msg: None)
    import_id = import_id or uuid.uuid4().hex
    imported_at = now_iso()
    store = store_factory()
    try:
        n = store.node_count()
    finally:
        store.close()
    if n:
        raise ImportFailed(f"The bulk importer builds a database from nothing, and this one holds {n:,} node(s). "
                           "Nothing was written. Load into it with `maillage load` (without --bulk), or start from "
                           "an empty local server.")
    with tempfile.TemporaryDirectory(prefix="maillage-bulk-", dir=work_dir) as tmp:
        t = time.perf_counter()
        files = write_bulk_files(organizations, relationships, tmp, import_id=import_id, imported_at=imported_at,
                                 source=source)
        say(f"wrote the importer's files in {time.perf_counter() - t:.1f} s")
        env = dict(os.environ, MAILLAGE_NEO4J_HOME=str(neo4j_home), MAILLAGE_NEO4J_PORT=str(neo4j_port))
        t = time.perf_counter()
        proc = subprocess.run([str(launcher), "import", *files.arguments()], env=env, capture_output=True, text=True)
        say(f"neo4j-admin import and restart in {time.perf_counter() - t:.1f} s")
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise ImportFailed(f"Neo4j's bulk importer failed; the database is as it was (empty).\n{tail}")
    store = store_factory()  # creates the constraints and indexes, and waits for them
    try:
        for label, key in files.empty_lists:
            store.set_empty_lists(label, key)
        counts = store.counts()
    finally:
        store.close()
    expected_rels = files.n_relationships + files.n_part_of
    got_orgs = sum(n for t, n in counts["nodes"].items() if t != "cluster")
    got_rels = sum(counts["relationships"].values())
    if got_orgs != files.n_organizations or got_rels != expected_rels:
        raise ImportFailed(f"After the bulk import Neo4j holds {got_orgs:,} organizations and {got_rels:,} "
                           f"relationships; the import had {files.n_organizations:,} and {expected_rels:,}.")
    summary = ImportSummary(import_id=import_id, source=source, imported_at=imported_at)
    for r in organizations:
        summary.count("organizations", "created", r.type)
    for r in relationships:
        summary.count("relationships", "created", r.type)
    return summary
