"""Export a snapshot graph for Gephi, Cytoscape, networkx, spreadsheets, or a re-import.

:func:`export_graph` writes a snapshot (:meth:`graph.base.Store.snapshot`, or any networkx
graph) in one of five formats:

``graphml``
    GraphML, read by Gephi, Cytoscape, yEd and ``nx.read_graphml``. Edge ids are ``0, 1, ...``
    (GraphML wants them unique; a snapshot keys edges by relationship type).
``gexf``
    GEXF 1.2, Gephi's own format, read by ``nx.read_gexf``. The relationship type is also the
    networkx edge key (column ``networkx_key`` in Gephi).
``json``
    networkx *node-link* JSON whose nodes and edges are the rows of the import format, so
    that it re-imports both ways: ``nx.node_link_graph(data, edges="edges")`` reads it, and
    so does ``maillage load`` (its JSON reader takes ``nodes``/``edges`` lists). The document
    is ``{"directed", "multigraph", "graph", "nodes": [...], "edges": [...]}``; a node is
    ``{"id", "name", "type", "sectors": [...], "clusters": [...], ...}`` and an edge
    ``{"source", "target", "key", "relationship", ...}``. Cluster nodes and ``PART_OF`` edges
    are left out, as in CSV: each organization lists its clusters.
``csv``
    A folder (or a ``.zip``) holding ``nodes.csv`` and ``edges.csv`` in the import format of
    ``maillage load``: ``id, name, type, sectors, clusters, region, mandate, extras...`` and
    ``source, target, relationship, weight, since, until, extras...``. Cluster nodes and
    ``PART_OF`` edges are not listed: they follow from the ``clusters`` column on re-import.
    UTF-8 with a byte-order mark, so that Excel shows accents right.
``xlsx``
    One workbook with the sheets ``Organizations`` and ``Relationships``, laid out as the CSV
    files.

What every format shares:

* The edge attribute ``type`` is written ``relationship`` (the import column; GEXF also
  reserves ``type`` for edge direction).
* Provenance is written ``provenanceSource``, ``provenanceRow``, ``provenanceImportId`` and
  ``provenanceImportedAt``: an edge's provenance ``source`` would collide with the edge's own
  ``source`` end in every edge list, and a re-import records its own provenance under the
  plain names. ``provenance=False`` leaves it out. The store's ``contentHash`` is never
  exported, and the node attribute ``id`` is the node's id.
* Lists are joined with ``|`` where the format has no lists (CSV, XLSX, GraphML, GEXF), dates
  are ISO strings (``2021-05-17``), missing values are left out (or left empty). In GraphML
  and GEXF an attribute holds one type throughout (numbers mixed with text become text), a
  ``label`` (the name) is added for Gephi and Cytoscape, and an attribute whose name the
  format reserves (``label``; in GEXF also ``start``, ``end``, ``id`` ...) gets a trailing
  ``_``.
* In CSV and XLSX a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage
  return or a line feed is prefixed with ``'`` (:func:`safe_cell`, after OWASP's advice on
  CSV injection), so that a spreadsheet shows it and never runs it as a formula. Ids are
  neutralised the same way on both sheets, so references still match.

:func:`read_export` reads any of these back into a snapshot-shaped ``MultiDiGraph`` (the
inverse of the renaming above; ``sectors`` and ``clusters`` split back into lists).

Examples
--------
>>> import tempfile, networkx as nx
>>> G = nx.MultiDiGraph()
>>> G.add_node("a", name="Aéro Nord", type="company", sectors=["avionique"], clusters=["Aérospatiale"])
>>> G.add_node("b", name="=HYPERLINK(1)", type="institution", sectors=[], clusters=[])
>>> G.add_edge("a", "b", key="PARTNERS_WITH", type="PARTNERS_WITH", weight=0.5, source="p.csv")
'PARTNERS_WITH'
>>> with tempfile.TemporaryDirectory() as d:
...     H = nx.read_graphml(export_graph(G, f"{d}/g.graphml"))
...     back = read_export(export_graph(G, f"{d}/g.zip"))
>>> H.nodes["a"]["sectors"], H.edges["a", "b"]["relationship"], H.edges["a", "b"]["provenanceSource"]
('avionique', 'PARTNERS_WITH', 'p.csv')
>>> back.nodes["b"]["name"], back.edges["a", "b", "PARTNERS_WITH"]["source"]
('=HYPERLINK(1)', 'p.csv')
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from maillage.errors import InputError
from maillage.model import cluster_id

__all__ = [
    "EXPORT_FORMATS",
    "PROVENANCE_NAMES",
    "export_graph",
    "read_export",
    "organizations_frame",
    "relationships_frame",
    "safe_cell",
    "safe_frame",
]

#: The formats :func:`export_graph` writes.
EXPORT_FORMATS = ("graphml", "gexf", "csv", "json", "xlsx")
#: How provenance attributes are named in exports.
PROVENANCE_NAMES: dict[str, str] = {
    "source": "provenanceSource",
    "row": "provenanceRow",
    "importId": "provenanceImportId",
    "importedAt": "provenanceImportedAt",
}
_FROM_EXPORT = {v: k for k, v in PROVENANCE_NAMES.items()}
# Store internals that say nothing to the reader of an export.
_INTERNAL = frozenset({"contentHash"})
_ORG_COLUMNS = ("id", "name", "type", "sectors", "clusters", "region", "mandate")
_REL_COLUMNS = ("source", "target", "relationship", "weight", "since", "until")
_LIST_ATTRIBUTES = ("sectors", "clusters")
_DATE_ATTRIBUTES = ("since", "until")
_SEPARATOR = "|"
_SUFFIXES = {".graphml": "graphml", ".gexf": "gexf", ".json": "json", ".xlsx": "xlsx",
             ".zip": "csv", ".csv": "csv"}
# Attribute names that GEXF or GraphML writers and readers take for something else: such an
# attribute is written with a trailing "_" (and read back without it).
_RESERVED = {
    "gexf": (frozenset({"label", "pid", "start", "end", "viz", "parents", "slices", "spells", "id"}),
             frozenset({"label", "type", "start", "end", "viz", "slices", "spells", "id", "key", "networkx_key"})),
    "graphml": (frozenset({"label"}), frozenset()),
}
_SHEETS = ("Organizations", "Relationships")
_XLSX_MAX_ROWS = 1_048_576


# ---- formula-safe cells ------------------------------------------------------------------
# OWASP's CSV injection guidance: a spreadsheet runs a cell that starts with one of these.
# The full-width forms are included because some spreadsheets fold them to ASCII.
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_cell(value: Any) -> Any:
    """Return ``value`` safe to put in a CSV or XLSX cell: text that a spreadsheet would run
    as a formula is prefixed with ``'``; anything else is returned unchanged.

    Numbers are left alone (``-3`` is a number, not a formula); only text is checked.

    Examples
    --------
    >>> safe_cell('=HYPERLINK("http://x","y")')
    '\\'=HYPERLINK("http://x","y")'
    >>> safe_cell("-5 %"), safe_cell(-5), safe_cell("Aéro Nord")
    ("'-5 %", -5, 'Aéro Nord')
    """
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` whose text cells and column names went through
    :func:`safe_cell`.

    Examples
    --------
    >>> safe_frame(pd.DataFrame({"name": ["=1+1", "ok"], "n": [-1, 2]})).to_dict("list")
    {'name': ["'=1+1", 'ok'], 'n': [-1, 2]}
    """
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[col] = series.map(safe_cell, na_action="ignore")
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def _unsafe_cell(value: Any) -> Any:
    """Undo :func:`safe_cell` (a ``'`` before a formula trigger is ours)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(_TRIGGERS):
        return value[1:]
    return value


# ---- values ------------------------------------------------------------------------------
def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain(value: Any, *, lists: bool) -> Any:
    """Return ``value`` as str, int, float or bool (or a list of them if ``lists``), or
    ``None`` for a missing value: dates in ISO form, numpy scalars as Python ones, lists
    joined with ``|`` unless ``lists``."""
    if _missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
        if _missing(value):
            return None
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v, lists=False) for v in value]
        items = [v for v in items if v is not None]
        return items if lists else _SEPARATOR.join(str(v) for v in items)
    return str(value)


def _export_name(name: str, *, edge: bool) -> str:
    if edge and name == "type":
        return "relationship"
    return PROVENANCE_NAMES.get(name, name)


def _attributes(data: Mapping[str, Any], *, edge: bool, lists: bool, provenance: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key in _INTERNAL or (not edge and key == "id"):
            continue
        if key in PROVENANCE_NAMES and not provenance:
            continue
        value = _plain(value, lists=lists)
        if value is not None:
            out[_export_name(key, edge=edge)] = value
    return out


def _is_cluster(data: Mapping[str, Any]) -> bool:
    return data.get("type") == "cluster"


def _unify_types(items: list[dict[str, Any]]) -> None:
    """Give each attribute one type across all items (in place): GraphML and GEXF declare a
    type per attribute, so an attribute that is a number here and text there becomes text,
    and one that is an integer here and a float there becomes a float."""
    kinds: dict[str, set[type]] = {}
    for data in items:
        for k, v in data.items():
            kinds.setdefault(k, set()).add(type(v))
    for k, types in kinds.items():
        if len(types) < 2:
            continue
        cast = float if types <= {int, float, bool} else str
        for data in items:
            if k in data:
                v = data[k]
                data[k] = (str(v).lower() if isinstance(v, bool) else str(v)) if cast is str else cast(v)


def _rename_reserved(data: dict[str, Any], reserved: frozenset[str]) -> dict[str, Any]:
    return {(f"{k}_" if k in reserved else k): v for k, v in data.items()}


def _part_of_names(G: nx.Graph) -> dict[Any, list[str]]:
    """Names of the cluster nodes each node points to with ``PART_OF``."""
    out: dict[Any, list[str]] = {}
    for u, v, d in G.edges(data=True):
        if d.get("type") == "PART_OF" and _is_cluster(G.nodes[v]):
            out.setdefault(u, []).append(str(G.nodes[v].get("name", v)))
    return out


def _with_clusters(data: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """``data`` whose ``clusters`` list also holds ``names`` (compared by cluster id)."""
    clusters = data.get("clusters", [])
    clusters = [clusters] if isinstance(clusters, str) else list(clusters)
    known = {cluster_id(c) for c in clusters}
    for c in names:
        if cluster_id(c) not in known:
            known.add(cluster_id(c))
            clusters.append(c)
    if clusters:
        data["clusters"] = clusters
    return data


def _edge_items(G: nx.Graph) -> Iterable[tuple[Any, Any, Any, Mapping[str, Any]]]:
    if G.is_multigraph():
        return G.edges(keys=True, data=True)
    return ((u, v, None, d) for u, v, d in G.edges(data=True))


def _export_copy(G: nx.Graph, *, lists: bool, provenance: bool, fmt: str) -> nx.MultiDiGraph:
    """The graph as exported: same nodes, attributes renamed and made plain. For JSON, the
    rows of the import format: no cluster nodes, each organization's clusters in its list."""
    H = nx.MultiDiGraph()
    H.graph.update({"generator": "maillage", "format": fmt})
    rows_only = fmt == "json"
    part_of = _part_of_names(G) if rows_only else {}
    nodes = []
    for n, d in G.nodes(data=True):
        if rows_only and _is_cluster(d):
            continue
        data = _attributes(d, edge=False, lists=lists, provenance=provenance)
        nodes.append((str(n), _with_clusters(data, part_of[n]) if n in part_of else data))
    edges = []
    for u, v, k, d in _edge_items(G):
        if rows_only and (_is_cluster(G.nodes[u]) or _is_cluster(G.nodes[v])):
            continue
        data = _attributes(d, edge=True, lists=lists, provenance=provenance)
        if "relationship" not in data and isinstance(k, str):
            data["relationship"] = k  # a multigraph keyed by type, without the attribute
        edges.append((str(u), str(v), data))
    if fmt in ("graphml", "gexf"):
        _unify_types([d for _, d in nodes])
        _unify_types([d for *_, d in edges])
        node_words, edge_words = _RESERVED[fmt]
        nodes = [(n, _rename_reserved(d, node_words)) for n, d in nodes]
        edges = [(u, v, _rename_reserved(d, edge_words)) for u, v, d in edges]
        for n, d in nodes:
            if "name" in d:
                d["label"] = str(d["name"])  # what Gephi and Cytoscape show
    H.add_nodes_from(nodes)
    if fmt == "graphml":
        # GraphML edge ids must be unique: number them.
        H.add_edges_from((u, v, i, d) for i, (u, v, d) in enumerate(edges))
    else:
        H.add_edges_from((u, v, d.get("relationship", i), d) for i, (u, v, d) in enumerate(edges))
    return H


