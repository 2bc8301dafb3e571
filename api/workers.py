"""Analyses computed in a worker process, so that the web server keeps its GIL for requests.

An analysis (brokerage, communities, gaps...) is seconds of pure-Python work; in a thread of
the server it holds the GIL and every request waits behind it. :class:`AnalysisWorkers` runs
them in a separate process (``forkserver``: the server preloads ``analysis`` and pandas once,
each worker is a cheap fork of it) and returns their DataFrames pickled, in pieces
(:func:`pack_result`).

The graph goes to the worker once per snapshot, not once per analysis: the worker keeps the
last graph it received under a *token* (the snapshot's version), and a call naming a token
the worker does not hold is answered :data:`_MISSING`, upon which the graph is sent. The
server packs the graph in small pickles (:func:`pack_graph`, a few hundred nodes each) rather
than in one: a single ``pickle.dumps`` of a 10,000-organization graph holds the GIL for a
second or more, small ones let the event loop in between.

Workers run at a lower CPU priority (:data:`NICENESS`): on a machine with two cores, an
analysis would otherwise take a core the event loop needs. Workers are recycled: when a new graph is to be sent and the current worker has run
``recycle_after`` analyses, a fresh process takes over (memory that numpy, igraph or the
allocator keep after an analysis goes with the old process). A worker that dies (killed by
the OOM killer, for instance) is replaced on the next call, and the call retried once.

A worker exits by itself within a second when the server that started it is gone (killed by a
signal, say), and the fork server follows it.

Errors raised by an analysis reach the caller with their type (``InputError`` stays a 400);
an exception that cannot travel between processes arrives as a
:class:`~maillage.errors.MaillageError` carrying its message and HTTP status.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Hashable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import networkx as nx

from maillage.errors import MaillageError

__all__ = ["AnalysisWorkers", "pack_graph", "unpack_graph", "pack_result", "unpack_result", "shared_workers"]

#: Nodes per pickle when a graph is packed: each ``pickle.dumps`` holds the GIL a few ms.
_CHUNK = 500
#: What a worker answers when asked about a graph it does not hold.
_MISSING = "maillage:graph-missing"

# ---- packing a graph for the worker ------------------------------------------------------


def pack_graph(G: nx.Graph, *, chunk: int = _CHUNK) -> list[bytes]:
    """Return ``G`` as a list of small pickles that :func:`unpack_graph` turns back into it.

    Directed graphs (what stores' snapshots are) go node by node: each node's attributes, its
    successors with their edge data, and the order of its predecessors, so that the graph
    rebuilt has the same node, adjacency and edge order (analyses that break ties by
    iteration order give the same answer as on the original). Other graphs go whole.

    Examples
    --------
    >>> G = nx.MultiDiGraph(name="g")
    >>> G.add_edge("a", "b", key="X", w=1)
    'X'
    >>> H = unpack_graph(pack_graph(G))
    >>> type(H).__name__, H.graph, list(H.edges(keys=True, data=True)), list(H.pred["b"])
    ('MultiDiGraph', {'name': 'g'}, [('a', 'b', 'X', {'w': 1})], ['a'])
    """
    if not G.is_directed():
        return [pickle.dumps(("whole", G), protocol=pickle.HIGHEST_PROTOCOL)]
    out = [pickle.dumps(("head", type(G), dict(G.graph)), protocol=pickle.HIGHEST_PROTOCOL)]
    nodes = list(G._node)
    succ, pred, attrs = G._succ, G._pred, G._node
    for i in range(0, len(nodes), chunk):
        rows = [(n, attrs[n], succ[n], list(pred[n])) for n in nodes[i:i + chunk]]
        out.append(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
    return out


def unpack_graph(parts: list[bytes]) -> nx.Graph:
    """Return the graph :func:`pack_graph` packed."""
    head = pickle.loads(parts[0])
    if head[0] == "whole":
        return head[1]
    _, cls, graph_attrs = head
    G = cls()
    G.graph.update(graph_attrs)
    order: list[tuple[Any, list[Any]]] = []
    for part in parts[1:]:
        for n, data, successors, predecessors in pickle.loads(part):
            G._node[n] = data
            G._succ[n] = successors
            order.append((n, predecessors))
    # Each edge's data (a key dict for multigraphs) is one object seen from both ends.
    for n, predecessors in order:
        G._pred[n] = {u: G._succ[u][n] for u in predecessors}
    return G


# ---- the worker's side -------------------------------------------------------------------
_held: tuple[Hashable, nx.Graph] | None = None


#: Rows per pickle when a worker sends a DataFrame back (see :func:`pack_result`).
_RESULT_ROWS = 1000


class _PackedFrame:
    """A DataFrame sent as pickles of ``_RESULT_ROWS`` rows each, and its ``attrs``."""

    __slots__ = ("parts", "attrs")

    def __init__(self, parts: list[bytes], attrs: dict):
        self.parts = parts
        self.attrs = attrs


def pack_result(result: Any, *, rows: int = _RESULT_ROWS) -> Any:
    """In the worker: a DataFrame of more than ``rows`` rows as a :class:`_PackedFrame`, other
    results as they are. The server unpickles what comes back in the thread that asked for it,
    and a single ``pickle.loads`` of a large frame holds the GIL for its whole length (it is one
    C call); pieces let the event loop in between. (The API benchmark's stalls while analyses
    ran at 10,000 organizations turned out to be mostly the garbage collector's: see
    :func:`api.services._settle_heap`; this alone did not change them.)"""
    import pandas as pd

    if not isinstance(result, pd.DataFrame) or len(result) <= rows:
        return result
    parts = [pickle.dumps(result.iloc[a:a + rows], protocol=pickle.HIGHEST_PROTOCOL)
             for a in range(0, len(result), rows)]
    return _PackedFrame(parts, dict(result.attrs))


def unpack_result(result: Any) -> Any:
    """In the server: :func:`pack_result` undone (a DataFrame equal to the one packed)."""
    if not isinstance(result, _PackedFrame):
        return result
    import pandas as pd

    pieces = []
    for part in result.parts:
        pieces.append(pickle.loads(part))
        time.sleep(0)  # let the event loop take the GIL between pieces
    df = pd.concat(pieces)
    df.attrs = result.attrs
    return df


def _portable(err: BaseException) -> BaseException:
    """``err`` if it survives a trip through pickle as itself, else a MaillageError saying it."""
    try:
        back = pickle.loads(pickle.dumps(err))
        if type(back) is type(err) and str(back) == str(err):
            return err
    except Exception:  # noqa: BLE001 - any failure means: send a plain copy
        pass
    plain = MaillageError(f"{type(err).__name__}: {err}")
    plain.status = getattr(err, "status", 500)
    return plain


def _run(token: Hashable, parts: list[bytes] | None, name: str, lang: str) -> Any:
    """In the worker: run analysis ``name`` of :data:`api.views.ANALYSES` on the graph ``token``."""
    global _held
    if parts is not None:
        _held = None  # the old graph goes before the new one is built
        _held = (token, unpack_graph(parts))
    elif _held is None or _held[0] != token:
        return _MISSING
    from api.views import ANALYSES

    fn, _ = ANALYSES[name]
    try:
        return pack_result(fn(_held[1], lang))
    except Exception as err:
        raise _portable(err) from None


#: How much lower than the server's the worker's CPU priority is (``nice``).
NICENESS = 10


def _preload() -> None:
    """Imported by the fork server once, so that each worker starts with them loaded."""
    import api.views  # noqa: F401 - imports analysis, pandas, networkx, igraph


def _started_at(pid: int) -> str | None:
    """When process ``pid`` started (from /proc), ``None`` when it is gone; on systems
    without /proc, ``"alive"`` while a signal 0 reaches it."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None
    except (OSError, IndexError):
        return None
    try:
        os.kill(pid, 0)
        return "alive"
    except OSError:
        return None


def _watch_server(server: int) -> None:
    """Exit the worker when the server that started it is gone.

    A server killed by a signal never tells its worker to stop, and the worker holds the
    pipes that would have told it, so it would wait forever (and keep the fork server alive:
    a few hundred MiB each). Compared by start time, so that a reused process id does not
    fool it."""
    started = _started_at(server)
    while True:
        time.sleep(1.0)
        if _started_at(server) != started:
            os._exit(0)


def _start_worker(server: int) -> None:
    """Each worker's initializer: exit with the server, and lower the CPU priority, so that
    on a machine with few cores the server's requests come first and analyses take the time
    left."""
    threading.Thread(target=_watch_server, args=(server,), name="maillage-watch-server", daemon=True).start()
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):  # not POSIX, or not allowed: run at the same priority
        pass
    _preload()


