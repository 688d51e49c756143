"""The shared libraries compiled code links, found as the loader finds them, and who provides them.

develop-install records them (``DevelopState.linked``), so ``conda doctor`` can report a
develop install whose library disappeared or whose providing package changed version;
build-local's relocation (native.py) checks them for overlinking.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from conda_source.artifact.elf import ElfError, expand_origin, is_elf, read_elf
from conda_source.artifact.staging import StagedFile
from conda_source.meta import conda_meta
from conda_source.meta.conda_meta import LinkedLibrary

# The C library and the loader: every Linux system has them, and conda-forge takes them from the system too.
BASE_LIBRARY = re.compile(
    r"^(ld-linux[\w.-]*|ld64|linux-vdso|linux-gate|libc|libm|libmvec|libpthread|libdl|librt|libutil|libresolv|"
    r"libnsl|libcrypt|libanl|libBrokenLocale|libthread_db)\.so(\.\d+)*$"
)


def owned_name(prefix: Path, relative: str) -> str:
    """The prefix-relative path a symbolic link in the prefix points at (packages own the real file)."""
    real = (prefix / relative).resolve()
    return real.relative_to(prefix.resolve()).as_posix() if real.is_relative_to(prefix.resolve()) else relative


SKIPPED_DIRS = {".git", ".hg", ".svn", ".tox", ".nox", ".venv", "node_modules", "__pycache__"}


def linked_libraries(prefix: Path, installed: Mapping[str, bytes], source: Path | None) -> tuple[LinkedLibrary, ...]:
    """Every library in ``prefix`` that the install's binaries load, with the package and version providing it.

    ``installed`` maps prefix-relative paths to their contents; ``source``, for an editable
    install, is searched for the extension modules the backend built in the source tree.
    """
    binaries: list[tuple[str, Path, bytes]] = [
        (path, (prefix / path).parent, data) for path, data in sorted(installed.items()) if is_elf(data)
    ]
    if source is not None:
        binaries += [(str(file), file.parent, file.read_bytes()) for file in _built_in_tree(source)]
    if not binaries:
        return ()  # pure Python: no need to read every record of the environment
    records = conda_meta.records(prefix)
    owners = {file: name for name, record in records.items() for file in record.files}
    found: list[LinkedLibrary] = []
    for name, directory, data in binaries:
        try:
            info = read_elf(data, name)
        except ElfError:
            continue
        for library in info.needed:
            if BASE_LIBRARY.match(library):
                continue
            for entry in info.search_path:
                candidate = Path(expand_origin(entry, str(directory)), library)
                if not candidate.exists():
                    continue
                if candidate.is_relative_to(prefix):
                    relative = candidate.relative_to(prefix).as_posix()
                    owner = owners.get(relative) or owners.get(owned_name(prefix, relative)) or ""
                    version = records[owner].version if owner else ""
                    found.append(LinkedLibrary(name, library, relative, owner, version))
                break
    return tuple(dict.fromkeys(found))


def elf_members(files: Mapping[str, StagedFile]) -> dict[str, bytes]:
    """The ELF files among staged ones, read whole (the others are never read)."""
    found = {}
    for path, staged in files.items():
        with staged.open() as stream:
            head = stream.read(4)
        if is_elf(head):
            found[path] = staged.data
    return found


def _built_in_tree(source: Path) -> list[Path]:
    """Shared objects under the source tree (in-place and build-directory extension modules)."""
    found = []
    for root, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(".so") or ".so." in name:
                path = Path(root, name)
                if path.is_file() and not path.is_symlink():
                    with path.open("rb") as handle:
                        if is_elf(handle.read(4)):
                            found.append(path)
    return found


def linked_library_problems(prefix: Path, linked: Sequence[LinkedLibrary]) -> list[str]:
    """What changed since the build, one sentence each: a library gone, or its package at another version."""
    if not linked:
        return []  # pure Python: no need to read every record of the environment
    records = conda_meta.records(prefix)
    problems = []
    for link in linked:
        now = records.get(link.package) if link.package else None
        rebuild = "rebuild it (conda doctor --fix, or develop-install it again)"
        origin = f" from {link.package} {link.version}" if link.package else ""
        if not (prefix / link.path).exists():
            fix = f"reinstall {link.package}, or {rebuild}" if link.package else f"put it back, or {rebuild}"
            problems.append(f"{link.binary} links {link.library} ({link.path}){origin}, which is gone; {fix}")
        elif link.package and now is None:
            problems.append(
                f"{link.binary} was built against {link.package} {link.version}, which was removed; {rebuild}"
            )
        elif now is not None and now.version != link.version:
            problems.append(
                f"{link.binary} was built against {link.package} {link.version}, now {now.version}; {rebuild}"
            )
    return problems
