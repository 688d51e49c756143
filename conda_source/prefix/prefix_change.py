"""The ownership model, applied: one journaled change of a prefix per develop install or uninstall.

Every path in a prefix is owned by exactly one conda-meta record, or by nobody.  A develop
install writes, moves or deletes only:

- the paths of the records it *displaces*: its own earlier install, another develop install
  of the same name, and the channel package of the same name, which it replaces
  (``replacement``: checked against its dependents first, put back by ``--uninstall``);
- the files of an earlier pip install of the same project, which it takes over
  (``prefix_install.pip_leftovers``: its RECORD is checked entry by entry);
- paths the user handed over with ``--force``: the file there, whether a conda package owns
  it or nobody does, is kept in ``conda-meta/conda-source/forced/NAME/``, listed in the develop
  install's state, and put back byte for byte by ``--uninstall``.

Any other existing path in its way is refused (``ClobberError``), and it never deletes a path
that a record it does not displace owns.  The change itself (``apply``) runs under the journal:
every path it touches is backed up first, the record is written last, the history is appended
inside the change, and an interruption anywhere is undone (or, past the commit point, finished).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from conda_source.errors import TargetError
from conda_source.installer.installer import Installer
from conda_source.meta import conda_meta, history
from conda_source.meta.conda_meta import DevelopState, Record
from conda_source.meta.journal import Group, Journal, fault
from conda_source.prefix import prefix_install
from conda_source.prefix.replacement import (
    Replaced,
    ReplaceError,
    channel_of,
    dependents,
    describe,
    restore_pending,
    saved,
    unsatisfied,
)

if TYPE_CHECKING:
    from conda_source.artifact.layout import Layout
    from conda_source.artifact.staging import StagingDestination


@dataclass(frozen=True)
class Write:
    path: str  # prefix-relative
    apply: Callable[[Journal], None]


@dataclass
class Change:
    label: str
    removed: list[str] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    linked: tuple[str, ...] = ()  # history: channel::dist
    unlinked: tuple[str, ...] = ()
    specs: tuple[str, ...] = ()
    requirements: dict[str, list[str]] = field(default_factory=dict)  # history: not requested, only needed
    sources: dict[str, str] = field(default_factory=dict)  # history: the checkout of each develop install linked


@dataclass(frozen=True)
class InstallChange:
    change: Change
    forced: dict[str, str]  # path -> owner ("" for none) of the files overwritten under --force
    replaced: Replaced | None


def _exists(path: Path) -> bool:
    return path.is_symlink() or path.is_file()


def plan_install(
    prefix: Path,
    staging: StagingDestination,
    record: Record,
    state: DevelopState,
    previous: Record | None,
    project: str,
    force: bool,
) -> InstallChange:
    """What installing ``record`` (files staged in ``staging``) changes, refusing what it may not touch.

    ``previous`` is the develop install of the same source; ``project`` the canonical PyPI name.
    """
    name = record.name
    installed = conda_meta.all_records(prefix)
    displaced = [previous] if previous else []
    displaced += [r for r in installed if r.name == name and r.dist not in {d.dist for d in displaced}]
    displaced_dists = {d.dist for d in displaced}
    staying = [r for r in installed if r.dist not in displaced_dists]
    channel = next((r for r in displaced if not r.is_develop), None)
    states = {r.name: conda_meta.read_state(prefix, r.name) for r in displaced if r.is_develop}

    needs = dependents(staying, name)
    failing = unsatisfied(needs, record.version)
    if failing and not force:
        raise ReplaceError(name, record.version, failing)

    owners = {f: r.name for r in staying for f in r.files}
    displaced_files = {f for r in displaced for f in r.files}
    # Files forced over by a displaced develop install: path -> (owner, where its original is kept).
    handed = {
        path: (owner, conda_meta.forced_path(old, path))
        for old, s in states.items()
        if s is not None
        for path, owner in s.forced.items()
    }
    replaces = next((s.replaces for old, s in states.items() if s is not None and s.replaces and old == name), None)
    dropped = [s.replaces for old, s in states.items() if s is not None and s.replaces and old != name]
    if channel is not None:
        replaces = saved(prefix, channel)

    claimed = {f for r in installed for f in r.files}
    leftovers = prefix_install.pip_leftovers(prefix, staging.layout, project, claimed, owners)

    # An overlap handed over earlier lasts while its original's package does (or it had none).
    names = {r.name for r in staying}
    carried = {path: (owner, kept) for path, (owner, kept) in handed.items() if not owner or owner in names}
    forced: dict[str, str] = {}
    for path in sorted(staging.files):
        if path in carried:
            forced[path] = carried[path][0]
            continue
        owner = owners.get(path)
        taken = path in displaced_files or path in leftovers
        if owner is None and (taken or not _exists(prefix / path)):
            continue
        if force:
            forced[path] = owner or ""
        else:
            raise prefix_install.ClobberError(name, path, owner)

    change = Change(f"conda-meta/{record.dist}.json")
    change.removed += leftovers
    change.removed += [f for f in sorted(displaced_files) if f not in owners or f in carried]
    change.removed += [conda_meta.state_relative(n) for n in states]
    for path in sorted(staging.files):
        change.writes.append(Write(path, _staged(prefix, staging, path)))
    for path in sorted(forced):
        kept = conda_meta.forced_path(name, path)
        if path in carried and carried[path][1] == kept:
            continue
        origin = carried[path][1] if path in carried else path
        if path in carried:
            change.removed.append(origin)
        if _exists(prefix / origin):
            change.writes.append(Write(kept, _copy_backup(prefix, origin, kept)))
    for path, (_, kept) in sorted(handed.items()):
        if path not in forced:
            change.removed.append(kept)
            if path in carried and path not in staging.files and _exists(prefix / kept):
                change.writes.append(Write(path, _copy_backup(prefix, kept, path)))  # the original, back
    for replaced in dropped:
        old = Record.from_json(json.loads(replaced["json"]))
        marker = conda_meta.restore_marker(old.name)
        change.writes.append(Write(marker, _json(prefix, marker, dict(replaced))))
    change.removed += [r.relative_file() for r in displaced]
    new_state = dataclasses.replace(state, forced=forced, replaces=replaces)
    change.writes.append(
        Write(conda_meta.state_relative(name), lambda _: conda_meta.write_state(prefix, name, new_state))
    )
    change.writes.append(Write(record.relative_file(), lambda _: _write_record(prefix, record)))
    change.linked = (record.history_dist,)
    change.unlinked = tuple(r.history_dist if r.is_develop else f"{channel_of(r)}::{r.dist}" for r in displaced)
    change.specs = (name,)
    change.sources = {name: state.source}
    return InstallChange(change, forced, describe(channel, needs) if channel is not None else None)


def plan_uninstall(prefix: Path, record: Record) -> Change:
    """Removing a develop install: its files (but none another record owns), state and record;
    what it forced over is put back, and a channel package it replaced is marked for restoring."""
    state = conda_meta.read_state(prefix, record.name)
    forced = dict(state.forced) if state else {}
    others = [r for r in conda_meta.all_records(prefix) if r.dist != record.dist]
    owners = {f for r in others for f in r.files}
    change = Change(record.relative_file())
    change.removed += [f for f in record.files if f not in owners or f in forced]
    change.removed.append(conda_meta.state_relative(record.name))
    for path, owner in sorted(forced.items()):
        kept = conda_meta.forced_path(record.name, path)
        change.removed.append(kept)
        # Put back what was there, unless its package has gone since (the original went with it).
        if _exists(prefix / kept) and (not owner or any(r.name == owner for r in others)):
            change.writes.append(Write(path, _copy_backup(prefix, kept, path)))
    if state is not None and state.replaces:
        marker = conda_meta.restore_marker(record.name)
        change.writes.append(Write(marker, _json(prefix, marker, dict(state.replaces))))
    change.removed.append(record.relative_file())  # the record last: while it exists, the install is whole
    change.unlinked = (record.history_dist,)
    return change


def apply(prefix: Path, change: Change, layout: Layout, command: str, group: Group | None = None) -> None:
    """Make ``change`` under the journal: all of it, or (after an error or a kill) none of it.

    In a ``group`` the change stays open until the group's commit point (``group.mark_done``, then ``finish``).
    """
    journal = group.journal() if group is not None else Journal(prefix)
    try:
        journal.begin(change.removed, [w.path for w in change.writes], change.label, prefix_install.keep_dirs(layout))
        for index, write in enumerate(change.writes):
            if index == len(change.writes) - 1 and change.linked:
                fault("before-record")
            write.apply(journal)
            if index == len(change.writes) // 2:
                fault("mid-files")
        history.append_history(
            prefix, command, change.linked, change.specs, change.unlinked, change.requirements, change.sources
        )
        if group is None:
            journal.mark_done()
    except BaseException as exc:
        journal.recover()  # an error or Ctrl-C here: back to how it was, at once
        if isinstance(exc, OSError):
            where = exc.filename2 or exc.filename or prefix  # a rename names its target second
            raise TargetError(
                f"{where}: cannot write into the environment ({exc.strerror or exc}); nothing was changed; "
                "fix the permissions or free space, then run again"
            ) from None
        raise
    if group is None:
        fault("before-commit")
        journal.commit()


def finish(group: Group) -> None:
    """Finish the changes of a group past its commit point (``group.mark_done``): a kill here is completed."""
    fault("before-commit")
    group.commit()


def recover(prefix: Path, installer: Installer | None = None, command: str = "") -> str | None:
    """At the start of a run: finish or undo an interrupted change, and put back replaced packages still due."""
    notes = [Journal(prefix).recover()]
    restored, failures = restore_pending(prefix, installer, command)
    notes += [f"put back {dist}" for dist in restored] + failures
    found = [n for n in notes if n]
    return "; ".join(found) if found else None


def _staged(prefix: Path, staging: StagingDestination, path: str) -> Callable[[Journal], None]:
    return lambda _: prefix_install.write_file(prefix / path, staging.files[path])


def _copy_backup(prefix: Path, origin: str, target: str) -> Callable[[Journal], None]:
    """Copy the content ``origin`` had before the change (the journal moved it into its backup)."""
    return lambda journal: prefix_install.copy_exact(journal.backed_up(origin), prefix / target)


def _json(prefix: Path, relative: str, data: dict[str, object]) -> Callable[[Journal], None]:
    return lambda _: conda_meta.write_json(prefix / relative, data)


def _write_record(prefix: Path, record: Record) -> None:
    conda_meta.write_record(prefix, record)