# ---- tables in the import format ------------------------------------------------------------
def organizations_frame(G: nx.Graph, *, provenance: bool = True) -> pd.DataFrame:
    """Return the organizations of ``G`` as an import-format table.

    Columns ``id, name, type, sectors, clusters, region, mandate``, then the extra attributes
    in order of first appearance, then provenance (``provenanceSource`` ...). Cluster nodes
    are left out; an organization's ``clusters`` also lists the clusters it points to with
    ``PART_OF``. Lists are joined with ``|``, dates are ISO strings, missing values ``None``.
    Cells are not neutralised: pass the result to :func:`safe_frame` before a spreadsheet
    sees it.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", name="A", type="company", sectors=["x", "y"], employees=3)
    >>> G.add_node("c", name="Aérospatiale", type="cluster")
    >>> G.add_edge("a", "c", key="PART_OF", type="PART_OF")
    'PART_OF'
    >>> organizations_frame(G).to_dict("records")
    [{'id': 'a', 'name': 'A', 'type': 'company', 'sectors': 'x|y', 'clusters': 'Aérospatiale', 'region': None, 'mandate': None, 'employees': 3}]
    """
    part_of = _part_of_names(G)
    rows = []
    for n, d in G.nodes(data=True):
        if _is_cluster(d):
            continue
        data = _with_clusters(_attributes(d, edge=False, lists=True, provenance=provenance), part_of.get(n, []))
        row = {"id": str(n)}
        row.update({k: (_SEPARATOR.join(map(str, v)) if isinstance(v, list) else v) for k, v in data.items()})
        rows.append(row)
    return _table(rows, _ORG_COLUMNS)


