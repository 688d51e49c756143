"""The plan: which conda specs a project needs for a target, and why.

This is the dry-run core shared by every command: it reads the project, picks
the requested extras and groups, and maps each requirement.  It touches
nothing and never prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conda_source.build_files import build_inputs
from conda_source.engine.external import map_external_requirements
from conda_source.errors import SelectionError, TargetError
from conda_source.mapping.names import NameMapper, Provenance, identity_name
from conda_source.mapping.overrides import Overrides
from conda_source.mapping.requirements import MappedRequirement, map_requirement, marker_false
from conda_source.mapping.versions import translate_specifier_set
from conda_source.path_extras import split_path_extras as split_path_extras  # re-exported: the engine's API
from conda_source.project import Dependency, ProjectSpec, load_project
from conda_source.target import Environment, TargetEnv


@dataclass(frozen=True)
class PlanRequest:
    path: Path
    target: TargetEnv | Environment  # a described target, or a probed environment
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    overrides: Overrides = field(default_factory=Overrides)


@dataclass(frozen=True)
class Plan:
    project: ProjectSpec
    target: TargetEnv
    extras: tuple[str, ...]
    groups: tuple[str, ...]
    build: tuple[MappedRequirement, ...]
    run: tuple[MappedRequirement, ...]
    deferred: tuple[str, ...] = field(default=())  # what only the backend can tell
    mapper: NameMapper = field(default_factory=NameMapper, compare=False)  # this project's mapping layers
    prefix: Path | None = None  # the probed environment, if any
    build_inputs: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)  # the build files as planned

    @property
    def conda_depends(self) -> tuple[str, ...]:
        """Runtime dependencies no wheel METADATA carries: [tool.conda-source] dependencies and
        PEP 725 [external] dependencies; an artifact or a develop record depends on them too."""
        external = (s for item in self.run if item.origin.startswith("external.") for s in item.specs)
        return tuple(dict.fromkeys([*(spec for spec, _ in self.project.conda.dependencies), *external]))

    @property
    def conda_name(self) -> str:
        """The conda package this project becomes (its name through the mapping layers).

        A project whose name only the backend knows is named after its folder until built.
        """
        name = self.project.name or self.project.root.resolve().name
        return self.mapper.conda_name(name) or identity_name(name)

    @property
    def specs(self) -> tuple[str, ...]:
        """Every conda spec to install, build requirements first, without repeats."""
        return tuple(dict.fromkeys(spec for item in (*self.build, *self.run) for spec in item.specs))

    @property
    def notes(self) -> tuple[tuple[str, str], ...]:
        return tuple((item.requirement, note) for item in (*self.build, *self.run) for note in item.notes)

    def to_dict(self) -> dict[str, object]:
        project = self.project
        return {
            "project": {
                "name": project.name,
                "version": project.version,
                "file": str(project.file),
                "build_backend": project.build_system.backend,
                "dynamic": sorted(project.dynamic),
            },
            "target": {
                "python": str(self.target.python),
                "subdir": self.target.subdir,
                "prefix": str(self.prefix) if self.prefix else None,
            },
            "extras": list(self.extras),
            "groups": list(self.groups),
            "build": [item.to_dict() for item in self.build],
            "run": [item.to_dict() for item in self.run],
            "specs": list(self.specs),
            "deferred": list(self.deferred),
        }


def plan(request: PlanRequest) -> Plan:
    project = load_project(request.path)
    file = str(project.file)
    dynamic_extras = project.is_dynamic("optional-dependencies")
    # PEP 725: [external] optional tables and groups share their names with [project]'s extras and PEP 735 groups.
    known_extras = dict.fromkeys([*project.optional_dependencies, *project.external.extras])
    known_groups = dict.fromkeys([*project.dependency_groups, *project.external.dependency_groups])
    extras = _select(request.extras, known_extras, "extra", file, dynamic_extras)
    groups = _select(request.groups, known_groups, "dependency group", file, False)

    mapper = request.overrides.mapper(project.conda.mapping)
    environment = request.target if isinstance(request.target, Environment) else None
    target = request.target.target if isinstance(request.target, Environment) else request.target

    build = [map_requirement(d.requirement, d.key, target, mapper) for d in project.build_system.requires]
    build += [_conda_only(spec, key) for spec, key in project.conda.build_dependencies]

    run: list[MappedRequirement] = []
    if project.requires_python is not None:
        run.append(_python(project, target))
    expander = _SelfExpander(project, target, mapper, chosen_extras=extras)
    if not project.is_dynamic("dependencies"):
        run += expander.expand(project.dependencies, "")
    for extra in extras:
        run += expander.expand(project.optional_dependencies.get(extra, ()), extra)
    for group in groups:
        run += expander.expand(project.dependency_groups.get(group, ()), "")
    run += [_conda_only(spec, key) for spec, key in project.conda.dependencies]

    included = [*extras, *sorted(expander.seen - set(extras))]  # with those this project's own extras pull in
    external_build, external_run = map_external_requirements(project, included, groups, target, mapper)
    build += external_build
    run += external_run

    deferred = _deferred(project, extras)
    prefix = environment.prefix if environment else None
    inputs = build_inputs(project.root.resolve())  # what the install's fingerprint counts, as planned
    return Plan(project, target, extras, groups, tuple(build), tuple(run), deferred, mapper, prefix, inputs)


def _select(
    wanted: Iterable[str], available: Mapping[str, object], kind: str, file: str, allow_unknown: bool
) -> tuple[str, ...]:
    chosen: list[str] = []
    for name in wanted:
        canonical = canonicalize_name(name)
        if canonical not in available and not allow_unknown:
            raise SelectionError(kind, name, file, sorted(available))
        if canonical not in chosen:
            chosen.append(canonical)
    return tuple(chosen)


def _python(project: ProjectSpec, target: TargetEnv) -> MappedRequirement:
    specifiers = project.requires_python
    assert specifiers is not None  # checked by the caller
    if not specifiers.contains(target.python, prereleases=True):
        raise TargetError(
            f"{project.file}: project.requires-python '{specifiers}' excludes the target's python "
            f"{target.python}; target a matching python (-p PREFIX, or --python X.Y)"
        )
    translation = translate_specifier_set(specifiers, f"requires-python {specifiers}")
    spec = f"python {translation.spec}" if translation.spec else "python"
    return MappedRequirement(
        f"python{specifiers}", "project.requires-python", (spec,), (Provenance("identity", "python itself"),)
    )


def _conda_only(spec: str, key: str) -> MappedRequirement:
    return MappedRequirement(spec, key, (spec,), (Provenance("project", key),))


class _SelfExpander:
    """Maps requirements, expanding ``this-project[extra]`` into that extra's requirements."""

    def __init__(
        self, project: ProjectSpec, target: TargetEnv, mapper: NameMapper, chosen_extras: Iterable[str]
    ) -> None:
        self.project = project
        self.target = target
        self.mapper = mapper
        self.seen = set(chosen_extras)  # their requirements are listed once, where chosen

    def expand(self, dependencies: Iterable[Dependency], extra: str) -> list[MappedRequirement]:
        mapped: list[MappedRequirement] = []
        for dependency in dependencies:
            requirement = dependency.requirement
            if canonicalize_name(requirement.name) != self.project.canonical_name:
                mapped.append(map_requirement(requirement, dependency.key, self.target, self.mapper, extra))
                continue
            mapped += self._expand_self(requirement, dependency.key, extra)
        return mapped

    def _expand_self(self, requirement: Requirement, key: str, extra: str) -> list[MappedRequirement]:
        text = str(requirement)
        if requirement.marker is not None and not requirement.marker.evaluate(self.target.marker_environment(extra)):
            return [MappedRequirement(text, key, (), (), dropped=marker_false(self.target))]
        inner = sorted(canonicalize_name(e) for e in requirement.extras)
        known = {*self.project.optional_dependencies, *self.project.external.extras}
        unknown = [e for e in inner if e not in known]
        if unknown:
            raise SelectionError("extra", unknown[0], f"{self.project.file} ({key})", sorted(known))
        mapped = [MappedRequirement(text, key, (), (), expands=tuple(inner))]
        for name in inner:
            if name not in self.seen:
                self.seen.add(name)
                mapped += self.expand(self.project.optional_dependencies.get(name, ()), name)
        return mapped


def _deferred(project: ProjectSpec, extras: tuple[str, ...]) -> tuple[str, ...]:
    if not project.has_project_table:
        return ("name, version and dependencies: no [project] table; the backend's metadata hook provides them",)
    notes = []
    if project.is_dynamic("version"):
        notes.append("version: dynamic; the backend's metadata hook provides it")
    if project.is_dynamic("dependencies"):
        notes.append("dependencies: dynamic; mapped once the backend's metadata hook has run")
    if extras and project.is_dynamic("optional-dependencies"):
        notes.append(
            "optional-dependencies: dynamic; the chosen extras are mapped once the backend's metadata hook has run"
        )
    return tuple(notes)
