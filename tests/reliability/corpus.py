"""A corpus of hostile files for every loader, and a runner that tries each in a child process.

:func:`write_corpus` writes the files (CSV, TSV, XLSX, JSON, JSON Lines): empty, random bytes,
UTF-8 cut inside a character, mixed delimiters, 100,000 columns, 1 GiB (sparse), just over a
configured size limit, formula cells, NUL bytes, ids that collide once normalised, cycles and
self-loops, relationships to nowhere, deep nesting, one endless line, a bad row on every row.

Run as ``python -m tests.reliability.corpus FOLDER``: each case goes through
:func:`loaders.prepare_import` under an alarm (a hang ends the case as ``"hang"``), and the
process's resident memory is read from ``/proc/self/status`` before and after; one JSON line
per case is printed. Running in a child keeps a hang or a memory blow-up from taking pytest down.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path

__all__ = ["write_corpus", "rss_kib", "run_case", "CASES_LIMITED"]

ORGS = "id,name,type\nA,Acme,company\nB,Beta,company\n"
#: Cases read with a small configured limit (bytes) rather than the default ones.
CASES_LIMITED = {"over-limit.csv": 64 * 1024, "at-limit.csv": 64 * 1024}


def rss_kib() -> tuple[int, int]:
    """Return the process's ``(VmRSS, VmHWM)`` in KiB, read from ``/proc/self/status``."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def _xlsx(rows) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sized_csv(size: int) -> bytes:
    """A valid organizations CSV of exactly ``size`` bytes."""
    head = b"id,name,type\n"
    rows, i = [head], 0
    total = len(head)
    while True:
        row = f"org-{i},Organisation {i},company\n".encode()
        if total + len(row) > size:
            break
        rows.append(row)
        total += len(row)
        i += 1
    pad = size - total
    if pad:
        # Lengthen the last name so the file is exactly `size` bytes.
        last = rows.pop()
        rows.append(last.replace(b",company", b"x" * pad + b",company"))
    data = b"".join(rows)
    assert len(data) == size
    return data


def write_corpus(folder: Path) -> list[Path]:
    """Write the hostile corpus into ``folder`` (one sub-folder per case); return the cases.

    A case is a file, or a folder of files imported together (organizations and relationships).
    """
    folder = Path(folder)
    rnd = random.Random(7)
    cases: list[Path] = []

    def put(name: str, data: bytes | str, *, case: str | None = None) -> Path:
        where = folder / (case or name.replace(".", "-"))
        where.mkdir(parents=True, exist_ok=True)
        path = where / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        if case is None:
            cases.append(path)
        elif where not in cases:
            cases.append(where)
        return path

    formats = ["csv", "tsv", "xlsx", "json", "jsonl"]
    for ext in formats:
        put(f"empty.{ext}", b"")
        put(f"binary.{ext}", rnd.randbytes(8192))
        put(f"zeros.{ext}", b"\x00" * 4096)
        sparse = folder / f"sparse-{ext}"
        sparse.mkdir(parents=True, exist_ok=True)
        with open(sparse / f"one-gigabyte.{ext}", "wb") as f:
            f.truncate(2**30)  # sparse: stat says 1 GiB, the disk holds nothing
        cases.append(sparse / f"one-gigabyte.{ext}")

    # UTF-8 cut inside "é", for each text format.
    for name, text in [("cut.csv", "id,name,type\nA,Acme,company\nB,Béta,company\n"),
                       ("cut.tsv", "id\tname\ttype\nA\tBéta\tcompany\n"),
                       ("cut.json", '[{"id": "A", "name": "Béta", "type": "company"}]'),
                       ("cut.jsonl", '{"id": "A", "name": "Béta", "type": "company"}\n')]:
        data = text.encode()
        put(name, data[: data.rindex("é".encode()) + 1])
    put("latin1.csv", "id,name,type\nA,Montréal Aéro,company\n".encode("latin-1"))
    put("utf16.csv", "\ufeffid,name,type\nA,Montréal Aéro,company\n".encode("utf-16"))

    put("mixed-delimiters.csv", "id;name,type\nA,Acme;company\nB;Beta,company\nC\tGamma\tcompany\n")
    put("mixed-line-endings.csv", "id,name,type\r\nA,Acme,company\rB,Beta,company\nC,Gamma,company\r\n")

    wide = ",".join(f"c{i}" for i in range(100_000))
    put("wide.csv", f"{wide}\n" + ",".join("x" for _ in range(100_000)) + "\n")
    put("wide.tsv", wide.replace(",", "\t") + "\n")
    put("wide.jsonl", "{" + ",".join(f'"k{i}": {i}' for i in range(100_000)) + "}\n")
    put("wide.json", "[{" + ",".join(f'"k{i}": {i}' for i in range(100_000)) + "}]")
    put("wide.xlsx", _xlsx([["id", "name", "type"] + [f"c{i}" for i in range(2000)], ["A", "Acme", "company"] + ["x"] * 2000]))

    put("over-limit.csv", _sized_csv(64 * 1024 + 1))
    put("at-limit.csv", _sized_csv(64 * 1024))
    put("endless-line.csv", b"id,name,type\n" + b"A" * (12 * 2**20))
    put("every-row-bad.csv", "id,name,type\n" + "".join(f"x{i},,fondation\n" for i in range(200_000)))

    formulas = ['=HYPERLINK("http://evil.example","clic")', "+1+1", "-2", "@SUM(A1)", "=cmd|' /C calc'!A0",
                "\t=1+1", "\r=1+1"]
    put("formulas.csv", "id,name,type,mandate\n" + "".join(
        f'F{i},"{f.replace(chr(34), chr(34) * 2)}",company,"{f.replace(chr(34), chr(34) * 2)}"\n' for i, f in enumerate(formulas)))
    put("formulas.xlsx", _xlsx([["id", "name", "type", "mandate"]] + [[f"F{i}", f, "company", f] for i, f in enumerate(formulas)]))
    put("formulas.json", json.dumps([{"id": f"F{i}", "name": f, "type": "company", "mandate": f} for i, f in enumerate(formulas)]))

    put("nul.csv", b"id,name,type\nA,Ac\x00me,company\nB\x00,Beta,company\n")
    put("nul.json", b'[{"id": "A", "name": "Ac\\u0000me", "type": "company"}]')
    put("nul.jsonl", b'{"id": "A\\u0000", "name": "Acme", "type": "company"}\n')
    put("nul-raw.json", b'[{"id": "A", "name": "Ac\x00me", "type": "company"}]')

    decomposed = "Cafe\u0301-1"
    put("colliding-ids.csv", f"id,name,type\nCafé-1,Acme,company\n{decomposed},Beta,company\nx 1,C,company\nX1,D,company\n")
    put("colliding-ids.json", json.dumps([{"id": "Café-1", "name": "A", "type": "company"},
                                          {"id": decomposed, "name": "B", "type": "company"},
                                          {"id": "ＡＢＣ", "name": "C", "type": "company"},
                                          {"id": "ABC", "name": "D", "type": "company"}], ensure_ascii=False))

    put("orgs.csv", ORGS + "C,Gamma,association\n", case="cycles")
    put("rels.csv", "source,target,relationship\nA,B,member of\nB,C,member of\nC,A,member of\nA,B,partner\nB,A,partner\n", case="cycles")
    put("orgs.csv", ORGS, case="self-loops")
    put("rels.csv", "source,target,relationship\nA,A,partner\nB,B,member of\n", case="self-loops")
    put("orgs.csv", ORGS, case="to-nowhere")
    put("rels.csv", "source,target,relationship\nA,NOWHERE,partner\nGHOST,B,funds\n,,partner\n", case="to-nowhere")
    put("graph.json", json.dumps({"organizations": [{"id": "A", "name": "A", "type": "company"}],
                                  "relationships": [{"source": "A", "target": "A", "relationship": "partner"},
                                                    {"source": "A", "target": "Z", "relationship": "partner"}]}),
        case="json-self-loop-and-nowhere")

    put("nested.json", "[" * 100_000 + "]" * 100_000)
    put("nested-object.json", '{"a":' * 50_000 + "1" + "}" * 50_000)
    put("not-a-list.json", '"just a string"')
    put("huge-number.json", '[{"id": "A", "name": "A", "type": "company", "weight": 1e999999}]')
    put("zip-not-xlsx.xlsx", b"PK\x03\x04" + rnd.randbytes(2000))
    put("pdf-named.csv", b"%PDF-1.7\n" + rnd.randbytes(1000))
    return cases