def relationships_frame(G: nx.Graph, *, provenance: bool = True) -> pd.DataFrame:
    """Return the relationships of ``G`` between organizations as an import-format table.

    Columns ``source, target, relationship, weight, since, until``, then extra attributes,
    then provenance (``provenanceSource`` ..., never a bare ``source``: that is the edge's
    end). Edges into cluster nodes (``PART_OF``) are left out: :func:`organizations_frame`
    lists them in ``clusters``.

    Examples
    --------
    >>> import datetime
    >>> G = nx.MultiDiGraph()
    >>> G.add_edge("a", "b", key="FUNDS", type="FUNDS", since=datetime.date(2020, 1, 2), source="f.csv", row=4)
    'FUNDS'
    >>> relationships_frame(G).to_dict("records")
    [{'source': 'a', 'target': 'b', 'relationship': 'FUNDS', 'weight': None, 'since': '2020-01-02', 'until': None, 'provenanceSource': 'f.csv', 'provenanceRow': 4}]
    """
    rows = []
    for u, v, k, d in _edge_items(G):
        if _is_cluster(G.nodes[v]) or _is_cluster(G.nodes[u]):
            continue
        data = _attributes(d, edge=True, lists=False, provenance=provenance)
        if "relationship" not in data and isinstance(k, str):
            data["relationship"] = k
        rows.append({"source": str(u), "target": str(v), **data})
    return _table(rows, _REL_COLUMNS)


