"""What a project declares, as read from pyproject.toml (value objects only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from conda_source.mapping.depurl import ExternalRequirement

# PEP 517: a source tree without [build-system] build-backend uses setuptools' legacy backend.
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
LEGACY_REQUIRES = ("setuptools>=40.8.0",)


@dataclass(frozen=True)
class Dependency:
    """A requirement and the key it was written under, e.g. ``project.dependencies[2]``."""

    requirement: Requirement
    key: str


@dataclass(frozen=True)
class BuildSystem:
    requires: tuple[Dependency, ...]
    backend: str
    backend_path: tuple[str, ...] = ()
    legacy: bool = False  # no build-backend given: the PEP 517 fallback applies


@dataclass(frozen=True)
class CondaSettings:
    """``[tool.conda-source]``: what PyPI metadata cannot say about conda."""

    mapping: Mapping[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    dependencies: tuple[tuple[str, str], ...] = ()  # (conda spec, key)
    build_dependencies: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ExternalDependency:
    """A PEP 725 external dependency and its key, e.g. ``external.host-requires[0]``."""

    requirement: ExternalRequirement
    key: str


@dataclass(frozen=True)
class External:
    """PEP 725 ``[external]``: what the project needs from outside PyPI, as DepURLs.

    The optional tables are keyed by canonical extra name (PEP 685), like
    ``project.optional-dependencies``; ``dependency_groups`` has its includes resolved.
    """

    build_requires: tuple[ExternalDependency, ...] = ()
    host_requires: tuple[ExternalDependency, ...] = ()
    dependencies: tuple[ExternalDependency, ...] = ()
    optional_build_requires: Mapping[str, tuple[ExternalDependency, ...]] = field(default_factory=dict)
    optional_host_requires: Mapping[str, tuple[ExternalDependency, ...]] = field(default_factory=dict)
    optional_dependencies: Mapping[str, tuple[ExternalDependency, ...]] = field(default_factory=dict)
    dependency_groups: Mapping[str, tuple[ExternalDependency, ...]] = field(default_factory=dict)

    @property
    def extras(self) -> tuple[str, ...]:
        """Every extra an optional table defines."""
        tables = (self.optional_build_requires, self.optional_host_requires, self.optional_dependencies)
        return tuple(sorted({name for table in tables for name in table}))


@dataclass(frozen=True)
class ProjectSpec:
    root: Path
    file: Path
    build_system: BuildSystem
    name: str | None = None  # None only for a project without [project] (legacy setup.py)
    version: str | None = None  # None when dynamic: the backend's metadata fills it in
    dynamic: frozenset[str] = frozenset()
    requires_python: SpecifierSet | None = None
    dependencies: tuple[Dependency, ...] = ()
    optional_dependencies: Mapping[str, tuple[Dependency, ...]] = field(default_factory=dict)  # canonical names
    dependency_groups: Mapping[str, tuple[Dependency, ...]] = field(default_factory=dict)  # includes resolved
    scripts: Mapping[str, str] = field(default_factory=dict)
    gui_scripts: Mapping[str, str] = field(default_factory=dict)
    conda: CondaSettings = field(default_factory=CondaSettings)
    has_project_table: bool = True
    external: External = field(default_factory=External)

    @property
    def canonical_name(self) -> str | None:
        return canonicalize_name(self.name) if self.name else None

    def is_dynamic(self, field_name: str) -> bool:
        """True when the backend, not pyproject.toml, decides ``field_name``."""
        return not self.has_project_table or field_name in self.dynamic
