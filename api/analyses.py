"""Run the analyses by name and store their results: shared by the CLI and the web view.

:data:`ANALYSES` names what ``maillage analyze`` accepts. :func:`run_analysis` calls the pure
function of ``analysis/`` on a snapshot; :func:`write_back` turns its DataFrame into the
result relationships and nodes of the design (``SUGGESTED_PARTNER``, ``OVERLAPS_WITH``,
``DuplicateGroup``; an ``AnalysisRun`` for every analysis) and hands them to the store, which
replaces the previous run's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import networkx as nx
import pandas as pd

from graph.base import Store
from maillage.errors import InputError

__all__ = ["ANALYSES", "run_analysis", "write_back", "result_relationships", "result_groups"]

#: The analyses ``maillage analyze`` runs, in the order ``all`` runs them.
ANALYSES: tuple[str, ...] = ("gaps", "coverage", "brokers", "overlaps", "duplicates", "communities")


def run_analysis(name: str, G: nx.Graph, *, top: int | None = 10, lang: str = "en") -> pd.DataFrame:
    """Run the analysis ``name`` on ``G`` and return its DataFrame.

    ``top`` limits the rows of the ranked analyses (gaps, overlaps, brokers, duplicates);
    ``None`` keeps every row.
    """
    import analysis

    if name == "gaps":
        return analysis.suggest_partnerships(G, top=top, lang=lang)
    if name == "coverage":
        return analysis.coverage_gaps(G, lang=lang)
    if name == "brokers":
        df = analysis.brokerage(G)
        if top is not None and "constraint" in df.columns:
            df = df.sort_values("constraint", na_position="last").head(top)
        return df
    if name == "overlaps":
        # Only the rows shown get names and reasons written.
        return analysis.find_overlaps(G, lang=lang, top=top)
    if name == "duplicates":
        df = analysis.find_duplicate_structures(G, lang=lang)
        return df.head(top) if top is not None else df
    if name == "communities":
        return analysis.communities(G)
    raise InputError(f"Unknown analysis {name!r}; choose one of: {', '.join(ANALYSES)}, all.")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _properties(row: Mapping[str, Any], skip: set[str]) -> dict[str, Any]:
    """Keep the scalar and list values of a result row, with camelCase names (Neo4j's)."""
    out = {}
    for key, value in row.items():
        if key in skip or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(key)):
            continue
        if isinstance(value, (list, tuple)):
            value = [v for v in value if isinstance(v, (str, int, float, bool))]
        elif hasattr(value, "item"):
            value = value.item()
        if value is None or (isinstance(value, float) and value != value):
            continue
        if isinstance(value, (str, int, float, bool, list)):
            out[_camel(str(key))] = value
    return out


def result_relationships(name: str, df: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the result relationships of a gaps or overlaps DataFrame."""
    if name == "gaps":
        rel_type, ends = "SUGGESTED_PARTNER", ("source", "target")
    elif name == "overlaps":
        rel_type, ends = "OVERLAPS_WITH", ("a", "b")
    else:
        return []
    out = []
    for rank, row in enumerate(df.to_dict("records"), 1):
        props = _properties(row, set(ends)) | {"rank": rank}
        out.append({"type": rel_type, "source": row[ends[0]], "target": row[ends[1]], "properties": props})
    return out


def result_groups(name: str, df: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the ``DuplicateGroup`` nodes of a duplicates DataFrame."""
    if name != "duplicates":
        return []
    return [
        {"id": str(row["group"]), "members": list(row["members"]), "properties": _properties(row, {"group", "members"})}
        for row in df.to_dict("records")
    ]


def write_back(store: Store, name: str, df: pd.DataFrame, parameters: Mapping[str, Any]) -> str:
    """Store the results of analysis ``name`` (replacing its previous run's); return the run id."""
    return store.write_analysis_results(
        analysis=name,
        parameters=dict(parameters) | {"rows": len(df)},
        relationships=result_relationships(name, df),
        groups=result_groups(name, df),
    )
