"""The web view's workspace: the store, and cached snapshots and analyses computed off the loop.

Every page needs the graph snapshot and some analyses; computing them is slow (seconds on a
large graph) and must not block the event loop, nor run twice when two people open the same
page at once. :class:`Workspace` keeps each result under a key with the *generation* of the
graph it was computed from; an import through the web view bumps the generation, and results
older than ``MAILLAGE_CACHE_SECONDS`` are recomputed too (for changes made from the CLI).

Heavy calls run in Starlette's thread pool; one ``threading.Lock`` per key makes concurrent
requests for the same result share one computation (the second waits and reads the first's
result) without tying the cache to one event loop. Analyses themselves run in a worker
*process* (:mod:`api.workers`): pure-Python seconds in a thread would hold the GIL and stall
every request meanwhile.

Every cached result carries a *version*, unique in the process: what is derived from a result
(a table page serialised to JSON, see :meth:`Workspace.page`) is cached under that version, so
that a recomputed result never serves pages of the old one. The cache keeps at most
:data:`MAX_ENTRIES` results and :data:`MAX_PAGE_BYTES` of pages, least recently used first
out: searches with ever new words must not grow the server without bound.

A store that cannot be opened (Neo4j down) is not remembered: the next request after a
short pause tries again, so the web view recovers by itself when Neo4j returns.
"""

from __future__ import annotations

import gc
import itertools
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import networkx as nx
from starlette.concurrency import run_in_threadpool

from graph.base import Store
from maillage.errors import StoreUnavailable
from maillage.settings import Settings

__all__ = ["Workspace", "fold", "Entry", "MAX_ENTRIES", "MAX_PAGES", "MAX_PAGE_BYTES"]

T = TypeVar("T")
#: Seconds between two attempts to open a store that failed (Neo4j down).
_RETRY_PAUSE = 2.0
#: Most results the cache keeps (snapshot, analyses, pages' data...).
MAX_ENTRIES = 512
#: Most serialised pages kept, and their most bytes in all.
MAX_PAGES = 4096
MAX_PAGE_BYTES = 64 * 2**20
_versions = itertools.count(1)


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None


_malloc_trim = _load_malloc_trim()


def _release_memory() -> None:
    """Give the C allocator's free pages back to the system.

    A snapshot of a large graph is hundreds of thousands of small objects, allocated from
    several threads; when it is replaced, glibc may keep the freed pages in its arenas rather
    than return them, so that resident memory can ratchet up snapshot after snapshot.
    ``malloc_trim`` returns them (ctypes releases the GIL during the call)."""
    if _malloc_trim is not None:
        _malloc_trim(0)


#: Nodes + edges of a snapshot above which the heap is settled (:func:`_settle_heap`) when it
#: is cached: below, a full collection costs a few milliseconds anyway.
_SETTLE_ABOVE = 50_000


