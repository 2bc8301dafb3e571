"""Hostile files, in a child process with a time limit and resident memory measured.

``tests/loaders/test_hostile.py`` checks the message of each kind of hostile file; this module
runs the whole corpus of :mod:`tests.reliability.corpus` (every loader's format) the way a
server would meet it: nothing may crash, hang or make the process's resident memory (read from
``/proc/self/status``, not from Python's allocator) grow out of bounds. It also runs a few of
them through the ``maillage load`` command, which must print a clear message, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from maillage.settings import REPO_ROOT, Settings
from tests.reliability.corpus import write_corpus
from tests.reliability.figures import record

# What a case may legitimately end in: a clean load or a refusal (ValidationFailed).
LOADS = {"at-limit.csv", "cycles", "formulas.csv", "formulas.json", "formulas.xlsx", "latin1.csv", "utf16.csv",
         "mixed-line-endings.csv", "nul.csv", "nul.json", "nul.jsonl"}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    cases = write_corpus(folder)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-m", "tests.reliability.corpus", str(folder)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(cases), (len(results), len(cases), done.stderr[-2000:])
    record("hostile_files_tried", len(results))
    return {r["case"].rsplit("/", 1)[-1]: r for r in results}


def test_no_hostile_file_crashes_or_hangs(outcomes):
    bad = {name: r for name, r in outcomes.items() if r["outcome"] not in ("loaded", "refused")}
    assert bad == {}


def test_each_hostile_file_is_refused_with_located_problems_or_loads_cleanly(outcomes):
    for name, r in outcomes.items():
        expected = "loaded" if name in LOADS else "refused"
        assert r["outcome"] == expected, (name, r)
        if expected == "refused":
            assert r["located"] and r["problems"] >= 1, (name, r)


@pytest.mark.parametrize("ext", ["csv", "tsv", "xlsx", "json", "jsonl"])
def test_a_one_gigabyte_file_is_refused_at_once_without_resident_memory_growth(outcomes, ext):
    r = outcomes[f"one-gigabyte.{ext}"]
    assert r["outcome"] == "refused" and "larger than the limit" in r["first"]
    assert r["seconds"] < 1
    assert r["peak_growth_kib"] < 16 * 1024  # a 1 GiB read would raise the high-water mark by ~1 GiB


def test_a_file_one_byte_over_the_configured_limit_is_refused_and_one_at_it_loads(outcomes):
    assert outcomes["over-limit.csv"]["outcome"] == "refused"
    assert "65,536 bytes" in outcomes["over-limit.csv"]["first"]
    assert outcomes["over-limit.csv"]["peak_growth_kib"] < 4 * 1024
    assert outcomes["at-limit.csv"]["outcome"] == "loaded"


def test_the_size_limit_message_names_a_setting_that_exists(outcomes):
    # The message tells the user which variable raises the limit; it must be a real setting.
    message = outcomes["over-limit.csv"]["first"]
    named = [word.strip("().,;") for word in message.split() if word.strip("().,;").startswith("MAILLAGE_")]
    aliases = {f.alias for f in Settings.model_fields.values()}
    assert set(named) <= aliases, (named, message)


def test_resident_memory_stays_bounded_on_every_hostile_file(outcomes):
    # The largest real file of the corpus is 12 MiB (one endless line) and 200,000 bad rows;
    # none may grow the process by more than a few times its size.
    worst = max(outcomes.values(), key=lambda r: r["peak_growth_kib"])
    assert worst["peak_growth_kib"] < 200 * 1024, worst
    assert all(r["seconds"] < 30 for r in outcomes.values()), [r for r in outcomes.values() if r["seconds"] >= 30]


def test_a_file_wrong_on_every_row_stops_collecting_problems(outcomes):
    r = outcomes["every-row-bad.csv"]
    assert r["outcome"] == "refused" and r["problems"] <= 10_001


# ---- the same through the command line ----------------------------------------------------------
def _maillage(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "MAILLAGE_"))}
    env.update(MAILLAGE_STORE="memory", MAILLAGE_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "maillage"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name, content", [
    ("binary.csv", bytes(range(256)) * 16),
    ("markup.csv", "id,name,type\nA,Acme,[/oops]\n"),
])
def test_cli_refuses_hostile_files_with_a_message_not_a_traceback(tmp_path, name, content):
    (tmp_path / name).write_bytes(content.encode() if isinstance(content, str) else content)
    done = _maillage(tmp_path, "load", "--dry-run", name)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert name in done.stderr
    record("hostile_files_tried", 1)


def test_cli_prints_hostile_names_as_they_are(tmp_path):
    # Rich reads "[...]" as markup: a name such as "[/x]" must be printed, not interpreted. Two
    # near-identical names make `load` print its table of probable duplicates, names included.
    name = "[bold]Acme[/bold] [/x] Aéro inc."
    (tmp_path / "o.csv").write_text(f"id,name,type\nA,{name},company\nB,{name[:-1]},company\n", encoding="utf-8")
    done = _maillage(tmp_path, "load", "--dry-run", "o.csv")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "[bold]Acme[/bold]" in done.stdout
    record("hostile_files_tried", 1)


# ---- fuzzing the workbook reader (tests/loaders/test_fuzz.py fuzzes CSV and JSON) -----------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from loaders import InputFile  # noqa: E402
from tests.loaders.test_fuzz import check  # noqa: E402 - imported here, not under @given

XLSX_EXAMPLES = int(os.environ.get("MAILLAGE_FUZZ_EXAMPLES", "8")) * 8
_cell = st.one_of(
    st.none(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.dates(), st.datetimes(),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
    st.sampled_from(["=1+1", "+A1", "-2", "@SUM(A1)", "PME", "cégep", "membre de", "Aérospatiale|TI", " ", "\u00a0",
                     "e\u0301", "A", "B", "<script>", "{{ 7*7 }}"]),
)


def _workbook(rows) -> bytes:
    import io

    import openpyxl
    from openpyxl.utils.exceptions import IllegalCharacterError

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        try:
            ws.append(row)
        except IllegalCharacterError:
            ws.append([c if not isinstance(c, str) else "x" for c in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@settings(max_examples=XLSX_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(header=st.sampled_from([["id", "name", "type"], ["Identifiant", "Nom", "Type d'organisation", "Grappes"],
                               ["source", "target", "relationship", "weight"], ["a", "b"], []]),
       rows=st.lists(st.lists(_cell, max_size=5), max_size=12))
def test_random_workbooks_end_in_a_clean_plan_or_a_refusal(header, rows):
    check(InputFile("fuzz.xlsx", _workbook([header] + rows)))
    record("fuzzing_examples", 1)


# Made once: openpyxl stamps the time into each workbook, and hypothesis needs the same bytes.
_BASE_WORKBOOK = _workbook([["id", "name", "type"], ["A", "Acme", "company"], ["B", "Beta", "PME"]])


def test_a_workbook_asking_for_an_unknown_zip_version_is_refused_cleanly():
    # Found by the fuzzing below: zipfile raises NotImplementedError ("zip file version 6.4")
    # when a central directory entry's "version needed to extract" is too high.
    damaged = bytearray(_BASE_WORKBOOK)
    entry = damaged.index(b"PK\x01\x02")
    damaged[entry + 6:entry + 8] = (64).to_bytes(2, "little")
    check(InputFile("damaged.xlsx", bytes(damaged)))


@settings(max_examples=XLSX_EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_workbooks_are_refused_cleanly(data):
    original = bytearray(_BASE_WORKBOOK)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    check(InputFile("damaged.xlsx", bytes(original)))
    record("fuzzing_examples", 1)
