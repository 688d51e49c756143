"""conda-meta record files as readers meet them: one that cannot be read (empty after a crash of the
machine, cut short, edited) is a ``DamagedRecordError`` naming it, never a parser's traceback; and every
record's bytes, to put back what py-rattler's install rewrites though it changed nothing."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conda_source.errors import DamagedRecordError
from conda_source.meta.json_file import Unreadable, load_object


def read_json(path: Path) -> dict[str, Any]:
    """A record file's JSON object, with the fields every reader relies on; ``DamagedRecordError`` otherwise (a
    crash of the machine can leave a new file empty)."""
    try:
        return load_object(path, {"name": str, "version": str, "build": str})
    except Unreadable as exc:
        raise DamagedRecordError(path, str(exc)) from exc


def prefix_records(paths: Iterable[Path]) -> list[Any]:
    """py-rattler's ``PrefixRecord`` of each file; ``DamagedRecordError`` for one it cannot read."""
    from rattler import PrefixRecord

    found = []
    for path in paths:
        try:
            found.append(PrefixRecord.from_path(path))
        except Exception as exc:  # py-rattler's IoError: a parse error or a missing field
            raise DamagedRecordError(path, str(exc).strip() or type(exc).__name__) from exc
    return found


def snapshot_records(prefix: Path) -> dict[Path, bytes]:
    """The bytes of every record, to restore what a third-party installer rewrote needlessly."""
    return {path: path.read_bytes() for path in (prefix / "conda-meta").glob("*.json")}


def restore_records(snapshot: dict[Path, bytes]) -> None:
    """Put back records that still exist but were rewritten."""
    for path, data in snapshot.items():
        if path.is_file() and path.read_bytes() != data:
            partial = path.with_name(path.name + ".partial")
            partial.write_bytes(data)
            partial.replace(path)
