"""develop-install: checkouts into a conda environment, editable by default, recorded for conda.

1. Check the environment (probed by the caller): never the base environment unless
   allowed; take the prefix lock so two runs cannot interleave; finish or undo an
   interrupted earlier run.
2. Plan every path, then install all mapped build and runtime requirements in
   one transaction (local projects do not ask the channels for each other).
3. For each project, dependencies first, unless nothing changed since its last
   install: run the backend's hook sequence (``backend.build``), installing what
   it adds, then stage the wheel in the prefix (``prefix_install``).
4. Write the files, the state and the conda-meta record last, under the journal,
   and a history entry.
"""

from __future__ import annotations

import glob
import graphlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conda_source import conda_meta, prefix_change, prefix_install
from conda_source.artifact.linked import elf_members, linked_libraries, linked_library_problems
from conda_source.backend import Backend, build
from conda_source.conda_meta import DEVELOP_CHANNEL, DevelopState, PathEntry, Record
from conda_source.engine.fingerprint import fingerprint
from conda_source.engine.origins import explained
from conda_source.engine.plan import Plan, PlanRequest, plan
from conda_source.errors import TargetError
from conda_source.installer import Installer, RattlerInstaller, SolveError, Transaction
from conda_source.mapping.names import identity_name
from conda_source.mapping.overrides import Overrides
from conda_source.mapping.requirements import map_requirements, python_pin
from conda_source.project import build_files_digest
from conda_source.replacement import replacing
from conda_source.specs import spec_name
from conda_source.target import Environment

if TYPE_CHECKING:
    from packaging.metadata import Metadata

    from conda_source.artifact.staging import StagingDestination

__all__ = ["DevelopRequest", "DevelopResult", "InstalledProject", "develop_install"]


@dataclass(frozen=True)
class DevelopRequest:
    paths: tuple[Path, ...]
    environment: Environment
    channels: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    editable: bool = True
    deps: bool = True
    only_deps: bool = False
    dry_run: bool = False
    force: bool = False
    allow_base: bool = False
    overrides: Overrides = field(default_factory=Overrides)
    command: str = ""


@dataclass(frozen=True)
class InstalledProject:
    name: str
    version: str
    build: str
    source: Path
    editable: bool
    record: Path
    files: int
    unchanged: bool = False  # nothing changed since the last install: nothing was done
    replaced: str | None = None  # the channel package this install replaced, and who depends on it
    forced: tuple[str, ...] = ()  # files of others overwritten under --force (kept, put back by --uninstall)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "source": str(self.source),
            "editable": self.editable,
            "record": str(self.record),
            "files": self.files,
            "unchanged": self.unchanged,
            "replaced": self.replaced,
            "forced": list(self.forced),
        }


@dataclass(frozen=True)
class DevelopResult:
    plans: tuple[Plan, ...]
    transaction: Transaction | None
    projects: tuple[InstalledProject, ...] = ()
    dry_run: bool = False
    removed: tuple[str, ...] = field(default=())
    left_behind: tuple[str, ...] = field(default=())
    recovered: str | None = None  # what was done about an interrupted earlier run
    restored: tuple[str, ...] = ()  # channel packages an uninstall put back
    replacing: tuple[str, ...] = ()  # dry run: channel packages the install would replace

    def to_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "plans": [p.to_dict() for p in self.plans],
            "link": list(self.transaction.link) if self.transaction else [],
            "projects": [p.to_dict() for p in self.projects],
            "removed": list(self.removed),
            "left_behind": list(self.left_behind),
            "recovered": self.recovered,
            "restored": list(self.restored),
            "replacing": list(self.replacing),
        }


def develop_install(request: DevelopRequest, installer: Installer | None = None) -> DevelopResult:
    prefix = checked_prefix(request.environment, request.allow_base)
    installer = installer or RattlerInstaller(request.environment, request.channels, command=request.command)
    with conda_meta.prefix_lock(prefix):
        recovered = prefix_change.recover(prefix, installer, request.command) if not request.dry_run else None
        plans = tuple(
            plan(PlanRequest(p, request.environment, request.extras, request.groups, request.overrides))
            for p in request.paths
        )
        by_name = {p.conda_name: p for p in plans}
        # --no-deps skips runtime dependencies, as pip does; the build still needs its requirements.
        wanted = (
            s for p in plans for item in (p.build if not request.deps else (*p.build, *p.run)) for s in item.specs
        )
        specs = list(dict.fromkeys(s for s in wanted if spec_name(s) not in by_name))
        try:
            transaction = installer.install(specs, dry_run=request.dry_run)
        except SolveError as exc:
            raise explained(exc, plans) from None
        if request.dry_run or request.only_deps:
            replaces = replacing(prefix, by_name) if request.dry_run else ()
            return DevelopResult(plans, transaction, dry_run=request.dry_run, recovered=recovered, replacing=replaces)
        local = set(by_name)
        projects = tuple(_install_project(by_name[name], request, installer, local) for name in _build_order(by_name))
    return DevelopResult(plans, transaction, projects, recovered=recovered)


def checked_prefix(environment: Environment, allow_base: bool) -> Path:
    prefix = environment.prefix
    if not (prefix / "conda-meta").is_dir():
        raise TargetError(
            f"{prefix}: not a conda environment (no conda-meta/); create one with 'conda create -p {prefix} python'"
        )
    if not allow_base and ((prefix / "condabin").is_dir() or (prefix / "envs").is_dir()):
        raise TargetError(
            f"{prefix} is conda's base environment, where conda itself lives; develop in a separate "
            "environment ('conda create -n dev python'), or pass --allow-base if you mean it"
        )
    if not os.access(prefix / "conda-meta", os.W_OK):
        raise TargetError(f"{prefix}: not writable by you; use an environment you own, or ask its owner")
    return prefix


