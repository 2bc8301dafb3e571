"""What every benchmark case shares: timing, peak memory, result rows, data, the bench Neo4j.

A case is a function ``run(ctx) -> None`` that measures maillage against its baseline and
records :class:`Row` objects (one line of the report each), correctness :class:`Check` objects
(which fail the whole run when they break) and, where a target is missed, a profile. Cases run
in a subprocess of their own (:mod:`bench.run`), so that the peak memory one reports is its own.

Peak memory is the process's peak resident set size (``VmHWM``), reset before each measured
call through ``/proc/self/clear_refs`` (Linux): ours and the baseline's peaks never mix, even
within one case. ``above_start`` is that peak less the resident size when the call began (what
the call itself added).
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT",
    "Row",
    "Check",
    "Measured",
    "Context",
    "CheckFailed",
    "measure",
    "measure_once",
    "measure_pair",
    "read_status",
    "reset_peak",
    "cache_dir",
    "cached",
    "ecosystem",
    "demo_graph",
    "import_plan",
    "bench_store",
    "neo4j_password",
    "neo4j_uri",
    "neo4j_home",
    "neo4j_port",
    "wipe_bench_server",
    "neo4j_import_dir",
    "neo4j_pid",
    "process_cpu_seconds",
    "process_rss",
    "dump_json",
    "fmt_seconds",
    "fmt_size",
    "fmt_value",
]

ROOT = Path(__file__).resolve().parents[1]


class CheckFailed(AssertionError):
    """A correctness check inside a benchmark broke: the run must fail loudly."""


# ---- memory ------------------------------------------------------------------------------
def read_status(field_name: str) -> int:
    """Return a ``/proc/self/status`` field in bytes (``VmRSS``, ``VmHWM``); 0 if unknown."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_peak() -> None:
    """Reset the peak resident set size to the current one (Linux ``clear_refs`` 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


# ---- timing ------------------------------------------------------------------------------
@dataclass
class Measured:
    """Times (seconds) of the timed runs, and peak memory (bytes) over them."""

    runs: list[float]
    peak: int
    above_start: int
    warmups: int
    value: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def as_dict(self) -> dict[str, Any]:
        return {"runs": [round(r, 4) for r in self.runs], "median": self.median, "peak": self.peak,
                "above_start": self.above_start, "warmups": self.warmups}


def measure(fn: Callable[[], Any], *, reps: int, warmup: int = 1,
            setup: Callable[[], Any] | None = None) -> Measured:
    """Call ``fn`` ``warmup`` times untimed, then ``reps`` times timed; ``setup`` (untimed)
    runs before every call. Returns the times, the peak memory and the last call's value."""
    runs: list[float] = []
    peak = above = 0
    value = None
    for i in range(warmup + reps):
        if setup is not None:
            setup()
        value = None
        gc.collect()
        reset_peak()
        start_rss = read_status("VmRSS")
        t = time.perf_counter()
        value = fn()
        dt = time.perf_counter() - t
        hwm = read_status("VmHWM")
        if i >= warmup:
            runs.append(dt)
            peak = max(peak, hwm)
            above = max(above, hwm - start_rss)
    return Measured(runs, peak, above, warmup, value)


def measure_pair(ours: Callable[[], Any], theirs: Callable[[], Any], *, reps: int, warmup: int = 1,
                 setup: Callable[[], Any] | None = None) -> tuple[Measured, Measured]:
    """Measure two functions in alternation (ours, theirs, ours, theirs ...), so that a burst
    of other work on a shared machine weighs on both sides of the ratio alike."""
    a: list[Measured] = []
    b: list[Measured] = []
    for i in range(warmup + reps):
        w = int(i < warmup)  # a warm-up call: run, not timed
        a.append(measure(ours, reps=1 - w, warmup=w, setup=setup))
        b.append(measure(theirs, reps=1 - w, warmup=w, setup=setup))

    def merge(ms: list[Measured]) -> Measured:
        timed = [m for m in ms if m.runs]
        return Measured([r for m in timed for r in m.runs], max(m.peak for m in timed),
                        max(m.above_start for m in timed), warmup, ms[-1].value)

    return merge(a), merge(b)


