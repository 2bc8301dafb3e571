"""The result tables (gaps, overlaps, duplicated structures, coverage, brokers): which columns
each shows, and how they are filtered, sorted, paginated and downloaded.

Everything happens on the server, on the cached analysis DataFrame: ``?q=`` searches the
table's text columns without regard to accents or case, ``?type=`` and ``?cluster=`` keep
rows about those stakeholder types or clusters, ``?organization=`` rows about one
organization, ``?sort=`` and ``?order=`` order them, ``?page=`` and ``?per_page=`` cut a page.
Downloads (CSV, XLSX) hold every filtered row and go through
:func:`loaders.export.safe_frame`, so that no cell starts a spreadsheet formula.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis._network import as_list
from api.services import fold
from maillage.errors import InputError, NotFound
from maillage.model import cluster_id

__all__ = ["Col", "TableSpec", "TABLES", "TableQuery", "get_spec", "apply", "export", "cell_text", "EXPORT_ROW_CAP"]

#: Most rows a download holds.
EXPORT_ROW_CAP = 100_000


@dataclass(frozen=True)
class Col:
    """One column of a table as pages show it.

    ``kind``: ``text``, ``number``, ``int``, ``list``, ``type``, ``types`` (a list of
    types), ``bool``, ``org`` (a name linked to the profile of the id in ``link``).
    """

    key: str
    fr: str
    en: str
    kind: str = "text"
    link: str | None = None
    #: For ``org`` columns: the column holding the organization's type (shown as a dot).
    type_of: str | None = None

    def label(self, lang: str) -> str:
        """Return the heading in ``lang``."""
        return self.fr if lang == "fr" else self.en


@dataclass(frozen=True)
class TableSpec:
    """A result table: its analysis, columns, default order and the columns filters look at."""

    name: str
    analysis: str
    columns: tuple[Col, ...]
    sort: str
    descending: bool = True
    type_columns: tuple[str, ...] = ()
    cluster_columns: tuple[str, ...] = ()
    id_columns: tuple[str, ...] = ()
    search_columns: tuple[str, ...] = ()
    title_key: str = ""
    intro_key: str = ""

    def shown(self, df: pd.DataFrame | list[str]) -> list[Col]:
        """Return the columns of this table that ``df`` holds (a DataFrame or column names)."""
        present = set(map(str, df.columns if isinstance(df, pd.DataFrame) else df))
        return [c for c in self.columns if c.key in present]


_SCORE = Col("score", "Score", "Score", "number")
_REASONS = Col("reasons", "Pourquoi", "Why")

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            name="gaps",
            analysis="gaps",
            columns=(
                Col("source_name", "Organisation", "Organization", "org", link="source", type_of="source_type"),
                Col("target_name", "Partenaire suggéré", "Suggested partner", "org", link="target", type_of="target_type"),
                _SCORE,
                Col("common_partners", "Partenaires communs", "Common partners", "int"),
                Col("complementarity", "Complémentarité", "Complementarity", "number"),
                Col("shared_sectors", "Secteurs communs", "Shared sectors", "list"),
                Col("shared_clusters", "Grappes communes", "Shared clusters", "list"),
                _REASONS,
            ),
            sort="score",
            type_columns=("source_type", "target_type"),
            cluster_columns=("shared_clusters", "source_clusters", "target_clusters"),
            id_columns=("source", "target"),
            search_columns=("source_name", "target_name", "reasons"),
            title_key="table.gaps.title",
            intro_key="table.gaps.intro",
        ),
        TableSpec(
            name="overlaps",
            analysis="overlaps",
            columns=(
                Col("source_name", "Organisation", "Organization", "org", link="source", type_of="source_type"),
                Col("target_name", "Chevauche", "Overlaps with", "org", link="target", type_of="target_type"),
                _SCORE,
                Col("shared_memberships", "Adhésions communes", "Shared memberships", "list"),
                Col("shared_partners", "Partenaires communs", "Shared partners", "int"),
                Col("shared_sectors", "Secteurs communs", "Shared sectors", "list"),
                Col("same_region", "Même région", "Same region", "bool"),
                Col("mandate_similarity", "Mandats semblables", "Mandate similarity", "number"),
                _REASONS,
            ),
            sort="score",
            type_columns=("source_type", "target_type"),
            cluster_columns=("shared_clusters", "clusters", "source_clusters", "target_clusters"),
            id_columns=("source", "target"),
            search_columns=("source_name", "target_name", "reasons"),
            title_key="table.overlaps.title",
            intro_key="table.overlaps.intro",
        ),
        TableSpec(
            name="duplicates",
            analysis="duplicates",
            columns=(
                Col("group", "Groupe", "Group"),
                Col("names", "Structures", "Structures", "list"),
                Col("types", "Types", "Types", "types"),
                Col("size", "Taille", "Size", "int"),
                _SCORE,
                Col("shared_members", "Membres communs", "Shared members", "int"),
                Col("member_jaccard", "Membres semblables", "Member overlap", "number"),
                Col("mandate_similarity", "Mandats semblables", "Mandate similarity", "number"),
                Col("clusters", "Grappes", "Clusters", "list"),
                _REASONS,
            ),
            sort="score",
            type_columns=("types",),
            cluster_columns=("clusters",),
            id_columns=("members",),
            search_columns=("names", "reasons"),
            title_key="table.duplicates.title",
            intro_key="table.duplicates.intro",
        ),
        TableSpec(
            name="coverage",
            analysis="coverage",
            columns=(
                Col("cluster", "Grappe", "Cluster"),
                Col("members", "Membres", "Members", "int"),
                Col("partners", "Partenaires", "Partners", "int"),
                Col("missing", "Types absents", "Missing types", "types"),
                Col("thin", "Types rares", "Thin types", "types"),
                _REASONS,
            ),
            sort="members",
            type_columns=("missing", "thin"),
            cluster_columns=("cluster",),
            search_columns=("cluster", "reasons"),
            title_key="table.coverage.title",
            intro_key="table.coverage.intro",
        ),
        TableSpec(
            name="brokers",
            analysis="brokers",
            columns=(
                Col("name", "Organisation", "Organization", "org", link="id", type_of="type"),
                Col("clusters", "Grappes", "Clusters", "list"),
                Col("degree", "Partenaires", "Partners", "int"),
                Col("betweenness", "Intermédiarité", "Betweenness", "number"),
                Col("constraint", "Contrainte", "Constraint", "number"),
                Col("effective_size", "Taille effective", "Effective size", "number"),
                Col("n_clusters_bridged", "Grappes reliées", "Clusters bridged", "int"),
                Col("clusters_bridged", "Lesquelles", "Which", "list"),
                Col("is_articulation_point", "Point de rupture", "Cut point", "bool"),
            ),
            sort="betweenness",
            type_columns=("type",),
            cluster_columns=("clusters",),
            id_columns=("id",),
            search_columns=("name",),
            title_key="table.brokers.title",
            intro_key="table.brokers.intro",
        ),
    )
}


def get_spec(name: str) -> TableSpec:
    """Return the table called ``name``.

    Raises
    ------
    maillage.errors.NotFound
        No such table.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise NotFound(f'No table is called "{name}"; the tables are {", ".join(TABLES)}.') from None