def _build_order(by_name: dict[str, Plan]) -> list[str]:
    """Local projects (by conda name) that need each other are built dependencies first."""
    needs = {
        name: {spec_name(s) for item in p.run for s in item.specs} & set(by_name) - {name}
        for name, p in by_name.items()
    }
    try:
        return list(graphlib.TopologicalSorter(needs).static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise TargetError(f"the local projects depend on each other in a cycle ({cycle}); break the cycle") from None


def _install_project(p: Plan, request: DevelopRequest, installer: Installer, local: set[str]) -> InstalledProject:
    environment, prefix = request.environment, request.environment.prefix
    root = p.project.root.resolve()
    previous = develop_record(prefix, root)
    if previous is not None and _unchanged(prefix, previous, _fingerprint(p, request, previous.files, prefix)):
        record = previous
        files = len(record.files)
        return InstalledProject(
            record.name, record.version, record.build, root, request.editable, record.file(prefix), files, True
        )

    runtime: list[str] = []

    def install(specs: list[str], origin: str) -> None:
        try:
            installer.install(specs)
        except SolveError as exc:
            raise explained(exc, (p,), ((spec, origin) for spec in specs)) from None

    def install_build_requirements(requirements: Sequence[Requirement], hook: str) -> None:
        install(map_requirements(requirements, hook, p.target, p.mapper), f"requested by the backend's {hook}")

    def install_runtime(metadata: Metadata) -> None:
        runtime.extend(map_requirements(metadata.requires_dist or [], "Requires-Dist", p.target, p.mapper, p.extras))
        if request.deps:
            # Local projects are satisfied by each other, built earlier in this run, not from channels.
            specs = [s for s in runtime if spec_name(s) not in local]
            install(specs, "Requires-Dist of the metadata the backend prepared")

    backend = Backend(p.project, environment.interpreter, prefix)
    static = _static_metadata(p)
    with tempfile.TemporaryDirectory(prefix="conda-source-develop-") as out:
        built = build(
            backend,
            Path(out),
            editable=request.editable,
            install=install_build_requirements,
            before_build=install_runtime,
            metadata_first=not static,
        )
        if static:  # the plan's transaction installed pyproject's dependencies already: this only checks
            install_runtime(built.metadata)
        staging = prefix_install.stage(built.wheel, environment, root, request.editable)
    metadata = built.metadata
    fingerprint = _fingerprint(p, request, staging.files, None, staging)
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
    state = DevelopState(str(root), fingerprint, request.editable, build_files_digest(root), linked)
    # Ownership: what this install may replace, take over or (with --force) overwrite; see prefix_change.
    planned = prefix_change.plan_install(
        prefix, staging, record, state, previous, canonicalize_name(metadata.name), request.force
    )
    prefix_change.apply(prefix, planned.change, staging.layout, request.command)
    return InstalledProject(
        conda_name, version, build_string, root, request.editable, record.file(prefix), len(staging.files),
        replaced=f"replaces {planned.replaced}" if planned.replaced else None, forced=tuple(sorted(planned.forced)),
    )  # fmt: skip


def _static_metadata(p: Plan) -> bool:
    """pyproject.toml itself declares the version and every dependency: no metadata hook is needed before the build."""
    project = p.project
    dynamic = ("version", "dependencies", "optional-dependencies")
    return project.has_project_table and not any(project.is_dynamic(name) for name in dynamic)


def _fingerprint(
    p: Plan,
    request: DevelopRequest,
    files: Iterable[str],
    prefix: Path | None,
    staging: StagingDestination | None = None,
) -> str:
    """The install's fingerprint; its files read from the prefix (a re-run) or from the staged wheel."""

    def read(path: str) -> bytes:
        if staging is not None:
            data: bytes = staging.files[path].data
            return data
        assert prefix is not None
        return (prefix / path).read_bytes()

    return fingerprint(p, request.environment, request.editable, files, read)


def _build_string(version: str, depends: list[str], entry_points: Sequence[object], editable: bool, root: Path) -> str:
    """Changes when the version, dependencies, entry points, editable flag or source path change."""
    material = [version, depends, sorted(str(e) for e in entry_points), editable, str(root)]
    return f"{'editable' if editable else 'develop'}_h{hashlib.sha256(json.dumps(material).encode()).hexdigest()[:8]}_0"


def develop_record(prefix: Path, root: Path) -> Record | None:
    """The develop install whose source is ``root``, if any.

    Found through conda-source's state files, so only that package's record is read,
    not every record of a large environment.
    """
    states = prefix / "conda-meta" / conda_meta.STATE_DIR
    for path in sorted(states.glob("*.json")) if states.is_dir() else ():
        state = conda_meta.read_state(prefix, path.stem)
        if state is None or state.source != str(root):
            continue
        for candidate in sorted((prefix / "conda-meta").glob(f"{glob.escape(path.stem)}-*.json")):
            record = Record.from_json(json.loads(candidate.read_text(encoding="utf-8")))
            if record.name == path.stem and record.is_develop:
                return record
    return None


def _unchanged(prefix: Path, previous: Record, fingerprint: str) -> bool:
    """Same source, same settings, every file still exactly as installed, and the libraries its
    compiled code links still there at the versions it was built against."""
    state = conda_meta.read_state(prefix, previous.name)
    if state is None or state.fingerprint != fingerprint or linked_library_problems(prefix, state.linked):
        return False
    for entry in previous.paths:
        path = prefix / entry.path
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry.sha256:
            return False
    return True
