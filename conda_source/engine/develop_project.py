"""One project of a develop-install: build it and stage the wheel (``build_project``), then write
files, state and record (``install_built``).

The backend's hook sequence (``backend.build``) installs what it adds; the wheel is staged
in the prefix's scheme (``prefix_install``); files, the state and the conda-meta record
(last) are written under the journal, as one change of the run's group, and a history entry
follows.  A re-run whose fingerprint and files are unchanged does nothing.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conda_source.backend.sequence import Backend, build
from conda_source.build_files import METADATA_BEFORE_BUILD
from conda_source.engine.fingerprint import fingerprint
from conda_source.engine.origins import explained
from conda_source.engine.plan import Plan
from conda_source.engine.rerun import rerun_key
from conda_source.installer.installer import Installer, SolveError
from conda_source.mapping.names import identity_name
from conda_source.mapping.requirements import map_requirements, python_pin
from conda_source.meta import conda_meta
from conda_source.meta.conda_meta import DEVELOP_CHANNEL, DevelopState, PathEntry, Record, develop_record
from conda_source.prefix import prefix_change
from conda_source.project import build_files_digest
from conda_source.reporting import INSTALLING, Reporter
from conda_source.specs import spec_name

if TYPE_CHECKING:
    from packaging.metadata import Metadata

    from conda_source.artifact.staging import StagingDestination
    from conda_source.meta.journal import Group

from conda_source.engine.develop_types import DevelopRequest, InstalledProject, Prepared, Ready

# What staging a built wheel and writing its record import: imported while the backend builds.
AFTER_THE_BUILD = ("conda_source.prefix.prefix_install", "conda_source.artifact.linked", "packaging.metadata")


def build_project(
    p: Plan,
    request: DevelopRequest,
    installer: Installer,
    local: set[str],
    reporter: Reporter,
    prepared: Prepared | None = None,
) -> Ready:
    """Build one project whose install is not unchanged (see ``unchanged_project``) and stage its wheel:
    the backend's hooks run, and what they add is installed; the project itself is not written yet.

    ``prepared``: its backend, asked before anything changed, whose answers are reused.
    """
    environment, prefix = request.environment, request.environment.prefix
    root = p.project.root.resolve()

    runtime: list[str] = []
    build_requirements = [s for item in p.build for s in item.specs]

    def install(specs: list[str], origin: str) -> None:
        try:
            with reporter.phase(f"{root.name}: {INSTALLING} ({origin})"):
                installer.install(specs)
        except SolveError as exc:
            raise explained(exc, (p,), ((spec, origin) for spec in specs)) from None

    def install_build_requirements(requirements: Sequence[Requirement], hook: str) -> None:
        specs = map_requirements(requirements, hook, p.target, p.mapper)
        build_requirements.extend(specs)
        install(specs, f"requested by the backend's {hook}")

    def install_runtime(metadata: Metadata) -> None:
        runtime.extend(map_requirements(metadata.requires_dist or [], "Requires-Dist", p.target, p.mapper, p.extras))
        if request.deps:
            # Local projects are satisfied by each other, installed in this run, not from channels.
            specs = [s for s in runtime if spec_name(s) not in local]
            install(specs, "Requires-Dist of the metadata the backend prepared")

    backend = (
        prepared.backend if prepared else Backend(p.project, environment.interpreter, prefix, echo=reporter.output)
    )
    static = static_metadata(p)
    with tempfile.TemporaryDirectory(prefix="conda-source-develop-") as out:
        built = build(
            backend,
            Path(out),
            editable=request.editable,
            install=install_build_requirements,
            before_build=install_runtime,
            metadata_first=not static,
            phase=reporter.phase,
            asked=prepared.asked if prepared else None,
            meanwhile=AFTER_THE_BUILD,
        )
        if static:  # the plan's transaction installed pyproject's dependencies already: this only checks
            install_runtime(built.metadata)
        from conda_source.artifact.linked import elf_members, linked_libraries
        from conda_source.prefix import prefix_install

        for script in backend.activation.scripts:
            reporter.output(f"conda-source: the build ran in the environment activated by {script}\n")
        with reporter.phase(f"{root.name}: staging the wheel in the environment"):
            staging = prefix_install.stage(built.wheel, environment, root, request.editable)
    metadata = built.metadata
    read_files = backend.read_files  # what setup.py read to answer get_requires (a requirements file, ...)
    fingerprint = project_fingerprint(p, request, staging.files, None, staging, read_files)
    conda_name = p.conda_name if p.project.name else p.mapper.conda_name(metadata.name) or identity_name(metadata.name)

    version = str(metadata.version)  # normalized PEP 440: conda reads it the same way
    depends = list(dict.fromkeys([python_pin(p.target), *runtime, *p.conda_depends]))
    linked = linked_libraries(prefix, elf_members(staging.files), root if request.editable else None)
    build_string = _build_string(version, depends, staging.entry_points, request.editable, root)
    paths = tuple(PathEntry(path, f.sha256, f.size) for path, f in sorted(staging.files.items()))
    record = Record(
        conda_name, version, build_string, DEVELOP_CHANNEL, environment.subdir, tuple(depends),
        tuple(sorted(staging.files)), paths, str(root),
    )  # fmt: skip
    wanted = [*(s for item in p.run for s in item.specs), *runtime] if request.deps else []  # --no-deps: build only
    solved = [*build_requirements, *wanted]
    rerun = {
        "key": rerun_key(request),
        "backend": p.project.build_system.backend,
        "specs": list(dict.fromkeys(s for s in solved if spec_name(s) not in local)),
        "read": read_files,
    }
    state = DevelopState(
        str(root), fingerprint, request.editable, build_files_digest(root), linked, tuple(p.extras), tuple(p.groups),
        rerun=rerun,
    )  # fmt: skip
    requirements = {"build": list(dict.fromkeys(build_requirements)), "run": list(dict.fromkeys(runtime))}
    return Ready(root, staging, record, state, canonicalize_name(metadata.name), requirements)


def install_built(ready: Ready, request: DevelopRequest, reporter: Reporter, group: Group) -> InstalledProject:
    """Write a built project's files, state and conda-meta record (last) as a change of ``group``."""
    prefix, staging, record = request.environment.prefix, ready.staging, ready.record
    previous = develop_record(prefix, ready.root)
    # Ownership: what this install may replace, take over or (with --force) overwrite; see prefix_change.
    planned = prefix_change.plan_install(prefix, staging, record, ready.state, previous, ready.project, request.force)
    planned.change.requirements = ready.requirements
    with reporter.phase(f"{ready.root.name}: writing {len(staging.files)} files and the conda-meta record"):
        prefix_change.apply(prefix, planned.change, staging.layout, request.command, group)
    return InstalledProject(
        record.name, record.version, record.build, ready.root, request.editable, record.file(prefix),
        len(staging.files), replaced=f"replaces {planned.replaced}" if planned.replaced else None,
        forced=tuple(sorted(planned.forced)),
    )  # fmt: skip