@dataclass
class TableQuery:
    """A table request: filters and order (pagination is separate, see :class:`api.deps.Paging`)."""

    q: str = ""
    types: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    organization: str | None = None
    sort: str | None = None
    order: str | None = None

    def key(self) -> tuple:
        """Return a hashable key of the query (for the cache of pages)."""
        return (self.q, tuple(self.types), tuple(self.clusters), self.organization, self.sort, self.order)

    def as_dict(self) -> dict[str, Any]:
        """Return the query as JSON-friendly values."""
        return {"q": self.q, "type": self.types, "cluster": self.clusters, "organization": self.organization,
                "sort": self.sort, "order": self.order}


def _any_matches(values: Any, wanted: set[str], norm) -> bool:
    return bool(wanted & {norm(v) for v in as_list(values) if v is not None})


def _sort_key(series: pd.Series) -> pd.Series:
    """Order numbers as numbers, texts without regard to accents, lists by length."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series
    return series.map(lambda v: (len(v), fold(", ".join(map(str, v)))) if isinstance(v, (list, tuple))
                      else (0, "") if v is None or (isinstance(v, float) and v != v) else (0, fold(v)))


def apply(df: pd.DataFrame, spec: TableSpec, query: TableQuery) -> pd.DataFrame:
    """Return the rows of ``df`` that ``query`` keeps, in its order.

    Raises
    ------
    maillage.errors.InputError
        ``sort`` names a column the table does not have, or ``order`` is not asc/desc.
    """
    out = df
    if query.q.strip():
        needle = fold(query.q)
        columns = [c for c in spec.search_columns if c in out.columns]
        if columns:
            mask = pd.Series(False, index=out.index)
            for c in columns:
                mask |= out[c].map(lambda v: needle in fold(", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)).astype(bool)
            out = out[mask.astype(bool)]
    if query.types:
        wanted = {t.strip().lower() for t in query.types if t.strip()}
        columns = [c for c in spec.type_columns if c in out.columns]
        if columns and wanted:
            mask = pd.Series(False, index=out.index)
            for c in columns:
                mask |= out[c].map(lambda v: _any_matches(v, wanted, lambda x: str(x).lower()) or (v is None and "unknown" in wanted)).astype(bool)
            out = out[mask.astype(bool)]
    if query.clusters:
        wanted = {cluster_id(c) for c in query.clusters if c.strip()}
        columns = [c for c in spec.cluster_columns if c in out.columns]
        if columns and wanted:
            mask = pd.Series(False, index=out.index)
            for c in columns:
                mask |= out[c].map(lambda v: _any_matches(v, wanted, lambda x: cluster_id(str(x)))).astype(bool)
            out = out[mask.astype(bool)]
    if query.organization:
        columns = [c for c in spec.id_columns if c in out.columns]
        mask = pd.Series(False, index=out.index)
        for c in columns:
            mask |= out[c].map(lambda v: query.organization in [str(x) for x in as_list(v)]).astype(bool)
        out = out[mask.astype(bool)]
    sort = query.sort or spec.sort
    if sort not in out.columns:
        if query.sort:
            raise InputError(f'Cannot sort by "{query.sort}": this table has {", ".join(map(str, df.columns))}.')
        return out
    if query.order not in (None, "", "asc", "desc"):
        raise InputError(f'order must be "asc" or "desc", not "{query.order}".')
    descending = spec.descending if not query.order else query.order == "desc"
    if query.sort and not query.order:
        descending = pd.api.types.is_numeric_dtype(out[sort]) or pd.api.types.is_bool_dtype(out[sort])
    return out.sort_values(sort, ascending=not descending, na_position="last", kind="stable", key=_sort_key)


def cell_text(value: Any) -> str:
    """Return a cell as plain text for a download: lists joined by "; ", nothing for NaN.

    Examples
    --------
    >>> cell_text(["a", "b"]), cell_text(float("nan")), cell_text(0.5)
    ('a; b', '', '0.5')
    """
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return "; ".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, float) and value != value:
        return ""
    return str(value)


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with list and dict cells turned into text (spreadsheets hold no lists)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: cell_text(v) if isinstance(v, (list, tuple, set, dict)) or v is None else v)
    out.columns = [str(c) for c in out.columns]
    return out


def export(df: pd.DataFrame, fmt: str, *, name: str, sheet: str | None = None) -> tuple[bytes, str, str]:
    """Return ``(content, media type, file name)`` of a table downloaded as CSV or XLSX.

    Every text cell goes through :func:`loaders.export.safe_frame`: a value such as
    ``=HYPERLINK(...)`` reaches the spreadsheet as text, not as a formula.

    Raises
    ------
    maillage.errors.InputError
        ``fmt`` is neither ``csv`` nor ``xlsx``.
    """
    from loaders.export import safe_frame

    frame = safe_frame(_flat(df.head(EXPORT_ROW_CAP)))
    if fmt == "csv":
        # UTF-8 with a byte order mark: Excel then reads accents right.
        return frame.to_csv(index=False).encode("utf-8-sig"), "text/csv; charset=utf-8", f"{name}.csv"
    if fmt == "xlsx":
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame.to_excel(writer, index=False, sheet_name=(sheet or name)[:31])
        return (
            buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{name}.xlsx",
        )
    raise InputError(f'Unknown download format "{fmt}": use csv or xlsx.')
