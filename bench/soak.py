"""Soak, long form: the web view serving reads for minutes while an import and an analysis run.

Usage: python -m bench.soak [--seconds 120] [--rate 40] [--uri bolt://127.0.0.1:7689] [--json out.json] [--tracemalloc]

Serves the test ecosystem of ``tests/api/factory.py`` with uvicorn on loopback, reads pages
and JSON at a steady rate, imports 400 organizations through the JSON API and writes an
analysis back a third of the way in, and prints requests served, errors, the 95th percentile
latency and resident memory over the first and last thirds of the run, its growth in the
steady state, and a series every 5 s (the server process, and its child processes: the
analysis worker). With ``--uri`` (and
``NEO4J_PASSWORD``) the graph lives in that Neo4j, which is wiped first: point it at a
benchmark server, never at real data. Without, in the memory store. The short form of the
same run is ``tests/reliability/test_soak.py`` (``MAILLAGE_SOAK_SECONDS`` lengthens it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the soak; return 0 when no request failed and no write was lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("MAILLAGE_SOAK_SECONDS", "120")))
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second, all readers together")
    parser.add_argument("--uri", default=None, help="a Neo4j server to use (wiped first)")
    parser.add_argument("--cache-seconds", type=float, default=5.0,
                        help="MAILLAGE_CACHE_SECONDS of the app: short, so that analyses are recomputed throughout")
    parser.add_argument("--json", default=None, help="write the figures to this file")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="trace Python allocations and print what grew over the steady state (slows the run)")
    args = parser.parse_args(argv)
    traced: list = []
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(10)

    from graph.memory_store import MemoryStore
    from tests.api.factory import make_app, make_store
    from tests.reliability.soak import soak

    if args.uri:
        from graph.neo4j_store import Neo4jStore

        store = Neo4jStore(args.uri, user=os.environ.get("NEO4J_USER", "neo4j"), password=os.environ.get("NEO4J_PASSWORD"))
        store.clear()
    else:
        store = MemoryStore(None)
    make_store(store)
    app = make_app(store, cache_seconds=args.cache_seconds)
    result = soak(app, store, seconds=args.seconds, rate=args.rate, max_requests=int(args.seconds * args.rate * 1.2) + 100,
                  on_steady=(lambda: traced.append(tracemalloc.take_snapshot())) if args.tracemalloc else None)
    if traced:
        end = tracemalloc.take_snapshot()
        print(f"Python objects traced: {tracemalloc.get_traced_memory()[0] / 2**20:.0f} MiB now; "
              "what grew most over the steady state:")
        for stat in end.compare_to(traced[0], "traceback")[:12]:
            print(f"  {stat.size_diff / 2**20:+.1f} MiB in {stat.count_diff:+d} blocks, at")
            for line in stat.traceback.format()[-6:]:
                print("     ", line)
    first, last = result.rss_thirds()
    steady = result.rss_steady()
    figures = {"seconds": round(result.seconds, 1), "requests": result.requests, "errors": len(result.errors),
               "p95_ms": round(result.p95() * 1000, 1), "imported": result.imported,
               "analysis_rows": result.analysis_rows, "rss_first_third_mib": round(first, 1),
               "rss_last_third_mib": round(last, 1), "rss_steady_mib": [round(v, 1) for v in steady],
               "rss_growth_mib_per_min": round(result.rss_growth(), 1),
               "children_rss_max_mib": round(max((v for _, v in result.rss_children), default=0.0), 1),
               "rss_series": result.series(5.0), "store": store.describe()}
    print(result.summary())
    print("seconds, server MiB, child processes MiB:", " ".join(f"{t:.0f}s:{v:.0f}/{c:.0f}" for t, v, c in figures["rss_series"]))
    for error in result.errors[:20]:
        print("  error:", error)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)
    store.close()
    return 0 if not result.errors and result.imported == 400 else 1


if __name__ == "__main__":
    sys.exit(main())
