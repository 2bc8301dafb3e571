"""Network map of 2,000 organizations: time until usable in headless Chromium, ours vs pyvis.

Usage: python -m bench.map_bench [--orgs 2000] [--runs 3] [--pyvis-runs 1] [--pyvis-timeout 300]

Both pages draw the same network (the organizations of the demo generator's graph and one
line per linked pair) and are served from a temporary folder on 127.0.0.1; the browser is
Debian's Chromium (``/usr/bin/chromium``) driven by Playwright, and every request that does
not go to 127.0.0.1 is refused (there must be none, nor any dialog).

- **ours**: :func:`api.maps.render_map`'s page (layout computed on the server, physics off).
  Usable = the first drawing (``window.maillageMapReadyAt``, from navigation start). One
  warm-up load, then ``--runs`` timed loads; the median is reported.
- **pyvis defaults**: ``pyvis.network.Network()`` (physics on: Barnes–Hut, dynamic smooth
  edges, each with a support node in the simulation, 1,000 stabilization iterations) filled
  with ``from_nx`` and written by its own template, whose CDN links are pointed at pyvis's
  local copies of vis-network (bootstrap, which only styles its page, is not in pyvis and is
  left out). Usable = the ``stabilizationIterationsDone`` event, when its loading bar goes
  away and the map shows; ``stabilized`` (when the nodes stop moving) comes later and is
  reported beside it, so the ratio we state is the one least favourable to us. At 2,000
  organizations one load takes many minutes, so ``--pyvis-runs`` defaults to 1 (the browser
  and vis-network are already warm from our page's loads), and a load still stabilizing at
  ``--pyvis-timeout`` is stopped: the time waited is then a lower bound (and the ratio too),
  and the pace of its iterations so far gives an estimate of when it would have finished.

The server-side cost of our page (graph to HTML, layout included, cold and with the layout
cached) is reported beside it. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import networkx as nx
import numpy as np

__all__ = ["benchmark_graph", "pyvis_page", "main", "CHROMIUM", "CHROMIUM_ARGS"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# Hooks pyvis's page: its template assigns the global ``network`` inside drawGraph(), and
# vis-network stabilizes in timer-driven batches afterwards, so listeners attached when the
# global is set see every stabilization event. Progress (iterations done over time) lets a
# run stopped at the time limit say when it would have finished.
_PYVIS_HOOK = """
(() => {
  let current;
  window.__progress = [];
  Object.defineProperty(window, "network", {
    configurable: true,
    get() { return current; },
    set(value) {
      current = value;
      value.once("afterDrawing", () => { window.__firstDraw = performance.now(); });
      value.on("stabilizationProgress", (p) => { window.__progress.push([performance.now(), p.iterations, p.total]); });
      value.once("stabilizationIterationsDone", () => { window.__iterationsDone = performance.now(); });
      value.once("stabilized", () => { window.__stabilized = performance.now(); });
    },
  });
})();
"""


def _stand_in_graph(n: int, seed: int) -> nx.MultiDiGraph:
    """A snapshot-shaped graph for when loaders.sample is not available: clusters, types,
    about five partnerships per organization, four in five within its cluster."""
    from maillage.model import STAKEHOLDER_TYPES, cluster_id

    rng = np.random.default_rng(seed)
    clusters = ["Aérospatiale", "Sciences de la vie", "Technologies de l'information", "Logistique",
                "Mode", "Finance", "Cinéma", "Agroalimentaire"]
    G = nx.MultiDiGraph()
    for c in clusters:
        G.add_node(cluster_id(c), type="cluster", name=c)
    home = rng.integers(0, len(clusters), n)
    kinds = rng.choice(len(STAKEHOLDER_TYPES), n, p=[0.7, 0.06, 0.02, 0.05, 0.07, 0.1])
    for i in range(n):
        G.add_node(f"o{i}", name=f"Organisation {i} de Montréal", type=STAKEHOLDER_TYPES[kinds[i]],
                   clusters=[clusters[home[i]]], region="Montréal", sectors=[f"s{i % 30}"])
        G.add_edge(f"o{i}", cluster_id(clusters[home[i]]), key="PART_OF", type="PART_OF")
    members = [np.flatnonzero(home == k) for k in range(len(clusters))]
    for s in rng.integers(0, n, 5 * n):
        t = rng.choice(members[home[s]]) if rng.random() < 0.8 else rng.integers(0, n)
        if s != t:
            G.add_edge(f"o{s}", f"o{t}", key="PARTNERS_WITH", type="PARTNERS_WITH")
    return G


def benchmark_graph(orgs: int, seed: int, *, stand_in: bool = False) -> tuple[nx.MultiDiGraph, str]:
    """Return ``(G, source)``: the demo generator's graph, else a stand-in (``source`` says)."""
    if stand_in:
        return _stand_in_graph(orgs, seed), "stand-in (asked for)"
    try:
        from loaders.sample import ecosystem_graph, generate_ecosystem
    except ImportError:
        return _stand_in_graph(orgs, seed), "stand-in (loaders.sample unavailable)"
    return ecosystem_graph(generate_ecosystem(orgs, seed=seed)), "loaders.sample.generate_ecosystem"