def _table(rows: list[dict[str, Any]], first: tuple[str, ...]) -> pd.DataFrame:
    columns = list(first)
    seen = set(columns)
    prov = [c for c in PROVENANCE_NAMES.values()]
    for row in rows:
        for k in row:
            if k not in seen and k not in prov:
                seen.add(k)
                columns.append(k)
    columns += [c for c in prov if any(c in row for row in rows)]
    # dtype=object keeps Python values: an integer column with a gap stays integers and None,
    # where pandas' inference would make it floats and NaN.
    return pd.DataFrame([[row.get(c) for c in columns] for row in rows], columns=columns, dtype=object)


# ---- writers ----------------------------------------------------------------------------------
def _format_of(path: Path, format: str | None) -> str:
    if format is not None:
        fmt = str(format).lower().lstrip(".")
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"Unknown export format {format!r}: choose one of {', '.join(EXPORT_FORMATS)}.")
        return fmt
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        if path.suffix == "" or path.is_dir():
            return "csv"
        raise InputError(
            f"Cannot tell the export format from {path.name!r}: give --format "
            f"({', '.join(EXPORT_FORMATS)}) or a name ending in .graphml, .gexf, .json, .xlsx or .zip."
        )
    return fmt


def export_graph(G: nx.Graph, path: str | Path, format: str | None = None, *, provenance: bool = True) -> Path:
    """Write ``G`` to ``path`` in ``format``; return the path written.

    Parameters
    ----------
    G : networkx graph
        A snapshot (``MultiDiGraph`` keyed by relationship type) or any networkx graph.
    path : str or Path
        The file to write; for ``csv``, a folder (created) or a ``.zip`` file.
    format : {"graphml", "gexf", "csv", "json", "xlsx"}, optional
        Inferred from ``path``'s suffix when not given (a folder means ``csv``).
    provenance : bool, default True
        Whether to write provenance (``provenanceSource``, ``provenanceRow``, ...).

    Returns
    -------
    Path

    Raises
    ------
    maillage.errors.InputError
        An unknown format, or more rows than a worksheet holds (XLSX).

    Examples
    --------
    >>> import tempfile
    >>> G = nx.MultiDiGraph([("a", "b", {"type": "MEMBER_OF"})])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     sorted(p.name for p in export_graph(G, d, "csv").iterdir())
    ['edges.csv', 'nodes.csv']
    """
    path = Path(path)
    fmt = _format_of(path, format)
    if fmt != "csv" or path.suffix.lower() in (".zip", ".csv"):
        path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "graphml":
        nx.write_graphml(_export_copy(G, lists=False, provenance=provenance, fmt=fmt), path,
                         encoding="utf-8", infer_numeric_types=True)
    elif fmt == "gexf":
        nx.write_gexf(_export_copy(G, lists=False, provenance=provenance, fmt=fmt), path, encoding="utf-8")
    elif fmt == "json":
        H = _export_copy(G, lists=True, provenance=provenance, fmt=fmt)
        data = nx.node_link_data(H, edges="edges")
        with path.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.write("\n")
    elif fmt == "csv":
        _write_csv(G, path, provenance=provenance)
    else:
        _write_xlsx(G, path, provenance=provenance)
    return path


