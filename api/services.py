"""The web view's workspace: the store, and cached snapshots and analyses computed off the loop.

Every page needs the graph snapshot and some analyses; computing them is slow (seconds on a
large graph) and must not block the event loop, nor run twice when two people open the same
page at once. :class:`Workspace` keeps each result under a key with the *generation* of the
graph it was computed from; an import through the web view bumps the generation, and results
older than ``MAILLAGE_CACHE_SECONDS`` are recomputed too (for changes made from the CLI).

Heavy calls run in Starlette's thread pool; one ``threading.Lock`` per key makes concurrent
requests for the same result share one computation (the second waits and reads the first's
result) without tying the cache to one event loop.

A store that cannot be opened (Neo4j down) is not remembered: the next request after a
short pause tries again, so the web view recovers by itself when Neo4j returns.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import networkx as nx
from starlette.concurrency import run_in_threadpool

from graph.base import Store
from maillage.errors import StoreUnavailable
from maillage.settings import Settings

__all__ = ["Workspace", "fold", "Entry"]

T = TypeVar("T")
#: Seconds between two attempts to open a store that failed (Neo4j down).
_RETRY_PAUSE = 2.0


def fold(text: object) -> str:
    """Fold a text for searching: accents removed, case folded, spaces collapsed.

    Examples
    --------
    >>> fold("  Montréal  Œuvre ") == fold("montreal oeuvre")
    True
    >>> fold(None)
    ''
    """
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # NFKD leaves ligatures such as œ whole; spell them out so that "oeuvre" finds "œuvre".
    stripped = stripped.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE").replace("ß", "ss")
    return " ".join(stripped.casefold().split())


@dataclass
class Entry:
    """One cached result: the generation it belongs to and when it was computed."""

    value: Any
    generation: int
    at: float


class Workspace:
    """The store of one web application and the results cached from it.

    Parameters
    ----------
    settings : Settings
        ``MAILLAGE_CACHE_SECONDS`` and the store's settings.
    store : Store, optional
        A store to use as is (tests); otherwise one is opened with ``store_factory`` on first
        use, and again after a failure.
    store_factory : callable, optional
        ``settings -> Store``; default :func:`graph.open_store`.
    """

    def __init__(self, settings: Settings, *, store: Store | None = None, store_factory: Callable[[Settings], Store] | None = None):
        self.settings = settings
        self._store = store
        self._owns_store = store is None
        if store_factory is None:
            from graph import open_store

            store_factory = open_store
        self._factory = store_factory
        self._store_lock = threading.Lock()
        self._last_failure: tuple[float, StoreUnavailable] | None = None
        self._cache: dict[Hashable, Entry] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.generation = 0
        #: How many times each key was computed (tests prove caching with it).
        self.computations: dict[Hashable, int] = {}

    # ---- the store -----------------------------------------------------------------
    def store_sync(self) -> Store:
        """Return the store, opening it if needed (blocking: call from a worker thread).

        Raises
        ------
        maillage.errors.StoreUnavailable
            The store cannot be opened now; a later call tries again.
        """
        if self._store is not None:
            return self._store
        with self._store_lock:
            if self._store is not None:
                return self._store
            if self._last_failure is not None and time.monotonic() - self._last_failure[0] < _RETRY_PAUSE:
                raise self._last_failure[1]
            try:
                self._store = self._factory(self.settings)
            except StoreUnavailable as err:
                self._last_failure = (time.monotonic(), err)
                raise
            self._last_failure = None
            return self._store

    @property
    def opened_store(self) -> Store | None:
        """The store if it is open, else ``None`` (never opens it)."""
        return self._store

    async def store(self) -> Store:
        """Return the store (opened in a worker thread: connecting to Neo4j blocks)."""
        if self._store is not None:
            return self._store
        return await run_in_threadpool(self.store_sync)

    def close(self) -> None:
        """Close the store if this workspace opened it."""
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None

    # ---- running and caching ---------------------------------------------------------
    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking ``fn`` in the thread pool."""
        return await run_in_threadpool(fn, *args, **kwargs)

    def invalidate(self) -> None:
        """Forget every cached result (after an import changed the graph)."""
        self.generation += 1
        self._cache.clear()

    def _lock_for(self, key: Hashable) -> threading.Lock:
        with self._locks_lock:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def _fresh(self, entry: Entry | None) -> bool:
        return (
            entry is not None
            and entry.generation == self.generation
            and time.monotonic() - entry.at <= self.settings.cache_seconds
        )

    def cached_sync(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the cached result under ``key``, computing it once if missing or stale.

        Blocking: call it from a worker thread (or through :meth:`cached`).
        """
        entry = self._cache.get(key)
        if self._fresh(entry):
            return entry.value  # type: ignore[union-attr]
        with self._lock_for(key):
            # Another request may have computed it while this one waited for the lock.
            entry = self._cache.get(key)
            if self._fresh(entry):
                return entry.value  # type: ignore[union-attr]
            generation = self.generation
            value = compute()
            self.computations[key] = self.computations.get(key, 0) + 1
            # Tagged with the generation it started from: if an import landed meanwhile, the
            # next request sees a stale entry and recomputes.
            self._cache[key] = Entry(value, generation, time.monotonic())
            return value

    async def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the cached result under ``key``, computing it in the thread pool if needed."""
        entry = self._cache.get(key)
        if self._fresh(entry):
            return entry.value  # type: ignore[union-attr]
        return await run_in_threadpool(self.cached_sync, key, compute)

    # ---- what pages need -------------------------------------------------------------
    def snapshot_sync(self) -> nx.MultiDiGraph:
        """Return the whole graph (cached)."""
        return self.cached_sync(("snapshot",), lambda: self.store_sync().snapshot())

    async def snapshot(self) -> nx.MultiDiGraph:
        """Return the whole graph (cached, read in the thread pool)."""
        return await self.cached(("snapshot",), lambda: self.store_sync().snapshot())

    async def counts(self) -> dict[str, dict[str, int]]:
        """Return the store's node and relationship counts (cached)."""
        return await self.cached(("counts",), lambda: self.store_sync().counts())
