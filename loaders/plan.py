"""Preparing an import: files read, every record validated, duplicates found, nothing written.

:func:`prepare_import` is the loaders' one entry point for the CLI and the web view::

    plan = prepare_import(paths, known_ids=store.existing_ids,
                          known_organizations=store.organization_names)
    summary = store.upsert(organizations=plan.organizations,
                           relationships=plan.relationships, source=plan.source)

It either returns an :class:`ImportPlan` that the store can write as it is, or raises
:class:`~maillage.errors.ValidationFailed` listing every problem found in every file, before
anything is written. The same files always give the same plan (same records, same order,
same rows), which with the store's matching on ids makes a second import a no-op.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loaders._problems import ProblemLog
from loaders.limits import DEFAULT_LIMITS, Limits
from loaders.read import FileInfo, InputFile, read_inputs
from loaders.records import RelationshipColumns, TableRecords, table_records
from loaders.vocabulary import fold
from maillage.errors import Problem, ValidationFailed
from maillage.model import CLUSTER, ORGANIZATION, OrganizationRecord, RelationshipRecord, cluster_id
from maillage.names import DEFAULT_THRESHOLD, DUPLICATE_COLUMNS, find_duplicate_records

__all__ = ["ImportPlan", "prepare_import", "DUPLICATE_REPORT_COLUMNS"]

#: Columns of :attr:`ImportPlan.duplicates`.
DUPLICATE_REPORT_COLUMNS = DUPLICATE_COLUMNS + ["source_a", "row_a", "source_b", "row_b", "merged"]

KnownIds = Callable[[Iterable[str]], set[str]]
KnownOrganizations = Callable[[], Iterable[tuple[str, str, str]]]


@dataclass
class ImportPlan:
    """Validated records ready for :meth:`graph.base.Store.upsert`, and what was noticed.

    Attributes
    ----------
    organizations : list of OrganizationRecord
        In file order, then row order.
    relationships : list of RelationshipRecord
        Ends resolved to ids; ``PART_OF`` rows point at a ``Cluster`` (``target_kind``).
    source : str
        A label for the import, stable from one import of the same files to the next (the
        file's name, a folder's name with ``/``, or names joined with `` + ``); the store
        uses it for ``replace_source``.
    files : list of FileInfo
        What was read from each file (format, encoding, delimiter, tables and rows).
    duplicates : pandas.DataFrame
        Probable duplicate records (:data:`DUPLICATE_REPORT_COLUMNS`): ``id_a``,
        ``name_a``, ``id_b``, ``name_b``, ``score`` (0–100), ``where`` (``"file"`` when
        both are in the files, ``"graph"`` when ``b`` is already stored), the file and row
        of each (``None`` for a stored record), and whether they were ``merged``.
    warnings : list of Problem
        Things changed or ignored that the user should know (control characters removed,
        a sheet ignored, a repeated relationship kept once, duplicates merged ...).
    """

    organizations: list[OrganizationRecord]
    relationships: list[RelationshipRecord]
    source: str
    files: list[FileInfo] = field(default_factory=list)
    duplicates: pd.DataFrame = field(default_factory=lambda: _empty_duplicates())
    warnings: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """Return ``{"organizations": {type: n}, "relationships": {TYPE: n}}``, sorted.

        Examples
        --------
        >>> from maillage.model import OrganizationRecord
        >>> plan = ImportPlan([OrganizationRecord("a", "A", "company")], [], "x.csv")
        >>> plan.counts()
        {'organizations': {'company': 1}, 'relationships': {}}
        """
        orgs: dict[str, int] = {}
        for o in self.organizations:
            orgs[o.type] = orgs.get(o.type, 0) + 1
        rels: dict[str, int] = {}
        for r in self.relationships:
            rels[r.type] = rels.get(r.type, 0) + 1
        return {"organizations": dict(sorted(orgs.items())),
                "relationships": dict(sorted(rels.items()))}


def _empty_duplicates() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else bool if c == "merged"
                                      else object) for c in DUPLICATE_REPORT_COLUMNS})


def _as_list(paths: Any) -> list[Any]:
    if isinstance(paths, (str, bytes, os.PathLike, InputFile)):
        return [paths]
    return list(paths)


def _source_label(paths: list[Any]) -> str:
    names = []
    for p in paths:
        if isinstance(p, InputFile):
            names.append(os.path.basename(p.name.replace("\\", "/")) or "upload")
            continue
        path = Path(os.fsdecode(p))
        names.append(path.resolve().name + "/" if path.is_dir() else path.name)
    return " + ".join(names)


def prepare_import(
    paths: Any,
    *,
    known_ids: KnownIds | None = None,
    known_organizations: KnownOrganizations | None = None,
    merge_duplicates: bool = False,
    duplicate_threshold: float = DEFAULT_THRESHOLD,
    limits: Limits | None = None,
    source: str | None = None,
) -> ImportPlan:
    """Read, validate and prepare files for import, or refuse them with every problem.

    Parameters
    ----------
    paths : str, PathLike, InputFile, or an iterable of them
        CSV, XLSX, JSON or JSON Lines files, folders of such files, or uploads. Which
        table holds organizations and which relationships is told by its headers.
    known_ids : callable, optional
        ``known_ids(ids) -> set`` of the ids the graph already holds (organizations or
        clusters), e.g. ``store.existing_ids``: relationship ends not in the files are
        looked up there, in one call.
    known_organizations : callable, optional
        ``known_organizations() -> [(id, name, type)]`` of the graph, e.g.
        ``store.organization_names``: for probable duplicates of stored records, and for
        relationship ends given by a stored organization's name.
    merge_duplicates : bool, default False
        Merge each group of probable duplicates into one record (the stored one when
        there is one, else the first in the files), keeping the provenance of the others
        in the ``mergedFrom`` (ids) and ``mergedFromSource`` (``"file row N"``) properties
        and pointing their relationships at it. Off by default: duplicates are reported.
    duplicate_threshold : float, default 90
        Least name similarity (0–100) of a probable duplicate.
    limits : Limits, optional
        Size bounds (default :data:`~loaders.limits.DEFAULT_LIMITS`).
    source : str, optional
        The import's label; by default derived from the paths.

    Returns
    -------
    ImportPlan

    Raises
    ------
    maillage.errors.ValidationFailed
        When any file has any error; ``problems`` lists them all (file, spreadsheet row,
        column, what was expected), and the exception's ``warnings`` attribute the warnings.

    Examples
    --------
    >>> csv_text = "identifiant;nom;type\\nUDEM;Université de Montréal;université\\n"
    >>> plan = prepare_import(InputFile("membres.csv", csv_text.encode("cp1252")))
    >>> plan.organizations[0]
    OrganizationRecord(id='UDEM', name='Université de Montréal', type='institution', \
sectors=(), clusters=(), region=None, mandate=None, extra={'typeLabel': 'université'}, \
source_file='membres.csv', row=2)
    >>> bad = "id,name,type\\nA,Acme,fondation\\n"
    >>> prepare_import(InputFile("bad.csv", bad.encode()))
    Traceback (most recent call last):
    ...
    maillage.errors.ValidationFailed: 1 problem(s) found, nothing was written:
      - bad.csv, row 2, column "type": unknown type "fondation": ...
    """
    # Millions of records are made here and none is garbage: the cyclic collector would
    # walk them all again and again (a quarter of the time at a million organizations).
    with _collector_paused():
        return _prepare(paths, known_ids=known_ids, known_organizations=known_organizations,
                        merge_duplicates=merge_duplicates,
                        duplicate_threshold=duplicate_threshold, limits=limits, source=source)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _prepare(paths: Any, *, known_ids: KnownIds | None,
             known_organizations: KnownOrganizations | None, merge_duplicates: bool,
             duplicate_threshold: float, limits: Limits | None, source: str | None
             ) -> ImportPlan:
    limits = limits or DEFAULT_LIMITS
    paths = _as_list(paths)
    log = ProblemLog(limits.max_problems)
    files, tables = read_inputs(paths, limits=limits, log=log)

    results: list[TableRecords] = []
    for t in tables:
        if log.full:
            break
        if t.kind is None:
            log.error(t.label, 1, None,
                      "cannot tell whether this table holds organizations or relationships: "
                      "organizations need the columns id, name, type (identifiant, nom, type); "
                      "relationships need source, target, relationship (source, cible, "
                      f"relation); found: {', '.join(h for h in t.headers if h) or 'nothing'}")
            continue
        if not len(t.rows):
            log.warn(t.label, None, None, "has a header but no data rows")
        results.append(table_records(t, limits=limits, log=log))
    del tables

    organizations = [o for r in results for o in r.organizations]
    parsed = [r.relationships for r in results if r.relationships is not None]
    id_columns = {o.source_file: r.id_column for r in results for o in r.organizations[:1]}
    del results
    known_orgs = list(known_organizations()) if known_organizations is not None else []

    _check_ids(organizations, id_columns, known_orgs, log)
    resolved = _resolve(parsed, organizations, known_ids, known_orgs, log)
    del parsed
    relationships = _dedupe_columns(resolved, log)
    del resolved
    if not log.errors and not organizations and not relationships:
        log.error(_source_label(paths) or "import", None, None,
                  "nothing to import: the files hold no organization and no relationship")
    log.finish()
    if log.errors:
        err = ValidationFailed(log.errors)
        err.warnings = log.warnings  # type: ignore[attr-defined]
        raise err

    duplicates = _duplicates(organizations, known_orgs, duplicate_threshold)
    if merge_duplicates and len(duplicates):
        organizations, relationships, duplicates = _merge(
            organizations, relationships, duplicates, known_orgs, log)
        log.finish()
    return ImportPlan(
        organizations=organizations,
        relationships=relationships,
        source=source or _source_label(paths),
        files=files,
        duplicates=duplicates,
        warnings=list(log.warnings),
    )


# ---- ids ------------------------------------------------------------------------------------

def _id_key(id_: str) -> str:
    """What two ids must not share: the id without case, accents or spaces."""
    return "".join(fold(id_).split())


def _where(o: OrganizationRecord) -> str:
    return f"{o.source_file} row {o.row}"


def _check_ids(orgs: list[OrganizationRecord], id_columns: dict[str, str],
               known: list[tuple[str, str, str]], log: ProblemLog) -> None:
    """Every id once; no two ids equal once case, accents and spaces are ignored."""
    ids = pd.Series([o.id for o in orgs], dtype=object)
    ids = ids[ids != ""]
    # Each id once, in order of first appearance, with the position of its first record.
    firsts = ids.drop_duplicates()
    first_at: dict[str, int] = {}

    def first(id_: str) -> OrganizationRecord:
        if not first_at:  # only for the few ids a problem is about
            first_at.update(zip(firsts.tolist(), firsts.index.tolist()))
        return orgs[first_at[id_]]

    def column(o: OrganizationRecord) -> str:
        return id_columns.get(o.source_file or "", "id")

    repeated = ids.duplicated(keep=False)
    if repeated.any():
        by_id: dict[str, list[OrganizationRecord]] = {}
        for at in ids.index[repeated.to_numpy()].tolist():
            by_id.setdefault(orgs[at].id, []).append(orgs[at])
        for id_, group in by_id.items():
            for o in group:
                others = ", ".join(_where(x) for x in group if x is not o)
                log.error(o.source_file or "", o.row, column(o),
                          f'duplicate id "{id_}": also on {others}; each organization needs '
                          "its own id (merge the rows, or give one a new id)")
    distinct = firsts.tolist()
    keys = [_id_key(i) for i in distinct]
    key_repeated = pd.Series(keys, dtype=object).duplicated(keep=False).to_numpy()
    if key_repeated.any():
        by_key: dict[str, list[str]] = {}
        for at in np.flatnonzero(key_repeated).tolist():
            by_key.setdefault(keys[at], []).append(distinct[at])
        for key, same in by_key.items():
            for id_ in same:
                o = first(id_)
                others = ", ".join(f'"{x}" ({_where(first(x))})' for x in same if x != id_)
                log.error(o.source_file or "", o.row, column(o),
                          f'id "{id_}" differs from {others} only by case, accents or spaces; '
                          "use one spelling if they are the same organization, else clearly "
                          "different ids")
    if known:
        stored: dict[str, str] = {}
        for kid, _, _ in known:
            stored.setdefault(_id_key(str(kid)), str(kid))
        for id_, key in zip(distinct, keys):
            other = stored.get(key)
            if other is not None and other != id_:
                o = first(id_)
                log.warn(o.source_file or "", o.row, column(o),
                         f'id "{id_}" differs from the stored id "{other}" only by case, accents '
                         "or spaces: it will be a new organization; use the stored spelling if "
                         "it is the same one")


# ---- relationship ends ------------------------------------------------------------------------

def _name_key(name: str) -> str:
    return " ".join(fold(name).split())


@dataclass
class _Resolved:
    """The rows of one relationship table whose ends were found, and those ends."""

    table: RelationshipColumns
    at: np.ndarray       # positions of the rows in the table
    source: np.ndarray   # resolved source ids (object)
    target: np.ndarray   # resolved target ids (object): an organization's, or a cluster's
    cluster: np.ndarray  # whether the target is a cluster (bool)

    def __len__(self) -> int:
        return len(self.at)


def _used(codes: np.ndarray, where: np.ndarray, size: int) -> list[int]:
    """The distinct values (codes) used on the rows ``where``."""
    return np.flatnonzero(np.bincount(codes[where], minlength=size)).tolist()


def _resolve(tables: list[RelationshipColumns], orgs: list[OrganizationRecord],
             known_ids: KnownIds | None, known: list[tuple[str, str, str]],
             log: ProblemLog) -> list[_Resolved]:
    """Resolve every relationship end to an organization id (or a cluster id for PART_OF).

    An end is, in this order: an id in the files; an id in the graph; the exact name
    (ignoring case, accents and spacing) of one organization in the files, then in the
    graph. Anything else is an error, with a hint when an id differs only by case. Each
    distinct end is looked up once; problems are logged row by row, in file order.
    """
    file_ids = {o.id for o in orgs if o.id}
    file_clusters = {cluster_id(c) for c in {c for o in orgs for c in o.clusters}}
    clusters_of: dict[str, str] = {}

    def cluster_of(value: str) -> str:
        cid = clusters_of.get(value)
        if cid is None:
            cid = clusters_of[value] = cluster_id(value)
        return cid

    wanted: set[str] = set()
    for t in tables:
        typed = t.type != ""
        part_of = t.type == "PART_OF"
        for k in _used(t.source.codes, typed, len(t.source.values)):
            v = t.source.values[k]
            if v and v not in file_ids:
                wanted.add(v)
        for k in _used(t.target.codes, part_of, len(t.target.values)):
            v = t.target.values[k]
            if v:
                cid = cluster_of(v)
                if cid and cid not in file_clusters:
                    wanted.add(cid)
        for k in _used(t.target.codes, typed & ~part_of, len(t.target.values)):
            v = t.target.values[k]
            if v and v not in file_ids:
                wanted.add(v)
    stored: set[str] = set(known_ids(sorted(wanted))) if (known_ids and wanted) else set()
    # known_ids answers for clusters too; when the stored organizations are known, an
    # organization end must be one of them (a cluster is only a PART_OF target).
    stored_orgs = {str(k) for k, _, _ in known} if known else None

    # Ends given by name (and hints for mistyped ids) are rare: their tables are built at the
    # first such end.
    lookups: dict[str, Any] = {}

    def by_name_tables() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
        if not lookups:
            names: dict[str, list[str]] = {}
            for o in orgs:
                if o.name and o.id:
                    ids = names.setdefault(_name_key(o.name), [])
                    if o.id not in ids:
                        ids.append(o.id)
            stored_names: dict[str, list[str]] = {}
            for kid, kname, _ in known:
                if kname:
                    stored_names.setdefault(_name_key(str(kname)), []).append(str(kid))
            id_keys: dict[str, str] = {}
            for i in sorted(file_ids):
                id_keys.setdefault(_id_key(i), i)
            lookups["tables"] = (names, stored_names, id_keys)
        return lookups["tables"]

    def org_end(value: str) -> tuple[str | None, bool, str | None]:
        """``(id, matched by name, problem)`` of an organization end."""
        if value in file_ids:
            return value, False, None
        if value in stored:
            if stored_orgs is None or value in stored_orgs:
                return value, False, None
            return None, False, (f'"{value}" is a cluster, not an organization: only a PART_OF '
                                 "relationship (fait partie de) can point at a cluster")
        names, stored_names, id_keys = by_name_tables()
        key = _name_key(value)
        for table in (names, stored_names):
            ids = table.get(key)
            if ids and len(ids) == 1:
                return ids[0], True, None
            if ids:
                return None, False, (f'"{value}" is the name of several organizations '
                                     f'({", ".join(ids)}): give the id instead')
        near = id_keys.get(_id_key(value))
        hint = f' Did you mean "{near}"?' if near else ""
        return None, False, (f'no organization "{value}" in the files or in the graph: give the '
                             "id (or the exact name) of an organization listed in the files or "
                             f"already imported.{hint}")

    def ends(values: list[str], codes: np.ndarray, where: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
        """Each row's organization id (None when not found), whether it was found by name,
        and each distinct value's problem."""
        found = np.full(len(values), None, dtype=object)
        named = np.zeros(len(values), bool)
        problem: list[str | None] = [None] * len(values)
        for k in _used(codes, where, len(values)):
            found[k], named[k], problem[k] = org_end(values[k])
        return found[codes], named[codes] & where, problem

    out: list[_Resolved] = []
    by_name: dict[str, int] = {}
    example: dict[str, str] = {}
    for t in tables:
        n = len(t)
        if log.full or not n:
            if log.full:
                break
            continue
        part_of = t.type == "PART_OF"
        filled_source = np.fromiter(map(bool, t.source.values), bool, len(t.source.values))
        filled_target = np.fromiter(map(bool, t.target.values), bool, len(t.target.values))
        # Rows missing an end or a type were reported already.
        considered = (t.type != "") & filled_source[t.source.codes] & \
            filled_target[t.target.codes]
        source, source_named, source_problem = ends(t.source.values, t.source.codes, considered)
        other, target_named, target_problem = ends(t.target.values, t.target.codes,
                                                   considered & ~part_of)
        # PART_OF points at a cluster.
        cluster = np.full(len(t.target.values), None, dtype=object)
        for k in _used(t.target.codes, considered & part_of, len(t.target.values)):
            cid = cluster_of(t.target.values[k])
            if cid and (cid in file_clusters or cid in stored):
                cluster[k] = cid
        target = np.where(part_of, cluster[t.target.codes], other)
        source_found = np.not_equal(source, None)
        target_found = np.not_equal(target, None)
        self_loop = considered & ~part_of & source_found & target_found & (source == target)
        wrong = considered & (~source_found | ~target_found | self_loop)
        # Problems row by row, as a reading row by row finds them; it stops at the first row
        # that begins with the log full.
        cut = n
        last = -1
        for i in np.flatnonzero(wrong).tolist():
            if log.full:
                cut = last + 1
                break
            last = i
            row = int(t.rows[i])
            s, g = int(t.source.codes[i]), int(t.target.codes[i])
            if not source_found[i]:
                log.error(t.label, row, t.source_column, source_problem[s])  # type: ignore
            if part_of[i]:
                if not target_found[i]:
                    log.error(t.label, row, t.target_column,
                              f'no cluster "{t.target.values[g]}": PART_OF must point at a '
                              "cluster named in an organization's \"clusters\" (grappes) "
                              "column, or already in the graph")
            elif not target_found[i]:
                log.error(t.label, row, t.target_column, target_problem[g])  # type: ignore
            elif self_loop[i]:
                log.error(t.label, row, t.target_column,
                          f'"{t.target.values[g]}" is linked to itself: a relationship needs '
                          "two different organizations")
        else:
            if log.full:
                cut = last + 1
        named = (source_named | target_named)[:cut]
        if named.any():
            first = int(np.argmax(named))
            which, codes = (source, t.source.codes) if source_named[first] else \
                (target, t.target.codes)
            value = (t.source.values if which is source else t.target.values)[codes[first]]
            by_name[t.label] = by_name.get(t.label, 0) + int(source_named[:cut].sum()) + \
                int(target_named[:cut].sum())
            example.setdefault(t.label, f'row {int(t.rows[first])}: "{value}" → {which[first]}')
        keep = np.flatnonzero((considered & ~wrong)[:cut])
        out.append(_Resolved(t, keep, source[keep], target[keep], part_of[keep]))
    for label, count in by_name.items():
        log.warn(label, None, None, f"{count} relationship end(s) given by name were matched to "
                 f"the organization of that name (e.g. {example[label]})")
    return out


