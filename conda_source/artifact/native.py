"""Compiled code built in a conda environment, post-processed the way conda-build post-processes a build.

build-local of a checkout or sdist builds the wheel in an environment (the *build
prefix*), so its binaries and text files may name that prefix, and its extensions
link the environment's libraries.  Turning that wheel into a package that works in
any other prefix takes, in order:

1. relocation, file by file as the wheel is staged (``Relocator``), so the dist-info
   RECORD hashes what is shipped:
   - an ELF file's RPATH/RUNPATH entries inside the build prefix become relative to
     ``$ORIGIN`` (patchelf); entries outside it name the build machine and are dropped;
   - a text file that contains the build prefix gets conda's placeholder instead
     (``file_mode: text``), which conda and rattler replace with the install prefix;
   - an ELF file that names it only in sections the loader never maps (debug information:
     source and include paths) is left as it is;
   - a binary file that still contains it (a compiled-in path) keeps it as a *binary*
     placeholder: conda and rattler write the install prefix over it and pad with NULs,
     which works only inside a NUL-terminated string and only for install prefixes no
     longer than the build prefix.  An occurrence outside such a string is refused;
2. ``Relocator.finish``: the ``run_exports`` of the host packages join ``depends``, and
   every library an ELF file needs is looked up as the loader would look in the build
   prefix: one in the prefix that no ``depends`` entry provides is reported (overlinking);
   one from the system that is not part of the C library is refused unless
   ``allow_system_libs``.
3. ``platform_constraints`` (every platform wheel, built here or not): ``__glibc >=X.Y``
   from the manylinux tag and the newest GLIBC_ symbol version the binaries need;
   ``__osx >=X.Y`` from the macOS tag.

macOS binaries are refused when they contain the build prefix: their ``LC_RPATH``
entries would become ``@loader_path``-relative (``install_name_tool -rpath``), which is
designed (README, "Native extensions") but not implemented yet.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.tags import Tag

from conda_source import conda_meta
from conda_source.artifact.elf import (
    ORIGIN,
    ElfError,
    ElfInfo,
    expand_origin,
    is_elf,
    is_macho,
    only_in_unloaded_sections,
    read_elf,
    set_rpath,
    system_library_dirs,
)
from conda_source.artifact.layout import PREFIX_PLACEHOLDER
from conda_source.artifact.staging import StagedFile
from conda_source.conda_meta import LinkedLibrary
from conda_source.errors import ArtifactError
from conda_source.specs import spec_name

# The C library and the loader: every Linux system has them, and conda-forge takes them from the system too.
BASE_LIBRARY = re.compile(
    r"^(ld-linux[\w.-]*|ld64|linux-vdso|linux-gate|libc|libm|libmvec|libpthread|libdl|librt|libutil|libresolv|"
    r"libnsl|libcrypt|libanl|libBrokenLocale|libthread_db)\.so(\.\d+)*$"
)
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MACOSX = re.compile(r"^macosx_(\d+)_(\d+)_")


@dataclass(frozen=True)
class BuildEnvironment:
    """The conda environment a wheel was built in."""

    prefix: Path
    host: tuple[str, ...] = ()  # conda names of the packages the build asked for: their run_exports apply
    allow_system_libs: bool = False


@dataclass(frozen=True)
class NativeResult:
    depends: tuple[str, ...]  # run_exports of the host packages
    notes: tuple[str, ...]


class Relocator:
    """Relocates one package's files as they are staged, then checks what its binaries link."""

    def __init__(self, environment: BuildEnvironment, wheel: str) -> None:
        self.environment = environment
        self.wheel = wheel
        self.binaries: dict[str, ElfInfo] = {}  # package path -> as built (its original search path)
        self.notes: list[str] = []
        variants = {str(environment.prefix), str(environment.prefix.resolve())}
        self.prefixes = sorted(variants, key=len, reverse=True)  # the longer first: one may contain the other

    def __call__(self, path: str, staged: StagedFile) -> StagedFile:
        data = staged.data
        if is_elf(data):
            info = self._read(data, path)
            self.binaries[path] = info
            data = self._relocate_rpath(path, data, info)
        found = [p for p in self.prefixes if p.encode() in data]
        if not found:
            return staged if data is staged.data else StagedFile(data, staged.executable)
        if is_macho(data):
            raise ArtifactError(
                self.wheel,
                f"{path} is a macOS binary that contains the build prefix {found[0]}; making its LC_RPATH "
                "relative to @loader_path is not supported yet: build a wheel with delocate and convert that",
            )
        if is_elf(data) and all(only_in_unloaded_sections(data, p.encode(), path) for p in found):
            self.notes.append(f"{path}: its debug information names the build prefix; left as it is")
            return staged if data is staged.data else StagedFile(data, staged.executable)
        if b"\0" not in data:
            for prefix in self.prefixes:
                data = data.replace(prefix.encode(), PREFIX_PLACEHOLDER.encode())
            return StagedFile(data, staged.executable)
        return self._binary_placeholder(path, data, staged.executable, found)

    def _read(self, data: bytes, path: str) -> ElfInfo:
        try:
            return read_elf(data, path)
        except ElfError as exc:
            raise ArtifactError(self.wheel, str(exc)) from exc

    def _relocate_rpath(self, path: str, data: bytes, info: ElfInfo) -> bytes:
        directory = posixpath.dirname(path)
        original = info.runpath or info.rpath
        entries: list[str] = []
        for entry in original:
            inside = self._inside(entry)
            if ORIGIN.match(entry):
                entries.append(entry)
            elif inside is not None:
                relative = posixpath.relpath(inside or ".", directory or ".")
                entries.append("$ORIGIN" if relative == "." else f"$ORIGIN/{relative}")
            else:
                self.notes.append(f"{path}: dropped RPATH entry {entry}: it is outside the build environment")
        entries = list(dict.fromkeys(entries))
        if tuple(entries) == original:
            return data
        try:
            return set_rpath(data, entries, keep_dt_rpath=not info.runpath, path=path)
        except ElfError as exc:
            raise ArtifactError(self.wheel, str(exc)) from exc

    def _inside(self, entry: str) -> str | None:
        """The prefix-relative POSIX path of ``entry`` if it lies in the build prefix ("" for the prefix itself)."""
        normal = posixpath.normpath(entry)
        for prefix in self.prefixes:
            if normal == prefix:
                return ""
            if normal.startswith(prefix + "/"):
                return normal[len(prefix) + 1 :]
        return None

    def _binary_placeholder(self, path: str, data: bytes, executable: bool, found: list[str]) -> StagedFile:
        if len(found) > 1:
            raise ArtifactError(
                self.wheel,
                f"{path} contains the build prefix under two spellings ({' and '.join(found)}); a binary file "
                "can carry one placeholder: build in an environment whose path has no symbolic link",
            )
        placeholder = found[0].encode()
        in_strings = sum(m.group().count(placeholder) for m in re.finditer(re.escape(placeholder) + b"[^\0]*\0", data))
        if in_strings != data.count(placeholder):
            raise ArtifactError(
                self.wheel,
                f"{path} is a binary file that contains the build prefix {found[0]} outside a NUL-terminated "
                "string, where conda cannot replace it; make the build not embed its install prefix there",
            )
        self.notes.append(
            f"{path}: binary file with the build prefix as placeholder: it installs into prefixes of at most "
            f"{len(placeholder)} characters (conda and rattler pad a shorter one with NULs, never grow it)"
        )
        return StagedFile(data, executable, placeholder=found[0], file_mode="binary")

    def finish(self, files: Mapping[str, StagedFile], depends: Sequence[str]) -> NativeResult:
        """The host packages' run_exports, and the checks of what each binary links."""
        prefix = self.environment.prefix
        exports, export_notes = host_run_exports(prefix, self.environment.host)
        provided = {spec_name(spec) for spec in (*depends, *exports)}
        owners = conda_meta.owners(prefix, set())
        notes = [*self.notes, *export_notes]
        for path, info in sorted(self.binaries.items()):
            directory = posixpath.dirname(path)
            for library in info.needed:
                if BASE_LIBRARY.match(library):
                    continue
                kind, where = self._locate(library, info, directory, files)
                if kind == "prefix":
                    owner = owners.get(where) or owners.get(_owned_name(prefix, where))
                    if owner is None:
                        notes.append(
                            f"{path} links {library} ({where}), which no package in the build environment owns: "
                            "it will be missing wherever this package is installed"
                        )
                    elif owner not in provided:
                        notes.append(
                            f"overlinking: {path} links {library} from the package '{owner}' ({where}), which is "
                            f"not in depends: add '{owner}' to the project's dependencies"
                        )
                elif kind == "system" and not self.environment.allow_system_libs:
                    raise ArtifactError(
                        self.wheel,
                        f"{path} links {library} from the system ({where}), not from the build environment; "
                        "install the conda package that provides it into the environment, or pass "
                        "--allow-system-libs to accept it",
                    )
                elif kind == "system":
                    notes.append(f"{path} links {library} from the system ({where}), allowed by --allow-system-libs")
                elif kind == "missing":
                    notes.append(f"{path} links {library}, found neither in the build environment nor on the system")
        return NativeResult(exports, tuple(notes))

    def _locate(self, library: str, info: ElfInfo, directory: str, files: Mapping[str, StagedFile]) -> tuple[str, str]:
        """("package" | "prefix" | "system" | "missing", where): the loader's search in the build prefix."""
        prefix = self.environment.prefix
        for entry in info.search_path:
            inside = self._inside(entry)
            relative = expand_origin(entry, directory or ".") if ORIGIN.match(entry) else inside
            if relative is not None:
                candidate = posixpath.normpath(posixpath.join(relative, library))
                if candidate in files:
                    return "package", candidate
                if (prefix / candidate).exists():
                    return "prefix", candidate
            elif Path(entry, library).exists():
                return "system", str(Path(entry, library))
        for directory_ in system_library_dirs():
            if (directory_ / library).exists():
                return "system", str(directory_ / library)
        return "missing", ""


