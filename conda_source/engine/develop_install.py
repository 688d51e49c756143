"""develop-install: checkouts into a conda environment, editable by default, recorded for conda.

1. Check the environment (probed by the caller): never the base environment unless
   allowed; take the prefix lock so two runs cannot interleave; finish or undo an
   interrupted earlier run.
2. Plan every path.  Where a project's build requirements are installed already, ask
   its backend now for what it adds (``get_requires_for_build_*``, the metadata's
   Requires-Dist), so the one solve that follows knows the whole change.
3. Solve all mapped build and runtime requirements (local projects do not ask the
   channels for each other), show the change to the reporter, which asks; "no"
   ends the run with nothing changed.
4. Install them in one transaction.  For each project, dependencies first, unless
   nothing changed since its last install: run the backend's hook sequence
   (``backend.build``), installing what it adds, then stage the wheel in the prefix.
5. Write the files, the state and the conda-meta record last, under the journal,
   and a history entry.  Whatever fails, the packages this run linked are unlinked
   again: the environment ends as it was.
"""

from __future__ import annotations

import graphlib
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conda_source import __version__, conda_meta, pip_protection, prefix_install
from conda_source.backend import Backend, build
from conda_source.conda_meta import DEVELOP_CHANNEL, DevelopState, PathEntry, Record
from conda_source.engine.origins import explained
from conda_source.engine.plan import Plan, PlanRequest, plan
from conda_source.errors import CondaSourceError, TargetError
from conda_source.installer import Installer, RattlerInstaller, SolveError, Transaction, installed
from conda_source.journal import Journal, fault
from conda_source.mapping.names import identity_name
from conda_source.mapping.overrides import Overrides
from conda_source.mapping.requirements import map_requirements, python_pin
from conda_source.mapping.versions import conda_version
from conda_source.project import BUILD_FILES, build_files_digest
from conda_source.reporting import INSTALLING, LINKING, SOLVING, Change, Reporter, Silent
from conda_source.specs import spec_name
from conda_source.target import Environment

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
    protect_env: bool = False  # write PEP 668's EXTERNALLY-MANAGED (pip_protection), as the user asked


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
    changes: tuple[Change, ...] = ()  # what the command does (or, dry run or declined, would do) to each project
    declined: bool = False  # the user said no: nothing was changed
    prefix: Path | None = None
    protected: str | None = None  # the EXTERNALLY-MANAGED file this run wrote

    def to_dict(self) -> dict[str, object]:
        """Ours, plus conda's keys: success, prefix, actions (LINK/UNLINK as conda lists them)."""
        link = list(self.transaction.link) if self.transaction else []
        unlink = list(self.transaction.unlink) if self.transaction else []
        done = not (self.dry_run or self.declined)
        link += [f"{DEVELOP_CHANNEL}::{p.name}-{p.version}-{p.build}" for p in self.projects if not p.unchanged]
        unlink += [c.replaces for c in self.changes if c.replaces and (c.action != "uninstall" or not done)]
        unlink += list(self.removed)
        return {
            "success": True,
            "prefix": str(self.prefix) if self.prefix else None,
            "actions": {
                "PREFIX": str(self.prefix) if self.prefix else None,
                "LINK": [_dist_dict(d) for d in dict.fromkeys(link)],
                "UNLINK": [_dist_dict(d) for d in dict.fromkeys(unlink)],
            },
            "dry_run": self.dry_run,
            "declined": self.declined,
            "changes": [c.to_dict() for c in self.changes],
            "plans": [p.to_dict() for p in self.plans],
            "link": list(self.transaction.link) if self.transaction else [],
            "projects": [p.to_dict() for p in self.projects],
            "removed": list(self.removed),
            "left_behind": list(self.left_behind),
            "recovered": self.recovered,
            "protected": self.protected,
        }


