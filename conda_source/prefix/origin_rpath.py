"""Compiled code a develop install copies into the environment finds the environment's libraries relative to
itself, as conda's own packages do.

A build in the activated environment links with ``-Wl,-rpath,$PREFIX/lib`` (conda-forge's compilers set it), so
an extension module in the wheel names the environment by its absolute path.  Staged into the prefix, each
RPATH/RUNPATH entry inside the environment becomes relative to the file (``$ORIGIN/../../..``), so the
environment keeps working when conda copies it (``conda create --clone``, ``conda rename``).  Entries elsewhere
are the user's own library paths and are kept; an extension left in an editable install's checkout is not the
environment's and is not touched.  A file this cannot read or rewrite (no patchelf) is installed as it is: it
works where it is, only a copy of the environment refuses it (prefix/copied.py).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import Path

from conda_source.artifact.elf import ORIGIN, ElfError, is_elf, read_elf, set_rpath
from conda_source.artifact.staging import StagedFile


def origin_relative(prefix: Path) -> Callable[[str, StagedFile], StagedFile]:
    """For ``StagingDestination.relocate``: a staged ELF file (prefix-relative ``path``) with its entries inside
    ``prefix`` made relative to ``$ORIGIN``; any other file as it is."""
    prefixes = sorted({str(prefix), str(prefix.resolve())}, key=len, reverse=True)  # the longer first

    def relocate(path: str, staged: StagedFile) -> StagedFile:
        with staged.open() as stream:  # only the magic: a large file spilled to disk is not read whole
            if not is_elf(stream.read(4)):
                return staged
        data = staged.data
        try:
            info = read_elf(data, path)
            original = info.runpath or info.rpath
            entries = list(dict.fromkeys(_relative(entry, posixpath.dirname(path), prefixes) for entry in original))
            if tuple(entries) == original:
                return staged
            return StagedFile(set_rpath(data, entries, keep_dt_rpath=not info.runpath, path=path), staged.executable)
        except ElfError:  # not an ELF file pyelftools reads, or no patchelf: it works where it is, as before
            return staged

    return relocate


def _relative(entry: str, directory: str, prefixes: list[str]) -> str:
    if ORIGIN.match(entry):
        return entry
    normal = posixpath.normpath(entry)
    for prefix in prefixes:
        if normal == prefix or normal.startswith(prefix + "/"):
            inside = normal[len(prefix) + 1 :]
            relative = posixpath.relpath(inside or ".", directory or ".")
            return "$ORIGIN" if relative == "." else f"$ORIGIN/{relative}"
    return entry
