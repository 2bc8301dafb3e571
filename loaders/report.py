"""Problems and duplicates written for people: grouped by file, in row order, in English or
French.

The messages themselves are in English (with the French names of columns and types where it
helps); the frame around them (headings, "row", "column") follows ``lang``.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from maillage.errors import Problem

__all__ = ["format_problems", "format_duplicates"]

_WORDS = {
    "en": {"row": "row", "column": "column", "file": "whole table", "more": "and {n} more",
           "errors": "{n} problem(s); nothing was written.", "warnings": "{n} warning(s).",
           "duplicates": "Probable duplicate records ({n})", "graph": "already in the graph",
           "score": "score"},
    "fr": {"row": "ligne", "column": "colonne", "file": "tout le tableau",
           "more": "et {n} de plus", "errors": "{n} problème(s); rien n'a été écrit.",
           "warnings": "{n} avertissement(s).",
           "duplicates": "Doublons probables ({n})", "graph": "déjà dans le graphe",
           "score": "score"},
}


def format_problems(problems: Iterable[Problem], lang: str = "en", *, limit: int = 200,
                    warnings: bool = False) -> str:
    """Return problems as text grouped by file, each line giving row and column first.

    Parameters
    ----------
    problems : iterable of Problem
    lang : {"en", "fr"}
        Language of the frame around the messages.
    limit : int
        Most lines shown (then a count of the rest).
    warnings : bool
        Whether these are warnings (changes the closing line).

    Examples
    --------
    >>> print(format_problems([
    ...     Problem("membres.csv", 3, "type", 'unknown type "fondation"'),
    ...     Problem("membres.csv", None, "nom", 'Column "name" missing'),
    ... ], lang="fr"))
    membres.csv
      colonne "nom": Column "name" missing
      ligne 3, colonne "type": unknown type "fondation"
    2 problème(s); rien n'a été écrit.
    """
    words = _WORDS.get(lang, _WORDS["en"])
    problems = list(problems)
    by_file: dict[str, list[Problem]] = {}
    for p in problems:
        by_file.setdefault(p.file, []).append(p)
    lines: list[str] = []
    shown = 0
    for file, items in by_file.items():
        lines.append(file)
        # Whole-file and whole-column problems first, then rows in order.
        for p in sorted(items, key=lambda p: (p.row is not None, p.row or 0)):
            if shown >= limit:
                break
            where = []
            if p.row is not None:
                where.append(f"{words['row']} {p.row}")
            if p.column is not None:
                where.append(f'{words["column"]} "{p.column}"')
            lines.append(f"  {', '.join(where) or words['file']}: {p.message}")
            shown += 1
    if len(problems) > shown:
        lines.append("  ... " + words["more"].format(n=len(problems) - shown))
    lines.append(words["warnings" if warnings else "errors"].format(n=len(problems)))
    return "\n".join(lines)


def format_duplicates(duplicates: pd.DataFrame, lang: str = "en", *, limit: int = 50) -> str:
    """Return probable duplicate records as text, one pair per line, best score first.

    Examples
    --------
    >>> frame = pd.DataFrame({"id_a": ["u1"], "name_a": ["Université de Montréal"],
    ...     "id_b": ["u3"], "name_b": ["Univ. de Montréal"], "score": [100.0],
    ...     "where": ["file"], "source_a": ["m.csv"], "row_a": [2], "source_b": ["m.csv"],
    ...     "row_b": [4], "merged": [False]})
    >>> print(format_duplicates(frame))
    Probable duplicate records (1)
      100  "Université de Montréal" (u1, m.csv row 2)  ≈  "Univ. de Montréal" (u3, m.csv row 4)
    """
    words = _WORDS.get(lang, _WORDS["en"])
    lines = [words["duplicates"].format(n=len(duplicates))]
    for row in duplicates.head(limit).itertuples(index=False):
        a = f'"{row.name_a}" ({row.id_a}'
        a += f", {row.source_a} {words['row']} {row.row_a})" if getattr(row, "source_a", None) else ")"
        if row.where == "graph":
            b = f'"{row.name_b}" ({row.id_b}, {words["graph"]})'
        else:
            b = f'"{row.name_b}" ({row.id_b}'
            b += f", {row.source_b} {words['row']} {row.row_b})" if getattr(row, "source_b", None) else ")"
        lines.append(f"  {row.score:>3.0f}  {a}  ≈  {b}")
    if len(duplicates) > limit:
        lines.append("  ... " + words["more"].format(n=len(duplicates) - limit))
    return "\n".join(lines)
