"""Time and memory of the structure analyses (brokers, communities, coverage, simulate).

Usage::

    python -m bench.structure scale --orgs 100000 --rels 1000000
    python -m bench.structure ratio --orgs 10000 --rels 100000

``scale`` builds a synthetic snapshot (heavy-tailed degrees, so that hubs and many triangles
stress the algorithms), then runs each analysis once and prints its wall time and peak memory
(the process's peak resident set, reset before each analysis, and the part above what the
snapshot itself holds). ``ratio`` times the kernels against networkx computing the same values
on the same partnership network: Burt's constraint and effective size, betweenness (exact, and
sampled with the same sources) and Louvain communities.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time

import networkx as nx
import numpy as np

from maillage.model import STAKEHOLDER_TYPES, cluster_id

__all__ = ["make_snapshot", "main"]

_CLUSTERS = [f"Grappe {i}" for i in range(15)]
_KINDS = ("PARTNERS_WITH", "MEMBER_OF", "FUNDS", "PARTICIPATES_IN", "COORDINATES")


def make_snapshot(n_orgs: int, n_rels: int, *, seed: int = 0, exponent: float = 2.5) -> nx.MultiDiGraph:
    """Return a snapshot with ``n_orgs`` organizations and ``n_rels`` relationships (plus PART_OF).

    Endpoints are drawn with probability proportional to Pareto weights (a Chung–Lu graph):
    degrees are heavy-tailed like real partnership networks.
    """
    rng = np.random.default_rng(seed)
    w = rng.pareto(exponent - 1, n_orgs) + 1
    p = w / w.sum()
    src = rng.choice(n_orgs, size=int(n_rels * 1.3), p=p)
    dst = rng.choice(n_orgs, size=int(n_rels * 1.3), p=p)
    keep = src != dst
    pairs = np.unique(np.stack([src[keep], dst[keep]], axis=1), axis=0)
    pairs = pairs[rng.permutation(len(pairs))[:n_rels]]
    types = rng.choice(len(STAKEHOLDER_TYPES), size=n_orgs, p=[0.7, 0.06, 0.02, 0.05, 0.07, 0.10])
    clusters = rng.integers(0, len(_CLUSTERS), size=n_orgs)
    G = nx.MultiDiGraph()
    for c in _CLUSTERS:
        G.add_node(cluster_id(c), type="cluster", name=c)
    for i in range(n_orgs):
        G.add_node(f"o{i}", name=f"Organisation {i}", type=STAKEHOLDER_TYPES[types[i]],
                   sectors=[f"secteur-{i % 40}"], clusters=[], region=None, mandate=None)
        G.add_edge(f"o{i}", cluster_id(_CLUSTERS[clusters[i]]), key="PART_OF", type="PART_OF")
    for k, (a, b) in enumerate(pairs.tolist()):
        kind = _KINDS[k % len(_KINDS)]
        G.add_edge(f"o{a}", f"o{b}", key=kind, type=kind, weight=float((a * 7 + b) % 5 + 1))
    return G


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _measure(fn):
    gc.collect()
    try:  # reset the peak resident set to the current one (Linux)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    base = _status("VmRSS")
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    peak = _status("VmHWM")
    return out, {"seconds": round(seconds, 2), "peak_gb": round(peak / 2**30, 2),
                 "above_snapshot_gb": round((peak - base) / 2**30, 2)}


def scale(n_orgs: int, n_rels: int) -> dict:
    from analysis import brokerage, cluster_bridges, communities, coverage_gaps, simulate
    from analysis.brokers import critical_links

    G = make_snapshot(n_orgs, n_rels)
    rng = np.random.default_rng(1)
    proposals = [(f"o{a}", f"o{b}") for a, b in rng.integers(0, n_orgs, size=(100, 2)).tolist() if a != b]
    runs = {
        "coverage_gaps": lambda: coverage_gaps(G),
        "brokerage": lambda: brokerage(G),
        "brokerage(weight)": lambda: brokerage(G, weight="weight"),
        "cluster_bridges": lambda: cluster_bridges(G),
        "critical_links": lambda: critical_links(G),
        "communities": lambda: communities(G),
        "simulate": lambda: simulate(G, proposals),
    }
    report = {"orgs": n_orgs, "relationships": n_rels}
    for name, fn in runs.items():
        _, report[name] = _measure(fn)
        print(name, report[name], flush=True)
    return report


def ratio(n_orgs: int, n_rels: int, *, sample: int = 500) -> dict:
    """Time the kernels against networkx on the same partnership network and check values."""
    import random

    from analysis._graphops import _betweenness, _edges, _structural_holes
    from analysis._network import partnership_network
    from analysis.communities import _detect, modularity

    G = make_snapshot(n_orgs, n_rels)
    H = partnership_network(G)
    E, _ = _edges(G)
    out: dict = {"orgs": n_orgs, "ties": E.m}

    def timed(fn, repeat=1):
        best = None
        for _ in range(repeat):
            t = time.perf_counter()
            value = fn()
            s = time.perf_counter() - t
            best = s if best is None else min(best, s)
        return value, best

    (c, e, _), ours = timed(lambda: _structural_holes(E), repeat=3)
    nc, t_c = timed(lambda: nx.constraint(H))
    ne, t_e = timed(lambda: nx.effective_size(H))
    diff = max(np.nanmax(np.abs(c - np.array([nc[x] for x in E.nodes]))),
               np.nanmax(np.abs(e - np.array([ne[x] for x in E.nodes]))))
    out["constraint+effective_size"] = {"ours_s": round(ours, 3), "networkx_s": round(t_c + t_e, 2),
                                        "ratio": round((t_c + t_e) / ours, 1), "max_abs_diff": float(diff)}

    (b, _), ours = timed(lambda: _betweenness(E, sample=sample, seed=0))
    nb, theirs = timed(lambda: nx.betweenness_centrality(H, k=sample, seed=0))
    diff = float(np.max(np.abs(b - np.array([nb[x] for x in E.nodes]))))
    out[f"betweenness(k={sample})"] = {"ours_s": round(ours, 2), "networkx_s": round(theirs, 2),
                                       "ratio": round(theirs / ours, 1), "max_abs_diff": diff}
    (b, _), ours = timed(lambda: _betweenness(E, sample=None, seed=0))
    # networkx's exact betweenness at this size takes many minutes: time 200 sources and scale.
    srcs = random.Random(0).sample(list(H), 200)
    _, part = timed(lambda: nx.betweenness_centrality_subset(H, srcs, list(H)))
    out["betweenness(exact)"] = {"ours_s": round(ours, 2), "networkx_s_estimated": round(part * len(H) / 200, 1),
                                 "ratio_estimated": round(part * len(H) / 200 / ours, 1)}

    mem, ours = timed(lambda: _detect(E, resolution=1.0, seed=0, method="louvain", weighted=False))
    q_ours = modularity(E.u, E.v, E.w, mem)
    parts, theirs = timed(lambda: nx.community.louvain_communities(H, seed=0))
    q_nx = nx.community.modularity(H, parts)
    out["louvain"] = {"ours_s": round(ours, 3), "networkx_s": round(theirs, 2), "ratio": round(theirs / ours, 1),
                      "modularity_ours": round(q_ours, 4), "modularity_networkx": round(q_nx, 4)}
    mem, ours = timed(lambda: _detect(E, resolution=1.0, seed=0, method="leiden", weighted=False))
    out["leiden"] = {"ours_s": round(ours, 3), "ratio_vs_networkx_louvain": round(theirs / ours, 1),
                     "modularity": round(modularity(E.u, E.v, E.w, mem), 4)}
    for k, v in out.items():
        print(k, v, flush=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["scale", "ratio"])
    p.add_argument("--orgs", type=int, default=None)
    p.add_argument("--rels", type=int, default=None)
    args = p.parse_args(argv)
    if args.mode == "scale":
        report = scale(args.orgs or 100_000, args.rels or 1_000_000)
    else:
        report = ratio(args.orgs or 10_000, args.rels or 100_000)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
