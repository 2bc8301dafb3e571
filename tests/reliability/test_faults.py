"""Faults: Neo4j killed in the middle of an import, Neo4j away at start, a transient error.

These tests use the killable server of ``fault_server`` (its own home and port). The order of
the tests below keeps the number of server starts low (each costs seconds); each test still
brings the server to the state it needs, so any order or selection works.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import neo4j
import pytest
from fastapi.testclient import TestClient

from graph.memory_store import MemoryStore
from maillage.errors import ImportFailed
from maillage.model import OrganizationRecord, RelationshipRecord
from maillage.settings import REPO_ROOT, load_settings
from tests.reliability.figures import record

pytestmark = pytest.mark.neo4j

CLUSTERS = ("Aérospatiale", "Sciences de la vie", "Technologies de l'information", "Mobilité durable")
TYPES = ("company", "association", "institution", "structure", "government", "workforce_committee")


def make_import(n: int, *, prefix: str, source: str) -> tuple[list[OrganizationRecord], list[RelationshipRecord]]:
    """Return ``n`` organizations in four clusters and about ``2 n`` relationships among them."""
    orgs = [
        OrganizationRecord(id=f"{prefix}-{i}", name=f"Organisation {prefix} n° {i}", type=TYPES[i % len(TYPES)],
                           sectors=("secteur", f"s{i % 7}"), clusters=(CLUSTERS[i % 4], CLUSTERS[(i // 4) % 4]),
                           region="Montréal" if i % 2 else "Laval", mandate=f"Mandat {i}", source_file=source, row=i + 2)
        for i in range(n)
    ]
    rels = [RelationshipRecord(source=f"{prefix}-{i}", target=f"{prefix}-{(i * 7 + 1) % n}", type="PARTNERS_WITH",
                               weight=1.0, source_file=source, row=i + 2) for i in range(n) if (i * 7 + 1) % n != i]
    rels += [RelationshipRecord(source=f"{prefix}-{i}", target=f"{prefix}-{(i + 3) % n}", type="MEMBER_OF",
                                source_file=source, row=n + i + 2) for i in range(n)]
    return orgs, rels


def expected_counts(*imports) -> dict:
    """The oracle: the same imports written to the memory store."""
    oracle = MemoryStore(None)
    for orgs, rels, source in imports:
        oracle.upsert(organizations=orgs, relationships=rels, source=source)
    return oracle.counts()


def _settings(server, **overrides):
    values = dict(NEO4J_URI=server.uri, NEO4J_USER="neo4j", NEO4J_PASSWORD=server.password, MAILLAGE_STORE="neo4j",
                  tokens=None, tokens_file=None, host="127.0.0.1", secret_key="fault-secret-key-0123456789")
    values.update(overrides)
    return load_settings(**values)


# ---- a transient error inside a batch is retried ----------------------------------------------------
_BLOCKED = "SHOW TRANSACTIONS YIELD transactionId, status WHERE status STARTS WITH 'Blocked' RETURN count(*) AS n"


def test_a_deadlock_inside_a_batch_is_retried_and_the_import_lands_once(fault_server, caplog):
    """A real TransientError (Neo4j's DeadlockDetected) in the second batch of an import.

    Another transaction holds organization X (and 300 others); the import's first batch writes
    Y, its second asks for X and waits; the other transaction then asks for Y, closing a cycle.
    Neo4j aborts the transaction holding fewer locks - the import - with
    ``Neo.TransientError.Transaction.DeadlockDetected``, and the driver's managed transaction
    runs the whole import again, which lands exactly once.
    """
    fault_server.ensure_up()
    store = fault_server.store(batch_size=1)
    other = neo4j.GraphDatabase.driver(fault_server.uri, auth=("neo4j", fault_server.password))
    holder = None
    try:
        store.clear()
        seed = [OrganizationRecord(id=i, name=f"Avant {i}", type="company") for i in ("X", "Y")]
        seed += [OrganizationRecord(id=f"F{i}", name=f"Remplissage {i}", type="company") for i in range(300)]
        store.upsert(organizations=seed, source="seed.csv")
        new = [OrganizationRecord(id="Y", name="Après Y", type="company"), OrganizationRecord(id="X", name="Après X", type="company")]

        holder = other.session()
        tx = holder.begin_transaction()
        tx.run("MATCH (o:Organization) WHERE o.id = 'X' OR o.id STARTS WITH 'F' SET o.lockedBy = 'other'").consume()
        outcome: dict = {}

        def other_takes_y_once_the_import_waits() -> None:
            try:
                deadline = time.monotonic() + 30
                with other.session() as s:
                    while s.run(_BLOCKED).single()["n"] == 0:
                        if time.monotonic() > deadline:
                            outcome["other"] = "the import never waited for X"
                            return
                        time.sleep(0.02)
                tx.run("MATCH (o:Organization {id: 'Y'}) SET o.lockedBy = 'other'").consume()
                outcome["other"] = "got Y"
            except neo4j.exceptions.Neo4jError as err:
                outcome["other"] = err.code
            finally:
                tx.rollback()

        waiter = threading.Thread(target=other_takes_y_once_the_import_waits, daemon=True)
        attempts: list[int] = []

        def progress(done: int, total: int) -> None:
            attempts.append(done)
            if done == 1 and not waiter.is_alive() and not outcome:
                waiter.start()

        with caplog.at_level("WARNING", logger="neo4j"):
            summary = store.upsert(organizations=new, source="seed.csv", progress=progress)
        waiter.join(timeout=30)

        retried = [r.getMessage() for r in caplog.records if "will be retried" in r.getMessage()]
        assert any("DeadlockDetected" in m for m in retried), [r.getMessage() for r in caplog.records]
        assert outcome["other"] == "got Y"
        assert attempts == [1, 1, 2]  # the first batch ran twice: the whole import was retried
        assert summary.organizations_updated == 2
        assert store.organization("X")["name"] == "Après X" and store.organization("Y")["name"] == "Après Y"
        assert "lockedBy" not in store.organization("X") and "lockedBy" not in store.organization("F0")
        assert store.counts() == expected_counts((seed, [], "seed.csv"), (new, [], "seed.csv"))
    finally:
        if holder is not None:
            holder.close()
        other.close()
        store.close()
    record("faults_injected", 1)
    record("transient_errors_retried", len(retried))


# ---- the server killed in the middle of an import ------------------------------------------------
PAGES = ("/?lang=en", "/organizations?lang=en", "/map?lang=en", "/tables/gaps?lang=en")


def _get(client, path: str):
    started = time.monotonic()
    r = client.get(path)
    return r, time.monotonic() - started


def test_neo4j_killed_mid_import_loses_nothing_and_the_web_view_recovers(fault_server):
    """Neo4j killed (SIGKILL) while an import writes, with the web view open on the same graph.

    The import fails with a clear ImportFailed once the driver stops retrying; meanwhile every
    page answers a 503 page that reloads itself (and a view started while Neo4j is away does
    too). Once Neo4j is back, both views recover by themselves, nothing of the import is in the
    graph, the import run again lands exactly once, and a third run changes nothing.
    """
    from api.app import create_app

    fault_server.ensure_up()
    store = fault_server.store(batch_size=500)
    try:
        store.clear()
        base = make_import(300, prefix="base", source="base.csv")
        store.upsert(organizations=base[0], relationships=base[1], source="base.csv")
        before = store.counts()
        orgs, rels = make_import(5000, prefix="big", source="big.csv")
        total = len(orgs) + len(rels)
        # No cache, so that every page asks Neo4j; the app opens its store from the settings.
        settings = _settings(fault_server, cache_seconds=0)
        with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
            assert client.get("/?lang=en").status_code == 200
            killed = threading.Event()
            killed_at: list[int] = []
            result: dict = {}

            def kill_midway(done: int, total: int) -> None:
                # SIGKILL from another thread once a third of the rows are written inside the
                # transaction; wait until the process is gone, so that the kill lands mid-import.
                if not killed_at and done >= total // 3:
                    killed_at.append(done)
                    killer = threading.Thread(target=fault_server.kill)
                    killer.start()
                    killer.join()
                    killed.set()

            def run_import() -> None:
                started = time.monotonic()
                try:
                    store.upsert(organizations=orgs, relationships=rels, source="big.csv", progress=kill_midway)
                    result["outcome"] = "landed"
                except Exception as err:  # noqa: BLE001 - checked below
                    result["outcome"] = err
                result["seconds"] = time.monotonic() - started

            importer = threading.Thread(target=run_import)
            importer.start()
            assert killed.wait(timeout=300), "the import never reached a third of its rows"

            # While Neo4j is away (and the import's driver retries): clear 503 pages, promptly.
            slow = {}
            for path in PAGES:
                r, seconds = _get(client, path)
                assert r.status_code == 503, (path, r.status_code, r.text[:300])
                assert "Neo4j" in r.text and 'http-equiv="refresh"' in r.text and "Traceback" not in r.text
                slow[path] = seconds
            with TestClient(create_app(settings), base_url="http://127.0.0.1") as fresh:
                r, slow["a view started while Neo4j is away"] = _get(fresh, "/?lang=en")
                assert r.status_code == 503 and "Neo4j is not reachable" in r.text
                api, slow["/api/health"] = _get(client, "/api/health")
                assert api.status_code == 503 and "Neo4j" in api.json()["error"]["message"]

                importer.join(timeout=300)
                error = result["outcome"]
                assert isinstance(error, ImportFailed), error
                message = str(error)
                assert "Lost Neo4j" in message and "nothing of this import is in the graph" in message
                assert "run it again once Neo4j is back" in message

                fault_server.start()
                time.sleep(2.1)  # a view whose store failed to open tries again after 2 s
                for c in (client, fresh):
                    r = c.get("/organizations?lang=en&q=organisation base")
                    assert r.status_code == 200 and "Organisation base" in r.text
                assert client.get("/api/health").json()["status"] == "ok"
                assert fresh.get("/api/organizations?q=big").json()["total"] == 0

        assert store.counts() == before  # the same store reconnects by itself
        assert store.existing_ids(o.id for o in orgs) == set()

        summary = store.upsert(organizations=orgs, relationships=rels, source="big.csv")
        expected = expected_counts((*base, "base.csv"), (orgs, rels, "big.csv"))
        assert store.counts() == expected
        assert summary.organizations_created == len(orgs) and summary.relationships_created == len(rels)

        again = store.upsert(organizations=orgs, relationships=rels, source="big.csv")
        assert not again.changed and again.organizations_unchanged == len(orgs)
        assert store.counts() == expected
    finally:
        store.close()
    record("import_rows_interrupted", total)
    record("import_rows_lost_or_doubled", 0)
    print(f"import of {total} rows killed after row {killed_at[0]}; ImportFailed after {result['seconds']:.1f} s; "
          f"503 answers took {', '.join(f'{k} {v:.1f} s' for k, v in slow.items())}")
    # Last, so that the scenario above is checked whatever this says: while Neo4j is away, no
    # page may hang (reads through managed transactions retry for 30 s by default).
    assert max(slow.values()) < 10, {k: round(v, 1) for k, v in slow.items()}


# ---- the command line with Neo4j away --------------------------------------------------------------
def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is: nothing listens there


@pytest.mark.parametrize("command", [["info"], ["query", "RETURN 1"]])
def test_cli_with_neo4j_away_exits_non_zero_with_one_clear_line(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "MAILLAGE_"))}
    port = _closed_port()
    env.update(NEO4J_URI=f"bolt://127.0.0.1:{port}", NEO4J_PASSWORD="whatever-password")
    started = time.monotonic()
    done = subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "maillage"), *command], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode not in (0, None), done
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: Neo4j is not reachable at bolt://127.0.0.1:")
    assert "NEO4J_URI" in lines[0] and "scripts/neo4j-local start" in lines[0]
    assert time.monotonic() - started < 60
    record("faults_injected", 1)