def run_case(path: Path) -> dict:
    """Try one case; return its outcome, time and memory growth."""
    import loaders
    from maillage.errors import ValidationFailed

    limit = CASES_LIMITED.get(path.name)
    options = {"limits": loaders.Limits(max_file_bytes=limit)} if limit else {}
    rss0, hwm0 = rss_kib()
    started = time.perf_counter()
    out: dict = {"case": str(path.relative_to(path.parents[1]))}

    def alarm(signum, frame):
        raise TimeoutError

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(60)
    try:
        plan = loaders.prepare_import(path, **options)
        out.update(outcome="loaded", organizations=len(plan.organizations), relationships=len(plan.relationships))
    except ValidationFailed as err:
        names = {p.name for p in (path.iterdir() if path.is_dir() else [path])}
        out.update(outcome="refused", problems=len(err.problems),
                   located=all(p.file.split(":", 1)[0] in names and p.message for p in err.problems),
                   first=str(err.problems[0])[:300] if err.problems else None)
    except TimeoutError:
        out.update(outcome="hang")
    except BaseException:  # noqa: BLE001 - the very thing this runner looks for
        out.update(outcome="crash", traceback=traceback.format_exc()[-3000:])
    finally:
        signal.alarm(0)
    rss1, hwm1 = rss_kib()
    out.update(seconds=round(time.perf_counter() - started, 3), rss_growth_kib=rss1 - rss0, peak_growth_kib=hwm1 - hwm0)
    return out


def _main(folder: str) -> None:
    import loaders  # noqa: F401 - imported before the first measure, so that it is not counted

    root = Path(folder)
    cases = sorted((p for p in root.glob("*/*") if p.parent.name.startswith("sparse-")), key=str)
    cases += sorted((p.parent if len(list(p.parent.iterdir())) > 1 else p
                     for p in root.glob("*/*") if not p.parent.name.startswith("sparse-")), key=str)
    seen = set()
    for case in cases:
        if case in seen:
            continue
        seen.add(case)
        print(json.dumps(run_case(case)), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "error")
    _main(sys.argv[1])
