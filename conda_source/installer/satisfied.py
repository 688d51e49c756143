"""Is every spec already satisfied by an installed record?  Answered without a solve, and cheaply.

py-rattler's ``MatchSpec.matches`` on the prefix's ``PrefixRecord``s decides it.
Which record satisfied which spec is remembered (``conda_source.cache``, per
prefix) with that record file's size and mtime: while the file is unchanged the
spec is still satisfied, so a re-run neither imports py-rattler nor reads every
record.  A removed or rewritten record, or a new spec, checks again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conda_source import cache


def remembered(prefix: Path, specs: Sequence[str]) -> bool:
    """True when every spec was satisfied before by a record file that is still unchanged."""
    known = cache.load("satisfied", _name(prefix))
    if not isinstance(known, dict):
        return False
    meta = prefix / "conda-meta"
    for spec in specs:
        entry = known.get(spec)
        if not isinstance(entry, list) or len(entry) != 3:
            return False
        if cache.stat_of(meta / str(entry[0])) != (str(meta / str(entry[0])), entry[1], entry[2]):
            return False
    return True


def matching(prefix: Path, specs: Sequence[str], records: Sequence[tuple[Path, Any]]) -> dict[str, Path] | None:
    """The record file satisfying each spec (``records``: file and PrefixRecord), or None when one is missing.

    What was found is remembered for ``remembered``.
    """
    from rattler import MatchSpec

    found: dict[str, Path] = {}
    for spec in specs:
        match = MatchSpec(spec)
        hit = next((path for path, record in records if match.matches(record)), None)
        if hit is None:
            return None
        found[spec] = hit
    remember(prefix, found)
    return found


def remember(prefix: Path, found: dict[str, Path]) -> None:
    known = cache.load("satisfied", _name(prefix))
    entries: dict[str, object] = known if isinstance(known, dict) else {}
    for spec, path in found.items():
        stat = cache.stat_of(path)
        if stat is not None:
            entries[spec] = [path.name, stat[1], stat[2]]
    cache.store("satisfied", _name(prefix), entries)


def _name(prefix: Path) -> str:
    return cache.key("satisfied", str(prefix.absolute()))


def check(prefix: Path, specs: Sequence[str]) -> bool:
    """True when every spec is satisfied by an installed record (remembered, or checked with py-rattler)."""
    if not specs or remembered(prefix, specs):
        return True
    from conda_source.meta import record_reading

    files = sorted((prefix / "conda-meta").glob("*.json"))
    records = list(zip(files, record_reading.prefix_records(files), strict=True))
    return matching(prefix, specs, records) is not None
