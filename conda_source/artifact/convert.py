"""A wheel -> one or more ``.conda`` packages.

1. Open the wheel and check it: file name, member paths, RECORD sizes and hashes.
2. Decide the kind: a pure wheel becomes ``noarch: python``; a platform wheel keeps
   its platform and its python (``cp311`` -> ``python >=3.11,<3.12.0a0``).
3. Stage its files with pypa/installer into the conda layout; INSTALLER says
   ``conda`` and RECORD is rewritten to match what is shipped.  A platform wheel built
   in a conda environment is relocated on the way (native.py: RPATHs, prefix placeholders).
4. Compress the staged files in a thread (writer.py) while describe.py reads the
   metadata, maps Requires-Dist to ``depends`` (per variant for noarch, see depends.py),
   checks compiled code as conda-build does (run_exports, overlinking, ``__glibc``/``__osx``)
   and makes ``info/``.
5. Write the ``.conda`` for each variant, reproducibly.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import installer
from installer.sources import WheelFile
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from conda_source.artifact.layout import Layout
from conda_source.artifact.limits import Limits, check_zip
from conda_source.artifact.outputs import output_guard
from conda_source.artifact.staged_wheel import StagedWheel
from conda_source.artifact.staging import StagingDestination
from conda_source.artifact.writer import ZSTD_LEVEL, Compressing, assemble, compress_tar, parse_level
from conda_source.errors import ArtifactError
from conda_source.mapping.names import NameMapper

if TYPE_CHECKING:
    from conda_source.artifact.describe import BuiltPackage
    from conda_source.artifact.native import BuildEnvironment

_PLATFORM_TAGS = (
    (re.compile(r"^(many|musl)?linux.*_x86_64$"), "linux-64"),
    (re.compile(r"^(many|musl)?linux.*_aarch64$"), "linux-aarch64"),
    (re.compile(r"^(many|musl)?linux.*_ppc64le$"), "linux-ppc64le"),
    (re.compile(r"^macosx_.*_x86_64$"), "osx-64"),
    (re.compile(r"^macosx_.*_arm64$"), "osx-arm64"),
)


@dataclass(frozen=True)
class WheelRequest:
    wheel: Path
    output_dir: Path
    mapper: NameMapper = field(default_factory=NameMapper)
    extras: tuple[str, ...] = ()
    build_number: int = 0
    python: str | None = None  # X.Y: build for one python (abi3 wheels, python markers)
    source_date_epoch: int | None = None  # default: $SOURCE_DATE_EPOCH, else now (see _mtime)
    extra_depends: tuple[str, ...] = ()  # conda-only run dependencies ([tool.conda-source] dependencies)
    limits: Limits = field(default_factory=Limits)  # what the wheel may unpack to
    built_in: BuildEnvironment | None = None  # the environment the wheel was built in: relocate and check it
    compression_level: int = ZSTD_LEVEL  # zstd, 1 (fastest) to 22 (smallest)


def convert_wheel(request: WheelRequest) -> list[BuiltPackage]:
    """Nothing is left in ``output_dir`` when this fails, not even the directory if it made it."""
    with output_guard(request.output_dir) as written:
        request.output_dir.mkdir(parents=True, exist_ok=True)
        # Large files are staged next to the output (a real disk; the system's temp may be memory).
        with tempfile.TemporaryDirectory(dir=request.output_dir, prefix=".conda-source-stage-") as scratch:
            return _convert(request, written, Path(scratch))


def _convert(request: WheelRequest, written: list[Path], scratch: Path) -> list[BuiltPackage]:
    parse_level(request.compression_level)  # a bad level fails before any work, not in zstd's own words
    name, _, _, tags = _parse_filename(request.wheel)
    try:
        archive = zipfile.ZipFile(request.wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArtifactError(request.wheel, f"not a readable wheel (zip) file: {exc}") from exc
    with archive:
        _check_member_paths(request.wheel, archive)
        check_zip(request.wheel, archive, request.limits, "wheel")
    mtime = _mtime(request)
    staged = _stage(request, name, tags, scratch)
    # The staged files are final (relocated on the way): they are compressed in a thread while the metadata
    # is read, the requirements mapped and info/ made; every variant shares them.
    level = request.compression_level
    with Compressing(staged.destination.files, mtime, level, scratch / "pkg.tar.zst") as pkg:
        # Imported only now (the requirement parser, the mapping, info/): the import overlaps the compression.
        from conda_source.artifact.describe import Wanted, describe

        wanted = Wanted(request.mapper, request.extras, request.extra_depends, request.build_number)
        built: list[BuiltPackage] = []
        for package, info in describe(staged, wanted, mtime):
            info_path = compress_tar(info, mtime, level, scratch / f"info-{len(built)}.tar.zst")
            path = assemble(request.output_dir, package.identity.stem, pkg.result(), info_path, mtime)
            written.append(path)
            built.append(dataclasses.replace(package, path=path))
        return built


def _stage(request: WheelRequest, name: str, tags: frozenset[Tag], scratch: Path) -> StagedWheel:
    wheel = request.wheel
    with WheelFile.open(wheel) as source:
        try:
            source.validate_record(validate_contents=True)
        except Exception as exc:  # installer raises a private validation error type
            issues = getattr(exc, "issues", None) or [str(exc)]
            raise ArtifactError(wheel, f"RECORD check failed: {issues[0]}") from exc
        pure = all(tag.abi == "none" and tag.platform == "any" for tag in tags)
        if pure:
            layout, subdir, python = Layout.noarch_python(name), "noarch", request.python
        else:
            subdir, arch_python = _platform_of(wheel, tags, request.python)
            layout, python = Layout.unix(arch_python, name), arch_python
        relocator = None
        if request.built_in and not pure:  # built in a conda environment: relocated and checked (ELF, conda-meta)
            from conda_source.artifact.native import Relocator

            relocator = Relocator(request.built_in, str(wheel))
        staging = StagingDestination(layout, str(wheel), limits=request.limits, scratch=scratch, relocate=relocator)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                installer.install(source, staging, {"INSTALLER": b"conda\n"})
        except ArtifactError:
            raise
        except Exception as exc:
            raise ArtifactError(wheel, f"cannot unpack: {exc}") from exc
        skipped = sum("__pycache__" in str(w.message) for w in caught)
        notes = (
            (f"skipped {skipped} file(s) under __pycache__/ in the wheel (compiled caches are never shipped)",)
            if skipped
            else ()
        )
        metadata_text = source.read_dist_info("METADATA")
        return StagedWheel(
            wheel,
            name,
            tags,
            pure,
            subdir,
            python,
            layout,
            staging,
            relocator,
            metadata_text,
            source.dist_info_dir,
            notes,
        )


def _parse_filename(wheel: Path) -> tuple[str, Version, object, frozenset[Tag]]:
    if wheel.suffix != ".whl":
        raise ArtifactError(wheel, "not a wheel: the file name must end in .whl")
    try:
        name, version, build, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as exc:
        raise ArtifactError(wheel, f"not a valid wheel file name: {exc}") from exc
    return name, version, build, tags


def _check_member_paths(wheel: Path, archive: zipfile.ZipFile) -> None:
    seen: set[str] = set()
    for name in archive.namelist():
        if name in seen:
            raise ArtifactError(wheel, f"refusing: the wheel holds two members named '{name}'; rebuild the wheel")
        seen.add(name)
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or ".." in parts or re.match(r"^[A-Za-z]:", name):
            raise ArtifactError(wheel, f"refusing member '{name}': absolute or parent-relative path in the wheel")


def _mtime(request: WheelRequest) -> int:
    """The package's timestamp: $SOURCE_DATE_EPOCH (reproducible builds), else now.

    Never the wheel's own zip dates: many wheels carry a fixed old date, and conda's
    solver prefers the newer of two otherwise equal builds.
    """
    if request.source_date_epoch is not None:
        return request.source_date_epoch
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip().isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    return int(time.time())


def _platform_of(wheel: Path, tags: frozenset[Tag], python: str | None) -> tuple[str, str]:
    subdirs = {subdir for tag in tags for pattern, subdir in _PLATFORM_TAGS if pattern.match(tag.platform)}
    if len(subdirs) != 1:
        platforms = ", ".join(sorted({tag.platform for tag in tags}))
        raise ArtifactError(wheel, f"platform '{platforms}' is not supported yet (linux and macOS wheels are)")
    interpreters = {tag.interpreter for tag in tags}
    abis = {tag.abi for tag in tags}
    exact = sorted(i for i in interpreters if re.fullmatch(r"cp3\d+", i))
    if "abi3" in abis or not exact:
        if python is None:
            raise ArtifactError(
                wheel, "this wheel works on several pythons; pass --python X.Y to choose the one to package for"
            )
        return subdirs.pop(), python
    if len(exact) > 1:
        raise ArtifactError(wheel, f"wheel is tagged for several pythons ({', '.join(exact)}); convert one per python")
    tagged = f"3.{exact[0][3:]}"
    if python is not None and python != tagged:
        raise ArtifactError(wheel, f"wheel is built for python {tagged}, not {python}")
    return subdirs.pop(), tagged