def pyvis_page(view, folder: Path) -> Path:
    """Write pyvis's default page for the network ``view`` draws, loadable offline."""
    import pyvis
    from pyvis.network import Network

    # The same nodes and lines as our map; names as labels and titles, types as pyvis groups
    # (which it colours), as a pyvis user would do.
    H = nx.Graph()
    for n in view.nodes:
        H.add_node(n["id"], label=n["label"], title=n.get("name") or n["label"], group=n["type"])
    H.add_edges_from((e["from"], e["to"]) for e in view.edges if e["kind"] == "link")
    net = Network()  # pyvis's defaults: physics on, stabilization of 1,000 iterations
    net.from_nx(H)
    html = net.generate_html()
    html = html.replace(
        "https://cdnjs.cloudflare.com/ajax/libs/vis-network/9.1.2/dist/dist/vis-network.min.css",
        "lib/vis-9.1.2/vis-network.css",
    ).replace(
        "https://cdnjs.cloudflare.com/ajax/libs/vis-network/9.1.2/dist/vis-network.min.js",
        "lib/vis-9.1.2/vis-network.min.js",
    )
    # Bootstrap is not shipped with pyvis; it only styles the card around the canvas.
    html = re.sub(r"<link[^>]*bootstrap[^>]*/>", "", html, flags=re.S)
    html = re.sub(r"<script[^>]*bootstrap[^>]*>\s*</script>", "", html, flags=re.S)
    html = re.sub(r'\s(integrity|crossorigin|referrerpolicy)="[^"]*"', "", html)
    remote = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    if remote:
        raise RuntimeError(f"pyvis's page still loads from the internet: {remote}")
    folder.mkdir(parents=True, exist_ok=True)
    lib = Path(pyvis.__file__).parent / "templates" / "lib"
    for part in ("bindings", "vis-9.1.2"):
        shutil.copytree(lib / part, folder / "lib" / part, dirs_exist_ok=True)
    page = folder / "index.html"
    page.write_text(html, encoding="utf-8")
    return page


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _chromium_version() -> str:
    try:
        return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _time_page(browser, url: str, *, kind: str, timeout_s: float, stabilized_s: float) -> dict:
    """Load ``url`` in a fresh page and return the times (ms from navigation start)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    refused: list[str] = []

    def _route(route):
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", _route)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        if kind == "pyvis":
            from playwright.sync_api import TimeoutError as PlaywrightTimeout

            page.add_init_script(_PYVIS_HOOK)
            page.goto(url, wait_until="commit")
            out = {"usable_ms": None, "stabilized_ms": None}
            try:
                page.wait_for_function("window.__iterationsDone !== undefined", timeout=timeout_s * 1000, polling=250)
            except PlaywrightTimeout:
                pass
            # One evaluation: the page answers only between stabilization batches, which take
            # minutes each on a large graph.
            state = page.evaluate("""() => ({now: performance.now(), done: window.__iterationsDone ?? null,
                firstDraw: window.__firstDraw ?? null, progress: window.__progress,
                nodes: network.body.nodeIndices.length})""")
            out["usable_ms"], out["first_draw_ms"], out["nodes"] = state["done"], state["firstDraw"], state["nodes"]
            progress = state["progress"]
            if out["usable_ms"] is None:
                # Stopped at the limit: report the time waited (a lower bound) and, from the
                # pace of the iterations so far, when stabilization would have ended.
                out["stopped_at_ms"] = state["now"]
                out["progress"] = progress[-1][1:] if progress else None
                if len(progress) >= 2 and progress[-1][1] > progress[0][1]:
                    (t0, i0, total), (t1, i1, _) = progress[0], progress[-1]
                    out["estimated_ms"] = t0 + (t1 - t0) * (total - i0) / (i1 - i0)
            else:
                try:
                    page.wait_for_function("window.__stabilized !== undefined", timeout=stabilized_s * 1000, polling=250)
                    out["stabilized_ms"] = page.evaluate("window.__stabilized")
                except PlaywrightTimeout:
                    pass  # still moving when our patience ran out: reported as such
        else:
            page.goto(url, wait_until="commit")
            # A selector, not wait_for_function: our page's CSP forbids the eval its polling uses.
            page.wait_for_selector(".mm-map[data-ready='true']", state="attached", timeout=timeout_s * 1000)
            out = {"usable_ms": page.evaluate("window.maillageMapReadyAt"),
                   "nodes": page.evaluate("Object.values(window.maillageMaps)[0].body.nodeIndices.length"),
                   "marks": page.evaluate(
                       "Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, Math.round(m.startTime)]))")}
        out["refused_requests"] = refused
        out["dialogs"] = dialogs
        return out
    finally:
        page.close()


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values)) if values else None


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print a summary and a JSON line, and return the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of our page, after a warm-up")
    parser.add_argument("--pyvis-runs", type=int, default=1,
                        help="timed runs of pyvis's page (each takes minutes; its warm-up is our page's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stand-in", action="store_true", help="use the built-in stand-in graph, not loaders.sample")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for our map")
    parser.add_argument("--pyvis-timeout", type=float, default=300.0,
                        help="seconds to wait for pyvis's stabilization; past it the run is reported as a lower "
                             "bound with an estimate from its progress")
    parser.add_argument("--stabilized-timeout", type=float, default=60.0,
                        help="extra seconds to wait for pyvis's 'stabilized' after its iterations")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from api import maps

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: install Debian's chromium (make chromium).")
    G, source = benchmark_graph(args.orgs, args.seed, stand_in=args.stand_in)

    maps.clear_layout_cache()
    t0 = time.perf_counter()
    view = maps.render_map(G, max_nodes=max(args.orgs, 2000))
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    view = maps.render_map(G, max_nodes=max(args.orgs, 2000))
    warm = time.perf_counter() - t0
    if view.aggregated:
        raise SystemExit("The map was aggregated; raise max_nodes.")

    results: dict = {"case": "network map", "graph": source, "organizations": view.total_nodes,
                     "drawn_nodes": view.drawn_nodes, "drawn_edges": view.drawn_edges,
                     "server_render_cold_s": round(cold, 3), "server_render_cached_layout_s": round(warm, 3),
                     "runs": args.runs, "pyvis_runs": args.pyvis_runs, "chromium": _chromium_version()}
    runs: dict[str, list[dict]] = {"ours": [], "pyvis": []}
    with tempfile.TemporaryDirectory(prefix="maillage-map-bench-") as tmp:
        root = Path(tmp)
        maps.write_standalone(view, root / "ours", title="maillage")
        t0 = time.perf_counter()
        pyvis_page(view, root / "pyvis")
        results["pyvis_page_build_s"] = round(time.perf_counter() - t0, 3)
        server, base = _serve(root)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    plan = [("ours", i) for i in range(args.runs + 1)] + [("pyvis", i + 1) for i in range(args.pyvis_runs)]
                    for kind, i in plan:
                        timeout = args.timeout if kind == "ours" else args.pyvis_timeout
                        r = _time_page(browser, f"{base}/{kind}/index.html", kind=kind, timeout_s=timeout,
                                       stabilized_s=args.stabilized_timeout)
                        if r["refused_requests"] or r["dialogs"]:
                            raise SystemExit(f"{kind}: requests left loopback {r['refused_requests']} "
                                             f"or dialogs opened {r['dialogs']}")
                        if r["nodes"] != view.drawn_nodes:
                            raise SystemExit(f"{kind}: {r['nodes']} nodes drawn, expected {view.drawn_nodes}")
                        label = "warm-up" if i == 0 else f"run {i}"
                        if r["usable_ms"] is not None:
                            note = f" (stops moving: {r['stabilized_ms'] / 1000:.1f} s)" if r.get("stabilized_ms") else ""
                            print(f"{kind} {label}: usable after {r['usable_ms'] / 1000:.2f} s{note}", flush=True)
                        else:
                            print(f"{kind} {label}: not stabilized after {r['stopped_at_ms'] / 1000:.0f} s "
                                  f"({r['progress'][0] if r['progress'] else 0} of 1000 iterations; estimated "
                                  f"{(r.get('estimated_ms') or float('nan')) / 1000:.0f} s)", flush=True)
                        if i:
                            runs[kind].append(r)
                finally:
                    browser.close()
        finally:
            server.shutdown()
            server.server_close()

    ours_ms = _median(r["usable_ms"] for r in runs["ours"])
    results["ours_usable_ms"] = [round(r["usable_ms"]) for r in runs["ours"]]
    results["ours_median_ms"] = ours_ms
    results["ours_marks_ms"] = runs["ours"][-1]["marks"]
    done = [r for r in runs["pyvis"] if r["usable_ms"] is not None]
    stopped = [r for r in runs["pyvis"] if r["usable_ms"] is None]
    results["pyvis_usable_ms"] = [round(r["usable_ms"]) for r in done]
    results["pyvis_stabilized_ms"] = [round(r["stabilized_ms"]) for r in done if r["stabilized_ms"]]
    results["pyvis_first_draw_ms"] = [round(r["first_draw_ms"]) for r in runs["pyvis"] if r["first_draw_ms"]]
    if stopped:
        # At least as long as we waited; the estimate extrapolates the iterations' pace.
        results["pyvis_stopped_at_ms"] = [round(r["stopped_at_ms"]) for r in stopped]
        results["pyvis_estimated_ms"] = [round(r["estimated_ms"]) for r in stopped if r.get("estimated_ms")]
    pyvis_ms = _median([r["usable_ms"] for r in done] + [r["stopped_at_ms"] for r in stopped])
    results["pyvis_median_ms"] = pyvis_ms
    results["pyvis_median_is_lower_bound"] = bool(stopped)
    ratio = pyvis_ms / max(ours_ms, 1)
    results["ratio"] = round(ratio, 1)
    results["ratio_is_lower_bound"] = bool(stopped)
    if stopped and results["pyvis_estimated_ms"]:
        results["ratio_estimated"] = round(_median(results["pyvis_estimated_ms"]) / max(ours_ms, 1), 1)
    results["target"] = "at least 30x sooner than pyvis defaults, and under 2 s"
    results["target_met"] = bool(ratio >= 30 and ours_ms < 2000)
    bound = "at least " if stopped else ""
    print(
        f"\nMap of {results['organizations']:,} organizations ({results['drawn_edges']:,} lines), from {source}:\n"
        f"  ours  usable after {ours_ms / 1000:.2f} s (median of {args.runs} after a warm-up; server: "
        f"{cold:.2f} s cold, {warm:.2f} s with the layout cached)\n"
        f"  pyvis usable after {bound}{pyvis_ms / 1000:.1f} s (stabilizationIterationsDone, "
        f"{len(runs['pyvis'])} run(s))"
        + (f", estimated {_median(results['pyvis_estimated_ms']) / 1000:.0f} s from its pace" if stopped and results["pyvis_estimated_ms"] else "")
        + f"\n  ratio {bound}{ratio:.0f}x; target {'met' if results['target_met'] else 'MISSED'} ({results['target']})"
    )
    print(json.dumps(results, ensure_ascii=False))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
