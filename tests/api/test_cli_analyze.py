"""maillage analyze --write-back against the real Neo4j: results readable with Cypher, replaced."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from loaders.sample import ecosystem_graph, generate_ecosystem
from tests.conftest import TEST_NEO4J_URI, test_neo4j_password

pytestmark = pytest.mark.neo4j


def _load_demo(store):
    from maillage.model import OrganizationRecord, RelationshipRecord

    G = ecosystem_graph(generate_ecosystem(300, seed=3))
    orgs = [OrganizationRecord(id=n, name=d["name"], type=d["type"], sectors=tuple(d.get("sectors", [])),
                               clusters=tuple(d.get("clusters", [])), region=d.get("region"), mandate=d.get("mandate"))
            for n, d in G.nodes(data=True) if d["type"] != "cluster"]
    rels = [RelationshipRecord(source=u, target=v, type=k, weight=d.get("weight"))
            for u, v, k, d in G.edges(keys=True, data=True) if k != "PART_OF"]
    store.upsert(organizations=orgs, relationships=rels, source="demo")


def test_write_back_is_readable_with_cypher_and_replaced_by_the_next_run(neo4j_store, monkeypatch):
    from maillage import settings as settings_module

    _load_demo(neo4j_store)
    monkeypatch.setenv("NEO4J_URI", TEST_NEO4J_URI)
    monkeypatch.setenv("NEO4J_PASSWORD", test_neo4j_password())
    monkeypatch.setenv("MAILLAGE_STORE", "neo4j")
    settings_module.get_settings.cache_clear()
    runner = CliRunner()
    try:
        for top in (7, 5):
            result = runner.invoke(app, ["analyze", "gaps", "--top", str(top), "--format", "json", "--write-back"])
            assert result.exit_code == 0, result.output
            rows = json.loads(result.stdout)
            assert len(rows) == top
            stored = neo4j_store.run_query(
                "MATCH (a:Organization)-[s:SUGGESTED_PARTNER]->(b:Organization) "
                "RETURN a.id AS a, b.id AS b, s.score AS score, s.reasons AS reasons ORDER BY s.rank")
            # The second run replaced the first: exactly its rows, in its order, with its reasons.
            assert [(r[0], r[1]) for r in stored.rows] == [(r["source"], r["target"]) for r in rows]
            assert all(r[3] for r in stored.rows)
            runs = neo4j_store.run_query("MATCH (r:AnalysisRun {analysis: 'gaps'}) RETURN r.parameters AS p").rows
            assert len(runs) == 1 and f'"top": {top}' in runs[0][0]
    finally:
        settings_module.get_settings.cache_clear()
