"""Shared fixtures: the two stores, and factories for records.

Tests marked ``neo4j`` talk to the real Neo4j server that ``make test`` starts with
``scripts/neo4j-local`` (home ``.neo4j-test``, port 7688, so that tests never touch the demo's
graph). Point them elsewhere with ``MAILLAGE_TEST_NEO4J_URI`` / ``MAILLAGE_TEST_NEO4J_PASSWORD``;
the graph there is wiped before each test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graph.memory_store import MemoryStore
from maillage.model import OrganizationRecord, RelationshipRecord
from maillage.settings import REPO_ROOT

TEST_NEO4J_HOME = Path(os.environ.get("MAILLAGE_TEST_NEO4J_HOME", REPO_ROOT / ".neo4j-test"))
TEST_NEO4J_URI = os.environ.get("MAILLAGE_TEST_NEO4J_URI", "bolt://127.0.0.1:7688")


def test_neo4j_password() -> str:
    """Return the password of the test server (env, else its password file)."""
    if "MAILLAGE_TEST_NEO4J_PASSWORD" in os.environ:
        return os.environ["MAILLAGE_TEST_NEO4J_PASSWORD"]
    path = TEST_NEO4J_HOME / "password"
    if not path.exists():
        pytest.fail(
            f"No test Neo4j: {path} is missing. Run `make test`, or start it with "
            "MAILLAGE_NEO4J_HOME=.neo4j-test MAILLAGE_NEO4J_PORT=7688 scripts/neo4j-local start",
            pytrace=False,
        )
    return path.read_text().strip()


test_neo4j_password.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def _neo4j_store_session():
    from graph.neo4j_store import Neo4jStore

    store = Neo4jStore(TEST_NEO4J_URI, user="neo4j", password=test_neo4j_password(), batch_size=500)
    yield store
    store.close()


@pytest.fixture
def neo4j_store(_neo4j_store_session):
    """The real Neo4j test server, emptied before the test."""
    _neo4j_store_session.clear()
    return _neo4j_store_session


@pytest.fixture
def memory_store(tmp_path):
    """A memory store persisted to a file in the test's folder."""
    return MemoryStore(tmp_path / "graph.json")


@pytest.fixture(params=["memory", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request):
    """Each store in turn: the same tests run against both."""
    if request.param == "memory":
        return request.getfixturevalue("memory_store")
    return request.getfixturevalue("neo4j_store")


def make_org(**fields) -> OrganizationRecord:
    """Return an organization record with sensible defaults, overridden by ``fields``."""
    defaults = dict(id="org-1", name="Aéro Boréal inc.", type="company", sectors=("aerospace",),
                    clusters=("Aérospatiale",), region="Montréal", mandate="Fabrication de pièces")
    defaults.update(fields)
    return OrganizationRecord(**defaults)


def make_rel(**fields) -> RelationshipRecord:
    """Return a relationship record with sensible defaults, overridden by ``fields``."""
    defaults = dict(source="org-1", target="org-2", type="PARTNERS_WITH", weight=1.0)
    defaults.update(fields)
    return RelationshipRecord(**defaults)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium():
    """A real headless Chromium (Debian's) driven by Playwright, one per test module.

    Playwright's sync API keeps an event loop running in the main thread while it is open:
    a second ``sync_playwright()`` or a later test's ``asyncio.run`` would fail. Scoping it
    to the module closes it before the next module starts.
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium).", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
