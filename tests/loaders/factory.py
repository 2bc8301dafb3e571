"""Factories of the loaders' tests: files written from text, and imports that must fail.

``write(tmp_path, name, text, encoding=...)`` writes a file; ``refused(paths, ...)`` runs
:func:`loaders.prepare_import` and returns the problems of the ValidationFailed it must
raise; ``problem_at(problems, file, row, column)`` finds the one problem located there.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import loaders
from maillage.errors import Problem, ValidationFailed

__all__ = ["write", "refused", "problem_at", "ORGS_EN", "RELS_EN", "ORGS_FR", "RELS_FR",
           "known_ids_of"]

#: A small member list in English (comma, UTF-8).
ORGS_EN = """id,name,type,sectors,clusters,region,mandate
UDEM,Université de Montréal,university,Health|Research,Life sciences;Artificial intelligence,Montréal,Teach and research
POLY,Polytechnique Montréal,university,Engineering,Aerospace,Montréal,
ACME,Acme Aéro inc.,SME,Aerospace,Aerospace,Laval,Machining
CSMO,CSMO Aérospatiale,sector workforce committee,Aerospace,Aerospace,,
"""
#: Its relationships in English.
RELS_EN = """source,target,relationship,weight,since,until
ACME,CSMO,member of,,2019,
POLY,ACME,partners with,0.5,2021-03-04,
UDEM,POLY,partner,1,,
"""
#: The same member list in French (semicolon; written in Windows-1252 by the tests).
ORGS_FR = """Identifiant;Nom;Type d'organisation;Secteurs;Grappes;Région;Mandat
UDEM;Université de Montréal;Université;Santé|Recherche;Sciences de la vie|Intelligence artificielle;Montréal;"Former;
et chercher"
POLY;Polytechnique Montréal;École;Génie;Aérospatiale;Montréal;
ACME;Acme Aéro ltée;PME;Aérospatiale;Aérospatiale;Laval;Usinage de précision
CSMO;CSMO Aérospatiale;Comité sectoriel de main-d'œuvre;Aérospatiale;Aérospatiale;;
"""
#: Its relationships in French.
RELS_FR = """Source;Cible;Type de relation;Poids;Depuis;Jusqu'à
ACME;CSMO;Membre de;;2019;
POLY;ACME;Partenaire;0,5;04/03/2021;31/12/2025
UDEM;POLY;partenariat;1;;
"""


def write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``content`` (text in ``encoding``, or bytes) to ``folder/name``; return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def refused(paths: Any, **options: Any) -> list[Problem]:
    """Return the problems of an import that must be refused."""
    with pytest.raises(ValidationFailed) as caught:
        loaders.prepare_import(paths, **options)
    assert caught.value.problems, "ValidationFailed without problems"
    return caught.value.problems


def problem_at(problems: Iterable[Problem], file: str, row: int | None,
               column: str | None = None) -> Problem:
    """Return the single problem at ``file``, ``row`` (and ``column`` when given)."""
    problems = list(problems)
    found = [p for p in problems if p.file == file and p.row == row
             and (column is None or p.column == column)]
    assert len(found) == 1, f"expected one problem at {file} row {row} column {column}: {problems}"
    return found[0]


def known_ids_of(ids: Iterable[str]):
    """A ``known_ids`` callable for a graph holding ``ids``, recording its calls."""
    held = set(ids)
    calls: list[list[str]] = []

    def known_ids(asked: Iterable[str]) -> set[str]:
        asked = list(asked)
        calls.append(asked)
        return held & set(asked)

    known_ids.calls = calls  # type: ignore[attr-defined]
    return known_ids
