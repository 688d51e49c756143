"""A checkout built into a wheel in the target prefix, for build-local (imported only when a source is built).

Its mapped build requirements are installed into the target prefix (one transaction), then
what ``get_requires_for_build_wheel`` adds, then ``build_wheel`` runs with the prefix's
interpreter in the activated environment (``backend.build``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.requirements import Requirement

from conda_source.backend.sequence import Backend, build
from conda_source.engine.origins import explained
from conda_source.engine.plan import PlanRequest, plan
from conda_source.errors import TargetError
from conda_source.installer.installer import Installer, RattlerInstaller, SolveError
from conda_source.mapping.names import NameMapper
from conda_source.mapping.overrides import Overrides
from conda_source.mapping.requirements import map_requirements
from conda_source.specs import spec_name
from conda_source.target import Environment

AFTER_THE_BUILD = ("conda_source.artifact.convert",)  # the wheel's conversion: imported while the backend builds


def build_checkout(
    root: Path,
    environment: Environment | None,
    overrides: Overrides,
    channels: tuple[str, ...],
    command: str,
    installer: Installer | None,
    out: Path,
) -> tuple[Path, NameMapper, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Returns the wheel, the mapper, what was installed, the project's conda-only run deps,
    and the names of the packages the build asked for (whose run_exports apply)."""
    if environment is None:
        raise TargetError("building from source needs a target environment: pass -p PREFIX or activate one")
    planned = plan(PlanRequest(root, environment, overrides=overrides))
    installer = installer or RattlerInstaller(environment, channels, command=command)
    build_specs = [spec for item in planned.build for spec in item.specs]
    try:
        linked = list(installer.install(build_specs).link)
    except SolveError as exc:
        raise explained(exc, (planned,)) from None

    def install(requirements: Sequence[Requirement], hook: str) -> None:
        specs = [
            s for s in map_requirements(requirements, hook, planned.target, planned.mapper) if s not in build_specs
        ]
        build_specs.extend(specs)
        try:
            linked.extend(installer.install(specs).link)
        except SolveError as exc:
            asked_by = ((spec, f"requested by the backend's {hook}") for spec in specs)
            raise explained(exc, (planned,), asked_by) from None

    out.mkdir(parents=True, exist_ok=True)
    backend = Backend(planned.project, environment.interpreter, environment.prefix)
    built = build(backend, out, editable=False, install=install, metadata_first=False, meanwhile=AFTER_THE_BUILD)
    host = tuple(dict.fromkeys(spec_name(spec) for spec in build_specs))
    return built.wheel, planned.mapper, tuple(linked), planned.conda_depends, host
