"""Turn loader records into the property maps both stores write, with a content hash.

The hash covers what the data says (not when or by which import it arrived), so a record
whose hash equals the stored one is left untouched: that is what makes re-imports no-ops.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from maillage.model import (
    CLUSTER,
    ORGANIZATION,
    RELATIONSHIP_TYPES,
    TYPE_LABELS,
    OrganizationRecord,
    RelationshipRecord,
    cluster_id,
)

__all__ = [
    "organization_row",
    "relationship_row",
    "relationship_key",
    "row_status",
    "missing_endpoints_error",
    "plain_value",
    "plain_properties",
    "RESERVED_PROPERTIES",
]

#: Properties the store owns; extra columns may not overwrite them.
RESERVED_PROPERTIES = frozenset(
    {"id", "name", "type", "sectors", "clusters", "region", "mandate", "source", "row",
     "importId", "importedAt", "contentHash", "weight", "since", "until", "derived"}
)


def plain_value(value: Any) -> Any:
    """Return ``value`` as a type both Neo4j and JSON hold: numpy scalars to Python, NaN to
    ``None``, tuples and sets to lists, datetimes kept (the stores convert them)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain_value(v) for v in value]
        return [v for v in items if v is not None]
    if isinstance(value, (str, int, float, bool, _dt.date)):
        return value
    return str(value)


def plain_properties(props: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``props`` with every value made plain and ``None`` values dropped."""
    out = {}
    for k, v in props.items():
        pv = plain_value(v)
        if pv is not None:
            out[str(k)] = pv
    return out


def _hash(content: Mapping[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def organization_row(rec: OrganizationRecord, *, import_id: str, imported_at: str, source: str | None) -> dict[str, Any]:
    """Return the row an upsert writes for one organization.

    ``props`` is the node's whole property map (replacing the stored one when it changed);
    ``clusters`` the ``{id, name}`` of its ``PART_OF`` targets.
    """
    if rec.type not in TYPE_LABELS:
        raise ValueError(f"unknown organization type {rec.type!r} for id {rec.id!r}")
    content = {k: v for k, v in plain_properties(rec.extra).items() if k not in RESERVED_PROPERTIES}
    content.update(
        plain_properties(
            {
                "id": rec.id,
                "name": rec.name,
                "type": rec.type,
                "sectors": list(rec.sectors),
                "clusters": list(rec.clusters),
                "region": rec.region,
                "mandate": rec.mandate,
            }
        )
    )
    digest = _hash(content)
    props = dict(content)
    props.update(
        plain_properties(
            {
                "source": rec.source_file or source,
                "row": rec.row,
                "importId": import_id,
                "importedAt": imported_at,
                "contentHash": digest,
            }
        )
    )
    clusters = []
    seen = set()
    for name in rec.clusters:
        cid = cluster_id(name)
        if cid and cid not in seen:
            seen.add(cid)
            clusters.append({"id": cid, "name": name})
    return {
        "id": rec.id,
        "type": rec.type,
        "label": TYPE_LABELS[rec.type],
        "hash": digest,
        "props": props,
        "clusters": clusters,
        "clusterIds": [c["id"] for c in clusters],
        "partOf": plain_properties(
            {"source": rec.source_file or source, "row": rec.row, "importId": import_id,
             "importedAt": imported_at, "derived": True}
        ),
    }


def relationship_row(rec: RelationshipRecord, *, import_id: str, imported_at: str, source: str | None) -> dict[str, Any]:
    """Return the row an upsert writes for one relationship."""
    if rec.type not in RELATIONSHIP_TYPES:
        raise ValueError(f"unknown relationship type {rec.type!r} ({rec.source} -> {rec.target})")
    if rec.target_kind not in (ORGANIZATION, CLUSTER):
        raise ValueError(f"target_kind must be {ORGANIZATION!r} or {CLUSTER!r}, not {rec.target_kind!r}")
    content = {k: v for k, v in plain_properties(rec.extra).items() if k not in RESERVED_PROPERTIES}
    content.update(plain_properties({"weight": rec.weight, "since": rec.since, "until": rec.until}))
    content_for_hash = dict(content, _key=[rec.source, rec.type, rec.target])
    digest = _hash(content_for_hash)
    props = dict(content)
    props.update(
        plain_properties(
            {"source": rec.source_file or source, "row": rec.row, "importId": import_id,
             "importedAt": imported_at, "contentHash": digest}
        )
    )
    return {
        "source": rec.source,
        "target": rec.target,
        "type": rec.type,
        "targetKind": rec.target_kind,
        "hash": digest,
        "props": props,
    }


def row_status(stored_hash: str | None, row: Mapping[str, Any], *, stored: bool) -> str:
    """Return ``created``, ``unchanged`` or ``updated`` for a row against what is stored."""
    if not stored:
        return "created"
    return "unchanged" if stored_hash == row["hash"] else "updated"


def missing_endpoints_error(count: int, missing: list[tuple[str, str, str, str]]):
    """Return the :class:`~maillage.errors.ImportFailed` for ``count`` relationships whose
    ends are not in the graph; ``missing`` lists up to 20 ``(source, TYPE, target, end)``."""
    from maillage.errors import ImportFailed

    detail = "; ".join(f"{s} -[{t}]-> {o} ({end} not in the graph)" for s, t, o, end in missing[:20])
    return ImportFailed(
        f"{count} relationship(s) point at nodes that do not exist: {detail}. "
        "Nothing of this import was written; import the organizations first or fix the ids."
    )


def relationship_key(source: str, type_: str, target: str) -> str:
    """Return the key that identifies a relationship: ``source|TYPE|target``."""
    return f"{source}|{type_}|{target}"
