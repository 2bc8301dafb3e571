"""The graph model of the design card, as constants and the records that layers exchange.

Loaders produce :class:`OrganizationRecord` and :class:`RelationshipRecord`; the graph layer
stores them; a snapshot gives a networkx graph whose node attribute ``type`` is one of
:data:`NODE_TYPES` (canonical English names) and whose edge attribute ``type`` is one of
:data:`RELATIONSHIP_TYPES`.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = [
    "STAKEHOLDER_TYPES",
    "NODE_TYPES",
    "TYPE_LABELS",
    "LABEL_TYPES",
    "RELATIONSHIP_TYPES",
    "RESULT_RELATIONSHIP_TYPES",
    "ORGANIZATION",
    "CLUSTER",
    "OrganizationRecord",
    "RelationshipRecord",
    "cluster_id",
]

ORGANIZATION = "Organization"
CLUSTER = "Cluster"

#: Canonical stakeholder types (node attribute ``type``) and their Neo4j labels.
TYPE_LABELS: dict[str, str] = {
    "company": "Company",
    "association": "Association",
    "workforce_committee": "WorkforceCommittee",
    "government": "Government",
    "institution": "Institution",
    "structure": "Structure",
}
STAKEHOLDER_TYPES: tuple[str, ...] = tuple(TYPE_LABELS)
#: Every node type of a snapshot: the stakeholder types plus ``cluster``.
NODE_TYPES: tuple[str, ...] = STAKEHOLDER_TYPES + ("cluster",)
LABEL_TYPES: dict[str, str] = {label: t for t, label in TYPE_LABELS.items()} | {CLUSTER: "cluster"}

#: Relationship types that data may carry.
RELATIONSHIP_TYPES: tuple[str, ...] = (
    "MEMBER_OF",
    "PARTNERS_WITH",
    "FUNDS",
    "PARTICIPATES_IN",
    "COORDINATES",
    "PART_OF",
)
#: Relationship types that only analyses write back.
RESULT_RELATIONSHIP_TYPES: tuple[str, ...] = ("SUGGESTED_PARTNER", "OVERLAPS_WITH")


def cluster_id(name: str) -> str:
    """Return the stable id of a cluster from its name: accents, case and spacing folded.

    Examples
    --------
    >>> cluster_id("Sciences de la vie")
    'sciences-de-la-vie'
    >>> cluster_id("  Aérospatiale ")
    'aerospatiale'
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    """One stakeholder, validated and normalised by ``loaders/``.

    ``type`` is canonical (see :data:`STAKEHOLDER_TYPES`); ``extra`` holds the input columns
    the model does not name, kept as properties (values: str, int, float, bool or lists of
    them); ``source_file`` and ``row`` are provenance (the row as the user's spreadsheet
    numbers it).
    """

    id: str
    name: str
    type: str
    sectors: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    region: str | None = None
    mandate: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    source_file: str | None = None
    row: int | None = None


@dataclass(frozen=True, slots=True)
class RelationshipRecord:
    """One relationship between two nodes, identified by ``(source, type, target)``.

    ``target_kind`` is ``"Organization"`` or ``"Cluster"`` (``PART_OF`` points at a cluster,
    whose id is :func:`cluster_id` of its name).
    """

    source: str
    target: str
    type: str
    weight: float | None = None
    since: _dt.date | None = None
    until: _dt.date | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    source_file: str | None = None
    row: int | None = None
    target_kind: str = ORGANIZATION