def _dist_dict(dist: str) -> dict[str, str]:
    """``channel::name-version-build`` as conda's --json lists a package."""
    channel, _, name_version_build = dist.rpartition("::")
    name, version, build = name_version_build.rsplit("-", 2)
    dist_name = name_version_build
    return {"channel": channel, "name": name, "version": version, "build_string": build, "dist_name": dist_name}


def develop_install(
    request: DevelopRequest, installer: Installer | None = None, reporter: Reporter | None = None
) -> DevelopResult:
    prefix = checked_prefix(request.environment, request.allow_base)
    installer = installer or RattlerInstaller(request.environment, request.channels, command=request.command)
    reporter = reporter or Silent()
    with conda_meta.prefix_lock(prefix):
        recovered = Journal(prefix).recover() if not request.dry_run else None
        plans = tuple(
            plan(PlanRequest(p, request.environment, request.extras, request.groups, request.overrides))
            for p in request.paths
        )
        by_name = {p.conda_name: p for p in plans}
        changes = tuple(_change(p, request) for p in plans)
        # --no-deps skips runtime dependencies, as pip does; the build still needs its requirements.
        items = (item for p in plans for item in (p.build if not request.deps else (*p.build, *p.run)))
        wanted = [s for item in items for s in item.specs]
        if not request.only_deps:
            for p, change in zip(plans, changes, strict=True):
                if change.action != "unchanged":
                    wanted += _asked_before(p, request, reporter, set(by_name))
        specs = list(dict.fromkeys(s for s in wanted if spec_name(s) not in by_name))
        try:
            with reporter.phase(SOLVING):
                transaction = installer.install(specs, dry_run=True)
        except SolveError as exc:
            raise explained(exc, plans) from None
        shown = () if request.only_deps else changes
        result = DevelopResult(
            plans, transaction, dry_run=request.dry_run, recovered=recovered, changes=shown, prefix=prefix
        )
        if request.dry_run:
            return result
        nothing = not transaction.link and not transaction.unlink and all(c.action == "unchanged" for c in shown)
        if not nothing and not reporter.confirm(shown, transaction.link, transaction.unlink):
            return DevelopResult(plans, transaction, recovered=recovered, changes=shown, declined=True, prefix=prefix)
        snapshot = installer.snapshot()
        try:
            with reporter.phase(LINKING):
                installer.install(specs)
            if request.only_deps:
                return result
            local = set(by_name)
            projects = tuple(
                _install_project(by_name[name], request, installer, local, reporter) for name in _build_order(by_name)
            )
        except BaseException:
            installer.restore(snapshot)  # every package this run linked goes again: all or nothing
            raise
        protected = pip_protection.protect(request.environment) if request.protect_env else None
    return DevelopResult(
        plans,
        transaction,
        projects,
        recovered=recovered,
        changes=shown,
        prefix=prefix,
        protected=str(protected) if protected else None,
    )


def _change(p: Plan, request: DevelopRequest) -> Change:
    """What this run does to the project at ``p``: install, reinstall, replace a channel package, or nothing."""
    prefix = request.environment.prefix
    root = p.project.root.resolve()
    name = p.conda_name if p.project.name else ""
    version = conda_version(Version(p.project.version)) if p.project.version else ""
    previous = develop_record(prefix, root)
    if previous is not None:
        if _unchanged(prefix, previous, _fingerprint(p, request)):
            return Change(root, "unchanged", previous.name, previous.version, request.editable)
        replaced = f"{DEVELOP_CHANNEL}::{previous.dist}"
        return Change(root, "reinstall", previous.name, version, request.editable, replaced)
    installed_record = conda_meta.records(prefix).get(name) if name else None
    if installed_record is not None and not installed_record.is_develop:
        replaced = f"{installed_record.channel}::{installed_record.dist}"
        return Change(root, "replace", name, version, request.editable, replaced)
    return Change(root, "install", name, version, request.editable)


