"""Uploaded files, kept in a private temporary folder between validation and confirmation.

Each upload gets a folder whose name the server draws at random; a file keeps only a cleaned
copy of its base name (letters, digits, ``.``, ``-``, ``_``; one of the loaders' suffixes),
because the loaders report problems and record provenance by file name. A name that tries to
leave its folder (``..``, a slash, a drive, a NUL) is refused outright. Uploads expire after
an hour and the whole folder goes when the application stops.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from maillage.errors import InputError

__all__ = ["ALLOWED_SUFFIXES", "MAX_FILES", "Upload", "UploadArea", "safe_upload_name"]

ALLOWED_SUFFIXES = (".csv", ".xlsx", ".json", ".jsonl")
MAX_FILES = 10
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_CHUNK = 1024 * 1024


def safe_upload_name(name: str | None) -> str:
    """Return the cleaned base name under which an uploaded file is kept.

    Raises
    ------
    maillage.errors.InputError
        The name is empty, reaches outside its folder, or has a suffix the loaders do not read.

    Examples
    --------
    >>> safe_upload_name("Membres 2024 (Montréal).csv")
    'Membres_2024_Montreal.csv'
    >>> safe_upload_name("../../etc/passwd.csv")
    Traceback (most recent call last):
    ...
    maillage.errors.InputError: The file name '../../etc/passwd.csv' is refused: a file name must not hold a path (/, \\, ..).
    """
    if not name or not name.strip():
        raise InputError("A file without a name was sent; choose a CSV, XLSX or JSON file.")
    if "\x00" in name or "/" in name or "\\" in name or ".." in name or re.match(r"^[A-Za-z]:", name):
        raise InputError(f"The file name {name[:80]!r} is refused: a file name must not hold a path (/, \\, ..).")
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", folded).strip("._") or "upload"
    suffix = Path(clean).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise InputError(f"{name[:80]!r}: only {', '.join(ALLOWED_SUFFIXES)} files can be imported.")
    stem = Path(clean).stem.strip("._-")[:80] or "upload"
    return stem + suffix


@dataclass
class Upload:
    """Files of one upload, waiting for confirmation."""

    token: str
    folder: Path
    paths: list[Path]
    created: float = field(default_factory=time.monotonic)
    #: What validation found (the loaders' plan), kept for the confirmation step.
    plan: Any = None
    #: Whether validation merged probable duplicate records (confirmation does the same).
    merge_duplicates: bool = False


class UploadArea:
    """The private folder of uploads and the uploads waiting in it.

    Parameters
    ----------
    root : path, optional
        Where to keep uploads; default a fresh ``tempfile.mkdtemp`` folder (mode 700).
    ttl : float
        Seconds an unconfirmed upload is kept.
    """

    def __init__(self, root: Path | None = None, *, ttl: float = 3600.0):
        self.root = Path(tempfile.mkdtemp(prefix="maillage-uploads-")) if root is None else Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl
        self._uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def save(self, files: Iterable[tuple[str | None, BinaryIO]]) -> Upload:
        """Copy uploaded files into a new folder; return the upload.

        ``files`` are ``(name, readable)`` pairs. Every name is checked before anything is
        written, so that a refused name leaves nothing behind.
        """
        files = list(files)
        if not files:
            raise InputError("No file was sent; choose one or more CSV, XLSX or JSON files.")
        if len(files) > MAX_FILES:
            raise InputError(f"{len(files)} files were sent; import at most {MAX_FILES} at once.")
        names: list[str] = []
        for name, _ in files:
            clean = safe_upload_name(name)
            # Two files cleaned to one name would overwrite each other: number the later ones.
            base, n = clean, 2
            while clean.lower() in (x.lower() for x in names):
                clean = f"{Path(base).stem}-{n}{Path(base).suffix}"
                n += 1
            names.append(clean)
        self.expire()
        token = secrets.token_urlsafe(24)
        folder = self.root / token
        folder.mkdir(mode=0o700)
        paths = []
        try:
            for clean, (_, stream) in zip(names, files):
                path = folder / clean
                with path.open("xb") as out:
                    shutil.copyfileobj(stream, out, _CHUNK)
                paths.append(path)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        upload = Upload(token=token, folder=folder, paths=paths)
        with self._lock:
            self._uploads[token] = upload
        return upload

    def get(self, token: str) -> Upload | None:
        """Return the waiting upload of ``token``, or ``None`` (unknown, expired, or malformed)."""
        if not isinstance(token, str) or not _TOKEN.match(token):
            return None
        self.expire()
        with self._lock:
            return self._uploads.get(token)

    def take(self, token: str) -> Upload | None:
        """Remove and return the upload of ``token``: only one request can confirm it."""
        if not isinstance(token, str) or not _TOKEN.match(token):
            return None
        self.expire()
        with self._lock:
            return self._uploads.pop(token, None)

    def restore(self, upload: Upload) -> None:
        """Put back an upload taken for a confirmation that failed."""
        with self._lock:
            self._uploads[upload.token] = upload

    def discard_taken(self, upload: Upload) -> None:
        """Delete the files of an upload already taken."""
        shutil.rmtree(upload.folder, ignore_errors=True)

    def discard(self, token: str) -> None:
        """Forget an upload and delete its files."""
        with self._lock:
            upload = self._uploads.pop(token, None)
        if upload is not None:
            shutil.rmtree(upload.folder, ignore_errors=True)

    def expire(self) -> None:
        """Delete uploads older than the time to live."""
        now = time.monotonic()
        with self._lock:
            old = [t for t, u in self._uploads.items() if now - u.created > self.ttl]
        for token in old:
            self.discard(token)

    def close(self) -> None:
        """Delete every upload and the folder."""
        with self._lock:
            self._uploads.clear()
        shutil.rmtree(self.root, ignore_errors=True)
