"""Soak, short form: reads at a steady rate over loopback while an import and an analysis run.

``MAILLAGE_SOAK_SECONDS`` lengthens it (default 8 s here); ``bench/soak.py`` runs the long
form. Bounded: at most 5,000 requests whatever the duration.
"""

from __future__ import annotations

import os

import pytest

from tests.api.factory import make_app, make_store
from tests.reliability.figures import record
from tests.reliability.soak import soak

pytestmark = pytest.mark.neo4j

SECONDS = float(os.environ.get("MAILLAGE_SOAK_SECONDS", "8"))


def test_reads_keep_answering_while_an_import_and_an_analysis_run(neo4j_store):
    make_store(neo4j_store)
    before = neo4j_store.counts()
    app = make_app(neo4j_store)
    result = soak(app, neo4j_store, seconds=SECONDS, rate=30.0, import_size=400)
    print(result.summary())
    record("soak_requests", result.requests)
    record("soak_errors", len(result.errors))
    record("soak_seconds", round(result.seconds, 1))

    assert result.errors == [], result.errors[:20]
    assert result.requests >= SECONDS * 30 * 0.25  # reads went on throughout (2 shared cores: not the full rate)
    # No lost write: every imported organization is there, once.
    assert result.imported == 400
    after = neo4j_store.counts()
    assert sum(after["nodes"].values()) - sum(before["nodes"].values()) == 400
    assert neo4j_store.existing_ids(f"soak-{i}" for i in range(400)) == {f"soak-{i}" for i in range(400)}
    assert result.analysis_rows > 0 and neo4j_store.analysis_results("gaps").run is not None
    # Memory does not grow without bound: once the import and the analysis are done (the graph
    # and the caches are bigger then, by design), reads at a steady rate keep it flat.
    first, last = result.rss_steady()
    assert last - first < 64, (first, last, result.summary())