_RECORDS_AT_ONCE = 1 << 20  # relationship records made per batch (bounds the lists made)
_KINDS = np.array([ORGANIZATION, CLUSTER], dtype=object)


def _dedupe_columns(resolved: list[_Resolved], log: ProblemLog) -> list[RelationshipRecord]:
    """The records of the resolved relationships, each relationship once (see :func:`_dedupe`).

    Relationships are compared as integers (their ends' and type's codes), so that ten
    million rows take seconds; only repeats are looked at one by one.
    """
    resolved = [r for r in resolved if len(r)]
    if not resolved:
        return []
    sizes = np.array([len(r) for r in resolved])
    source = np.concatenate([r.source for r in resolved])
    target = np.concatenate([r.target for r in resolved])
    types = np.concatenate([r.table.type[r.at] for r in resolved])
    n = len(source)
    ends, _ = pd.factorize(np.concatenate([source, target]))
    a, b = ends[:n].astype(np.int64), ends[n:].astype(np.int64)
    type_code, type_names = pd.factorize(types)
    partners = type_code == (list(type_names).index("PARTNERS_WITH")
                             if "PARTNERS_WITH" in type_names else -2)
    # A partnership has no direction: A → B and B → A are one.
    a, b = np.where(partners, np.minimum(a, b), a), np.where(partners, np.maximum(a, b), b)
    width = int(ends.max()) + 1
    key, _ = pd.factorize((type_code.astype(np.int64) * width + a) * width + b)
    # factorize numbers keys in order of first appearance: a row whose key is new holds the
    # running maximum and raises it.
    top = np.maximum.accumulate(key)
    first = np.r_[True, top[1:] > top[:-1]]
    first_at = np.flatnonzero(first)
    table_of = np.repeat(np.arange(len(resolved)), sizes)
    offset = np.r_[0, np.cumsum(sizes)]

    def record(i: int) -> RelationshipRecord:
        r = resolved[int(table_of[i])]
        j = int(r.at[i - offset[table_of[i]]])
        t = r.table
        return RelationshipRecord(
            source=source[i], target=target[i], type=t.type[j], weight=t.weight[j],
            since=t.since[j], until=t.until[j], extra=t.extra[j] if t.extra is not None else {},
            source_file=t.label, row=int(t.rows[j]),
            target_kind=CLUSTER if r.cluster[i - offset[table_of[i]]] else ORGANIZATION)

    for i in np.flatnonzero(~first).tolist():
        _report_repeat(record(int(first_at[key[i]])), record(i), log)

    out: list[RelationshipRecord] = []
    for k, r in enumerate(resolved):
        t = r.table
        kept = np.flatnonzero(first[offset[k]:offset[k + 1]])
        for lo in range(0, len(kept), _RECORDS_AT_ONCE):
            part = kept[lo:lo + _RECORDS_AT_ONCE]
            at = r.at[part]
            m = len(part)
            out.extend(map(
                RelationshipRecord, r.source[part].tolist(), r.target[part].tolist(),
                t.type[at].tolist(), t.weight[at].tolist(), t.since[at].tolist(),
                t.until[at].tolist(),
                [t.extra[j] for j in at.tolist()] if t.extra is not None else
                [{} for _ in range(m)],
                itertools.repeat(t.label, m), t.rows[at].tolist(),
                _KINDS[r.cluster[part].astype(np.intp)].tolist()))
    return out