def _owned_name(prefix: Path, relative: str) -> str:
    """The prefix-relative path a symbolic link in the prefix points at (packages own the real file)."""
    real = (prefix / relative).resolve()
    return real.relative_to(prefix.resolve()).as_posix() if real.is_relative_to(prefix.resolve()) else relative


def host_run_exports(prefix: Path, names: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The weak and strong run_exports of the named packages installed in ``prefix``, and notes.

    Each is read from ``info/run_exports.json`` of the package the record was installed from:
    its extracted directory in the package cache, else its archive (cached or a ``file://`` url).
    """
    wanted = set(names)
    exports: list[str] = []
    notes: list[str] = []
    for path in sorted((prefix / "conda-meta").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("name") not in wanted:
            continue
        found = _run_exports(record)
        dist = f"{record['name']}-{record['version']}-{record['build']}"
        if found is None:
            notes.append(
                f"run_exports of {dist} unknown: its package is neither in a package cache nor a local file "
                f"({record.get('url') or 'no url'}); they are not in depends"
            )
            continue
        for kind in ("weak", "strong"):
            exports += [str(spec) for spec in found.get(kind) or ()]
    return tuple(dict.fromkeys(exports)), tuple(notes)


def _run_exports(record: Mapping[str, Any]) -> dict[str, Any] | None:
    extracted = record.get("extracted_package_dir")
    if extracted and Path(extracted, "info", "index.json").is_file():
        file = Path(extracted, "info", "run_exports.json")
        return _normalized(json.loads(file.read_text(encoding="utf-8"))) if file.is_file() else {}
    archives = [record.get("package_tarball_full_path") or ""]
    url = urlparse(str(record.get("url") or ""))
    if url.scheme == "file":
        archives.append(unquote(url.path))
    for archive in archives:
        if archive and Path(archive).is_file():
            return _from_archive(Path(archive))
    return None


def _from_archive(archive: Path) -> dict[str, Any]:
    from conda_package_streaming.package_streaming import stream_conda_info

    with archive.open("rb") as stream:
        for tar, member in stream_conda_info(archive.name, stream):
            if member.name == "info/run_exports.json":
                extracted = tar.extractfile(member)
                return _normalized(json.loads(extracted.read())) if extracted else {}
    return {}


def _normalized(data: object) -> dict[str, Any]:
    """conda-build's old run_exports format is a bare list, meaning weak exports."""
    if isinstance(data, list):
        return {"weak": data}
    return data if isinstance(data, dict) else {}


def platform_constraints(
    wheel: str, subdir: str, tags: Iterable[Tag], files: Mapping[str, StagedFile]
) -> tuple[str, ...]:
    """``__glibc``/``__osx`` lower bounds of a platform wheel, from its tags and its binaries."""
    platforms = [tag.platform for tag in tags]
    if subdir.startswith("linux-"):
        tagged = [_manylinux(p) for p in platforms]
        floors = [v for v in tagged if v is not None]
        needed: list[tuple[int, ...]] = [min(floors)] if floors else []
        for path, staged in files.items():
            if is_elf(staged.data):
                try:
                    glibc = read_elf(staged.data, path).glibc
                except ElfError as exc:
                    raise ArtifactError(wheel, str(exc)) from exc
                if glibc is not None:
                    needed.append(glibc)
        return (f"__glibc >={_dotted(max(needed))}",) if needed else ()
    if subdir.startswith("osx-"):
        found = [(int(m.group(1)), int(m.group(2))) for m in map(_MACOSX.match, platforms) if m]
        return (f"__osx >={_dotted(min(found))}",) if found else ()
    return ()


def _manylinux(platform: str) -> tuple[int, ...] | None:
    for legacy, version in _LEGACY_MANYLINUX.items():
        if platform.startswith(legacy + "_"):
            return version
    found = _MANYLINUX.match(platform)
    return (int(found.group(1)), int(found.group(2))) if found else None


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


# --- develop-install: what an install's binaries link, for conda doctor ----------------------------

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
                    owner = owners.get(relative) or owners.get(_owned_name(prefix, relative)) or ""
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
