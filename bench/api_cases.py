"""Case 9: API reads of cached results under load, maillage's app against a bare Starlette app.

Each server (:mod:`bench.api_server`) runs in its own process on 127.0.0.1; the load comes from
``wrk`` (Debian's package; ``scripts/bench`` installs it when it can) with 32 connections for a
fixed duration, or, without wrk, from a bounded asyncio + httpx generator (fixed duration and
request count). The same run measures the bare app, maillage's app, and maillage's app while it
recomputes analyses without pause (in its analysis worker process, as the web view does), in
turns within each repetition so that the shared machine's changing load falls on all alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.common import ROOT, Context

__all__ = ["run_api", "wrk_load", "python_load"]

PATH = "/api/tables/gaps?page=1&per_page=50"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(kind: str, orgs: int, analysis_loop: bool, paused: bool = False) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "bench.api_server", "--app", kind, "--port", str(port), "--orgs", str(orgs)]
    if analysis_loop:
        cmd.append("--analysis-loop")
    if paused:
        cmd.append("--paused")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the {kind} server exited with {proc.returncode}")
        try:
            r = httpx.get(base + PATH, timeout=10)
            if r.status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"the {kind} server did not answer within 300 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def wrk_load(url: str, *, connections: int, duration: float) -> dict[str, Any]:
    """Run wrk (2 threads) and return requests/s, p50/p99 (ms) and the count of errors."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{int(duration)}s", "--latency", "--timeout", "10s", url],
                         capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, flags=re.M))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    n = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": _ms(lat["50"]), "p99": _ms(lat["99"]), "requests": n,
            "errors": (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)}


