"""The workspace: cached results, one computation for concurrent requests, recovery of the store."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from api import services
from api.services import Workspace, fold
from graph.memory_store import MemoryStore
from maillage.errors import StoreUnavailable
from tests.api.factory import make_settings, make_store


def test_concurrent_requests_share_one_computation():
    ws = Workspace(make_settings(), store=make_store())
    calls = []
    started = threading.Event()

    def slow():
        calls.append(threading.get_ident())
        started.set()
        time.sleep(0.2)
        return 42

    async def main():
        return await asyncio.gather(*(ws.cached(("k",), slow) for _ in range(5)))

    assert asyncio.run(main()) == [42] * 5
    assert len(calls) == 1 and ws.computations[("k",)] == 1


def test_heavy_work_runs_off_the_event_loop():
    ws = Workspace(make_settings(), store=make_store())
    loop_thread = []

    async def main():
        loop_thread.append(threading.get_ident())
        return await ws.cached(("where",), threading.get_ident)

    worker = asyncio.run(main())
    assert worker != loop_thread[0]


def test_invalidate_recomputes_and_a_result_from_before_an_import_is_not_kept():
    ws = Workspace(make_settings(), store=make_store())
    value = {"n": 0}

    def compute():
        value["n"] += 1
        if value["n"] == 1:
            ws.invalidate()  # an import lands while the first computation runs
        return value["n"]

    assert ws.cached_sync(("k",), compute) == 1
    assert ws.cached_sync(("k",), compute) == 2  # the first result belonged to the old graph
    assert ws.cached_sync(("k",), compute) == 2


def test_results_expire_after_the_cache_time():
    ws = Workspace(make_settings(cache_seconds=0), store=make_store())
    counter = iter(range(10))
    first = ws.cached_sync(("k",), lambda: next(counter))
    time.sleep(0.01)
    assert ws.cached_sync(("k",), lambda: next(counter)) == first + 1


def test_a_store_that_failed_to_open_is_tried_again(monkeypatch):
    monkeypatch.setattr(services, "_RETRY_PAUSE", 0.05)
    attempts = []

    def factory(settings):
        attempts.append(1)
        if len(attempts) < 3:
            raise StoreUnavailable("down")
        return MemoryStore(None)

    ws = Workspace(make_settings(), store_factory=factory)
    with pytest.raises(StoreUnavailable):
        ws.store_sync()
    with pytest.raises(StoreUnavailable):
        ws.store_sync()  # within the pause: the failure is remembered, Neo4j is not hammered
    assert len(attempts) == 1
    time.sleep(0.06)
    with pytest.raises(StoreUnavailable):
        ws.store_sync()
    time.sleep(0.06)
    assert isinstance(ws.store_sync(), MemoryStore) and len(attempts) == 3


@pytest.mark.parametrize("a, b", [("Montréal", "montreal"), ("ÉCOLE  Polytechnique", "ecole polytechnique"),
                                  ("main-d'œuvre", "main-d'oeuvre")])
def test_fold_ignores_accents_case_and_spacing(a, b):
    assert fold(a) == fold(b)


def test_analyses_run_in_the_worker_process_not_the_server():
    ws = Workspace(make_settings(), store=make_store())
    before = ws.workers.graphs_sent
    df = ws.analyse_sync("brokers", "en")
    assert len(df) and ws.workers.graphs_sent == before + 1 and ws.workers._executor is not None


def test_the_result_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(services, "MAX_ENTRIES", 10)
    ws = Workspace(make_settings(), store=make_store(), workers=None)
    for i in range(50):
        ws.cached_sync(("search", i), lambda: "x" * 1000)
    assert len(ws._cache) == 10 and ("search", 49) in ws._cache and ("search", 0) not in ws._cache


def test_the_page_cache_is_bounded_by_bytes(monkeypatch):
    monkeypatch.setattr(services, "MAX_PAGE_BYTES", 10_000)
    ws = Workspace(make_settings(), store=make_store(), workers=None)
    for i in range(100):
        ws.keep_page(("page", i), b"x" * 1000, 1000)
    assert ws._page_bytes <= 10_000 and ws.page(("page", 99)) is not None and ws.page(("page", 0)) is None


def test_a_cached_snapshot_is_frozen_out_of_the_collector_and_the_one_it_replaces_is_freed(monkeypatch):
    import gc
    import weakref

    # Every snapshot counts as large here (the real threshold is 50,000 nodes and edges).
    monkeypatch.setattr(services, "_SETTLE_ABOVE", 0)
    ws = Workspace(make_settings(), store=make_store())
    try:
        first = ws.snapshot_sync()
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        first.nodes, first.edges  # networkx's cached views: a reference cycle through the graph
        gone = weakref.ref(first)
        del first
        ws.invalidate()
        second = ws.snapshot_sync()
        # The collection before the next freeze found the old graph's cycle.
        assert gone() is None
        assert second is ws.snapshot_sync() and gc.get_freeze_count() >= frozen // 2
    finally:
        gc.unfreeze()
