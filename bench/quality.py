"""Quality against the demo generator's planted ground truth (``ground_truth.json``).

- duplicate records: precision and recall of :func:`maillage.names.find_duplicate_records`
  (what ``maillage load`` reports) on the planted ``duplicate_records`` pairs;
- removed partnerships: the share found in either end's top 10 of
  ``suggest_partnerships(G, per_node=10)``;
- overlapping pairs: precision and recall of :func:`analysis.find_overlaps` (default
  threshold) on the planted ``overlapping_pairs``; pairs that are planted duplicates of
  another kind (duplicate records or structures) are counted apart, neither right nor wrong;
- duplicated structures: pairwise precision and recall of
  :func:`analysis.find_duplicate_structures` on the planted groups.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from bench.common import Context, demo_graph, ecosystem, fmt_seconds

__all__ = ["run_quality", "precision_recall"]


def _pair(a: Any, b: Any) -> tuple:
    a, b = str(a), str(b)
    return (a, b) if a < b else (b, a)


def precision_recall(reported: set[tuple], planted: set[tuple], ignore: set[tuple] = frozenset()) -> dict[str, Any]:
    """Precision (of the reported pairs not in ``ignore``) and recall (of the planted)."""
    judged = reported - (ignore - planted)
    found = len(reported & planted)
    return {"planted": len(planted), "reported": len(reported), "found": found,
            "precision": found / len(judged) if judged else None,
            "recall": found / len(planted) if planted else None}


def run_quality(ctx: Context) -> None:
    for orgs in ctx.params.get("sizes", [1500]):
        _one_size(ctx, int(orgs))


def _one_size(ctx: Context, orgs: int) -> None:
    from maillage.names import find_duplicate_records

    eco = ecosystem(orgs)
    truth = eco.ground_truth
    size = f"{orgs:,} orgs (seed 0)"
    planted_records = {_pair(d["id"], d["duplicate_of"]) for d in truth["duplicate_records"]}
    planted_overlaps = {_pair(*p["pair"]) for p in truth["overlapping_pairs"]}
    planted_structures = {_pair(a, b) for g in truth["duplicate_structures"] for a, b in itertools.combinations(g["group"], 2)}

    t = time.perf_counter()
    dup = find_duplicate_records(eco.organizations[["id", "name"]])
    seconds = time.perf_counter() - t
    reported = {_pair(a, b) for a, b in zip(dup["id_a"], dup["id_b"])}
    ctx.quality.append({"what": "duplicate records (maillage.names.find_duplicate_records, threshold 90)", "size": size,
                        **precision_recall(reported, planted_records),
                        "note": f"{fmt_seconds(seconds)}; the finder `maillage load` runs at import"})

    G = demo_graph(orgs)
    from analysis import suggest_partnerships

    t = time.perf_counter()
    sug = suggest_partnerships(G, per_node=10)
    seconds = time.perf_counter() - t
    top = {_pair(a, b) for a, b in zip(sug["source"], sug["target"])}
    removed = {_pair(*p["pair"]) for p in truth["removed_partnerships"]}
    found = len(removed & top)
    ctx.quality.append({"what": "removed partnerships in either end's top 10 (suggest_partnerships per_node=10)",
                        "size": size, "planted": len(removed), "found": found, "reported": len(sug),
                        "precision": None, "recall": found / len(removed) if removed else None,
                        "note": f"{fmt_seconds(seconds)}; precision is not meaningful (every organization gets 10)"})

    try:
        from analysis import find_duplicate_structures, find_overlaps
    except ImportError as err:
        ctx.quality.append({"what": "overlaps and duplicated structures", "size": size,
                            "note": f"not measured: {err}"})
        return
    t = time.perf_counter()
    ov = find_overlaps(G)
    seconds = time.perf_counter() - t
    a_col, b_col = ("a", "b") if "a" in ov.columns else ("source", "target")
    reported = {_pair(a, b) for a, b in zip(ov[a_col], ov[b_col])}
    ctx.quality.append({"what": "overlapping pairs (find_overlaps, defaults)", "size": size,
                        **precision_recall(reported, planted_overlaps, ignore=planted_records | planted_structures),
                        "note": f"{fmt_seconds(seconds)}; reported pairs that are planted duplicate records or "
                                "structures are left out of precision"})
    t = time.perf_counter()
    ds = find_duplicate_structures(G)
    seconds = time.perf_counter() - t
    reported = {_pair(a, b) for members in ds["members"] for a, b in itertools.combinations(members, 2)}
    ctx.quality.append({"what": "duplicated structures, pairwise (find_duplicate_structures, defaults)", "size": size,
                        **precision_recall(reported, planted_structures, ignore=planted_records | planted_overlaps),
                        "note": f"{fmt_seconds(seconds)}; {len(ds)} groups reported, "
                                f"{len(truth['duplicate_structures'])} planted"})
