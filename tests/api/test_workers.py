"""Analyses in the worker process: same results as in the server, the graph sent once per
snapshot, errors with their type, a dead worker replaced."""

from __future__ import annotations

import os
import signal

import networkx as nx
import pytest

from api.views import ANALYSES
from api.workers import AnalysisWorkers, pack_graph, pack_result, unpack_graph, unpack_result
from maillage.errors import InputError, MaillageError
from tests.api.factory import make_store


@pytest.fixture(scope="module")
def workers():
    w = AnalysisWorkers(recycle_after=1000)
    yield w
    w.close()


@pytest.fixture(scope="module")
def G():
    return make_store().snapshot()


def test_a_packed_graph_comes_back_identical(G):
    H = unpack_graph(pack_graph(G, chunk=3))
    assert type(H) is type(G) and H.graph == G.graph
    assert list(H.nodes(data=True)) == list(G.nodes(data=True))
    assert list(H.edges(keys=True, data=True)) == list(G.edges(keys=True, data=True))
    # Same predecessor order, and each edge's data one object seen from both ends, as networkx builds it.
    assert all(list(H.pred[n]) == list(G.pred[n]) for n in G)
    assert all(H._pred[v][u] is H._succ[u][v] for v in H for u in H._pred[v])


def test_a_large_result_travels_in_pieces_and_comes_back_equal():
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({"id": [f"o{i}" for i in range(2500)], "score": np.linspace(0, 1, 2500),
                       "flag": pd.array([True, None, False] * 833 + [True], dtype="boolean"),
                       "names": [["a", "b"]] * 2500}, index=np.arange(2500)[::-1])
    df.attrs.update(modularity=0.5, method="louvain")
    packed = pack_result(df, rows=1000)
    assert len(packed.parts) == 3
    back = unpack_result(packed)
    assert back.equals(df) and list(back.index) == list(df.index) and back.attrs == df.attrs
    assert list(back.dtypes) == list(df.dtypes)
    small = df.head(10)
    assert pack_result(small, rows=1000) is small and unpack_result(small) is small


def test_an_undirected_graph_goes_whole():
    G = nx.karate_club_graph()
    H = unpack_graph(pack_graph(G))
    assert nx.utils.graphs_equal(G, H)


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_the_worker_computes_what_the_server_would(workers, G, name):
    here = ANALYSES[name][0](G, "en")
    there = workers.analyse(("test-graph", 1), G, name, "en")
    assert there.equals(here)


def test_the_graph_is_sent_once_per_snapshot(G):
    w = AnalysisWorkers()
    try:
        for name in ("brokers", "communities", "coverage"):
            w.analyse(("snap", 1), G, name, "en")
        assert w.graphs_sent == 1
        w.analyse(("snap", 2), G, "brokers", "en")
        assert w.graphs_sent == 2
    finally:
        w.close()


def test_a_worker_is_replaced_after_its_share_of_analyses(G):
    w = AnalysisWorkers(recycle_after=2)
    try:
        for version in range(3):
            for name in ("brokers", "communities"):
                w.analyse(("snap", version), G, name, "en")
        assert w.processes_started >= 2
    finally:
        w.close()


def test_an_analysis_error_keeps_its_type_and_message(workers, G):
    with pytest.raises(InputError) as here:
        ANALYSES["gaps"][0](G, "xx")  # an unknown language
    with pytest.raises(InputError) as there:
        workers.analyse(("test-graph", 1), G, "gaps", "xx")
    assert str(there.value) == str(here.value) and there.value.status == 400


def test_an_error_that_cannot_travel_arrives_with_its_message_and_status():
    from api.workers import _portable

    class Odd(InputError):
        def __init__(self, a, b):
            super().__init__(f"{a} and {b}")

    plain = _portable(Odd("x", "y"))
    assert isinstance(plain, MaillageError) and plain.status == 400 and "x and y" in str(plain)


def test_a_dead_worker_is_replaced(G):
    w = AnalysisWorkers()
    try:
        w.analyse(("snap", 1), G, "coverage", "en")
        for pid in list(w._executor._processes):
            os.kill(pid, signal.SIGKILL)
        # The call that finds the pool broken starts a new worker and retries once.
        assert w.analyse(("snap", 1), G, "coverage", "en").equals(ANALYSES["coverage"][0](G, "en"))
        assert w.processes_started == 2
    finally:
        w.close()


def test_a_worker_exits_when_its_server_is_gone(tmp_path):
    # A server process started here, which starts its worker and is then killed by SIGKILL:
    # its worker must not wait forever for orders.
    import subprocess
    import sys
    import time

    script = tmp_path / "server.py"
    script.write_text(
        "import sys\n"
        "from api.workers import AnalysisWorkers\n"
        "from tests.api.factory import make_store\n"
        "if __name__ == '__main__':\n"
        "    w = AnalysisWorkers()\n"
        "    w.analyse(('g', 1), make_store().snapshot(), 'coverage', 'en')\n"
        "    print(*[p for p in w._executor._processes], flush=True)\n"
        "    sys.stdin.read()\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    server = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=root, env=dict(os.environ, PYTHONPATH=root))
    try:
        worker = int(server.stdout.readline().split()[0])
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        deadline = time.monotonic() + 15
        while os.path.exists(f"/proc/{worker}") and time.monotonic() < deadline:
            with open(f"/proc/{worker}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.2)
        gone = not os.path.exists(f"/proc/{worker}")
        if not gone:
            with open(f"/proc/{worker}/stat") as f:
                gone = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        assert gone, f"worker {worker} still runs after its server was killed"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdin.close()
        server.stdout.close()