def _asked_before(p: Plan, request: DevelopRequest, reporter: Reporter, local: set[str]) -> list[str]:
    """What the backend adds (build requirements, then Requires-Dist), asked before anything changes.

    Possible only when the build requirements are installed already (a reinstall, a second project
    with the same backend): otherwise the backend cannot run yet, and what it adds is installed
    later, in a transaction of its own (undone with the rest if anything fails).
    """
    prefix = request.environment.prefix
    if not installed(prefix, [s for item in p.build for s in item.specs]):
        return []
    hook = "get_requires_for_build_editable" if request.editable else "get_requires_for_build_wheel"
    backend = Backend(p.project, request.environment.interpreter, prefix, echo=reporter.output)
    try:
        with reporter.phase(f"{p.project.root.name}: {hook} (before anything changes)"):
            specs = map_requirements(backend.get_requires(request.editable), hook, p.target, p.mapper)
        if not request.deps or not installed(prefix, specs):
            return specs
        hook = "prepare_metadata_for_build_editable" if request.editable else "prepare_metadata_for_build_wheel"
        asking = reporter.phase(f"{p.project.root.name}: {hook} (before anything changes)")
        with tempfile.TemporaryDirectory(prefix="conda-source-metadata-") as scratch, asking:
            metadata_dir = backend.prepare_metadata(Path(scratch), request.editable)
            text = (metadata_dir / "METADATA").read_text(encoding="utf-8", errors="replace")
            metadata = backend.read_metadata(text, hook)
    except (CondaSourceError, OSError):
        return []  # the build reports it, in its order (after the solve), and the run is undone
    runtime = map_requirements(metadata.requires_dist or [], "Requires-Dist", p.target, p.mapper, p.extras)
    return specs + [s for s in runtime if spec_name(s) not in local]


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


def _fingerprint(p: Plan, request: DevelopRequest) -> str:
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [__version__, str(p.project.root.resolve()), request.editable, list(p.extras), list(p.groups)]
        ).encode()
    )
    for name in BUILD_FILES:
        path = p.project.root / name
        if path.is_file():
            digest.update(name.encode() + path.read_bytes())
    return digest.hexdigest()


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


