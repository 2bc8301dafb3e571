"""The graph layer: stores that write and read the stakeholder graph.

:func:`open_store` picks the store the settings ask for: Neo4j (``NEO4J_URI``, or the local
server of ``scripts/neo4j-local`` when it runs) or the memory store persisted under
``MAILLAGE_DATA_DIR``.
"""

from __future__ import annotations

from graph.base import AnalysisResults, ImportSummary, QueryResult, Store
from graph.memory_store import MemoryStore
from maillage.errors import StoreUnavailable
from maillage.settings import Settings, get_settings

__all__ = ["Store", "ImportSummary", "QueryResult", "AnalysisResults", "MemoryStore", "Neo4jStore", "open_store"]


def __getattr__(name: str):
    # The Neo4j store imports the driver; load it only when asked for.
    if name == "Neo4jStore":
        from graph.neo4j_store import Neo4jStore

        return Neo4jStore
    raise AttributeError(name)


def open_store(settings: Settings | None = None) -> Store:
    """Open the store the settings name.

    ``MAILLAGE_STORE=neo4j`` uses ``NEO4J_URI`` (default: the local server); ``memory`` the
    file ``MAILLAGE_DATA_DIR/graph.json``; ``auto`` Neo4j when ``NEO4J_URI`` is set or the
    local server runs, else the memory store.

    Raises
    ------
    maillage.errors.StoreUnavailable
        Neo4j was asked for (explicitly or by ``NEO4J_URI``) and cannot be reached.
    """
    settings = settings or get_settings()
    mode = settings.store
    if mode == "auto":
        mode = "neo4j" if settings.neo4j_uri or settings.local_server_running() else "memory"
    if mode == "memory":
        return MemoryStore(settings.data_dir / "graph.json")
    from graph.neo4j_store import Neo4jStore

    uri = settings.neo4j_uri or settings.local_uri()
    password = settings.password()
    if password is None:
        raise StoreUnavailable(
            f"No password for Neo4j at {uri}: set NEO4J_PASSWORD, or start the local server with "
            "`scripts/neo4j-local start`, which writes .neo4j/password."
        )
    return Neo4jStore(uri, user=settings.neo4j_user, password=password, database=settings.neo4j_database, batch_size=settings.batch_size)
