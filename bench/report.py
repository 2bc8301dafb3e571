"""BENCHMARKS.md: the machine, the versions, and every case's measured ratio against its baseline."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.common import fmt_seconds, fmt_size, fmt_value

__all__ = ["machine", "versions", "write_report"]


def machine() -> dict[str, Any]:
    """CPU model, cores, memory and load of this machine."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
            "load": os.getloadavg()}


def _dist(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _neo4j_server() -> str:
    try:
        from bench.common import bench_store

        store = bench_store()
        try:
            rec = store._driver.execute_query("CALL dbms.components() YIELD name, versions, edition "
                                              "RETURN name, versions[0] AS v, edition", database_=store.database)
            r = rec.records[0]
            return f"{r['name']} {r['v']} {r['edition']}"
        finally:
            store.close()
    except Exception as err:  # noqa: BLE001 - the report says so
        return f"unknown ({type(err).__name__})"


def _command(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "not installed"


def versions() -> dict[str, str]:
    out = {"Python": platform.python_version(), "Neo4j server": _neo4j_server()}
    for name in ("neo4j", "neo4j-rust-ext", "networkx", "numpy", "scipy", "pandas", "igraph", "rustworkx",
                 "datasketch", "scikit-learn", "rapidfuzz", "fastapi", "starlette", "uvicorn", "httpx", "pyvis",
                 "playwright", "pyinstrument"):
        out[name] = _dist(name)
    out["Java"] = _command(["bash", "-c", "java -version 2>&1"])
    out["Chromium"] = _command(["/usr/bin/chromium", "--version"])
    out["wrk"] = _command(["bash", "-c", "wrk --version 2>&1"])
    return out


def _ratio(r: dict[str, Any]) -> str:
    return "—" if r["ratio"] is None else f"{r['ratio']:.2f}x"


def _status(r: dict[str, Any]) -> str:
    if r["met"] is None:
        return ""
    return "MET" if r["met"] else "**MISSED**"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_report(path: Path, *, mode: str, results: list[dict[str, Any]], machine: dict[str, Any],
                 versions: dict[str, str], started: float, elapsed: float, titles: dict[str, str],
                 only: str = "") -> None:
    """Write BENCHMARKS.md from the cases' results."""
    when = _dt.datetime.fromtimestamp(started).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        "# Benchmarks",
        "",
        (f"Produced by `scripts/bench {mode} --only {only}` (`python -m bench.run --mode {mode} --only {only}`: "
         f"a subset of `make {'bench' if mode == 'full' else 'bench-quick'}`) " if only else
         f"Produced by `make {'bench' if mode == 'full' else 'bench-quick'}` (`python -m bench.run --mode {mode}`) ")
        + f"on {when}, in {elapsed / 60:.1f} minutes. Do not edit by hand: run it again.",
        "",
        "Each time is the median of the timed runs after a warm-up run (the *runs* column; one-off steps say so). "
        "Ratios are how many times better maillage is than the baseline measured in the same run on the same data: "
        "baseline time / our time, or our rate / the baseline's. Peak memory is the peak resident set of the case's "
        "own process during that measurement (reset before each one). The graphs come from the demo generator "
        "(`loaders.sample.generate_ecosystem`, seed 0: about ten relationships per organization).",
        "",
        "## Machine",
        "",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores; memory {machine['memory'] / 2**30:.1f} GiB; {machine['os']}",
        f"- Load average when the run started: {machine['load'][0]:.1f} (1 min), {machine['load'][1]:.1f} (5 min). "
        "The machine is shared: when other work runs, wall times stretch (ratios much less, since both sides "
        "of a ratio run in the same minutes).",
        "",
        "## Versions",
        "",
        ", ".join(f"{k} {v}" for k, v in versions.items()),
        "",
        "## Results",
        "",
        "| case | what | size | maillage | baseline | ratio | target | status | peak memory (ours / baseline) | runs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    met = missed = 0
    for res in results:
        title = titles.get(res["case"], res["case"])
        if res["info"].get("error") and not res["rows"]:
            lines.append(f"| {title} | — | — | — | — | — | — | **ERROR** | — | — |")
        for r in res["rows"]:
            if r["met"] is True:
                met += 1
            elif r["met"] is False:
                missed += 1
            base = "—" if r["baseline"] is None else f"{fmt_value(r['baseline'], r['unit'])} ({r['baseline_name']})"
            mem = f"{fmt_size(r['ours_peak'])} / {fmt_size(r['baseline_peak'])}" if r["ours_peak"] else "—"
            lines.append(
                f"| {_cell(title)} | {_cell(r['what'])} | {_cell(r['size'])} | {fmt_value(r['ours'], r['unit'])} | "
                f"{_cell(base)} | {_ratio(r)} | {_cell(r['target'] or '—')} | {_status(r)} | {mem} | {r['runs'] or '—'} |"
            )
    lines += ["", f"Targets met: {met}; missed: {missed}.", ""]

    notes = [(titles.get(res["case"], res["case"]), r) for res in results for r in res["rows"] if r["note"]]
    if notes:
        lines += ["### Notes per row", ""]
        for title, r in notes:
            lines.append(f"- **{title}**, {r['what']} [{r['size']}]: {r['note']}")
        lines.append("")

    quality = [q for res in results for q in res.get("quality", [])]
    if quality:
        lines += ["## Quality against the planted ground truth", "",
                  "| what | size | planted | found | reported | precision | recall | note |", "|---|---|---|---|---|---|---|---|"]
        for q in quality:
            prec = "—" if q.get("precision") is None else f"{q['precision']:.3f}"
            rec = "—" if q.get("recall") is None else f"{q['recall']:.3f}"
            lines.append(f"| {_cell(q['what'])} | {_cell(q['size'])} | {q.get('planted', '—')} | {q.get('found', '—')} | "
                         f"{q.get('reported', '—')} | {prec} | {rec} | {_cell(q.get('note', ''))} |")
        lines.append("")

    stages = [(res, s) for res in results for s in res["info"].get("stages", [])]
    if stages:
        lines += ["## Stages (time and peak memory)", "", "| case | stage | size | time | peak memory | note |",
                  "|---|---|---|---|---|---|"]
        for res, s in stages:
            lines.append(f"| {_cell(titles.get(res['case'], res['case']))} | {_cell(s['stage'])} | {_cell(s.get('size', ''))} | "
                         f"{fmt_seconds(s['seconds']) if s.get('seconds') is not None else '—'} | "
                         f"{fmt_size(s.get('peak'))} | {_cell(s.get('note', ''))} |")
        lines.append("")

    lines += ["## Correctness checks", "", "Each is made inside the benchmark; a broken one fails the run.", ""]
    for res in results:
        for c in res["checks"]:
            lines.append(f"- {'ok' if c['ok'] else '**FAILED**'} — {titles.get(c['case'], c['case'])}: {c['name']}"
                         + (f" ({c['detail']})" if c["detail"] else ""))
    lines.append("")

    errors = [res for res in results if res["info"].get("error")]
    if errors:
        lines += ["## Errors", ""]
        for res in errors:
            lines.append(f"- **{titles.get(res['case'], res['case'])}**: {_cell(res['info']['error'])}")
        lines.append("")

    profiles = [(res, p) for res in results for p in res.get("profiles", [])]
    if profiles:
        lines += ["## Profiles of missed targets", "",
                  "pyinstrument, one call of maillage's side, wall-clock time (time waiting on Neo4j or the "
                  "network shows as socket reads).", ""]
        for res, p in profiles:
            lines += [f"### {titles.get(res['case'], res['case'])}: {p['title']}", "", "```", p["text"], "```", ""]

    lines += ["## Case timings", "", "| case | params | wall time | peak RSS of the process | load average before → after |",
              "|---|---|---|---|---|"]
    for res in results:
        info = res["info"]
        lines.append(f"| {_cell(titles.get(res['case'], res['case']))} | `{_cell(res['params'])}` | "
                     f"{fmt_seconds(info.get('wall_s', 0))} | {fmt_size(info.get('process_maxrss'))} | "
                     f"{info.get('load_before', 0):.1f} → {info.get('load_after', 0):.1f} |")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
