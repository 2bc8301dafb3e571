"""Upsert throughput into Neo4j: organizations and relationships per second.

Usage: python -m bench.upsert --orgs 100000 --rels 500000 [--uri bolt://127.0.0.1:7689]

Writes synthetic records (deterministic, seeded) through ``Neo4jStore.upsert`` as one import,
then again unchanged (the idempotent path), and prints rows per second for each. The graph on
the target server is wiped first: point it at a benchmark server, never at real data.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from maillage.model import STAKEHOLDER_TYPES, OrganizationRecord, RelationshipRecord

__all__ = ["make_records", "main"]

_CLUSTERS = ["Aérospatiale", "Sciences de la vie", "Technologies de l'information", "Logistique", "Mode", "Finance"]


def make_records(n_orgs: int, n_rels: int, seed: int = 0):
    """Return ``(organizations, relationships)``: random but valid records."""
    rng = np.random.default_rng(seed)
    types = rng.choice(len(STAKEHOLDER_TYPES), size=n_orgs, p=[0.7, 0.06, 0.02, 0.05, 0.07, 0.10])
    clusters = rng.integers(0, len(_CLUSTERS), size=n_orgs)
    orgs = [
        OrganizationRecord(
            id=f"o{i}", name=f"Organisation {i} de Montréal", type=STAKEHOLDER_TYPES[types[i]],
            sectors=("secteur-%d" % (i % 40),), clusters=(_CLUSTERS[clusters[i]],), region="Montréal",
            mandate="Mandat d'œuvre collective", source_file="orgs.csv", row=i + 2,
        )
        for i in range(n_orgs)
    ]
    # Unique (source, target) pairs, no self-loops.
    src = rng.integers(0, n_orgs, size=int(n_rels * 1.2))
    dst = rng.integers(0, n_orgs, size=int(n_rels * 1.2))
    keep = src != dst
    pairs = np.unique(np.stack([src[keep], dst[keep]], axis=1), axis=0)[:n_rels]
    kinds = ("PARTNERS_WITH", "MEMBER_OF", "FUNDS", "PARTICIPATES_IN")
    rels = [
        RelationshipRecord(source=f"o{a}", target=f"o{b}", type=kinds[(a + b) % 4], weight=float((a * 7 + b) % 5 + 1),
                           source_file="rels.csv", row=k + 2)
        for k, (a, b) in enumerate(pairs.tolist())
    ]
    return orgs, rels


def main(argv: list[str] | None = None) -> dict:
    from graph.neo4j_store import Neo4jStore

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orgs", type=int, default=100_000)
    p.add_argument("--rels", type=int, default=500_000)
    p.add_argument("--uri", default=os.environ.get("MAILLAGE_BENCH_NEO4J_URI", "bolt://127.0.0.1:7689"))
    p.add_argument("--password", default=os.environ.get("MAILLAGE_BENCH_NEO4J_PASSWORD"))
    p.add_argument("--batch-size", type=int, default=10_000)
    args = p.parse_args(argv)
    orgs, rels = make_records(args.orgs, args.rels)
    store = Neo4jStore(args.uri, user="neo4j", password=args.password, batch_size=args.batch_size)
    store.clear()
    out = {"orgs": len(orgs), "rels": len(rels)}
    for label in ("first", "again"):
        t = time.perf_counter()
        summary = store.upsert(organizations=orgs, relationships=rels, source="bench")
        dt = time.perf_counter() - t
        out[label] = {
            "seconds": round(dt, 2),
            "rows_per_second": round((len(orgs) + len(rels)) / dt),
            "created": summary.organizations_created + summary.relationships_created,
            "unchanged": summary.organizations_unchanged + summary.relationships_unchanged,
        }
    store.close()
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