def measure_once(fn: Callable[[], Any]) -> Measured:
    """One timed call, no warm-up (for steps too slow to repeat)."""
    return measure(fn, reps=1, warmup=0)


# ---- report rows -------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the results table.

    ``ours`` and ``baseline`` are in ``unit`` (``s``, ``rows/s``, ``req/s``, ``ms``);
    ``ratio`` is how many times better ours is (baseline time / our time, or our rate /
    baseline rate); ``met`` is None when the row has no target.
    """

    case: str
    what: str
    size: str
    unit: str
    ours: float | None
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    ours_peak: int | None = None
    baseline_peak: int | None = None
    runs: int | None = None
    note: str = ""


@dataclass
class Check:
    """A correctness check made inside a benchmark."""

    case: str
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Context:
    """What a case receives: its mode and sizes, and where it records what it found."""

    case: str
    mode: str
    params: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    profiles: list[dict[str, str]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    quality: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reps(self) -> int:
        return int(self.params.get("reps", 3))

    @property
    def warmup(self) -> int:
        return int(self.params.get("warmup", 1))

    def row(self, **kwargs: Any) -> Row:
        r = Row(case=self.case, **kwargs)
        self.rows.append(r)
        print("  " + _row_line(r), flush=True)
        return r

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        """Record a correctness check; a broken one raises (the run fails loudly)."""
        self.checks.append(Check(self.case, name, bool(ok), detail))
        print(f"  check {'ok' if ok else 'FAILED'}: {name} {detail}", flush=True)
        if not ok:
            raise CheckFailed(f"{self.case}: {name} failed: {detail}")

    def profile(self, title: str, fn: Callable[[], Any], *, max_lines: int = 60) -> None:
        """Profile one call of ``fn`` with pyinstrument and keep its text (for a missed target)."""
        try:
            from pyinstrument import Profiler
        except ImportError:  # pragma: no cover - pyinstrument is in the dev extra
            self.profiles.append({"title": title, "text": "(pyinstrument is not installed)"})
            return
        profiler = Profiler(interval=0.005)
        profiler.start()
        try:
            fn()
        finally:
            profiler.stop()
        text = profiler.output_text(unicode=False, color=False, show_all=False)
        lines = [ln for ln in text.splitlines() if ln.strip()]
        self.profiles.append({"title": title, "text": "\n".join(lines[:max_lines])})

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case, "mode": self.mode, "params": self.params,
                "rows": [asdict(r) for r in self.rows], "checks": [asdict(c) for c in self.checks],
                "profiles": self.profiles, "info": self.info, "quality": self.quality}


def _row_line(r: Row) -> str:
    parts = [f"{r.what} [{r.size}]: ours {fmt_value(r.ours, r.unit)}"]
    if r.baseline is not None:
        parts.append(f"{r.baseline_name} {fmt_value(r.baseline, r.unit)}")
    if r.ratio is not None:
        parts.append(f"ratio {r.ratio:.2f}x")
    if r.target:
        parts.append(f"target {r.target}" + ("" if r.met is None else f": {'MET' if r.met else 'MISSED'}"))
    return "; ".join(parts)


def fmt_value(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if unit == "s":
        return fmt_seconds(v)
    if unit in ("rows/s", "req/s"):
        return f"{v:,.0f} {unit}"
    if unit == "ms":
        return f"{v:.1f} ms"
    return f"{v:.4g} {unit}"


def fmt_seconds(s: float) -> str:
    if s < 0.01:
        return f"{s * 1000:.2f} ms"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 100:
        return f"{s:.2f} s"
    return f"{s:.0f} s"


def fmt_size(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 2**20:,.0f} MB"


# ---- data ----------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where generated data is kept between the cases of one run (``MAILLAGE_BENCH_CACHE``)."""
    d = os.environ.get("MAILLAGE_BENCH_CACHE")
    path = Path(d) if d else Path(tempfile.gettempdir()) / "maillage-bench-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cached(name: str, make: Callable[[], Any]) -> Any:
    """Return ``make()``, pickled under :func:`cache_dir` so that later cases reuse it."""
    path = cache_dir() / f"{name}.pkl"
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    value = make()
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return value