def _dedupe(rels: list[RelationshipRecord], log: ProblemLog) -> list[RelationshipRecord]:
    """Keep one of each relationship; a repeat with other values is an error.

    A relationship is ``(source, type, target)``; a partnership has no direction, so
    ``(a, PARTNERS_WITH, b)`` and ``(b, PARTNERS_WITH, a)`` are one.
    """
    first: dict[tuple[str, str, str], RelationshipRecord] = {}
    out = []
    for r in rels:
        ends = (r.source, r.target)
        if r.type == "PARTNERS_WITH":
            ends = tuple(sorted(ends))  # type: ignore[assignment]
        key = (ends[0], r.type, ends[1])
        seen = first.get(key)
        if seen is None:
            first[key] = r
            out.append(r)
            continue
        _report_repeat(seen, r, log)
    return out


def _report_repeat(seen: RelationshipRecord, r: RelationshipRecord, log: ProblemLog) -> None:
    """Log ``r``, a repeat of the relationship ``seen``: a warning when its values are the
    same (kept once), an error when they differ."""
    same = (seen.weight, seen.since, seen.until, dict(seen.extra)) == (r.weight, r.since, r.until, dict(r.extra))
    where = f"{seen.source_file} row {seen.row}"
    if same:
        log.warn(r.source_file or "", r.row, None,
                 f"repeats the {r.type} relationship of {where}; kept once",
                 kind="repeated relationship")
    else:
        log.error(r.source_file or "", r.row, None,
                  f"the {r.type} relationship {r.source} → {r.target} is also on {where} "
                  "with different values (weight, dates or other columns); keep one row")


