"""Uninstall a develop install: every file, the state and the record, in one journaled step.

The dependencies it brought are reported when nothing else needs them, never removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conda_source import conda_meta, prefix_install
from conda_source.conda_meta import DEVELOP_CHANNEL, Record
from conda_source.engine.develop_install import DevelopResult, checked_prefix, develop_record
from conda_source.errors import TargetError
from conda_source.journal import Journal
from conda_source.specs import spec_name
from conda_source.target import Environment


@dataclass(frozen=True)
class UninstallRequest:
    paths: tuple[Path, ...]  # the source directories of the develop installs to remove
    environment: Environment
    command: str = ""


def develop_uninstall(request: UninstallRequest) -> DevelopResult:
    """Remove the develop installs of ``request.paths`` (found by their source directories)."""
    prefix = checked_prefix(request.environment, allow_base=True)
    command = request.command
    removed, left = [], []
    with conda_meta.prefix_lock(prefix):
        Journal(prefix).recover()
        for path in request.paths:
            record = develop_record(prefix, path.resolve())
            if record is None:
                raise TargetError(f"{path.resolve()}: not develop-installed in {prefix}; nothing to uninstall")
            state_relative = conda_meta.state_path(prefix, record.name).relative_to(prefix).as_posix()
            journal = Journal(prefix)
            # The record is moved last: its absence then means every file is gone.
            journal.begin([*record.files, state_relative, record.relative_file()], [], record.relative_file(), False)
            journal.commit()
            prefix_install.prune_empty_dirs(prefix, record.files)
            dist = f"{DEVELOP_CHANNEL}::{record.dist}"
            conda_meta.append_history(prefix, command, (), (), unlinked=(dist,))
            removed.append(dist)
            left += _only_needed_by(record, conda_meta.records(prefix))
    return DevelopResult((), None, removed=tuple(removed), left_behind=tuple(sorted(set(left))))


def _only_needed_by(record: Record, installed: dict[str, Record]) -> list[str]:
    """Dependencies of ``record`` that no remaining package needs (reported, never removed)."""
    wanted = {spec_name(d) for d in record.depends} - {"python"}
    needed = {spec_name(d) for r in installed.values() for d in r.depends}
    return sorted(name for name in installed if name in wanted - needed)