def python_load(url: str, *, connections: int, duration: float, max_requests: int = 200_000) -> dict[str, Any]:
    """A bounded asyncio + httpx load: ``connections`` workers for ``duration`` seconds (or
    ``max_requests``), each sending one request after the other."""
    import httpx

    async def go() -> tuple[list[float], int, float]:
        latencies: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            end = time.perf_counter() + duration

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < end and len(latencies) < max_requests:
                    t = time.perf_counter()
                    try:
                        r = await client.get(url)
                        if r.status_code != 200:
                            errors += 1
                    except httpx.HTTPError:
                        errors += 1
                    latencies.append((time.perf_counter() - t) * 1000)

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(connections)))
            return latencies, errors, time.perf_counter() - t0

    lat, errors, wall = asyncio.run(go())
    lat.sort()
    return {"rps": len(lat) / wall, "p50": lat[len(lat) // 2], "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "requests": len(lat), "errors": errors}


def _summary(runs: list[dict[str, Any]], generator: str) -> dict[str, Any]:
    return {"rps": statistics.median(r["rps"] for r in runs), "p99": statistics.median(r["p99"] for r in runs),
            "p50": statistics.median(r["p50"] for r in runs), "errors": sum(r["errors"] for r in runs),
            "requests": sum(r["requests"] for r in runs), "runs": runs, "generator": generator}


def _measure_all(ctx: Context) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Measure the bare app, maillage's app idle and maillage's app while it recomputes
    analyses, in turns within each repetition (the order alternating), so that a change of
    load on a shared machine falls on all three alike. maillage's app is one server whose
    analysis loop is started and paused by signals."""
    import signal

    orgs = int(ctx.params.get("orgs", 2000))
    duration = float(ctx.params.get("duration", 5))
    connections = int(ctx.params.get("connections", 32))
    reps = int(ctx.params.get("reps", 2 if ctx.mode == "quick" else 3))
    load = wrk_load if shutil.which("wrk") else python_load
    servers = {}
    try:
        servers["bare"] = _start("bare", orgs, False)
        servers["maillage"] = _start("maillage", orgs, True, paused=True)
        import httpx

        bodies = {k: httpx.get(base + PATH, timeout=30).json() for k, (_, base) in servers.items()}
        for _, base in servers.values():
            load(base + PATH, connections=connections, duration=max(2.0, duration / 2))  # warm-up
        runs: dict[str, list[dict[str, Any]]] = {"bare": [], "maillage": [], "busy": []}
        proc, base = servers["maillage"]
        for rep in range(reps):
            order = ["bare", "maillage", "busy"] if rep % 2 == 0 else ["busy", "maillage", "bare"]
            for kind in order:
                if kind == "busy":
                    proc.send_signal(signal.SIGUSR1)
                    time.sleep(1.0)  # the loop is under way
                    runs["busy"].append(load(base + PATH, connections=connections, duration=duration))
                    proc.send_signal(signal.SIGUSR2)
                    time.sleep(1.0)  # the analysis under way ends
                else:
                    runs[kind].append(load(servers[kind][1] + PATH, connections=connections, duration=duration))
    finally:
        for proc, _ in servers.values():
            _stop(proc)
    out = {k: _summary(v, load.__name__) for k, v in runs.items()}
    for k, v in out.items():
        print(f"  {k}: {json.dumps(v['runs'])}", flush=True)
    return out, bodies


def run_api(ctx: Context) -> None:
    """Case 9: requests/s and p99 of cached reads; p99 while an analysis runs."""
    orgs = int(ctx.params.get("orgs", 2000))
    connections = int(ctx.params.get("connections", 32))
    measured, bodies = _measure_all(ctx)
    bare, ours, busy = measured["bare"], measured["maillage"], measured["busy"]
    bare_body, ours_body = bodies["bare"], bodies["maillage"]
    ctx.check("both apps answer the same rows", ours_body.get("items") == bare_body.get("items")
              and ours_body.get("total") == bare_body.get("total"), f"{ours_body.get('total')} rows, page of 50")
    ctx.check("no failed requests under load", bare["errors"] + ours["errors"] + busy["errors"] == 0,
              f"{bare['errors']}, {ours['errors']}, {busy['errors']} errors")
    size = f"{orgs:,} orgs; GET {PATH}; {connections} connections"
    gen = "wrk" if ours["generator"] == "wrk_load" else "asyncio + httpx"
    ratio = ours["rps"] / bare["rps"]
    ctx.row(what="API cached reads: requests per second", size=size, unit="req/s", ours=ours["rps"], baseline=bare["rps"],
            baseline_name="bare Starlette app, same handler and workspace", ratio=ratio, target="≥ 0.85x",
            met=ratio >= 0.85, runs=len(ours["runs"]),
            note=f"load from {gen}, {ctx.params.get('duration', 5)} s per run after a warm-up; median p50 ours "
                 f"{ours['p50']:.1f} ms, bare {bare['p50']:.1f} ms")
    ctx.row(what="API cached reads: p99 latency", size=size, unit="ms", ours=ours["p99"], baseline=bare["p99"],
            baseline_name="bare Starlette app", ratio=bare["p99"] / ours["p99"], target="< 30 ms",
            met=ours["p99"] < 30, runs=len(ours["runs"]))
    ratio = busy["p99"] / ours["p99"]
    ctx.row(what="API cached reads: p99 while analyses run in the server", size=size, unit="ms", ours=busy["p99"],
            baseline=ours["p99"], baseline_name="maillage's app, idle", ratio=ours["p99"] / busy["p99"],
            target="at most 2x the idle p99", met=ratio <= 2.0, runs=len(busy["runs"]),
            note=f"p99 grows {ratio:.2f}x; requests/s {busy['rps']:,.0f} (idle {ours['rps']:,.0f}); the server "
                 "recomputes brokerage and communities without pause, in its analysis worker process")
    if not all(r.met for r in ctx.rows):
        _profile_requests(ctx, orgs)


def _profile_requests(ctx: Context, orgs: int, n: int = 300) -> None:
    """Profile ``n`` cached reads through maillage's app in this process (ASGI, no sockets)."""
    import httpx

    from bench.api_server import _workspace_store, build_app

    app, _ = build_app("maillage", _workspace_store(orgs))

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
            for _ in range(n):
                r = await c.get(PATH)
                r.raise_for_status()

    ctx.profile(f"{n} cached reads of {PATH} through maillage's app (in process, httpx ASGI transport)",
                lambda: asyncio.run(go()), max_lines=80)