def _install_project(
    p: Plan, request: DevelopRequest, installer: Installer, local: set[str], reporter: Reporter
) -> InstalledProject:
    environment, prefix = request.environment, request.environment.prefix
    root = p.project.root.resolve()
    fingerprint = _fingerprint(p, request)
    previous = develop_record(prefix, root)
    if previous is not None and _unchanged(prefix, previous, fingerprint):
        record = previous
        files = len(record.files)
        return InstalledProject(
            record.name, record.version, record.build, root, request.editable, record.file(prefix), files, True
        )

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
            # Local projects are satisfied by each other, built earlier in this run, not from channels.
            specs = [s for s in runtime if spec_name(s) not in local]
            install(specs, "Requires-Dist of the metadata the backend prepared")

    backend = Backend(p.project, environment.interpreter, prefix, echo=reporter.output)
    with tempfile.TemporaryDirectory(prefix="conda-source-develop-") as out:
        built = build(
            backend,
            Path(out),
            editable=request.editable,
            install=install_build_requirements,
            before_build=install_runtime,
            phase=reporter.phase,
        )
        for script in backend.activation.scripts:
            reporter.output(f"conda-source: the build ran in the environment activated by {script}\n")
        with reporter.phase(f"{root.name}: staging the wheel in the environment"):
            staging = prefix_install.stage(built.wheel, environment, root, request.editable)
    metadata = built.metadata
    conda_name = p.conda_name if p.project.name else p.mapper.conda_name(metadata.name) or identity_name(metadata.name)

    version = conda_version(metadata.version)
    depends = list(dict.fromkeys([python_pin(p.target), *runtime, *p.conda_depends]))
    owners = conda_meta.owners(prefix, {previous.name} if previous else set())
    prefix_install.check_ownership(conda_name, list(staging.files), owners, request.force)

    leftovers = prefix_install.pip_leftovers(prefix, staging, canonicalize_name(metadata.name), owners)
    build_string = _build_string(version, depends, staging.entry_points, request.editable, root)
    paths = tuple(
        PathEntry(path, hashlib.sha256(f.data).hexdigest(), len(f.data)) for path, f in sorted(staging.files.items())
    )
    record = Record(
        conda_name, version, build_string, DEVELOP_CHANNEL, environment.subdir, tuple(depends),
        tuple(sorted(staging.files)), paths, str(root),
    )  # fmt: skip
    record_relative = record.relative_file()
    state_relative = conda_meta.state_path(prefix, conda_name).relative_to(prefix).as_posix()
    replaced = [*leftovers, *(f for f in staging.files if (prefix / f).exists()), state_relative]
    unlinked: tuple[str, ...] = ()
    if previous is not None:
        replaced += [*previous.files, previous.relative_file()]
        unlinked = (f"{DEVELOP_CHANNEL}::{previous.dist}",)

    journal = Journal(prefix)
    recording = reporter.phase(f"{root.name}: writing {len(staging.files)} files and the conda-meta record")
    try:
        recording.__enter__()
        journal.begin(replaced, [*staging.files, state_relative, record_relative], record_relative, True)
        for index, (path, staged) in enumerate(sorted(staging.files.items())):
            prefix_install.write_file(prefix / path, staged)
            if index == len(staging.files) // 2:
                fault("mid-files")
        state = DevelopState(
            str(root), fingerprint, request.editable, build_files_digest(root), tuple(p.extras), tuple(p.groups)
        )
        conda_meta.write_state(prefix, conda_name, state)
        fault("before-record")
        record_file = conda_meta.write_record(prefix, record)  # the record last: it marks the install complete
    except BaseException as exc:
        journal.recover()  # an error or Ctrl-C here: back to how it was, at once
        recording.__exit__(type(exc), exc, exc.__traceback__)
        if isinstance(exc, OSError):
            where = exc.filename2 or exc.filename or prefix  # a rename names its target second
            raise TargetError(
                f"{where}: cannot write into the environment ({exc.strerror or exc}); nothing was changed; "
                "fix the permissions or free space, then run again"
            ) from None
        raise
    recording.__exit__(None, None, None)
    fault("before-commit")
    journal.commit()
    prefix_install.prune_empty_dirs(prefix, replaced)
    requirements = {"build": list(dict.fromkeys(build_requirements)), "run": list(dict.fromkeys(runtime))}
    linked = (f"{DEVELOP_CHANNEL}::{record.dist}",)
    conda_meta.append_history(prefix, request.command, linked, (conda_name,), unlinked, requirements)
    return InstalledProject(conda_name, version, build_string, root, request.editable, record_file, len(staging.files))


def _build_string(version: str, depends: list[str], entry_points: Sequence[object], editable: bool, root: Path) -> str:
    """Changes when the version, dependencies, entry points, editable flag or source path change."""
    material = [version, depends, sorted(str(e) for e in entry_points), editable, str(root)]
    return f"{'editable' if editable else 'develop'}_h{hashlib.sha256(json.dumps(material).encode()).hexdigest()[:8]}_0"


def develop_record(prefix: Path, root: Path) -> Record | None:
    """The develop install whose source is ``root``, if any."""
    for record, state in conda_meta.develop_installs(prefix):
        if state is not None and state.source == str(root):
            return record
    return None


def _unchanged(prefix: Path, previous: Record, fingerprint: str) -> bool:
    """Same source, same settings, and every file still exactly as installed."""
    state = conda_meta.read_state(prefix, previous.name)
    if state is None or state.fingerprint != fingerprint:
        return False
    for entry in previous.paths:
        path = prefix / entry.path
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry.sha256:
            return False
    return True
