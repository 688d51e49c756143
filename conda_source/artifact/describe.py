"""A staged wheel as conda packages: its metadata, conda name, depends (per variant), build string and ``info/``.

The package's own files are already staged (convert.py); what is made here is small, so it runs while they
compress.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement

from conda_source.artifact.depends import Variant, arch_requirements, noarch_variants
from conda_source.artifact.info import PackageIdentity, import_names, info_files
from conda_source.artifact.native_depends import platform_constraints
from conda_source.artifact.staging import StagedFile
from conda_source.errors import ArtifactError
from conda_source.mapping.names import NameMapper
from conda_source.mapping.requirements import MappedRequirement, python_pin
from conda_source.mapping.versions import translate_specifier_set
from conda_source.target import TargetEnv

if TYPE_CHECKING:
    from packaging.metadata import Metadata

    from conda_source.artifact.staged_wheel import StagedWheel


_LICENSE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)


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


@dataclass(frozen=True)
class Wanted:
    """What the caller asks of the packages (convert.py's WheelRequest gives it)."""

    mapper: NameMapper
    extras: tuple[str, ...]
    extra_depends: tuple[str, ...]
    build_number: int


def describe(staged: StagedWheel, wanted: Wanted, mtime: int) -> Iterator[tuple[BuiltPackage, dict[str, StagedFile]]]:
    """Each variant's package (its path still to be written) and its ``info/`` files."""
    wheel, files, python = staged.wheel, staged.destination.files, staged.python
    metadata = _metadata(wheel, staged.metadata_text, staged.name)
    requires: list[Requirement] = list(metadata.requires_dist or [])
    site_packages = staged.layout.dirs["purelib"]
    licenses = _licenses(files, f"{site_packages}/{staged.dist_info}")
    imports = import_names(files, site_packages)
    conda_name = _conda_name(wheel, metadata.name, wanted.mapper)
    version = str(metadata.version)  # normalized PEP 440: conda reads it the same way

    if staged.pure:
        variants = noarch_variants(requires, wanted.extras, metadata.requires_python, wanted.mapper, str(wheel), python)
        python_spec = f"python {python}.*" if python else _python_floor(metadata)
    else:
        assert python is not None  # _platform_of always chooses one
        target = TargetEnv.from_spec(python, staged.subdir)
        variants = [Variant(None, "", arch_requirements(requires, wanted.extras, target, wanted.mapper))]
        python_spec = python_pin(target)
        platform = platform_constraints(str(wheel), staged.subdir, staged.tags, files)

    for variant in variants:
        mapped = (s for r in variant.requirements for s in r.specs)
        depends = tuple(dict.fromkeys([python_spec, *mapped, *wanted.extra_depends]))
        if variant.virtual:
            depends += (variant.virtual,)
        notes = staged.notes
        if staged.relocator is not None:
            native = staged.relocator.finish(files, depends)
            depends = tuple(dict.fromkeys([*depends, *native.depends]))
            notes += native.notes
        if not staged.pure:
            depends += tuple(c for c in platform if c not in depends)
        build = _build_string(
            conda_name,
            version,
            depends,
            variant.label,
            python if not staged.pure or python else None,
            wanted.build_number,
        )
        identity = PackageIdentity(conda_name, version, build, wanted.build_number, staged.subdir, noarch=staged.pure)
        entry_points = staged.destination.entry_points
        info = info_files(identity, depends, files, metadata, entry_points, licenses, imports, mtime)
        yield BuiltPackage(Path(), identity, depends, variant.requirements, notes), info


def _metadata(wheel: Path, text: str, name: str) -> Metadata:
    """The wheel's METADATA with every field conda-source uses checked; one clear error otherwise."""
    from packaging.metadata import InvalidMetadata, Metadata  # email's parser: imported while the files compress

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
