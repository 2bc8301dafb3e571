"""The web console on the real Neo4j: writes refused by READ access mode, runaway queries stopped.

``tests/graph/test_neo4j.py`` proves it on the store, ``tests/api/test_console.py`` on
``/api/query`` for four writes; here every kind of write, schema change, administration
command and server-side file read goes through the console *page* an analyst uses, and the
graph is unchanged after each.
"""

from __future__ import annotations

import time

import pytest

from tests.api.factory import TOKENS, csrf_of, make_client, make_store
from tests.reliability.figures import record

pytestmark = pytest.mark.neo4j

WRITES = [
    "CREATE (n:Organization {id: 'intruder', name: 'x'}) RETURN n",
    "MERGE (n:Organization {id: 'intruder'}) RETURN n",
    "MATCH (o:Organization {id: 'poly'}) SET o.name = 'pwned' RETURN o",
    "MATCH (o:Organization {id: 'poly'}) DELETE o",
    "MATCH (n) DETACH DELETE n",
    "MATCH (o:Organization {id: 'poly'}) REMOVE o:Organization RETURN o",
    "MATCH (o:Organization {id: 'poly'}) REMOVE o.name RETURN o",
    "FOREACH (x IN range(1, 3) | CREATE (:Intruder {x: x}))",
    "CALL { CREATE (n:Intruder) RETURN n } RETURN n",
    "MATCH (a:Organization {id: 'poly'}), (b:Organization {id: 'bio-1'}) CREATE (a)-[:PARTNERS_WITH]->(b)",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "load  csv\nfrom 'http://127.0.0.1:1/x.csv' as line return line",
    "CALL db.createLabel('Pwned')",
    "CALL db.createProperty('pwned')",
    "CALL db.createRelationshipType('PWNED')",
    "CREATE INDEX pwned IF NOT EXISTS FOR (n:Organization) ON (n.pwned)",
    "DROP CONSTRAINT organization_id IF EXISTS",
    "CREATE USER intruder SET PASSWORD 'intruder-password'",
    "ALTER CURRENT USER SET PASSWORD FROM 'a' TO 'b'",
    "CREATE DATABASE pwned",
    "STOP DATABASE neo4j",
]


def _state(store):
    labels = store.run_query("CALL db.labels() YIELD label RETURN collect(label) AS l").rows[0][0]
    types = store.run_query("CALL db.relationshipTypes() YIELD relationshipType RETURN collect(relationshipType) AS t").rows[0][0]
    keys = store.run_query("CALL db.propertyKeys() YIELD propertyKey RETURN collect(propertyKey) AS k").rows[0][0]
    indexes = store.run_query("SHOW INDEXES YIELD name RETURN collect(name) AS n").rows[0][0]
    poly = store.organization("poly")
    return store.counts(), sorted(labels), sorted(types), sorted(keys), sorted(indexes), poly


@pytest.fixture
def console(neo4j_store):
    make_store(neo4j_store)
    with make_client(neo4j_store, role_tokens=True, query_timeout=1.0, query_row_cap=25) as client:
        client.post("/login", data={"token": TOKENS["analyst"], "csrf_token": csrf_of(client)})
        yield client, neo4j_store


def test_the_console_page_refuses_every_write_and_nothing_changes(console):
    client, store = console
    before = _state(store)
    token = csrf_of(client)
    for query in WRITES:
        r = client.post("/console?lang=en", data={"csrf_token": token, "query": query})
        assert r.status_code == 400, (query, r.status_code)
        assert "data-testid=\"query-error\"" in r.text or 'data-testid="query-error"' in r.text, query
        assert "Traceback" not in r.text
    assert _state(store) == before
    users = store.run_query("SHOW CURRENT USER YIELD user RETURN user").rows
    assert users == [["neo4j"]]
    record("console_writes_refused", len(WRITES))


def test_the_console_page_says_why_a_write_was_refused(console):
    client, _ = console
    token = csrf_of(client)
    r = client.post("/console?lang=en", data={"csrf_token": token, "query": WRITES[0]})
    assert "read-only" in r.text
    r = client.post("/console?lang=en", data={"csrf_token": token, "query": WRITES[10]})
    assert "LOAD CSV" in r.text


def test_a_runaway_query_is_stopped_at_the_time_limit(console):
    client, store = console
    started = time.monotonic()
    r = client.post("/console?lang=en", data={"csrf_token": csrf_of(client),
                                              "query": "UNWIND range(1, 2000000000) AS x WITH x WHERE x = -1 RETURN x"})
    elapsed = time.monotonic() - started
    assert r.status_code == 400 and "time limit" in r.text
    assert elapsed < 15
    # The server is not left busy with it: a new query answers at once.
    started = time.monotonic()
    assert client.post("/api/query", json={"query": "RETURN 1 AS one"}).json()["rows"] == [[1]]
    assert time.monotonic() - started < 5
    # (the marker goes in as a parameter, so that this query does not find itself)
    running = store.run_query("SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS $marker RETURN count(*) AS n",
                              {"marker": "2000000000"})
    assert running.rows == [[0]]


def test_a_query_returning_millions_of_rows_stops_at_the_row_cap(console):
    client, _ = console
    started = time.monotonic()
    r = client.post("/api/query", json={"query": "UNWIND range(1, 100000000) AS x RETURN x"})
    body = r.json()
    assert r.status_code == 200 and len(body["rows"]) == 25 and body["truncated"] is True
    assert time.monotonic() - started < 10


def test_a_viewer_cannot_reach_the_console_at_all(console):
    client, store = console
    with make_client(store, role_tokens=True) as viewer:
        viewer.post("/login", data={"token": TOKENS["viewer"], "csrf_token": csrf_of(viewer)})
        r = viewer.post("/console", data={"csrf_token": csrf_of(viewer), "query": "RETURN 1"})
        assert r.status_code == 403