def unchanged_project(p: Plan, request: DevelopRequest) -> InstalledProject:
    """The result for a project whose install the plan found unchanged (``is_unchanged``): nothing is done."""
    prefix, root = request.environment.prefix, p.project.root.resolve()
    record = develop_record(prefix, root)
    assert record is not None  # only an existing develop install can be unchanged
    return InstalledProject(
        record.name, record.version, record.build, root, request.editable, record.file(prefix), len(record.files), True
    )


def static_metadata(p: Plan) -> bool:
    """pyproject.toml itself declares the version and every dependency: no metadata hook is needed before the build."""
    project = p.project
    return project.has_project_table and not any(project.is_dynamic(name) for name in METADATA_BEFORE_BUILD)


def project_fingerprint(
    p: Plan,
    request: DevelopRequest,
    files: Iterable[str],
    prefix: Path | None,
    staging: StagingDestination | None = None,
    read_files: Sequence[str] = (),
) -> str:
    """The install's fingerprint; its files read from the prefix (a re-run) or from the staged wheel."""

    def read(path: str) -> bytes:
        if staging is not None:
            data: bytes = staging.files[path].data
            return data
        assert prefix is not None
        return (prefix / path).read_bytes()

    return fingerprint(p, request.environment, request.editable, files, read, read_files)


def _build_string(version: str, depends: list[str], entry_points: Sequence[object], editable: bool, root: Path) -> str:
    """Changes when the version, dependencies, entry points, editable flag or source path change."""
    material = [version, depends, sorted(str(e) for e in entry_points), editable, str(root)]
    return f"{'editable' if editable else 'develop'}_h{hashlib.sha256(json.dumps(material).encode()).hexdigest()[:8]}_0"


def read_files_of(prefix: Path, previous: Record) -> list[str]:
    """The files the last install's get_requires hook read, as its state keeps them."""
    state = conda_meta.read_state(prefix, previous.name)
    return state.read_files if state is not None else []


def is_unchanged(prefix: Path, previous: Record, fingerprint: str) -> bool:
    """Same source, same settings, every file still exactly as installed, the libraries its
    compiled code links still there at the versions it was built against, and a record as written now."""
    from conda_source.artifact.linked import linked_library_problems

    state = conda_meta.read_state(prefix, previous.name)
    if state is None or state.fingerprint != fingerprint or linked_library_problems(prefix, state.linked):
        return False
    return conda_meta.files_unchanged(prefix, previous)
