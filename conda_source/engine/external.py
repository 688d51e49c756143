"""The plan's PEP 725 part: a project's ``[external]`` DepURLs, mapped for the roles they serve.

``build-requires`` and ``host-requires`` (and their optional tables, for the chosen
extras) go with the build requirements: without cross-compilation the build machine
and the host are the same environment, so both are installed in the one transaction
before the backend runs.  ``dependencies`` and the chosen external dependency groups
go with the runtime requirements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from conda_source.mapping.external import Role, map_external
from conda_source.mapping.names import NameMapper
from conda_source.mapping.requirements import MappedRequirement
from conda_source.project import ProjectSpec
from conda_source.project.model import ExternalDependency
from conda_source.target import TargetEnv


def map_external_requirements(
    project: ProjectSpec,
    extras: Iterable[str],
    groups: Iterable[str],
    target: TargetEnv,
    mapper: NameMapper,
) -> tuple[list[MappedRequirement], list[MappedRequirement]]:
    """(build, run): every external dependency that applies, each with its key as origin."""
    external, extras, groups = project.external, tuple(extras), tuple(groups)
    file = str(project.file)

    def mapped(items: Iterable[ExternalDependency], role: Role, extra: str = "") -> list[MappedRequirement]:
        return [map_external(d.requirement, d.key, role, target, mapper, extra, file) for d in items]

    def chosen(table: Mapping[str, tuple[ExternalDependency, ...]], role: Role) -> list[MappedRequirement]:
        return [item for extra in extras for item in mapped(table.get(extra, ()), role, extra)]

    build = mapped(external.build_requires, "build") + chosen(external.optional_build_requires, "build")
    build += mapped(external.host_requires, "host") + chosen(external.optional_host_requires, "host")
    run = mapped(external.dependencies, "run") + chosen(external.optional_dependencies, "run")
    for group in groups:
        run += mapped(external.dependency_groups.get(group, ()), "run")
    return build, run