def ecosystem(orgs: int, seed: int = 0):
    """The demo generator's ecosystem of ``orgs`` organizations (planted ground truth)."""
    from loaders.sample import generate_ecosystem

    return cached(f"eco-{orgs}-{seed}", lambda: generate_ecosystem(orgs, seed=seed))


def demo_graph(orgs: int, seed: int = 0):
    """The snapshot graph loading the demo ecosystem would give (no store involved)."""
    from loaders.sample import ecosystem_graph

    return cached(f"graph-{orgs}-{seed}", lambda: ecosystem_graph(ecosystem(orgs, seed)))


def import_plan(orgs: int, seed: int = 0) -> dict[str, Any]:
    """Records of the demo ecosystem as ``maillage load`` prepares them from its CSV files.

    Returns ``{"organizations", "relationships", "source", "prepare_s", "files"}``:
    ``prepare_s`` is the time :func:`loaders.prepare_import` took (reading, validating,
    finding duplicates), ``files`` the CSV sizes in bytes.
    """
    def make() -> dict[str, Any]:
        from loaders import prepare_import
        from loaders.sample import write_ecosystem

        eco = ecosystem(orgs, seed)
        with tempfile.TemporaryDirectory(prefix="maillage-bench-") as d:
            paths = write_ecosystem(eco, d)
            files = [paths["organizations"], paths["relationships"]]
            t = time.perf_counter()
            plan = prepare_import(files)
            prepare_s = time.perf_counter() - t
            sizes = {p.name: p.stat().st_size for p in files}
        return {"organizations": plan.organizations, "relationships": plan.relationships,
                "source": plan.source, "prepare_s": prepare_s, "files": sizes}

    return cached(f"plan-{orgs}-{seed}", make)


# ---- the benchmark Neo4j -------------------------------------------------------------------
def neo4j_uri() -> str:
    return os.environ.get("MAILLAGE_BENCH_NEO4J_URI", "bolt://127.0.0.1:7689")


def neo4j_password() -> str | None:
    pw = os.environ.get("MAILLAGE_BENCH_NEO4J_PASSWORD")
    if pw:
        return pw
    home = Path(os.environ.get("MAILLAGE_BENCH_NEO4J_HOME", ROOT / ".neo4j-bench"))
    path = home / "password"
    return path.read_text().strip() if path.exists() else None


def neo4j_import_dir() -> Path:
    """The bench server's ``LOAD CSV`` folder (``file:///x.csv`` reads ``<home>/dbms/import/x.csv``)."""
    return neo4j_home() / "dbms" / "import"


def neo4j_home() -> Path:
    """The benchmark server's home (``scripts/neo4j-local``'s MAILLAGE_NEO4J_HOME)."""
    return Path(os.environ.get("MAILLAGE_BENCH_NEO4J_HOME", ROOT / ".neo4j-bench"))


def neo4j_port() -> int:
    """The benchmark server's Bolt port (from its URI)."""
    return int(neo4j_uri().rsplit(":", 1)[1])


def wipe_bench_server() -> None:
    """Empty the benchmark server's graph with ``scripts/neo4j-local wipe`` (delete its store and
    start again): seconds, where deleting a million organizations with Cypher takes minutes."""
    env = dict(os.environ, MAILLAGE_NEO4J_HOME=str(neo4j_home()), MAILLAGE_NEO4J_PORT=str(neo4j_port()))
    subprocess.run([str(ROOT / "scripts" / "neo4j-local"), "wipe"], env=env, check=True, capture_output=True)


def neo4j_pid() -> int | None:
    try:
        return int((neo4j_home() / "neo4j.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (None if unknown)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def process_rss(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def bench_store(batch_size: int = 10_000):
    """A :class:`~graph.neo4j_store.Neo4jStore` on the benchmark server (whose graph the
    benchmarks wipe freely: never point ``MAILLAGE_BENCH_NEO4J_URI`` at real data)."""
    from graph.neo4j_store import Neo4jStore

    return Neo4jStore(neo4j_uri(), user="neo4j", password=neo4j_password(), batch_size=batch_size)


def dump_json(path: str | Path, data: Any) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
