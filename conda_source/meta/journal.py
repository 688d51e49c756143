"""A write-ahead journal, so an interrupted change leaves the prefix as before or complete, never destroyed.

A change in the prefix (a develop install, its reinstall or its removal) goes:

1. ``begin``: the journal first records which of the paths the change touches
   (removes or writes) already exist, and the size of ``conda-meta/history``.
   Only then is each of those existing paths *moved* into a backup inside the
   prefix (a rename on the same file system), one by one.
2. the caller writes the new files (the record last) and appends to the history;
3. ``mark_done``: the journal says the change is complete (the commit point);
4. ``commit``: the directories the removals left empty are pruned, then the
   journal and the backup are deleted.

If the process dies anywhere in between, the next run calls ``recover``.  A change
marked done is finished (step 4).  Otherwise it is undone: every path that existed
before is put back from the backup (or, if it was never moved, left as it is), only
paths this change created are deleted, the history is cut back to its old length,
and directories the change created and left empty are removed.  So recovery can
never delete a file the change did not create.

Several changes can be made as one (``Group``: the projects of one develop-install run):
each has a journal of its own, opened in turn and left open, and the group's file holds
the one commit point.  Until it is marked done, recovery undoes every change of the group,
the last first; once it is, recovery finishes them all.

``step(label)`` marks every point where the prefix changes; it is the test seam
for killing a run there.  ``CONDA_SOURCE_FAULT`` names where to die: a named point
(``mid-files``) or the N-th step (``step:N``); ``CONDA_SOURCE_FAULT_LOG=FILE``
appends the label of every step to FILE, so a test can count them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conda_source.errors import JournalError
from conda_source.meta.json_file import Unreadable, load_object

JOURNAL_DIR = Path("conda-meta") / "conda-source" / "journal"
GROUP_FILE = JOURNAL_DIR / "group.json"
HISTORY = "conda-meta/history"
FAULT_ENV = "CONDA_SOURCE_FAULT"
FAULT_LOG_ENV = "CONDA_SOURCE_FAULT_LOG"
PARTIAL_SUFFIXES = (".partial", ".conda-source-partial")  # atomic writes go through these siblings


@dataclass
class Journal:
    prefix: Path
    slot: str = ""  # a change of a group: its journal lives in a directory of its own

    @property
    def directory(self) -> Path:
        return self.prefix / JOURNAL_DIR / self.slot

    @property
    def file(self) -> Path:
        return self.directory / "journal.json"

    @property
    def backup(self) -> Path:
        return self.directory / "backup"

    def begin(self, removed: Iterable[str], written: Iterable[str], label: str, keep_dirs: Iterable[str] = ()) -> None:
        """Record what exists, then back up (move away) every existing path of ``removed`` and ``written``.

        Paths are prefix-relative and POSIX.  ``keep_dirs`` are never pruned (the scheme's
        directories: site-packages, bin, ...).  After ``begin`` the caller writes ``written``.
        """
        if self.file.exists():
            raise RuntimeError("a journal is already open; recover() first")
        removed, written = list(dict.fromkeys(removed)), list(dict.fromkeys(written))
        touched = list(dict.fromkeys([*removed, *written]))
        existing = [p for p in touched if _is_file(self.prefix / p)]
        parents = {str(d) for p in written for d in Path(p).parents if d.parts}
        history = self.prefix / HISTORY
        entry: dict[str, Any] = {
            "label": label,
            "existing": existing,  # each is either in place or in the backup, never lost
            "written": written,  # the only paths a rollback deletes, unless they are in "existing"
            "removed": removed,
            "existing_dirs": sorted(d for d in parents if (self.prefix / d).is_dir()),
            "keep_dirs": sorted(set(keep_dirs)),
            "history_size": history.stat().st_size if history.is_file() else None,
            "done": False,
        }
        if self.backup.exists():
            import shutil  # (a write path: a no-op re-run does not import it)

            shutil.rmtree(self.backup)  # a leftover of a committed change whose clean-up was cut short
        self.directory.mkdir(parents=True, exist_ok=True)
        _write(self.file, entry)
        for index, relative in enumerate(existing):
            if index == 1:
                fault("mid-backup")
            target = self.backup / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            (self.prefix / relative).replace(target)
            step(f"backup {relative}")

    def backed_up(self, relative: str) -> Path:
        """Where ``begin`` put the old content of ``relative``."""
        return self.backup / relative

    def mark_done(self) -> None:
        """The commit point: from here on, recovery completes the change instead of undoing it."""
        entry = _read(self.file)
        entry["done"] = True
        _write(self.file, entry)

    def commit(self) -> None:
        """Finish a change marked done: prune what the removals emptied, then drop the journal and the backup."""
        entry = _read(self.file)
        keep = set(entry["keep_dirs"])
        written = set(entry["written"])
        for relative in entry["removed"]:
            if relative not in written:
                _prune_after_removal(self.prefix, Path(relative), keep)
        self.file.unlink()
        step("journal removed")
        self._discard()

    def recover(self) -> str | None:
        """Finish or undo an interrupted change; returns what was done, or None if nothing was open.

        Also removes the ``.partial`` files an interrupted atomic write leaves in conda-meta/
        (py-rattler's and conda-source's own): they are never records.
        """
        for partial in (self.prefix / "conda-meta").glob("*.partial"):
            partial.unlink(missing_ok=True)
        if not self.slot and (self.prefix / GROUP_FILE).exists():
            return Group.recover(self.prefix)
        if not self.file.exists():
            if self.directory.exists():
                self._discard()
            return None
        entry = _read(self.file)
        label = entry.get("label", "")
        if entry.get("done"):
            self.commit()
            return f"completed an interrupted change ({label})"
        self.undo()
        return f"rolled back an interrupted change ({label})"

    def undo(self) -> str:
        """Put back what existed before the change and delete what it created (done or not: its backup
        is there until ``commit``); returns the change's label."""
        entry = _read(self.file)
        existing = set(entry.get("existing", entry.get("moved", [])))
        keep = set(entry.get("existing_dirs", [])) | set(entry.get("keep_dirs", []))
        for relative in entry.get("written", []):
            path = self.prefix / relative
            for suffix in PARTIAL_SUFFIXES:
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            if relative not in existing:
                if _is_file(path):
                    path.unlink()
                _prune(self.prefix, Path(relative).parent, keep)
        for relative in existing:
            backup = self.backup / relative
            if _is_file(backup):
                (self.prefix / relative).parent.mkdir(parents=True, exist_ok=True)
                backup.replace(self.prefix / relative)
        size = entry.get("history_size")
        history = self.prefix / HISTORY
        if size is not None and history.is_file() and history.stat().st_size > size:
            with history.open("r+b") as handle:
                handle.truncate(size)
        self.file.unlink()
        self._discard()
        return str(entry.get("label", ""))

    def _discard(self) -> None:
        import shutil

        shutil.rmtree(self.directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.directory.parent.rmdir()  # conda-meta/conda-source (or, for a slot, the group's directory)


@dataclass
class Group:
    """Changes made as one: each under a journal of its own, all committed at one point, or all undone."""

    prefix: Path
    journals: list[Journal] = field(default_factory=list)

    @property
    def file(self) -> Path:
        return self.prefix / GROUP_FILE

    def journal(self) -> Journal:
        """The journal of the group's next change (the group's file is written before the first)."""
        if not self.journals:
            if self.file.exists() or Journal(self.prefix).file.exists():
                raise RuntimeError("a journal is already open; recover() first")
            self.file.parent.mkdir(parents=True, exist_ok=True)
            _write(self.file, {"done": False})
        self.journals.append(Journal(self.prefix, str(len(self.journals) + 1)))
        return self.journals[-1]

    def mark_done(self) -> None:
        """The commit point of every change of the group."""
        if self.journals:
            _write(self.file, {"done": True})

    def commit(self) -> None:
        """Finish every change of a group marked done, in order."""
        for journal in self.journals:
            if journal.file.exists():
                journal.commit()
            else:
                journal._discard()
        self._close()

    def rollback(self) -> list[str]:
        """Undo every change of the group, the last first; returns their labels, in order."""
        labels: list[str] = []
        for journal in reversed(self.journals):
            if journal.file.exists():
                labels.insert(0, journal.undo())
            else:
                journal._discard()  # its begin was cut short before anything was moved
        self._close()
        return labels

    def _close(self) -> None:
        if self.journals or self.file.exists():
            self.file.unlink(missing_ok=True)
            step("group removed")
            Journal(self.prefix)._discard()

    @classmethod
    def recover(cls, prefix: Path) -> str:
        slots = [p.name for p in (prefix / JOURNAL_DIR).iterdir() if p.is_dir() and p.name.isdigit()]
        group = cls(prefix, [Journal(prefix, slot) for slot in sorted(slots, key=int)])
        # Every journal is read before any change is finished or undone: one unreadable changes nothing.
        labels = [_read(j.file)["label"] for j in group.journals if j.file.exists()]
        if _read(group.file).get("done"):
            group.commit()
            return f"completed an interrupted change ({', '.join(labels)})"
        return f"rolled back an interrupted change ({', '.join(group.rollback())})"


# What recovery reads of each file: the group's commit point, and a change's own lists.
_GROUP_KEYS = {"done": bool}
_CHANGE_KEYS = {"label": str, "written": list, "removed": list, "keep_dirs": list, "done": bool}


def _read(file: Path) -> dict[str, Any]:
    """A journal as ``_write`` left it; ``JournalError`` for anything else (a crash of the machine can leave a
    new file empty, a person can edit it)."""
    try:
        return load_object(file, _GROUP_KEYS if file.name == GROUP_FILE.name else _CHANGE_KEYS)
    except Unreadable as exc:
        raise JournalError(file, str(exc)) from exc


def _write(file: Path, entry: dict[str, Any]) -> None:
    """Atomic and durable: the journal must be on disk before the changes it describes, or a crash of the
    machine could leave it empty while they are half made."""
    partial = file.with_name(file.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, indent=2))
        handle.flush()
        os.fsync(handle.fileno())
    step("journal written")
    partial.replace(file)
    directory = os.open(file.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself
    finally:
        os.close(directory)
    step("journal in place")


def _is_file(path: Path) -> bool:
    return path.is_symlink() or path.is_file()


def _prune(prefix: Path, directory: Path, keep: set[str]) -> None:
    """Remove ``directory`` and its parents while they are empty and not kept (one already gone is passed by:
    an interrupted prune is finished by recovery)."""
    while directory.parts and str(directory) not in keep:
        path = prefix / directory
        if path.is_symlink() or (path.exists() and (not path.is_dir() or any(path.iterdir()))):
            return
        if path.exists():
            path.rmdir()
            step(f"rmdir {directory}")
        directory = directory.parent


def _prune_after_removal(prefix: Path, relative: Path, keep: set[str]) -> None:
    """After a file went away: drop its bytecode cache and the directories it left empty."""
    if relative.suffix == ".py":
        cache = prefix / relative.parent / "__pycache__"
        for cached in cache.glob(f"{relative.stem}.*.pyc"):
            cached.unlink(missing_ok=True)
        _prune(prefix, relative.parent / "__pycache__", keep)
    _prune(prefix, relative.parent, keep)


_steps = [0]


def step(label: str) -> None:
    """One change of the prefix happened: log it, and die here if a test asked for this step."""
    _steps[0] += 1
    log = os.environ.get(FAULT_LOG_ENV)
    if log:
        with Path(log).open("a", encoding="utf-8") as handle:
            handle.write(f"{_steps[0]} {label}\n")
    if os.environ.get(FAULT_ENV) == f"step:{_steps[0]}":
        os.kill(os.getpid(), signal.SIGKILL)


def fault(point: str) -> None:
    """Test seam: die here, as a power cut or ``kill -9`` would, if asked to."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
