"""Turning the files people have into validated records for the graph store.

``loaders/`` reads CSV, XLSX, JSON and JSON Lines files (in English or French), validates
every row, finds probable duplicate records and returns records the store writes; it never
speaks Cypher and never imports ``graph/`` or ``neo4j``. Its entry point is
:func:`prepare_import`; the accepted schema is documented in ``loaders/SCHEMA.md``.

Modules: :mod:`loaders.read` (files to raw tables), :mod:`loaders.records` (tables to
records, row by row), :mod:`loaders.plan` (the whole import: ids, relationship ends,
duplicates), :mod:`loaders.vocabulary` (headers and types in both languages),
:mod:`loaders.limits` (size bounds), :mod:`loaders.report` (problems for people).
"""

from loaders.limits import DEFAULT_LIMITS, Limits
from loaders.plan import DUPLICATE_REPORT_COLUMNS, ImportPlan, prepare_import
from loaders.read import SUPPORTED_SUFFIXES, FileInfo, InputFile
from loaders.report import format_duplicates, format_problems

__all__ = [
    "prepare_import",
    "ImportPlan",
    "InputFile",
    "FileInfo",
    "Limits",
    "DEFAULT_LIMITS",
    "SUPPORTED_SUFFIXES",
    "DUPLICATE_REPORT_COLUMNS",
    "format_problems",
    "format_duplicates",
]
