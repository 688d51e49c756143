"""A small write-ahead journal, so an interrupted change leaves the prefix as before or complete.

A change in the prefix (writing a develop install, or removing one) goes:

1. ``begin``: every file the change will replace or delete is *moved* into a
   backup directory inside the prefix (a rename on the same file system), and
   the journal records the new files and the file whose presence (or absence)
   marks the change as complete;
2. the caller writes the new files, the record last;
3. ``commit``: the backup and the journal are deleted.

If the process dies anywhere in between, the next run finds the journal and
calls ``recover``: when the completion mark is there the change is committed,
otherwise the new files are deleted and the backup is moved back.

``fault(point)`` is a test seam: with ``CONDA_SOURCE_FAULT=point`` in the
environment the process kills itself there, to prove the above.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

JOURNAL_DIR = Path("conda-meta") / "conda-source" / "journal"
FAULT_ENV = "CONDA_SOURCE_FAULT"


@dataclass
class Journal:
    prefix: Path

    @property
    def directory(self) -> Path:
        return self.prefix / JOURNAL_DIR

    @property
    def file(self) -> Path:
        return self.directory / "journal.json"

    @property
    def backup(self) -> Path:
        return self.directory / "backup"

    def begin(self, replaced: Iterable[str], created: Iterable[str], done_when: str, done_if_exists: bool) -> None:
        """Back up ``replaced`` (prefix-relative), in the order given, and remember what the change creates.

        For a removal (``done_if_exists=False``) the completion mark must come last in
        ``replaced``: its absence then means every other file was moved.
        """
        if self.file.exists():
            raise RuntimeError("a journal is already open; recover() first")
        self.directory.mkdir(parents=True, exist_ok=True)
        moved: list[str] = []
        created = sorted(set(created))
        # Directories that already exist are never pruned on rollback, even when left empty.
        parents = {d for c in created for d in Path(c).parents if d.parts}
        existing = sorted(str(d) for d in parents if (self.prefix / d).is_dir())
        entry: dict[str, object] = {
            "created": created,
            "existing_dirs": existing,
            "moved": moved,
            "done_when": done_when,
            "done_if_exists": done_if_exists,
        }
        self._write(entry)
        for index, relative in enumerate(dict.fromkeys(replaced)):
            if index == 1:
                fault("mid-backup")
            source = self.prefix / relative
            if source.is_file() or source.is_symlink():
                target = self.backup / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                moved.append(relative)
                self._write(entry)  # the intent first: a crash between the two is still recoverable
                source.replace(target)

    def commit(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.directory.parent.rmdir()  # conda-meta/conda-source, when nothing else is kept there

    def recover(self) -> str | None:
        """Finish or undo an interrupted change; returns what was done, or None if nothing was open."""
        if not self.file.exists():
            if self.directory.exists():
                shutil.rmtree(self.directory, ignore_errors=True)
            return None
        entry = json.loads(self.file.read_text(encoding="utf-8"))
        done = (self.prefix / entry["done_when"]).exists() == entry["done_if_exists"]
        if done:
            self.commit()
            return f"completed an interrupted change ({entry['done_when']})"
        moved = set(entry["moved"])
        keep = set(entry["existing_dirs"])
        for relative in entry["created"]:
            path = self.prefix / relative
            if relative not in moved and (path.is_file() or path.is_symlink()):  # never a directory it found
                path.unlink()
                self._prune(Path(relative).parent, keep)
        for relative in entry["moved"]:
            backup = self.backup / relative
            if backup.exists() or backup.is_symlink():
                (self.prefix / relative).parent.mkdir(parents=True, exist_ok=True)
                backup.replace(self.prefix / relative)
        self.commit()
        return f"rolled back an interrupted change ({entry['done_when']})"

    def _prune(self, directory: Path, keep: set[str]) -> None:
        """Remove directories the change created and the rollback emptied."""
        while directory.parts and str(directory) not in keep:
            path = self.prefix / directory
            if not path.is_dir() or any(path.iterdir()):
                return
            path.rmdir()
            directory = directory.parent

    def _write(self, entry: dict[str, object]) -> None:
        partial = self.file.with_name("journal.json.partial")
        partial.write_text(json.dumps(entry, indent=2), encoding="utf-8")
        partial.replace(self.file)


def fault(point: str) -> None:
    """Test seam: die here, as a power cut or ``kill -9`` would, if asked to."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
