"""Web imports in two steps: validate uploaded files, then (after the person confirms) load them.

The files wait in the :class:`~api.uploads.UploadArea` between the two steps. Confirmation
validates again (the graph may have changed meanwhile), writes through the store's
all-or-nothing ``upsert`` and clears the workspace's cache, so that every page shows the new
graph at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import UploadFile

from api.services import Workspace
from api.uploads import Upload, UploadArea
from maillage.errors import InputError, ValidationFailed

__all__ = ["validate", "confirm", "report_of"]


def report_of(upload: Upload) -> dict[str, Any]:
    """Return what the validation found, as JSON-friendly values."""
    from api.views import records

    plan = upload.plan
    organizations = list(getattr(plan, "organizations", []) or [])
    relationships = list(getattr(plan, "relationships", []) or [])
    by_type: dict[str, int] = {}
    for o in organizations:
        by_type[o.type] = by_type.get(o.type, 0) + 1
    rel_types: dict[str, int] = {}
    for r in relationships:
        rel_types[r.type] = rel_types.get(r.type, 0) + 1
    duplicates = getattr(plan, "duplicates", None)
    return {
        "token": upload.token,
        "files": [p.name for p in upload.paths],
        "organizations": len(organizations),
        "relationships": len(relationships),
        "organizations_by_type": by_type,
        "relationships_by_type": rel_types,
        "warnings": [str(w) for w in getattr(plan, "warnings", []) or []],
        "duplicates": records(duplicates.head(200)) if duplicates is not None and len(duplicates) else [],
    }


def _prepare(upload: Upload, store: Any, merge_duplicates: bool) -> Any:
    import loaders

    return loaders.prepare_import(
        upload.paths,
        known_ids=store.existing_ids,
        known_organizations=store.organization_names,
        merge_duplicates=merge_duplicates,
    )


async def validate(area: UploadArea, ws: Workspace, files: Sequence[UploadFile], *, merge_duplicates: bool = False) -> dict[str, Any]:
    """Keep the uploaded files and validate them; return the report (with the upload's token).

    Raises
    ------
    maillage.errors.ValidationFailed
        The files hold problems; nothing is kept.
    maillage.errors.InputError
        No file, too many files, or a refused file name.
    """
    upload = await ws.run(area.save, [(f.filename, f.file) for f in files])
    store = await ws.store()
    try:
        upload.plan = await ws.run(_prepare, upload, store, merge_duplicates)
    except BaseException:
        area.discard(upload.token)
        raise
    upload.merge_duplicates = merge_duplicates
    return report_of(upload)


async def confirm(area: UploadArea, ws: Workspace, token: str, *, replace_source: bool = False) -> dict[str, Any]:
    """Load a validated upload into the graph; return the import summary.

    Raises
    ------
    maillage.errors.InputError
        The token is unknown or expired (or the upload is being loaded by another request).
    maillage.errors.ValidationFailed
        The files no longer validate against the current graph.
    maillage.errors.ImportFailed
        Writing failed and was rolled back; the upload stays, so it can be confirmed again.
    """
    upload = area.take(token)
    if upload is None:
        raise InputError("This upload expired or was already loaded; upload the files again.")
    store = await ws.store()
    try:
        plan = await ws.run(_prepare, upload, store, upload.merge_duplicates)
        summary = await ws.run(
            store.upsert,
            organizations=plan.organizations,
            relationships=plan.relationships,
            source=plan.source,
            replace_source=replace_source,
        )
    except ValidationFailed:
        area.discard_taken(upload)
        raise
    except BaseException:
        # Nothing was written (upsert is all-or-nothing): keep the files for another try.
        area.restore(upload)
        raise
    finally:
        ws.invalidate()
    area.discard_taken(upload)
    return summary.as_dict()
