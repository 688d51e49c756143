"""A small per-user cache of facts that are expensive to learn and cheap to check.

It lives in ``$XDG_CACHE_HOME/conda-source`` (``~/.cache/conda-source``), never in
the prefix: a read-only environment, or a ``--dry-run``, is never written to.
Every entry is keyed by what would change it (file paths with their size and
mtime), so a stale entry is never used: it is just not found.  A cache that
cannot be read or written (no home, a read-only disk, a corrupt file) is no
cache at all, never an error.  ``CONDA_SOURCE_NO_CACHE=1`` turns it off.

It does not grow for ever: an entry neither written nor read for ``STALE_AFTER`` (the probe of a python
since replaced, the records of a deleted environment) is removed when an entry is written, at most once
a day.  A removed entry is only work to do again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

VERSION = "1"  # bump when the layout of an entry changes
STALE_AFTER = 30 * 86400  # seconds without a write or a read
_PRUNE_EVERY = 86400  # the removal of stale entries runs at most this often (the file PRUNED says when it last did)


def directory() -> Path | None:
    """The cache directory, or None when caching is off or there is no place for it."""
    if os.environ.get("CONDA_SOURCE_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not Path(base).is_absolute():  # unset, empty or relative: the XDG spec says to use the default
        base = str(Path(os.environ["HOME"], ".cache")) if os.environ.get("HOME") else ""
    return Path(base, "conda-source") if base and Path(base).is_absolute() else None


def key(*parts: object) -> str:
    """A file name for the entry described by ``parts`` (anything JSON can write)."""
    return hashlib.sha256(json.dumps([VERSION, *parts], default=str).encode()).hexdigest()[:40]


def stat_of(path: Path) -> tuple[str, int, int] | None:
    """Path, size and mtime of a file (following links), or None when it is missing."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path), stat.st_size, stat.st_mtime_ns


def load(kind: str, name: str) -> Any:
    """The entry ``kind/name``, or None."""
    root = directory()
    if root is None:
        return None
    path = root / kind / f"{name}.json"
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    with contextlib.suppress(OSError):  # a cache it may read but not write (another user's, read-only) still serves
        if time.time() - path.stat().st_mtime > _PRUNE_EVERY:
            os.utime(path)  # read: not stale (a day's precision is enough)
    return value


def store(kind: str, name: str, value: object) -> None:
    """Write ``kind/name`` atomically; failing to write is not an error."""
    root = directory()
    if root is None:
        return
    path = root / kind / f"{name}.json"
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with contextlib.suppress(OSError, TypeError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(value), encoding="utf-8")
        partial.replace(path)
    with contextlib.suppress(OSError):
        partial.unlink(missing_ok=True)
    prune(root)


def prune(root: Path) -> None:
    """Remove the entries not written or read for ``STALE_AFTER``, unless that was done within a day."""
    now = time.time()
    marker = root / "PRUNED"
    with contextlib.suppress(OSError):
        if 0 <= now - marker.stat().st_mtime < _PRUNE_EVERY:  # a marker from the future (clock skew) is no guide
            return
    with contextlib.suppress(OSError):
        marker.touch()
        for entry in root.glob("*/*.json"):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > STALE_AFTER:
                    entry.unlink()


def stats(paths: Iterable[Path]) -> list[tuple[str, int, int] | None]:
    return [stat_of(p) for p in paths]
