"""The figures the reliability and security tests gather for the closing note.

Each test records what it tried (hostile files, fuzzing examples, schemathesis cases, soak
requests, faults injected ...) with :func:`record`; the figures accumulate over one pytest
session in ``test-artifacts/security-figures.json``, which the closing note quotes.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from maillage.settings import REPO_ROOT

__all__ = ["FIGURES", "record", "read"]

#: Where the figures of the latest run are written.
FIGURES = REPO_ROOT / "test-artifacts" / "security-figures.json"
_lock = threading.Lock()
_session = f"{os.getpid()}"


def read(path: Path = FIGURES) -> dict:
    """Return the figures recorded so far (an empty dict when none)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record(key: str, value: int | float | str, *, add: bool = True, path: Path = FIGURES) -> None:
    """Record a figure: added to what this pytest process already recorded under ``key``
    (``add=False`` replaces it). A new pytest process starts the counts afresh."""
    with _lock:
        data = read(path)
        if data.get("_session") != _session:
            data = {"_session": _session}
        if add and isinstance(value, (int, float)) and isinstance(data.get(key), (int, float)):
            data[key] = data[key] + value
        else:
            data[key] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
