"""Output directories: checked before anything is written, and left as they were when a run fails."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from conda_source.errors import CondaSourceError


class OutputDirError(CondaSourceError):
    """An output directory (``--output-dir``, ``--channel-dir``) cannot be written."""

    def __init__(self, path: Path, option: str, reason: str) -> None:
        self.path = path
        self.option = option
        super().__init__(f"{path}: {reason}; choose another {option}")


def check_dir(path: Path, option: str) -> None:
    """Refuse, before any work, a directory that is a file, or that cannot be written or created."""
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise OutputDirError(path, option, f"{option} exists and is not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise OutputDirError(path, option, f"{option} is not writable")
        return
    parent = path.parent
    while not (parent.exists() or parent.is_symlink()):
        parent = parent.parent
    if not parent.is_dir():
        raise OutputDirError(path, option, f"cannot create {option}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputDirError(path, option, f"cannot create {option}: {parent} is not writable")


@contextlib.contextmanager
def output_guard(directory: Path) -> Iterator[list[Path]]:
    """Yield a list for the files a run writes; if the run fails, remove them and the directories it created."""
    check_dir(directory, "--output-dir")
    created = []
    missing = directory.absolute()
    while not (missing.exists() or missing.is_symlink()):
        created.append(missing)
        missing = missing.parent
    written: list[Path] = []
    try:
        yield written
    except BaseException:
        for path in reversed(written):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for path in created:  # deepest first; never one that something else has filled meanwhile
            with contextlib.suppress(OSError):
                path.rmdir()
        raise
