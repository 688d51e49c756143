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

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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
from conda_source.artifact.linked import BASE_LIBRARY, owned_name
from conda_source.artifact.native_depends import host_run_exports
from conda_source.artifact.staging import StagedFile
from conda_source.errors import ArtifactError
from conda_source.meta import conda_meta
from conda_source.specs import spec_name


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
                    owner = owners.get(where) or owners.get(owned_name(prefix, where))
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
