"""Property: whatever bytes a file holds, an import ends in a clean plan or ValidationFailed.

Hypothesis feeds random bytes and mutations of valid files (bytes inserted, deleted or
replaced with the characters that break parsers: quotes, delimiters, line breaks, NUL,
invalid UTF-8, formula signs; files cut short). A clean plan must also be *valid*: every
record complete and canonical, every relationship end resolved, no invisible character left.
"""

from __future__ import annotations

import json
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loaders
from loaders import InputFile
from maillage.errors import Problem, ValidationFailed
from maillage.model import RELATIONSHIP_TYPES, STAKEHOLDER_TYPES, cluster_id

from .factory import ORGS_EN, ORGS_FR, RELS_EN, RELS_FR

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NASTY = [b'"', b",", b";", b"\t", b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xe9", b"\xc3",
         b"\xe2\x82", b"|", b"=", b" ", b"\xef\xbb\xbf", b"'", b"\\", b"{", b"}", b"[", b"]"]
# Pieces that leave a file valid more often than not, so that clean loads are fuzzed too.
BENIGN = [b" ", b"x", b"\xc3\xa9", b"e\xcc\x81", b"  ", b"0", b"\xc2\xa0", b"\x07"]


def _clean_text(value: str) -> bool:
    return (unicodedata.is_normalized("NFC", value)
            and not any(unicodedata.category(c) == "Cs" for c in value)
            and not any(ord(c) < 32 and c not in "\t\n\r" for c in value))


def check(files) -> None:
    """Run an import that must end in a valid plan or in ValidationFailed."""
    try:
        plan = loaders.prepare_import(files)
    except ValidationFailed as err:
        assert err.problems
        assert all(isinstance(p, Problem) and p.message and p.file for p in err.problems)
        assert str(err)
        assert loaders.format_problems(err.problems)
        return
    ids = {o.id for o in plan.organizations}
    clusters = {cluster_id(c) for o in plan.organizations for c in o.clusters}
    for o in plan.organizations:
        assert o.id and o.name and o.type in STAKEHOLDER_TYPES
        assert o.row is not None and o.row >= 1 and o.source_file
        for text in (o.id, o.name, o.region or "", o.mandate or "", *o.sectors, *o.clusters):
            assert _clean_text(text), text
        assert "\n" not in o.id and o.id == o.id.strip()
    assert len(ids) == len(plan.organizations)
    for r in plan.relationships:
        assert r.type in RELATIONSHIP_TYPES
        assert r.source in ids
        if r.target_kind == "Cluster":
            assert r.type == "PART_OF" and r.target in clusters
        else:
            assert r.target in ids and r.target != r.source
        assert r.weight is None or r.weight >= 0
    assert loaders.format_duplicates(plan.duplicates)


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "insert", "delete", "replace", "cut"]))
        piece = draw(st.one_of(st.sampled_from(BENIGN), st.sampled_from(NASTY),
                               st.binary(min_size=1, max_size=3)))
        if op == "insert":
            data[at:at] = piece
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 5))]
        elif op == "replace":
            data[at:at + len(piece)] = piece
        else:
            del data[at:]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_as_csv_never_raise_anything_else(data):
    check(InputFile("f.csv", data))


@FUZZ
@given(st.sampled_from(["id,name,type\n", "source,target,relationship\n", ""]),
       st.lists(st.sampled_from(list('ab,;\t"\n\r =|é\x00')
                                + ["PME", "partner", "a,b", "A,Acme,PME\n", "B,Beta,cégep\n"]),
                max_size=200))
def test_random_csv_like_text_never_raises_anything_else(header, pieces):
    check(InputFile("f.csv", (header + "".join(pieces)).encode()))


@FUZZ
@given(st.data())
def test_mutated_french_and_english_files_never_raise_anything_else(data):
    orgs, rels = data.draw(st.sampled_from([
        (ORGS_FR.encode("cp1252"), RELS_FR.encode("cp1252")),
        (ORGS_EN.encode(), RELS_EN.encode()),
    ]))
    which = data.draw(st.sampled_from(["orgs", "rels", "both"]))
    if which in ("orgs", "both"):
        orgs = data.draw(mutated(orgs))
    if which in ("rels", "both"):
        rels = data.draw(mutated(rels))
    check([InputFile("membres.csv", orgs), InputFile("relations.csv", rels)])


JSON_DOC = json.dumps({
    "organizations": [{"id": "A", "name": "Acmé", "type": "PME", "sectors": ["TI"]},
                      {"id": "B", "name": "Beta", "type": "cégep"}],
    "relationships": [{"source": "A", "target": "B", "relationship": "membre de", "weight": 1}],
}, ensure_ascii=False).encode()


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mutated_json_never_raises_anything_else(data):
    name = data.draw(st.sampled_from(["d.json", "d.jsonl"]))
    original = JSON_DOC if name == "d.json" else b"\n".join(
        json.dumps(o, ensure_ascii=False).encode()
        for o in json.loads(JSON_DOC)["organizations"] + json.loads(JSON_DOC)["relationships"])
    check(InputFile(name, data.draw(mutated(original))))
