"""`maillage load --bulk`: Neo4j's bulk importer builds what an upsert builds.

The bulk importer stops the server it loads, so these tests get a Neo4j server of their own
(home ``.neo4j-bulk``, port 7691; override with ``MAILLAGE_BULK_NEO4J_HOME`` /
``MAILLAGE_BULK_NEO4J_PORT``), started once and stopped at the end. The oracle is the memory
store's upsert of the same records (itself checked against Neo4j's upsert in
``test_neo4j_import.py``): same nodes, labels, relationships and properties, down to the content
hashes, so that an upsert of the same records after a bulk load changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.bulk import write_bulk_files
from graph.memory_store import MemoryStore
from maillage.errors import ImportFailed
from maillage.settings import REPO_ROOT
from tests.conftest import make_org, make_rel
from tests.graph.test_neo4j_import import _graph
from tests.reliability.conftest import FaultServer

BULK_HOME = Path(os.environ.get("MAILLAGE_BULK_NEO4J_HOME", REPO_ROOT / ".neo4j-bulk"))
BULK_PORT = int(os.environ.get("MAILLAGE_BULK_NEO4J_PORT", "7691"))


@pytest.fixture(scope="module")
def bulk_server():
    server = FaultServer(BULK_HOME, BULK_PORT)
    if server.pid() is None and server.port_open():
        pytest.fail(f"Port {BULK_PORT} is taken by another program; set MAILLAGE_BULK_NEO4J_PORT.", pytrace=False)
    server.ensure_up()
    try:
        yield server
    finally:
        if server.pid() is not None:
            server.stop()


@pytest.fixture
def empty_bulk_server(bulk_server):
    bulk_server.ensure_up()
    store = bulk_server.store()
    try:
        store.clear()
    finally:
        store.close()
    return bulk_server


def _tricky_records():
    """Organizations and relationships with everything the CSV files must carry intact."""
    orgs = [
        make_org(id="o1", name='Aéro "Boréal", inc.', sectors=("aerospace", "défense"),
                 clusters=("Aérospatiale", "Mode"), mandate="Ligne 1\nLigne 2, avec virgule\r\net \"guillemets\"",
                 extra={"headcount": 120, "revenue": 1.5e6, "public": True, "founded": dt.date(1999, 5, 4),
                        "tags": ("a", "b;c")}, source_file="membres.csv", row=2),
        make_org(id="o2", name="<img src=x onerror=alert(1)> =SUM(A1)", type="association", sectors=(),
                 clusters=("Aérospatiale",), region=None, mandate=None,
                 extra={"headcount": 35, "public": False, "tags": ("x",)}, source_file="membres.csv", row=3),
        make_org(id="o 3/é", name="  Espaces  ", type="institution", sectors=("santé",), clusters=(),
                 extra={"tags": ("y", "z")}, source_file=None, row=None),
        make_org(id="o4", name="Comité 日本", type="workforce_committee", clusters=("Sciences de la vie",),
                 extra={"headcount": 7, "tags": ("w",)}),
    ]
    rels = [
        make_rel(source="o1", target="o2", type="PARTNERS_WITH", weight=2.0, since=dt.date(2020, 1, 1),
                 until=dt.date(2024, 12, 31), extra={"note": "a, \"b\"\nc"}, source_file="liens.csv", row=2),
        make_rel(source="o2", target="o 3/é", type="MEMBER_OF", weight=None, extra={"note": "x"}),
        make_rel(source="o 3/é", target="o1", type="FUNDS", weight=3.0, extra={"note": "y"}),
        make_rel(source="o4", target="o1", type="FUNDS", weight=0.25, extra={"note": "z"}),
        make_rel(source="o4", target="mode", type="COORDINATES", target_kind="Cluster", weight=None),
        # An explicit PART_OF for a link the organization's clusters also make: it replaces it.
        make_rel(source="o1", target="aerospatiale", type="PART_OF", target_kind="Cluster", weight=4.0),
    ]
    return orgs, rels


def _demo_plan(tmp_path, n=200):
    from loaders import prepare_import
    from loaders.sample import generate_ecosystem, write_ecosystem

    paths = write_ecosystem(generate_ecosystem(n, seed=5), tmp_path)
    return prepare_import([paths["organizations"], paths["relationships"]])


def _oracle(orgs, rels, *, source, import_id):
    oracle = MemoryStore(None)
    oracle.upsert(organizations=orgs, relationships=rels, source=source, import_id=import_id)
    return oracle


def test_bulk_load_builds_what_upsert_builds_and_a_second_load_changes_nothing(empty_bulk_server, tmp_path):
    from graph.bulk import bulk_load

    plan = _demo_plan(tmp_path)
    tricky_orgs, tricky_rels = _tricky_records()
    orgs = plan.organizations + tricky_orgs
    rels = plan.relationships + tricky_rels
    messages = []
    summary = bulk_load(empty_bulk_server.store, orgs, rels, source=plan.source, import_id="bulk-1",
                        neo4j_home=empty_bulk_server.home, neo4j_port=empty_bulk_server.port, log=messages.append)
    assert summary.organizations_created == len(orgs) and summary.relationships_created == len(rels)
    assert any("neo4j-admin import" in m for m in messages)

    oracle = _oracle(orgs, rels, source=plan.source, import_id="bulk-1")
    store = empty_bulk_server.store()
    try:
        counts, nodes, edges = _graph(store)
        assert (counts, nodes, edges) == _graph(oracle)
        # Spot checks of what the comparison covers, read back with Cypher.
        row = store.run_query("MATCH (o:Organization {id: 'o1'}) RETURN o.mandate AS m, o.founded AS f, "
                              "o.tags AS t, labels(o) AS l").rows[0]
        assert row[0] == "Ligne 1\nLigne 2, avec virgule\r\net \"guillemets\"" and row[1] == "1999-05-04"
        assert row[2] == ["a", "b;c"] and sorted(row[3]) == ["Company", "Organization"]
        assert store.run_query("MATCH (o:Organization {id: 'o2'}) RETURN o.sectors AS s").rows == [[[]]]
        # The constraints are there: a second organization with a stored id is refused.
        with pytest.raises(Exception, match="(?i)constraint|already exists"):
            store._driver.execute_query("CREATE (:Organization {id: 'o1'})")

        again = store.upsert(organizations=orgs, relationships=rels, source=plan.source)
        assert not again.changed
        assert again.organizations_unchanged == len(orgs) and again.relationships_unchanged == len(rels)
    finally:
        store.close()


def test_bulk_load_refuses_a_graph_that_is_not_empty(empty_bulk_server):
    from graph.bulk import bulk_load

    store = empty_bulk_server.store()
    try:
        store.upsert(organizations=[make_org(id="kept")], source="first.csv")
    finally:
        store.close()
    pid = empty_bulk_server.pid()
    with pytest.raises(ImportFailed, match="builds a database from nothing.*holds 2 node"):
        bulk_load(empty_bulk_server.store, [make_org(id="new")], [], source="x.csv",
                  neo4j_home=empty_bulk_server.home, neo4j_port=empty_bulk_server.port)
    assert empty_bulk_server.pid() == pid, "the server was restarted for nothing"
    store = empty_bulk_server.store()
    try:
        assert store.counts()["nodes"] == {"company": 1, "cluster": 1}
    finally:
        store.close()


def test_a_failing_importer_leaves_the_empty_database_and_a_running_server(empty_bulk_server, monkeypatch):
    from graph import bulk

    original = bulk.BulkFiles.arguments
    # A file the importer cannot read, given after the good ones: it fails after starting.
    monkeypatch.setattr(bulk.BulkFiles, "arguments",
                        lambda self: original(self) + [f"--nodes={self.folder / 'missing.csv'}"])
    orgs, rels = _tricky_records()
    with pytest.raises(ImportFailed, match="bulk importer failed; the database is as it was"):
        bulk.bulk_load(empty_bulk_server.store, orgs, rels, source="t.csv",
                       neo4j_home=empty_bulk_server.home, neo4j_port=empty_bulk_server.port)
    assert empty_bulk_server.pid() is not None, "the server was not started again"
    store = empty_bulk_server.store()
    try:
        assert store.node_count() == 0
        # And it still takes an ordinary import.
        assert store.upsert(organizations=orgs, relationships=rels, source="t.csv").organizations_created == 4
    finally:
        store.close()


def test_cli_load_bulk_loads_the_demo_files_and_refuses_a_second_time(empty_bulk_server, tmp_path, monkeypatch):
    from api.cli import app
    from loaders.sample import generate_ecosystem, write_ecosystem
    from maillage import settings as settings_module

    paths = write_ecosystem(generate_ecosystem(150, seed=2), tmp_path)
    for key in ("NEO4J_URI", "NEO4J_PASSWORD", "MAILLAGE_TOKENS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MAILLAGE_STORE", "neo4j")
    monkeypatch.setenv("MAILLAGE_NEO4J_HOME", str(empty_bulk_server.home))
    monkeypatch.setenv("MAILLAGE_NEO4J_PORT", str(empty_bulk_server.port))
    settings_module.get_settings.cache_clear()
    try:
        runner = CliRunner()
        files = [str(paths["organizations"]), str(paths["relationships"])]
        result = runner.invoke(app, ["load", "--bulk", *files])
        assert result.exit_code == 0, result.output
        assert "150" in result.output
        store = empty_bulk_server.store()
        try:
            assert sum(n for t, n in store.counts()["nodes"].items() if t != "cluster") == 150
        finally:
            store.close()
        second = runner.invoke(app, ["load", "--bulk", *files])
        # main() prints a MaillageError on one line; under CliRunner it is the exception.
        assert second.exit_code != 0 and isinstance(second.exception, ImportFailed)
        assert "builds a database from nothing" in str(second.exception)
        # Without --bulk the same files are an ordinary, unchanged, import.
        third = runner.invoke(app, ["load", *files])
        assert third.exit_code == 0, third.output
    finally:
        settings_module.get_settings.cache_clear()


# ---- the files alone (no server) ------------------------------------------------------------
def test_a_column_holding_text_and_numbers_is_refused_before_anything_is_written(tmp_path):
    orgs = [make_org(id="a", extra={"size": 10}), make_org(id="b", extra={"size": "grande"})]
    with pytest.raises(ImportFailed, match="'size' holds both long and string"):
        write_bulk_files(orgs, [], tmp_path, import_id="i", imported_at="t", source="s")


def test_a_relationship_to_an_unknown_organization_is_refused_with_its_ends(tmp_path):
    rels = [make_rel(source="a", target="ghost", type="FUNDS")]
    with pytest.raises(ImportFailed, match="a -\\[FUNDS\\]-> ghost \\(target not in the import\\)"):
        write_bulk_files([make_org(id="a")], rels, tmp_path, import_id="i", imported_at="t", source="s")


def test_an_empty_list_next_to_a_missing_one_is_refused(tmp_path):
    orgs = [make_org(id="a", extra={"tags": ()}), make_org(id="b")]
    with pytest.raises(ImportFailed, match="'tags' is an empty list on some rows and missing on others"):
        write_bulk_files(orgs, [], tmp_path, import_id="i", imported_at="t", source="s")


def test_whole_and_decimal_numbers_share_a_double_column(tmp_path):
    files = write_bulk_files([make_org(id="a", extra={"n": 1}), make_org(id="b", extra={"n": 2.5})], [], tmp_path,
                             import_id="i", imported_at="t", source="s")
    header = (tmp_path / "organizations.csv").read_text(encoding="utf-8").splitlines()[0]
    assert '"n:double"' in header.split(",")
    assert files.n_organizations == 2 and files.n_clusters == 1 and files.n_part_of == 2