# ---- duplicates -------------------------------------------------------------------------------

def _duplicates(orgs: list[OrganizationRecord], known: list[tuple[str, str, str]],
                threshold: float) -> pd.DataFrame:
    pairs = find_duplicate_records([(o.id, o.name) for o in orgs],
                                   known=[(str(k), str(n)) for k, n, _ in known],
                                   threshold=threshold)
    if not len(pairs):
        return _empty_duplicates()
    where = {o.id: (o.source_file, o.row) for o in orgs}
    pairs["source_a"] = [where[i][0] for i in pairs["id_a"]]
    pairs["row_a"] = [where[i][1] for i in pairs["id_a"]]
    in_file = pairs["where"] == "file"
    pairs["source_b"] = [where[i][0] if f else None for i, f in zip(pairs["id_b"], in_file)]
    pairs["row_b"] = [where[i][1] if f else None for i, f in zip(pairs["id_b"], in_file)]
    pairs["row_a"] = pairs["row_a"].astype(object)
    pairs["row_b"] = pairs["row_b"].astype(object)
    pairs["merged"] = False
    return pairs[DUPLICATE_REPORT_COLUMNS].reset_index(drop=True)


def _merge(orgs: list[OrganizationRecord], rels: list[RelationshipRecord],
           duplicates: pd.DataFrame, known: list[tuple[str, str, str]], log: ProblemLog
           ) -> tuple[list[OrganizationRecord], list[RelationshipRecord], pd.DataFrame]:
    """Merge each connected group of duplicate pairs into one record."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for a, b in zip(duplicates["id_a"], duplicates["id_b"]):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    position = {o.id: i for i, o in enumerate(orgs)}
    stored_name = {str(k): str(n) for k, n, _ in known}
    # Stored members of a group in order of their best pair (duplicates are sorted by score).
    stored_order: dict[str, int] = {}
    for b, w in zip(duplicates["id_b"], duplicates["where"]):
        if w == "graph":
            stored_order.setdefault(b, len(stored_order))
    groups: dict[str, list[str]] = {}
    for i in sorted(set(parent) | set(parent.values())):
        groups.setdefault(find(i), []).append(i)

    by_id = {o.id: o for o in orgs}
    replaced: dict[str, str] = {}
    merged_records: dict[str, OrganizationRecord] = {}
    for members in groups.values():
        in_files = sorted((m for m in members if m in position), key=position.__getitem__)
        stored = sorted((m for m in members if m not in position), key=stored_order.__getitem__)
        if not in_files:
            continue
        base = by_id[in_files[0]]
        survivor = stored[0] if stored else base.id
        merged_away = [m for m in in_files if m != survivor]
        records = [by_id[m] for m in in_files]
        types = sorted({r.type for r in records})
        if len(types) > 1:
            log.warn(base.source_file or "", base.row, None,
                     f"merged records of different types ({', '.join(types)}); kept "
                     f'"{base.type}"')
        extra: dict[str, Any] = {}
        for r in records:
            for k, v in r.extra.items():
                extra.setdefault(k, v)
        extra["mergedFrom"] = merged_away
        extra["mergedFromSource"] = [_where(by_id[m]) for m in merged_away]
        merged = replace(
            base,
            id=survivor,
            name=stored_name[survivor] if stored else base.name,
            sectors=tuple(dict.fromkeys(s for r in records for s in r.sectors)),
            clusters=tuple(dict.fromkeys(c for r in records for c in r.clusters)),
            region=next((r.region for r in records if r.region), None),
            mandate=next((r.mandate for r in records if r.mandate), None),
            extra=extra,
        )
        merged_records[base.id] = merged
        for m in merged_away:
            replaced[m] = survivor
        names = ", ".join(f'"{by_id[m].name}" ({_where(by_id[m])})' for m in merged_away)
        into = f'the stored "{merged.name}" ({survivor})' if stored else \
            f'"{merged.name}" ({survivor}, {_where(base)})'
        log.warn(base.source_file or "", base.row, None, f"merged {names} into {into}")
        if len(stored) > 1:
            log.warn(base.source_file or "", base.row, None,
                     f"the graph already holds probable duplicates {', '.join(stored)}: "
                     "an import does not merge stored records; review them in the graph")

    kept: list[OrganizationRecord] = []
    for o in orgs:
        if o.id in merged_records:
            kept.append(merged_records[o.id])
        elif o.id not in replaced:
            kept.append(o)
    rewired: list[RelationshipRecord] = []
    for r in rels:
        source = replaced.get(r.source, r.source)
        target = replaced.get(r.target, r.target) if r.target_kind == ORGANIZATION else r.target
        if r.target_kind == ORGANIZATION and source == target:
            log.warn(r.source_file or "", r.row, None,
                     f"dropped: after merging duplicates this {r.type} relationship links "
                     f'"{source}" to itself')
            continue
        rewired.append(replace(r, source=source, target=target))
    duplicates = duplicates.copy()
    duplicates["merged"] = True
    return kept, _dedupe(rewired, log), duplicates
