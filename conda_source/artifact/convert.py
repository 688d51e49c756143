"""A wheel -> one or more ``.conda`` packages.

1. Open the wheel and check it: file name, member paths, RECORD sizes and hashes.
2. Decide the kind: a pure wheel becomes ``noarch: python``; a platform wheel keeps
   its platform and its python (``cp311`` -> ``python >=3.11,<3.12.0a0``).
3. Stage its files with pypa/installer into the conda layout; INSTALLER says
   ``conda`` and RECORD is rewritten to match what is shipped.
4. Map Requires-Dist to ``depends`` (per variant for noarch, see depends.py).
5. A platform wheel built in a conda environment is relocated and checked as conda-build
   does (native.py: RPATHs, prefix placeholders, run_exports, overlinking); every platform
   wheel depends on ``__glibc``/``__osx`` as its tags and binaries need.
6. Write ``info/`` and the ``.conda`` for each variant, reproducibly.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import installer
from installer.sources import WheelFile
from packaging.metadata import InvalidMetadata, Metadata
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from conda_source.artifact.depends import Variant, arch_requirements, noarch_variants
from conda_source.artifact.info import PackageIdentity, import_names, info_files
from conda_source.artifact.layout import Layout
from conda_source.artifact.limits import Limits, check_zip
from conda_source.artifact.native import BuildEnvironment, Relocator
from conda_source.artifact.native_depends import platform_constraints
from conda_source.artifact.outputs import output_guard
from conda_source.artifact.staging import StagedFile, StagingDestination
from conda_source.artifact.writer import ZSTD_LEVEL, write_conda
from conda_source.errors import ArtifactError
from conda_source.mapping.names import NameMapper
from conda_source.mapping.requirements import MappedRequirement, python_pin
from conda_source.mapping.versions import translate_specifier_set
from conda_source.target import TargetEnv

_PLATFORM_TAGS = (
    (re.compile(r"^(many|musl)?linux.*_x86_64$"), "linux-64"),
    (re.compile(r"^(many|musl)?linux.*_aarch64$"), "linux-aarch64"),
    (re.compile(r"^(many|musl)?linux.*_ppc64le$"), "linux-ppc64le"),
    (re.compile(r"^macosx_.*_x86_64$"), "osx-64"),
    (re.compile(r"^macosx_.*_arm64$"), "osx-arm64"),
)
_LICENSE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)


@dataclass(frozen=True)
class WheelRequest:
    wheel: Path
    output_dir: Path
    mapper: NameMapper = field(default_factory=NameMapper)
    extras: tuple[str, ...] = ()
    build_number: int = 0
    python: str | None = None  # X.Y: build for one python (abi3 wheels, python markers)
    source_date_epoch: int | None = None  # default: $SOURCE_DATE_EPOCH, else the wheel's newest entry
    extra_depends: tuple[str, ...] = ()  # conda-only run dependencies ([tool.conda-source] dependencies)
    limits: Limits = field(default_factory=Limits)  # what the wheel may unpack to
    built_in: BuildEnvironment | None = None  # the environment the wheel was built in: relocate and check it
    compression_level: int = ZSTD_LEVEL  # zstd, 1 (fastest) to 22 (smallest)


@dataclass(frozen=True)
class BuiltPackage:
    path: Path
    identity: PackageIdentity
    depends: tuple[str, ...]
    requirements: tuple[MappedRequirement, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "name": self.identity.name,
            "version": self.identity.version,
            "build": self.identity.build,
            "subdir": self.identity.subdir,
            "depends": list(self.depends),
            "requirements": [r.to_dict() for r in self.requirements],
            "notes": list(self.notes),
        }


def convert_wheel(request: WheelRequest) -> list[BuiltPackage]:
    """Nothing is left in ``output_dir`` when this fails, not even the directory if it made it."""
    with output_guard(request.output_dir) as written:
        request.output_dir.mkdir(parents=True, exist_ok=True)
        # Large files are staged next to the output (a real disk; the system's temp may be memory).
        with tempfile.TemporaryDirectory(dir=request.output_dir, prefix=".conda-source-stage-") as scratch:
            return _convert(request, written, Path(scratch))


def _convert(request: WheelRequest, written: list[Path], scratch: Path) -> list[BuiltPackage]:
    wheel = request.wheel
    name, _, _, tags = _parse_filename(wheel)
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArtifactError(wheel, f"not a readable wheel (zip) file: {exc}") from exc
    with archive:
        _check_member_paths(wheel, archive)
        check_zip(wheel, archive, request.limits, "wheel")
        mtime = _mtime(request)
    with WheelFile.open(wheel) as source:
        try:
            source.validate_record(validate_contents=True)
        except Exception as exc:  # installer raises a private validation error type
            issues = getattr(exc, "issues", None) or [str(exc)]
            raise ArtifactError(wheel, f"RECORD check failed: {issues[0]}") from exc
        metadata = _metadata(wheel, source.read_dist_info("METADATA"), name)
        dist_info = source.dist_info_dir
        pure = all(tag.abi == "none" and tag.platform == "any" for tag in tags)
        if pure:
            layout, subdir, python = Layout.noarch_python(name), "noarch", request.python
        else:
            subdir, arch_python = _platform_of(wheel, tags, request.python)
            layout, python = Layout.unix(arch_python, name), arch_python
        relocator = Relocator(request.built_in, str(wheel)) if request.built_in and not pure else None
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

    requires: list[Requirement] = list(metadata.requires_dist or [])
    site_packages = layout.dirs["purelib"]
    licenses = _licenses(staging.files, f"{site_packages}/{dist_info}")
    imports = import_names(staging.files, site_packages)
    conda_name = _conda_name(wheel, metadata.name, request.mapper)
    version = str(metadata.version)  # normalized PEP 440: conda reads it the same way

    if pure:
        variants = noarch_variants(
            requires, request.extras, metadata.requires_python, request.mapper, str(wheel), python
        )
        python_spec = f"python {python}.*" if python else _python_floor(metadata)
    else:
        assert python is not None  # _platform_of always chooses one
        target = TargetEnv.from_spec(python, subdir)
        variants = [Variant(None, "", arch_requirements(requires, request.extras, target, request.mapper))]
        python_spec = python_pin(target)
        platform = platform_constraints(str(wheel), subdir, tags, staging.files)

    built: list[BuiltPackage] = []
    for variant in variants:
        mapped = (s for r in variant.requirements for s in r.specs)
        depends = tuple(dict.fromkeys([python_spec, *mapped, *request.extra_depends]))
        if variant.virtual:
            depends += (variant.virtual,)
        notes_of_variant: tuple[str, ...] = notes
        if relocator is not None:
            native = relocator.finish(staging.files, depends)
            depends = tuple(dict.fromkeys([*depends, *native.depends]))
            notes_of_variant += native.notes
        if not pure:
            depends += tuple(c for c in platform if c not in depends)
        identity = PackageIdentity(
            conda_name,
            version,
            _build_string(
                conda_name,
                version,
                depends,
                variant.label,
                python if not pure or python else None,
                request.build_number,
            ),
            request.build_number,
            subdir,
            noarch=pure,
        )
        members = dict(staging.files)
        members.update(
            info_files(identity, depends, staging.files, metadata, staging.entry_points, licenses, imports, mtime)
        )
        path = write_conda(request.output_dir, identity.stem, members, mtime, request.compression_level)
        written.append(path)
        built.append(BuiltPackage(path, identity, depends, variant.requirements, notes_of_variant))
    return built


def _metadata(wheel: Path, text: str, name: str) -> Metadata:
    """The wheel's METADATA with every field conda-source uses checked; one clear error otherwise."""
    where = f"{name}'s .dist-info/METADATA"
    if not text.strip():
        raise ArtifactError(wheel, f"{where} is empty; rebuild the wheel")
    try:
        metadata = Metadata.from_email(text, validate=False)
        _ = (metadata.name, metadata.version, metadata.requires_dist, metadata.requires_python)
    except (InvalidMetadata, ValueError) as exc:
        causes = getattr(exc, "exceptions", None) or [exc]
        problems = "; ".join(str(c) for c in causes)
        raise ArtifactError(wheel, f"{where} is invalid: {problems}; fix the project's metadata and rebuild") from None
    return metadata


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


