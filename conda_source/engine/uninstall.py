"""Uninstall a develop install: every file, the state and the record, in one journaled step.

The dependencies it brought are reported when nothing else needs them, never removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conda_source import conda_meta, prefix_install
from conda_source.conda_meta import DEVELOP_CHANNEL, Record
from conda_source.engine.develop_install import checked_prefix
from conda_source.engine.develop_project import develop_record
from conda_source.engine.develop_types import DevelopResult
from conda_source.errors import TargetError
from conda_source.journal import Journal
from conda_source.reporting import Change, Reporter, Silent
from conda_source.specs import spec_name
from conda_source.target import Environment


@dataclass(frozen=True)
class UninstallRequest:
    paths: tuple[Path, ...]  # the source directories of the develop installs to remove
    environment: Environment
    command: str = ""
    dry_run: bool = False


def develop_uninstall(request: UninstallRequest, reporter: Reporter | None = None) -> DevelopResult:
    """Remove the develop installs of ``request.paths`` (found by their source directories), after asking."""
    prefix = checked_prefix(request.environment, allow_base=True)
    command = request.command
    reporter = reporter or Silent()
    removed, left = [], []
    with conda_meta.prefix_lock(prefix):
        if not request.dry_run:
            Journal(prefix).recover()
        records = []
        for path in request.paths:
            record = develop_record(prefix, path.resolve())
            if record is None:
                raise TargetError(f"{path.resolve()}: not develop-installed in {prefix}; nothing to uninstall")
            records.append(record)
        changes = tuple(
            Change(Path(r.source), "uninstall", r.name, r.version, r.build.startswith("editable"), _dist(r))
            for r in records
        )
        if request.dry_run:
            return DevelopResult((), None, dry_run=True, changes=changes, prefix=prefix)
        if not reporter.confirm(changes, (), ()):
            return DevelopResult((), None, changes=changes, declined=True, prefix=prefix)
        for record in records:
            state_relative = conda_meta.state_path(prefix, record.name).relative_to(prefix).as_posix()
            journal = Journal(prefix)
            # The record is moved last: its absence then means every file is gone.
            journal.begin([*record.files, state_relative, record.relative_file()], [], record.relative_file(), False)
            journal.commit()
            prefix_install.prune_empty_dirs(prefix, record.files)
            dist = _dist(record)
            conda_meta.append_history(prefix, command, (), (record.name,), unlinked=(dist,))
            removed.append(dist)
            left += _only_needed_by(record, conda_meta.records(prefix))
    return DevelopResult((), None, removed=tuple(removed), left_behind=tuple(sorted(set(left))), prefix=prefix)


def _dist(record: Record) -> str:
    return f"{DEVELOP_CHANNEL}::{record.dist}"


def _only_needed_by(record: Record, installed: dict[str, Record]) -> list[str]:
    """Dependencies of ``record`` that no remaining package needs (reported, never removed)."""
    wanted = {spec_name(d) for d in record.depends} - {"python"}
    needed = {spec_name(d) for r in installed.values() for d in r.depends}
    return sorted(name for name in installed if name in wanted - needed)
