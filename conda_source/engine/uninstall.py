"""Uninstall a develop install: every file, the state and the record, in one journaled step.

It is an undo: files it overwrote under ``--force`` are put back, and a channel package it
replaced is linked again (``replacement``).  The dependencies it brought are reported when
nothing else needs them, never removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conda_source.artifact.layout import Layout
from conda_source.engine.develop_install import checked_prefix
from conda_source.engine.develop_types import DevelopResult
from conda_source.errors import TargetError
from conda_source.installer.installer import Installer
from conda_source.meta import conda_meta
from conda_source.meta.conda_meta import DEVELOP_CHANNEL, Record, develop_record
from conda_source.prefix import prefix_change
from conda_source.prefix.replacement import UndoIncompleteError, restore_pending
from conda_source.reporting import Change, Reporter, Silent
from conda_source.specs import spec_name
from conda_source.target import Environment


@dataclass(frozen=True)
class UninstallRequest:
    paths: tuple[Path, ...]  # the source directories of the develop installs to remove
    environment: Environment
    command: str = ""
    dry_run: bool = False


def develop_uninstall(
    request: UninstallRequest, reporter: Reporter | None = None, installer: Installer | None = None
) -> DevelopResult:
    """Remove the develop installs of ``request.paths`` (found by their source directories), after asking.

    ``installer`` is the fallback for putting back a replaced channel package that neither the
    package cache nor its url provides.
    """
    environment = request.environment
    prefix = checked_prefix(environment, allow_base=True)
    command = request.command
    reporter = reporter or Silent()
    removed, left, restored = [], [], []
    layout = Layout.prefix_scheme(prefix, environment.paths, environment.interpreter)
    with conda_meta.prefix_lock(prefix):
        recovered = None if request.dry_run else prefix_change.recover(prefix, installer, command)
        records = []
        for path in request.paths:
            record = develop_record(prefix, path.resolve()) or _without_state(prefix, path.resolve())
            if record is None:
                raise TargetError(f"{path.resolve()}: not develop-installed in {prefix}; nothing to uninstall")
            conda_meta.read_state(prefix, record.name)  # an unreadable one is an error that says what to do, now
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
            prefix_change.apply(prefix, prefix_change.plan_uninstall(prefix, record), layout, command)
            removed.append(_dist(record))
            done, failures = restore_pending(prefix, installer, command)
            if failures:
                raise UndoIncompleteError(removed, failures)
            restored += done
            left += _only_needed_by(record, conda_meta.records(prefix))
    return DevelopResult(
        (), None, removed=tuple(removed), left_behind=tuple(sorted(set(left))), recovered=recovered,
        restored=tuple(restored), prefix=prefix,
    )  # fmt: skip


def _without_state(prefix: Path, root: Path) -> Record | None:
    """The develop install of ``root`` whose state is gone or unreadable (its record names the checkout too)."""
    return next((r for r in conda_meta.records(prefix).values() if r.is_develop and r.source == str(root)), None)


def _dist(record: Record) -> str:
    return f"{DEVELOP_CHANNEL}::{record.dist}"


def _only_needed_by(record: Record, installed: dict[str, Record]) -> list[str]:
    """Dependencies of ``record`` that no remaining package needs (reported, never removed)."""
    wanted = {spec_name(d) for d in record.depends} - {"python"}
    needed = {spec_name(d) for r in installed.values() for d in r.depends}
    return sorted(name for name in installed if name in wanted - needed)
