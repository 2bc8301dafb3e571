"""The soak run: the web view serving reads at a steady rate while an import and an analysis run.

:func:`soak` serves the app with uvicorn in a thread on 127.0.0.1 (over the store it is
given), reads pages and JSON from a few client threads at a fixed rate for ``seconds``, and,
a third of the way in, imports new organizations through the JSON API (validate, then
confirm) while an analysis is computed and written back to the store. It samples the
process's resident memory from ``/proc/self/status`` throughout and returns the figures.
``tests/reliability/test_soak.py`` runs a short form; ``bench/soak.py`` a long one.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

__all__ = ["SoakResult", "soak", "serve", "rss_mib", "descendants_rss_mib", "slope", "READS"]

#: What the readers ask for, in turn: pages and JSON, cached and not.
READS = ("/?lang=en", "/api/dashboard", "/map", "/api/map?cluster=aerospatiale", "/organizations?q=soak",
         "/api/organizations?per_page=50", "/tables/gaps", "/api/tables/brokers", "/api/facets",
         "/organizations/aero-1", "/api/health", "/brief/aerospatiale")


def rss_mib(pid: int | str = "self") -> float:
    """A process's resident memory (VmRSS), in MiB (this process's by default)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def _pss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Pss in /proc/{pid}/smaps_rollup")


