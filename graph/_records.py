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


# One encoder for every row: json.dumps with options builds a new JSONEncoder per call, and the
# hash of a whole import is a good share of its client-side time. The text (hence the hash
# stored in existing graphs) is exactly json.dumps(content, sort_keys=True, ensure_ascii=False,
# default=str).
_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode
_BLAKE2B = hashlib.blake2b


def _hash(content: Mapping[str, Any]) -> str:
    return _BLAKE2B(_ENCODE(content).encode("utf-8"), digest_size=16).hexdigest()


def _plain(value: Any) -> Any:
    """:func:`plain_value`, with a shortcut for the types loaders produce (``str``, ``int``,
    ``float``, ``date``, ``None`` and tuples of ``str``)."""
    t = type(value)
    if t is str or t is int or value is None or t is _dt.date or t is bool:
        return value
    if t is float:
        return None if value != value else value
    if (t is tuple or t is list) and all(type(v) is str for v in value):
        return list(value)
    return plain_value(value)


_ENCODE_STR = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) does to a str


def _relationship_hash(rec: RelationshipRecord, content: dict[str, Any]) -> str:
    """``_hash(dict(content, _key=[source, type, target]))``, with the JSON text written directly
    for the common content (no extra column; a finite float or int ``weight``, ``since`` and
    ``until`` dates): relationships are most of an import's rows."""
    key = (rec.source, rec.type, rec.target)
    parts = []
    if len(content) <= 3 and all(type(k) is str for k in key):
        parts.append('{"_key": [' + ", ".join(map(_ENCODE_STR, key)) + "]")
        for name in ("since", "until"):
            value = content.get(name)
            if value is not None:
                if type(value) is not _dt.date:
                    parts = None
                    break
                parts.append(f', "{name}": "{value.isoformat()}"')
        weight = content.get("weight")
        if parts is not None and weight is not None:
            if type(weight) is int or (type(weight) is float and math.isfinite(weight)):
                parts.append(f', "weight": {weight!r}')
            else:
                parts = None
        if parts is not None and len(parts) - 1 == len(content):
            parts.append("}")
            return _BLAKE2B("".join(parts).encode("utf-8"), digest_size=16).hexdigest()
    return _hash(dict(content, _key=list(key)))


_cluster_ids: dict[str, str] = {}


def _cluster_id(name: str) -> str:
    # Clusters are few and named on every organization: fold each name once.
    cid = _cluster_ids.get(name)
    if cid is None:
        if len(_cluster_ids) > 10_000:
            _cluster_ids.clear()
        cid = _cluster_ids[name] = cluster_id(name)
    return cid


def _extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    if not extra:
        return {}
    return {k: v for k, v in plain_properties(extra).items() if k not in RESERVED_PROPERTIES}


def organization_row(rec: OrganizationRecord, *, import_id: str, imported_at: str, source: str | None) -> dict[str, Any]:
    """Return the row an upsert writes for one organization.

    ``props`` is the node's whole property map (replacing the stored one when it changed);
    ``clusters`` the ``{id, name}`` of its ``PART_OF`` targets.
    """
    if rec.type not in TYPE_LABELS:
        raise ValueError(f"unknown organization type {rec.type!r} for id {rec.id!r}")
    content = _extra(rec.extra)
    for key, value in (("id", rec.id), ("name", rec.name), ("type", rec.type), ("sectors", rec.sectors),
                       ("clusters", rec.clusters), ("region", rec.region), ("mandate", rec.mandate)):
        value = _plain(value)
        if value is not None:
            content[str(key)] = value
    digest = _hash(content)
    props = dict(content)
    provenance = {"source": _plain(rec.source_file or source), "row": _plain(rec.row), "importId": import_id,
                  "importedAt": imported_at}
    provenance = {k: v for k, v in provenance.items() if v is not None}
    props.update(provenance, contentHash=digest)
    clusters = []
    seen = set()
    for name in rec.clusters:
        cid = _cluster_id(name)
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
        "partOf": dict(provenance, derived=True),
    }


def relationship_row(rec: RelationshipRecord, *, import_id: str, imported_at: str, source: str | None) -> dict[str, Any]:
    """Return the row an upsert writes for one relationship."""
    if rec.type not in RELATIONSHIP_TYPES:
        raise ValueError(f"unknown relationship type {rec.type!r} ({rec.source} -> {rec.target})")
    if rec.target_kind not in (ORGANIZATION, CLUSTER):
        raise ValueError(f"target_kind must be {ORGANIZATION!r} or {CLUSTER!r}, not {rec.target_kind!r}")
    content = _extra(rec.extra)
    for key, value in (("weight", rec.weight), ("since", rec.since), ("until", rec.until)):
        value = _plain(value)
        if value is not None:
            content[key] = value
    digest = _relationship_hash(rec, content)
    props = content
    for key, value in (("source", rec.source_file or source), ("row", rec.row)):
        value = _plain(value)
        if value is not None:
            props[key] = value
    props["importId"] = import_id
    props["importedAt"] = imported_at
    props["contentHash"] = digest
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
