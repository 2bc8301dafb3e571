"""The interface every graph store offers, and the values it returns.

Two stores implement it: :class:`graph.neo4j_store.Neo4jStore` (the system of record) and
:class:`graph.memory_store.MemoryStore` (the embedded default, persisted to a file). Both are
used the same way by ``api/``::

    store = open_store(settings)
    summary = store.upsert(organizations=orgs, relationships=rels, source="members.csv")
    G = store.snapshot(clusters=["aerospatiale"])
"""

from __future__ import annotations

import abc
import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from maillage.model import OrganizationRecord, RelationshipRecord

__all__ = ["Store", "ImportSummary", "QueryResult", "AnalysisResults", "Progress", "PROVENANCE_PROPERTIES"]

#: ``progress(done, total)`` is called as rows are written.
Progress = Callable[[int, int], None]


#: The properties an import adds to say where a row came from (file, row, import, time, and
#: the content hash that makes re-imports no-ops): read by people and by the next import,
#: never by an analysis.
PROVENANCE_PROPERTIES = ("source", "row", "importId", "importedAt", "contentHash")


@dataclass
class ImportSummary:
    """What an import did. Counts are of rows given; ``by_type`` counts organizations per
    canonical type and relationships per relationship type among the created and updated."""

    import_id: str
    source: str | None
    imported_at: str
    organizations_created: int = 0
    organizations_updated: int = 0
    organizations_unchanged: int = 0
    relationships_created: int = 0
    relationships_updated: int = 0
    relationships_unchanged: int = 0
    organizations_removed: int = 0
    relationships_removed: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether the import changed anything in the graph."""
        return bool(
            self.organizations_created + self.organizations_updated
            + self.relationships_created + self.relationships_updated
            + self.organizations_removed + self.relationships_removed
        )

    def count(self, what: str, status: str, type_: str, n: int = 1) -> None:
        """Add ``n`` rows of ``what`` (``organizations`` or ``relationships``) to ``status``
        (``created``, ``updated`` or ``unchanged``), and to ``by_type`` when they changed."""
        setattr(self, f"{what}_{status}", getattr(self, f"{what}_{status}") + n)
        if status != "unchanged":
            self.by_type[type_] = self.by_type.get(type_, 0) + n

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as plain JSON-friendly values."""
        return dict(self.__dict__)


@dataclass
class QueryResult:
    """The result of an analyst's read-only Cypher query.

    ``rows`` hold JSON-friendly values: a node becomes ``{"_kind": "node", "elementId",
    "labels", "properties"}``, a relationship ``{"_kind": "relationship", "elementId", "type",
    "start", "end", "properties"}``, dates become ISO strings. ``nodes`` and
    ``relationships`` collect every graph element met in the rows (for drawing a map).
    ``truncated`` says the row cap stopped the result early.
    """

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = False
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    relationships: dict[str, dict[str, Any]] = field(default_factory=dict)
    elapsed_ms: float = 0.0


@dataclass
class AnalysisResults:
    """What an analysis wrote back: its run, result relationships and duplicate groups."""

    run: dict[str, Any] | None
    relationships: list[dict[str, Any]]
    groups: list[dict[str, Any]]


class Store(abc.ABC):
    """A stakeholder graph: writes organizations and relationships, reads snapshots."""

    #: Whether :meth:`run_query` is available (Neo4j only).
    supports_cypher: bool = False

    # ---- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        """Release connections or flush files."""

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abc.abstractmethod
    def describe(self) -> str:
        """Say in a few words where the graph lives (no password)."""

    # ---- writes --------------------------------------------------------------------
    @abc.abstractmethod
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
        """Write organizations and relationships as one all-or-nothing import.

        Organizations are matched by ``id`` and relationships by ``(source, type, target)``;
        a record whose content equals what is stored is left untouched (provenance too), so
        that loading the same records twice changes nothing. Each organization's ``clusters``
        become ``PART_OF`` relationships to ``Cluster`` nodes, kept in step with the list.
        With ``replace_source``, nodes and relationships that an earlier import of ``source``
        created and that these records no longer hold are removed. Any failure (a missing
        endpoint, a lost connection) rolls the whole import back and raises
        :class:`~maillage.errors.ImportFailed`.
        """

    @abc.abstractmethod
    def clear(self) -> None:
        """Delete every node and relationship (tests and ``maillage reset``)."""

    # ---- reads ---------------------------------------------------------------------
    @abc.abstractmethod
    def snapshot(
        self,
        *,
        clusters: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
        provenance: bool = True,
    ) -> nx.MultiDiGraph:
        """Read the graph (or a filtered part) into a networkx ``MultiDiGraph``.

        Node keys are organization ids (clusters: their cluster id); node attributes are the
        stored properties (``name``, ``type`` canonical, ``sectors`` and ``clusters`` as
        lists, ``region``, ``mandate``, provenance, extra columns). Edge keys are relationship
        types and edge attributes the stored properties plus ``type``. ``clusters`` keeps
        organizations in any of those clusters (ids or names) and those cluster nodes;
        ``types`` keeps organizations of those canonical types. Result relationships
        (``SUGGESTED_PARTNER``, ``OVERLAPS_WITH``) are not part of a snapshot.
        ``provenance=False`` leaves out :data:`PROVENANCE_PROPERTIES` of every node and
        relationship: what no analysis reads, and over a third of a snapshot's memory at a
        million organizations (``maillage analyze`` reads its graph so).
        """

    @abc.abstractmethod
    def counts(self) -> dict[str, dict[str, int]]:
        """Return ``{"nodes": {type: n}, "relationships": {TYPE: n}}``."""

    @abc.abstractmethod
    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """Return which of ``ids`` are stored, as organizations or clusters."""

    @abc.abstractmethod
    def organization_names(self) -> list[tuple[str, str, str]]:
        """Return ``(id, name, type)`` of every organization (for duplicate checks)."""

    @abc.abstractmethod
    def organization(self, id: str) -> dict[str, Any] | None:
        """Return the stored properties of one organization, or ``None``."""

    # ---- analysis results --------------------------------------------------------
    @abc.abstractmethod
    def write_analysis_results(
        self,
        *,
        analysis: str,
        parameters: Mapping[str, Any],
        relationships: Iterable[Mapping[str, Any]] = (),
        groups: Iterable[Mapping[str, Any]] = (),
    ) -> str:
        """Store an analysis run and its results, replacing the previous run's; return its id.

        ``relationships`` are ``{"type": "SUGGESTED_PARTNER" | "OVERLAPS_WITH", "source",
        "target", "properties": {...}}``; ``groups`` are ``{"id", "members": [ids],
        "properties": {...}}`` and become ``DuplicateGroup`` nodes linked from each member by
        ``IN_DUPLICATE_GROUP``. Every result carries ``analysis`` and ``runId``; the
        ``AnalysisRun`` node holds ``id``, ``analysis``, ``parameters`` (JSON text),
        ``startedAt``, ``finishedAt`` and ``resultCount``.
        """

    @abc.abstractmethod
    def analysis_results(self, analysis: str) -> AnalysisResults:
        """Read back the latest results written for ``analysis``."""

    # ---- analysts ------------------------------------------------------------------
    def run_query(
        self,
        query: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        """Run an analyst's Cypher query read-only, with a timeout and a row cap."""
        from maillage.errors import CypherUnavailable

        raise CypherUnavailable(
            "The Cypher console needs Neo4j; this graph lives in the memory store. "
            "Start the local server with `scripts/neo4j-local start` or set NEO4J_URI."
        )


def now_iso() -> str:
    """Return the current UTC time as an ISO 8601 string (seconds)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