def _conda_name(wheel: Path, pypi_name: str, mapper: NameMapper) -> str:
    name = mapper.conda_name(pypi_name)
    if name is None:
        provenance = mapper.map_name(pypi_name).provenance
        raise ArtifactError(wheel, f"'{pypi_name}' maps to no conda package ({provenance}); remove that override")
    return name


def _python_floor(metadata: Metadata) -> str:
    if metadata.requires_python is None:
        return "python"
    translated = translate_specifier_set(metadata.requires_python, f"Requires-Python {metadata.requires_python}").spec
    return f"python {translated}" if translated else "python"


def _build_string(
    name: str, version: str, depends: tuple[str, ...], label: str, python: str | None, number: int
) -> str:
    digest = hashlib.sha256(json.dumps([name, version, list(depends), label]).encode()).hexdigest()[:7]
    head = f"py{python.replace('.', '')}h" if python else "pyh"
    return f"{label + '_' if label else ''}{head}{digest}_{number}"


def _licenses(files: dict[str, StagedFile], dist_info: str) -> dict[str, StagedFile]:
    found = {}
    for path, staged in files.items():
        if not path.startswith(dist_info + "/"):
            continue
        relative = path[len(dist_info) + 1 :]
        if relative.startswith("licenses/"):
            found[relative[len("licenses/") :]] = staged
        elif "/" not in relative and _LICENSE_FILE.match(relative):
            found[posixpath.basename(relative)] = staged
    return found