# ---- the server's side -------------------------------------------------------------------
class AnalysisWorkers:
    """One worker process that computes analyses on graphs the server sends it.

    Parameters
    ----------
    recycle_after : int
        Analyses a worker runs before it is replaced (when the next graph is sent).
    context : str
        The multiprocessing start method: ``forkserver`` (default) or ``spawn``; never
        ``fork`` (the server has threads, a forked child may inherit a held lock).
    """

    def __init__(self, *, recycle_after: int = 50, context: str = "forkserver"):
        self.recycle_after = recycle_after
        self._context = context
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._tasks = 0
        self._users = 0
        #: Graphs sent and worker processes started (tests and benchmarks read them).
        self.graphs_sent = 0
        self.processes_started = 0

    def _new_executor(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context(self._context)
        if self._context == "forkserver":
            ctx.set_forkserver_preload(["api.workers", "api.views"])
        self.processes_started += 1
        self._tasks = 0
        return ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_start_worker, initargs=(os.getpid(),))

    def _submit(self, token: Hashable, parts: list[bytes] | None, name: str, lang: str) -> tuple[Future, ProcessPoolExecutor]:
        with self._lock:
            if self._executor is not None and parts is not None and self._tasks >= self.recycle_after:
                # A new graph is going anyway: let a fresh process take it, and the old one
                # finish what it has and exit.
                self._executor.shutdown(wait=False)
                self._executor = None
            if self._executor is None:
                self._executor = self._new_executor()
            self._tasks += 1
            if parts is not None:
                self.graphs_sent += 1
            return self._executor.submit(_run, token, parts, name, lang), self._executor

    def _replace_broken(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def analyse(self, token: Hashable, G: nx.Graph, name: str, lang: str) -> Any:
        """Return analysis ``name`` of ``G`` (known to the worker as ``token``), computed in the
        worker process. Blocking: call it from a thread, never from the event loop."""
        for attempt in range(2):
            future, executor = self._submit(token, None, name, lang)
            try:
                result = future.result()
                if isinstance(result, str) and result == _MISSING:
                    future, executor = self._submit(token, pack_graph(G), name, lang)
                    result = future.result()
                return unpack_result(result)
            except BrokenProcessPool as err:
                self._replace_broken(executor)
                if attempt:
                    raise MaillageError(
                        f"The analysis worker process died while computing {name!r} (out of memory?); "
                        "the next request starts a new one."
                    ) from err
        raise AssertionError("unreachable")

    def start(self) -> None:
        """Start the worker process now, without waiting for it (the first analysis then does
        not wait for the fork server to import pandas and networkx)."""
        with self._lock:
            if self._executor is None:
                self._executor = self._new_executor()
                self._executor.submit(_preload)

    def attach(self) -> None:
        """Count one more application using these workers, and start the worker in the
        background (an application's lifespan calls it when it starts)."""
        with self._lock:
            self._users += 1
        threading.Thread(target=self.start, name="maillage-start-worker", daemon=True).start()

    def detach(self) -> None:
        """Count one application fewer; the last one to leave stops the worker process."""
        with self._lock:
            self._users -= 1
            last = self._users <= 0
        if last:
            self.close()

    def close(self) -> None:
        """Stop the worker process at once, abandoning the analysis it runs, if any (a server
        shutting down must not wait minutes for an analysis nobody will read)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)


_shared: AnalysisWorkers | None = None
_shared_lock = threading.Lock()


def shared_workers() -> AnalysisWorkers:
    """Return the process's analysis workers (one for every app of the process: tests build
    many apps, and a server runs one)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = AnalysisWorkers()
        return _shared