def descendants_rss_mib() -> float:
    """Memory of this process's descendants (the analysis worker and its fork server), in
    MiB; 0 without any. Proportional set size: pages a worker shares with the fork server it
    was forked from count once, not twice."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier and p not in mine}
        mine |= frontier
    total = 0.0
    for pid in mine:
        try:
            total += _pss_mib(pid)
        except (OSError, RuntimeError):
            continue  # gone meanwhile, or a zombie
    return total


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(t, value)`` points (value per second); 0 for fewer than 2.

    Examples
    --------
    >>> slope([(0, 100.0), (1, 102.0), (2, 104.0)])
    2.0
    """
    if len(points) < 2:
        return 0.0
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (v - mv) for t, v in points) / var if var else 0.0


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free loopback port; yield its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class SoakResult:
    """What a soak run saw."""

    seconds: float
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    rss: list[tuple[float, float]] = field(default_factory=list)
    #: Resident memory of the child processes (the analysis worker), sampled each second.
    rss_children: list[tuple[float, float]] = field(default_factory=list)
    imported: int = 0
    import_summary: dict = field(default_factory=dict)
    analysis_rows: int = 0
    #: Seconds from the start when the import and the analysis had both finished.
    writes_done_at: float | None = None
    #: Seconds from the start when the steady state began (writes done, caches refilled).
    steady_from: float | None = None

    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0

    def rss_thirds(self) -> tuple[float, float]:
        """Mean resident memory (MiB) over the first and the last third of the run."""
        values = [v for _, v in self.rss]
        third = max(1, len(values) // 3)
        return sum(values[:third]) / third, sum(values[-third:]) / third

    def rss_steady(self) -> tuple[float, float]:
        """Mean resident memory (MiB) over the first and second halves of the time after the
        import and the analysis finished: the steady state, where memory must stay flat."""
        after = [v for t, v in self.rss if self.steady_from is not None and t >= self.steady_from]
        if len(after) < 2:
            return (after[0], after[0]) if after else (0.0, 0.0)
        half = len(after) // 2
        return sum(after[:half]) / half, sum(after[-half:]) / half

    def steady(self) -> list[tuple[float, float]]:
        """The ``(seconds, MiB)`` samples of the steady state."""
        return [(t, v) for t, v in self.rss if self.steady_from is not None and t >= self.steady_from]

    def rss_growth(self) -> float:
        """How fast resident memory grows in the steady state, in MiB per minute."""
        return 60 * slope(self.steady())

    def memory_problem(self, *, limit_mib: float = 40.0, min_samples: int = 20) -> str | None:
        """Say how resident memory failed to stay bounded in the steady state, or ``None``.

        The mean of the steady state's last third may exceed the mean of its first third by
        at most ``limit_mib``: single steps (a snapshot rebuilt, a page cached) move a third's
        mean by a few MiB, a leak moves it by its rate times the time between the thirds
        (issue #7's 250 to 800 MiB in 90 s is 6 MiB/s). Too few samples is a problem too: a
        check on nothing cannot fail.
        """
        steady = self.steady()
        if len(steady) < min_samples:
            return f"only {len(steady)} memory samples in the steady state (at least {min_samples} needed)"
        third = len(steady) // 3
        first = sum(v for _, v in steady[:third]) / third
        last = sum(v for _, v in steady[-third:]) / third
        if last - first > limit_mib:
            return (f"resident memory grew from {first:.0f} to {last:.0f} MiB over the steady state "
                    f"({self.rss_growth():+.0f} MiB/min; at most {limit_mib:.0f} MiB allowed)")
        return None

    def series(self, every: float = 5.0) -> list[tuple[float, float, float]]:
        """``(seconds, server MiB, children MiB)`` every ``every`` seconds."""
        out: list[tuple[float, float, float]] = []
        for t, v in self.rss:
            if not out or t - out[-1][0] >= every:
                kids = [c for tc, c in self.rss_children if tc <= t]
                out.append((round(t, 1), round(v, 1), round(kids[-1], 1) if kids else 0.0))
        return out

    def summary(self) -> str:
        first, last = self.rss_thirds()
        steady = self.rss_steady()
        return (f"{self.requests} requests in {self.seconds:.0f} s, {len(self.errors)} errors, p95 {self.p95() * 1000:.0f} ms; "
                f"imported {self.imported} organizations; analysis rows written {self.analysis_rows}; "
                f"RSS first third {first:.0f} MiB, last third {last:.0f} MiB; after the writes "
                f"{steady[0]:.0f} then {steady[1]:.0f} MiB ({self.rss_growth():+.0f} MiB/min); child processes "
                f"{max((v for _, v in self.rss_children), default=0):.0f} MiB at most")


def _import_csv(n: int) -> bytes:
    rows = ["id,name,type,clusters,sectors,region"]
    rows += [f"soak-{i},Organisation soak {i},{'company' if i % 3 else 'institution'},Aérospatiale,aerospace,Laval"
             for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def soak(app, store, *, seconds: float, rate: float = 40.0, readers: int = 3, import_size: int = 400,
         max_requests: int = 5000, warmup: float = 2.0, steady_seconds: float | None = None,
         on_steady: Callable[[], None] | None = None) -> SoakResult:
    """Run the soak against ``app`` (whose store is ``store``); return what was seen.

    Parameters
    ----------
    seconds : float
        How long the readers read.
    rate : float
        Requests per second, all readers together.
    import_size : int
        Organizations imported through the API during the run.
    max_requests : int
        A bound on the requests, whatever ``seconds`` says.
    warmup : float
        Seconds after the writes before the steady state is measured (the pages recompute
        what the import invalidated).
    steady_seconds : float, optional
        How long the steady state lasts at least (default a third of ``seconds``).
    on_steady : callable, optional
        Called when the steady state begins (``bench/soak.py --tracemalloc`` takes its first
        snapshot there).
    """
    result = SoakResult(seconds=seconds)
    lock = threading.Lock()
    stop = threading.Event()
    started = time.monotonic()
    done_at: list[float] = []

    def sample_memory() -> None:
        i = 0
        while not stop.is_set():
            result.rss.append((time.monotonic() - started, rss_mib()))
            if i % 4 == 0:
                result.rss_children.append((time.monotonic() - started, descendants_rss_mib()))
            i += 1
            stop.wait(0.25)

    def read(base: str, k: int) -> None:
        interval = readers / rate
        with httpx.Client(base_url=base, timeout=60) as client:
            i = k
            next_at = time.monotonic()
            while not stop.is_set():
                with lock:
                    if result.requests >= max_requests:
                        return
                    result.requests += 1
                path = READS[i % len(READS)]
                i += readers
                t0 = time.monotonic()
                try:
                    r = client.get(path)
                    status = r.status_code
                except httpx.HTTPError as err:
                    status = f"{type(err).__name__}"
                took = time.monotonic() - t0
                with lock:
                    result.statuses[status] += 1
                    result.latencies.append(took)
                    if status != 200:
                        result.errors.append(f"{path}: {status}")
                next_at += interval
                stop.wait(max(0.0, next_at - time.monotonic()))

    def write(base: str) -> None:
        stop.wait(seconds / 3)
        with httpx.Client(base_url=base, timeout=300) as client:
            csrf = client.get("/api/me").json()["csrf_token"]
            r = client.post("/api/import", files={"files": ("soak.csv", _import_csv(import_size), "text/csv")},
                            headers={"X-CSRF-Token": csrf})
            if r.status_code != 200:
                result.errors.append(f"import validation: {r.status_code} {r.text[:300]}")
                return
            token = r.json()["token"]
            r = client.post(f"/api/import/{token}/confirm", json={})
            if r.status_code != 200:
                result.errors.append(f"import confirmation: {r.status_code} {r.text[:300]}")
                return
            result.import_summary = r.json()
            result.imported = r.json().get("organizations_created", 0)
        done_at.append(time.monotonic() - started)

    def analyse() -> None:
        from api.analyses import run_analysis, write_back

        stop.wait(seconds / 3)
        try:
            df = run_analysis("gaps", store.snapshot(), top=200)
            write_back(store, "gaps", df, {"top": 200, "soak": True})
            result.analysis_rows = len(df)
        except Exception as err:  # noqa: BLE001 - reported as an error of the run
            result.errors.append(f"analysis: {type(err).__name__}: {err}")
        done_at.append(time.monotonic() - started)

    with serve(app) as base:
        threads = [threading.Thread(target=sample_memory, daemon=True)]
        threads += [threading.Thread(target=read, args=(base, k), daemon=True) for k in range(readers)]
        workers = [threading.Thread(target=write, args=(base,), daemon=True), threading.Thread(target=analyse, daemon=True)]
        for t in threads + workers:
            t.start()
        stop.wait(seconds)
        for t in workers:
            t.join(timeout=300)
        result.writes_done_at = max(done_at, default=time.monotonic() - started)
        result.steady_from = result.writes_done_at + warmup
        if on_steady is not None:
            stop.wait(max(0.0, result.steady_from - (time.monotonic() - started)))
            on_steady()
        # At least a third of the run in the steady state, so that there is something to measure.
        steady = seconds / 3 if steady_seconds is None else steady_seconds
        stop.wait(max(0.0, result.steady_from + steady - (time.monotonic() - started)))
        stop.set()
        for t in threads:
            t.join(timeout=60)
    result.seconds = time.monotonic() - started
    return result