def _settle_heap() -> None:
    """Collect what is garbage now, then move every object still alive (the new snapshot
    among them) out of the cyclic garbage collector's sight (``gc.freeze``).

    A snapshot is a million or more Python objects; every later full collection would walk
    them all, holding the GIL in one C call: with 10,000 organizations that is over 100 ms
    during which no request is answered, and a server that keeps receiving analysis results
    makes such collections often (the API benchmark's p99 while analyses ran: about 180 ms
    against 7 ms idle). Frozen objects are still freed by reference counting; the previous
    snapshot's reference cycles are collected here, by the collection that precedes the next
    freeze, once per snapshot instead of once every few requests."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


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
    """One cached result: the generation it belongs to, when it was computed, and a version
    unique in the process (what is derived from it is cached under that version)."""

    value: Any
    generation: int
    at: float
    version: int = 0


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
    workers : AnalysisWorkers or None, optional
        Where analyses run: by default (``"shared"``) the process's worker
        (:func:`api.workers.shared_workers`); ``None`` runs them in the calling thread.
    """

    def __init__(self, settings: Settings, *, store: Store | None = None, store_factory: Callable[[Settings], Store] | None = None,
                 workers: Any = "shared"):
        self.settings = settings
        self._store = store
        self._owns_store = store is None
        if store_factory is None:
            from graph import open_store

            store_factory = open_store
        self._factory = store_factory
        self._store_lock = threading.Lock()
        self._last_failure: tuple[float, StoreUnavailable] | None = None
        self._cache: OrderedDict[Hashable, Entry] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        #: page key -> (page, size in bytes, (result key, result version) or None)
        self._pages: OrderedDict[Hashable, tuple[Any, int, tuple[Hashable, int] | None]] = OrderedDict()
        self._answers: OrderedDict[Hashable, tuple[Hashable, Hashable, int]] = OrderedDict()
        self._page_bytes = 0
        self._pages_lock = threading.Lock()
        self.generation = 0
        if workers == "shared":
            from api.workers import shared_workers

            workers = shared_workers()
        self.workers = workers
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
        """Forget every cached result and page (after an import changed the graph)."""
        self.generation += 1
        self._cache.clear()
        with self._pages_lock:
            self._pages.clear()
            self._answers.clear()
            self._page_bytes = 0

    def _lock_for(self, key: Hashable) -> threading.Lock:
        with self._locks_lock:
            lock = self._locks.get(key)
            if lock is None:
                if len(self._locks) > 4 * MAX_ENTRIES:
                    # Forget the locks of results no longer cached that nobody holds.
                    for k in [k for k, lk in self._locks.items() if k not in self._cache and not lk.locked()]:
                        del self._locks[k]
                lock = self._locks[key] = threading.Lock()
            return lock

    def _fresh(self, entry: Entry | None) -> bool:
        return (
            entry is not None
            and entry.generation == self.generation
            and time.monotonic() - entry.at <= self.settings.cache_seconds
        )

    def _hit(self, key: Hashable) -> Entry | None:
        entry = self._cache.get(key)
        if not self._fresh(entry):
            return None
        try:
            self._cache.move_to_end(key)
        except KeyError:  # evicted by another thread meanwhile; the entry is still good
            pass
        return entry

    def entry_sync(self, key: Hashable, compute: Callable[[], T]) -> Entry:
        """Return the cache entry under ``key`` (value and version), computing it once if
        missing or stale. Blocking: call it from a worker thread (or through :meth:`entry`)."""
        entry = self._hit(key)
        if entry is not None:
            return entry
        with self._lock_for(key):
            # Another request may have computed it while this one waited for the lock.
            entry = self._hit(key)
            if entry is not None:
                return entry
            generation = self.generation
            value = compute()
            self.computations[key] = self.computations.get(key, 0) + 1
            # Tagged with the generation it started from: if an import landed meanwhile, the
            # next request sees a stale entry and recomputes.
            entry = Entry(value, generation, time.monotonic(), next(_versions))
            self._cache[key] = entry  # the entry replaced, if any, is no longer referenced
            if key == ("snapshot",):
                if value.number_of_nodes() + value.number_of_edges() >= _SETTLE_ABOVE:
                    _settle_heap()
                _release_memory()
            self._cache.move_to_end(key)
            while len(self._cache) > MAX_ENTRIES:
                try:
                    old = next(iter(self._cache))
                    del self._cache[old]
                    self.computations.pop(old, None)
                except (KeyError, StopIteration, RuntimeError):
                    break
            return entry

    async def entry(self, key: Hashable, compute: Callable[[], T]) -> Entry:
        """Return the cache entry under ``key``, computing it in the thread pool if needed."""
        entry = self._hit(key)
        if entry is not None:
            return entry
        return await run_in_threadpool(self.entry_sync, key, compute)

    def cached_sync(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the cached result under ``key``, computing it once if missing or stale.

        Blocking: call it from a worker thread (or through :meth:`cached`).
        """
        return self.entry_sync(key, compute).value

    async def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the cached result under ``key``, computing it in the thread pool if needed."""
        entry = self._hit(key)
        if entry is not None:
            return entry.value
        return (await run_in_threadpool(self.entry_sync, key, compute)).value

    # ---- pages derived from results ------------------------------------------------------
    def page(self, key: Hashable) -> Any | None:
        """Return the page kept under ``key`` (see :meth:`keep_page`), or ``None``."""
        found = self._pages.get(key)
        if found is None:
            return None
        try:
            self._pages.move_to_end(key)
        except KeyError:
            pass
        return found[0]

    def keep_page(self, key: Hashable, value: Any, size: int, source: tuple[Hashable, int] | None = None) -> None:
        """Keep ``value`` (about ``size`` bytes) under ``key``: a page serialised from version
        ``source[1]`` of the result cached under ``source[0]``. Pages of results since
        recomputed are dropped; then the least recently read go first beyond
        :data:`MAX_PAGES` or :data:`MAX_PAGE_BYTES`."""
        if size > MAX_PAGE_BYTES // 4:
            return
        with self._pages_lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._page_bytes -= old[1]
            self._pages[key] = (value, size, source)
            self._page_bytes += size
            # list() copies in one C call: a reader's move_to_end cannot interleave with it.
            for k, (_, _, src) in list(self._pages.items()):
                if src is not None and not self._current(src):
                    dropped = self._pages.pop(k, None)
                    if dropped is not None:
                        self._page_bytes -= dropped[1]
            while self._pages and (len(self._pages) > MAX_PAGES or self._page_bytes > MAX_PAGE_BYTES):
                _, (_, dropped, _) = self._pages.popitem(last=False)
                self._page_bytes -= dropped

    def _current(self, source: tuple[Hashable, int]) -> bool:
        entry = self._cache.get(source[0])
        return entry is not None and entry.version == source[1]

    def remember_answer(self, request_key: Hashable, page_key: Hashable, source: tuple[Hashable, int]) -> None:
        """Remember that the request ``request_key`` (path, query string, language) was
        answered with the page kept under ``page_key``, made from version ``source[1]`` of the
        result cached under ``source[0]``."""
        with self._pages_lock:
            self._answers[request_key] = (page_key, *source)
            self._answers.move_to_end(request_key)
            while len(self._answers) > MAX_PAGES:
                self._answers.popitem(last=False)

    def answer(self, request_key: Hashable) -> Any | None:
        """Return the page a request identical to ``request_key`` was answered with, if that
        page is still kept and the result it came from is still fresh; else ``None``."""
        found = self._answers.get(request_key)
        if found is None:
            return None
        page_key, source_key, version = found
        entry = self._hit(source_key)
        if entry is None or entry.version != version:
            return None
        return self.page(page_key)

    # ---- analyses ----------------------------------------------------------------------
    def analyse_sync(self, name: str, lang: str) -> Any:
        """Compute analysis ``name`` of :data:`api.views.ANALYSES` on the current snapshot,
        uncached, in the worker process (blocking: call it from a thread)."""
        snapshot = self.entry_sync(("snapshot",), lambda: self.store_sync().snapshot())
        if self.workers is None:
            from api.views import ANALYSES

            return ANALYSES[name][0](snapshot.value, lang)
        return self.workers.analyse(("snapshot", snapshot.version), snapshot.value, name, lang)

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
