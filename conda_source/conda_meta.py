"""The only writer of conda-meta: history entries and fixes to records (develop-install adds records).

conda's history format, one block per transaction::

    ==> 2026-11-21 04:48:51 <==
    # cmd: conda-source build-local .
    # conda-source version: 0.1.0
    +file:///channel::six-1.16.0-pyh1453b35_0
    # update specs: ['six >=1.16']
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conda_source import __version__


def append_history(
    prefix: Path, command: str, linked: Sequence[str], specs: Sequence[str], unlinked: Sequence[str] = ()
) -> None:
    """Append one transaction (``channel::name-version-build`` per package) to the history."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    lines = [
        f"==> {stamp} <==",
        f"# cmd: {command or 'conda-source'}",
        # Never "# conda version:": conda parses that line as its own version (and fails on ours).
        f"# conda-source version: {__version__}",
    ]
    lines += [f"-{dist}" for dist in unlinked]
    lines += [f"+{dist}" for dist in linked]
    lines.append(f"# {'update' if linked else 'remove'} specs: {list(specs)!r}")
    history = prefix / "conda-meta" / "history"
    with history.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def record_requested_specs(prefix: Path, dists: Sequence[str], specs: Sequence[str]) -> None:
    """Give each newly linked record conda's ``requested_spec`` (the spec that named it).

    py-rattler writes only its own ``requested_specs`` list; conda reads ``requested_spec``.
    """
    by_name = {spec.split(" ", 1)[0].split("::")[-1]: spec for spec in specs}
    for dist in dists:
        path = prefix / "conda-meta" / f"{dist}.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        spec = by_name.get(record["name"])
        if spec is None or record.get("requested_spec") == spec:
            continue
        record["requested_spec"] = spec
        _write_json_atomically(path, record)


def _write_json_atomically(path: Path, data: object) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(path)


def snapshot_records(prefix: Path) -> dict[Path, bytes]:
    """The bytes of every record, to restore what a third-party installer rewrote needlessly."""
    return {path: path.read_bytes() for path in (prefix / "conda-meta").glob("*.json")}


def restore_records(prefix: Path, snapshot: dict[Path, bytes]) -> list[Path]:
    """Put back records that still exist but were rewritten; returns the restored paths."""
    restored = []
    for path, data in snapshot.items():
        if path.is_file() and path.read_bytes() != data:
            partial = path.with_name(path.name + ".partial")
            partial.write_bytes(data)
            partial.replace(path)
            restored.append(path)
    return restored


# conda reads every conda-meta/*.json as a package record; our own state lives one level down.
STATE_DIR = "conda-source"


def records(prefix: Path) -> dict[str, dict[str, Any]]:
    """Every package record of the prefix, by package name."""
    found = {}
    for path in sorted((prefix / "conda-meta").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        found[record["name"]] = record
    return found


def record_path(prefix: Path, record: dict[str, Any]) -> Path:
    return prefix / "conda-meta" / f"{record['name']}-{record['version']}-{record['build']}.json"


def write_record(prefix: Path, record: dict[str, Any]) -> Path:
    path = record_path(prefix, record)
    _write_json_atomically(path, record)
    return path


def owners(prefix: Path, exclude: set[str]) -> dict[str, str]:
    """Prefix-relative file -> name of the conda package that owns it (``exclude`` skipped)."""
    owned = {}
    for name, record in records(prefix).items():
        if name not in exclude:
            for file in record.get("files", []):
                owned[file] = name
    return owned


def state_path(prefix: Path, name: str) -> Path:
    return prefix / "conda-meta" / STATE_DIR / f"{name}.json"


def read_state(prefix: Path, name: str) -> dict[str, Any] | None:
    path = state_path(prefix, name)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_state(prefix: Path, name: str, state: dict[str, Any]) -> None:
    path = state_path(prefix, name)
    path.parent.mkdir(exist_ok=True)
    _write_json_atomically(path, state)