def _csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return buffer.getvalue()


def _write_csv(G: nx.Graph, path: Path, *, provenance: bool) -> None:
    files = {"nodes.csv": _csv_text(organizations_frame(G, provenance=provenance)),
             "edges.csv": _csv_text(relationships_frame(G, provenance=provenance))}
    if path.suffix.lower() == ".csv":
        raise InputError(f"{path.name}: a CSV export is two files; give a folder or a .zip name.")
    # A byte-order mark makes Excel read UTF-8 (and so accents) right; the loaders accept it.
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, text in files.items():
                zf.writestr(name, "\ufeff" + text)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (path / name).write_text(text, encoding="utf-8-sig", newline="")


def _xlsx_value(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None:
        return None
    if isinstance(value, str):
        # openpyxl refuses control characters; a spreadsheet cannot show them anyway.
        return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def _write_xlsx(G: nx.Graph, path: Path, *, provenance: bool) -> None:
    from openpyxl import Workbook

    frames = (organizations_frame(G, provenance=provenance), relationships_frame(G, provenance=provenance))
    for name, frame in zip(_SHEETS, frames):
        if len(frame) + 1 > _XLSX_MAX_ROWS:
            raise InputError(
                f"{len(frame):,} {name.lower()} do not fit in a worksheet ({_XLSX_MAX_ROWS - 1:,} rows at "
                "most): export to csv instead."
            )
    # Write-only mode streams rows: memory stays flat however large the graph.
    wb = Workbook(write_only=True)
    for name, frame in zip(_SHEETS, frames):
        ws = wb.create_sheet(name)
        ws.append([_xlsx_value(c) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            ws.append([_xlsx_value(v) for v in row])
    wb.save(path)


# ---- reading exports back ---------------------------------------------------------------------
def _typed(value: str) -> Any:
    """A CSV cell as the number or boolean it spells, else as text."""
    if value in ("True", "False"):
        return value == "True"
    if re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?", value):
        return float(value)
    return value


def _snapshot_node(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if _missing(v):
            continue
        k = _FROM_EXPORT.get(k, k)
        if k in _LIST_ATTRIBUTES and isinstance(v, str):
            v = [p for p in v.split(_SEPARATOR) if p]
        out[k] = v
    return out


def _snapshot_edge(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if _missing(v):
            continue
        k = "type" if k == "relationship" else _FROM_EXPORT.get(k, k)
        if k in _DATE_ATTRIBUTES and isinstance(v, str):
            v = _dt.date.fromisoformat(v)
        out[k] = v
    return out


def _restore_reserved(data: dict[str, Any], reserved: frozenset[str]) -> dict[str, Any]:
    return {(k[:-1] if k.endswith("_") and k[:-1] in reserved else k): v for k, v in data.items()}


def _from_graph(H: nx.Graph, fmt: str) -> nx.MultiDiGraph:
    """A snapshot from a graph read from GraphML or GEXF: our ``label`` dropped, reserved
    names restored, GEXF's own edge ``id`` and ``networkx_key`` dropped."""
    node_words, edge_words = _RESERVED[fmt]
    G = nx.MultiDiGraph()
    for n, d in H.nodes(data=True):
        d = {k: v for k, v in d.items() if k != "label"}
        data = _restore_reserved(_snapshot_node(d), node_words)
        data["id"] = str(n)
        G.add_node(str(n), **data)
    for u, v, _, d in _edge_items(H):
        if fmt == "gexf":
            d = {k: v for k, v in d.items() if k not in ("id", "label", "networkx_key")}
        data = _restore_reserved(_snapshot_edge(d), edge_words)
        G.add_edge(str(u), str(v), key=data.get("type"), **data)
    return G


def _from_tables(nodes: Iterable[Mapping[str, Any]], edges: Iterable[Mapping[str, Any]]) -> nx.MultiDiGraph:
    """Build a snapshot graph from import-format rows, as a store would: cluster nodes and
    ``PART_OF`` edges follow from ``clusters``."""
    G = nx.MultiDiGraph()
    for row in nodes:
        data = _snapshot_node({k: _unsafe_cell(v) for k, v in row.items() if not _missing(v) and v != ""})
        data.setdefault("sectors", [])
        data.setdefault("clusters", [])
        n = str(data["id"])
        data["id"] = n
        G.add_node(n, **data)
        for name in data["clusters"]:
            cid = cluster_id(name)
            if cid not in G:
                G.add_node(cid, id=cid, name=name, type="cluster")
            # As a store derives it: the organization's row is its provenance.
            prov = {k: data[k] for k in PROVENANCE_NAMES if k in data}
            G.add_edge(n, cid, key="PART_OF", type="PART_OF", derived=True, **prov)
    for row in edges:
        data = _snapshot_edge({k: _unsafe_cell(v) for k, v in row.items() if not _missing(v) and v != ""})
        u, v = str(data.pop("source_", data.get("source"))), str(data.pop("target"))
        # "source" now holds the provenance (renamed back); the end came from the row.
        G.add_edge(u, v, key=data.get("type"), **data)
    return G


# Columns read as text whatever they spell ("2020" is a name, not a number).
_TEXT_COLUMNS = frozenset(_ORG_COLUMNS + _REL_COLUMNS) - {"weight"} | (set(PROVENANCE_NAMES.values()) - {"provenanceRow"})


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, [])
    header = [_unsafe_cell(h) for h in header]
    rows = []
    for record in reader:
        row = {}
        for k, v in zip(header, record):
            if v == "":
                continue
            row[k] = v if k in _TEXT_COLUMNS else _typed(v)
        rows.append(row)
    return rows


def _rename_end(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # In an edge row "source" is the end; move it aside before provenance comes back as
    # "source".
    out = []
    for row in rows:
        row = dict(row)
        row["source_"] = row.pop("source")
        out.append(row)
    return out


def read_export(path: str | Path, format: str | None = None) -> nx.MultiDiGraph:
    """Read an export written by :func:`export_graph` back into a snapshot-shaped graph.

    Edges are keyed by relationship type with the attribute ``type``; provenance comes back
    under its own names (``source``, ``row`` ...); ``sectors`` and ``clusters`` are lists;
    ``since`` and ``until`` are dates; every node has its ``id``. From CSV and XLSX, cluster
    nodes and ``PART_OF`` edges are rebuilt from ``clusters`` (as a re-import would), and a
    ``'`` that :func:`safe_cell` put before a formula character is removed. Other list
    attributes come back joined with ``|``.

    Examples
    --------
    >>> import tempfile
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", name="A", type="company", sectors=["x"], clusters=[])
    >>> G.add_node("b", name="B", type="company", sectors=[], clusters=[])
    >>> G.add_edge("a", "b", key="PARTNERS_WITH", type="PARTNERS_WITH", weight=1.0)
    'PARTNERS_WITH'
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = read_export(export_graph(G, f"{d}/g.gexf"))
    >>> back.nodes["a"]["sectors"], list(back.edges(keys=True))
    (['x'], [('a', 'b', 'PARTNERS_WITH')])
    """
    path = Path(path)
    fmt = _format_of(path, format)
    if fmt == "graphml":
        return _from_graph(nx.read_graphml(path, force_multigraph=True), fmt)
    if fmt == "gexf":
        return _from_graph(nx.read_gexf(path, node_type=str), fmt)
    if fmt == "json":
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
        edges = [{k: v for k, v in e.items() if k != "key"} for e in data.get("edges", [])]
        return _from_tables(data.get("nodes", []), _rename_end(edges))
    if fmt == "csv":
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                texts = [zf.read(name).decode("utf-8") for name in ("nodes.csv", "edges.csv")]
        else:
            texts = [(path / name).read_text(encoding="utf-8-sig") for name in ("nodes.csv", "edges.csv")]
        return _from_tables(_csv_rows(texts[0]), _rename_end(_csv_rows(texts[1])))
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    tables = []
    for name in _SHEETS:
        rows = wb[name].iter_rows(values_only=True)
        header = [_unsafe_cell(h) for h in next(rows, ())]
        tables.append([{k: v for k, v in zip(header, r) if v is not None} for r in rows])
    wb.close()
    return _from_tables(tables[0], _rename_end(tables[1]))
