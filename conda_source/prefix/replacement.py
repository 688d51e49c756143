"""Developing a package the environment already has from a channel: the checks before, the undo after.

A develop install of ``numpy`` in an environment where numpy came from a channel *replaces* that
package (in the same journaled change as the install, see ``prefix_change``).  Before, the packages
that depend on it are found and their constraints checked against the develop version with
py-rattler (``MatchSpec``/``VersionSpec``); after, the replaced record is kept, as it was, in the
develop install's state.  ``--uninstall`` writes it to a restore marker in the same journaled change
that removes the develop install, then links the package again from the package cache (py-rattler's,
or the record's url), or through the installer from the channels, and finally writes the record back
byte for byte and drops the marker.  A run interrupted in between finishes the restore at its start.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conda_source.errors import CondaSourceError, DamagedRecordError
from conda_source.installer.installer import Installer
from conda_source.meta import conda_meta, history, json_file, record_reading
from conda_source.meta.conda_meta import STATE_DIR, Record
from conda_source.meta.journal import step
from conda_source.specs import spec_name


class ReplaceError(CondaSourceError):
    """The develop version does not satisfy what installed packages require of the package it replaces."""

    def __init__(self, name: str, version: str, unsatisfied: Sequence[tuple[Record, str]]) -> None:
        self.unsatisfied = tuple(unsatisfied)
        lines = [
            f"{name} {version} does not satisfy '{dep}', required by the installed {r.name} {r.version}"
            for r, dep in self.unsatisfied
        ]
        lines.append(f"{name}: not installed; change the project's version, or pass --force to install it anyway")
        super().__init__("\n".join(lines))


class RestoreError(CondaSourceError):
    def __init__(self, dist: str, channel: str, reason: str) -> None:
        self.dist = dist
        super().__init__(
            f"could not put back the channel package {dist} ({channel}): {reason}; install it again with conda "
            "(conda-source retries at its next run in this environment)"
        )


class UndoIncompleteError(CondaSourceError):
    def __init__(self, removed: Sequence[str], failures: Sequence[str]) -> None:
        super().__init__("\n".join(f"removed {', '.join(removed)}, but {failure}" for failure in failures))


@dataclass(frozen=True)
class Replaced:
    """What a develop install replaces, said before it does: the package and who depends on it."""

    name: str
    version: str
    build: str
    channel: str
    dependents: tuple[str, ...]  # "name version (spec)"

    def __str__(self) -> str:
        needed = f"; needed by {', '.join(self.dependents)}" if self.dependents else ""
        return f"{self.name} {self.version} {self.build} from {self.channel}{needed}"


def dependents(installed: Iterable[Record], name: str) -> list[tuple[Record, str]]:
    """Every (record, dependency spec) of an installed package that depends on ``name``."""
    return [(r, dep) for r in installed if r.name != name for dep in r.depends if spec_name(dep) == name]


def unsatisfied(needs: Iterable[tuple[Record, str]], version: str) -> list[tuple[Record, str]]:
    """The dependency specs whose version constraint ``version`` does not meet (py-rattler decides)."""
    needs = list(needs)
    if not needs:
        return []  # nothing depends on it: py-rattler is not even imported
    from rattler import MatchSpec, Version, VersionSpec

    failing = []
    for record, dep in needs:
        constraint = MatchSpec(dep).version
        if constraint and not VersionSpec(constraint).matches(Version(version)):
            failing.append((record, dep))
    return failing


def describe(record: Record, needs: Iterable[tuple[Record, str]]) -> Replaced:
    names = tuple(dict.fromkeys(f"{r.name} {r.version} ({dep})" for r, dep in needs))
    return Replaced(record.name, record.version, record.build, channel_of(record), names)


def replacing(prefix: Path, names: Iterable[str]) -> tuple[str, ...]:
    """For a dry run: what installing projects of these conda names would replace."""
    installed = conda_meta.all_records(prefix)
    found = [r for r in installed if r.name in set(names) and not r.is_develop]
    return tuple(f"{r.name}: would replace {describe(r, dependents(installed, r.name))}" for r in found)


def channel_of(record: Record) -> str:
    return record.channel.rstrip("/") or "<unknown channel>"


def saved(prefix: Path, record: Record) -> dict[str, Any]:
    """The replaced record as it is on disk, to write back byte for byte."""
    return {"record": record.relative_file(), "json": record.file(prefix).read_text(encoding="utf-8")}


def pending(prefix: Path) -> list[Path]:
    return sorted((prefix / "conda-meta" / STATE_DIR / "restore").glob("*.json"))


def restore_pending(prefix: Path, installer: Installer | None = None, command: str = "") -> tuple[list[str], list[str]]:
    """Put back every replaced channel package waiting in a restore marker: (restored dists, failures)."""
    restored, failures = [], []
    for marker in pending(prefix):
        kept, original = read_marker(prefix, marker)
        current = conda_meta.records(prefix).get(original.name)
        if current is None:
            try:
                _link(prefix, original, kept["json"], installer)
            except RestoreError as exc:
                failures.append(str(exc))
                continue
            dist = f"{channel_of(original)}::{original.dist}"
            history.append_history(prefix, command, (dist,), (original.requested_spec or original.name,))
            restored.append(dist)
        marker.unlink()  # restored, or something else has that name now: nothing to put back
        step(f"restored {original.dist}")
    _prune_marker_dir(prefix)
    return restored, failures


def read_marker(prefix: Path, marker: Path) -> tuple[dict[str, Any], Record]:
    """A restore marker and the record it keeps; ``DamagedRecordError`` when it cannot be read."""
    try:
        kept = json_file.load_object(marker, {"json": str})
        return kept, Record.from_json(json.loads(kept["json"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # Unreadable, or the record in it
        what = "record of a replaced channel package waiting to be put back"
        then = f"then install that package again with conda (conda install -p {prefix} {marker.stem}) and run again"
        raise DamagedRecordError(marker, json_file.reason(exc), what, then) from exc


def _prune_marker_dir(prefix: Path) -> None:
    for directory in (prefix / "conda-meta" / STATE_DIR / "restore", prefix / "conda-meta" / STATE_DIR):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def _link(prefix: Path, original: Record, text: str, installer: Installer | None) -> None:
    """Link the package again (py-rattler: cache or url; else the installer), then write its record as it was."""
    dist = original.dist
    try:
        _link_with_rattler(prefix, text)
    except Exception as exc:  # py-rattler's fetch and link errors
        if installer is None:
            raise RestoreError(dist, channel_of(original), str(exc).strip().splitlines()[0]) from exc
        try:
            installer.install([f"{original.name} =={original.version} {original.build}"])
        except CondaSourceError as again:
            raise RestoreError(dist, channel_of(original), str(again)) from again
    path = original.file(prefix)
    if not path.is_file():
        raise RestoreError(dist, channel_of(original), "the package was not linked")
    linked = Record.from_json(json.loads(path.read_text(encoding="utf-8")))
    if sorted(linked.files) == sorted(original.files):
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        step(f"partial {path.name}")
        partial.replace(path)
        step(f"wrote {path.name}")


def _link_with_rattler(prefix: Path, text: str) -> None:
    from rattler import PrefixRecord, install

    from conda_source.installer._rattler import no_new_cache_tag, settle_at_exit

    installed = record_reading.prefix_records(sorted((prefix / "conda-meta").glob("*.json")))
    with tempfile.TemporaryDirectory(prefix="conda-source-restore-") as scratch:
        kept = Path(scratch) / "record.json"
        kept.write_text(text, encoding="utf-8")
        record = PrefixRecord.from_path(kept)
    snapshot = record_reading.snapshot_records(prefix)

    async def run() -> None:
        await install(
            [record, *installed],
            prefix,
            installed_packages=installed,
            ignored_packages={r.name.normalized for r in installed},
            show_progress=False,
        )

    import asyncio

    settle_at_exit()
    with no_new_cache_tag(prefix):
        asyncio.run(run())
    record_reading.restore_records(snapshot)  # py-rattler rewrites records it was handed but left alone
