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
   (``backend.build``), installing what it adds, then stage the wheel in memory.
   Every project is built before any is written (but one whose build needs another
   project of the run, which is written first).
5. Write each project's files, state and conda-meta record (last) under a journal of its
   own, with a history entry; the journals of the run stay open and are committed at one
   point (``journal.Group``).  Whatever fails, every project is put back as it was (a
   reinstall's older install, a replaced channel package, files kept under --force), the
   last first, and the packages this run linked are unlinked again: the environment ends
   as it was.
"""

from __future__ import annotations

import dataclasses
import graphlib
import os
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from conda_source.backend.sequence import Backend, ask_before
from conda_source.engine.develop_project import (
    build_project,
    install_built,
    is_unchanged,
    project_fingerprint,
    read_files_of,
    static_metadata,
    unchanged_project,
)
from conda_source.engine.develop_types import DevelopRequest, DevelopResult, InstalledProject, Prepared, Ready
from conda_source.engine.origins import explained
from conda_source.engine.plan import Plan, PlanRequest, plan
from conda_source.errors import CondaSourceError, TargetError
from conda_source.installer.installer import (
    Installer,
    RattlerInstaller,
    Snapshot,
    SolveError,
    Transaction,
    installed,
    record_files,
)
from conda_source.mapping.requirements import map_requirements
from conda_source.meta import conda_meta
from conda_source.meta.conda_meta import DEVELOP_CHANNEL, develop_record
from conda_source.meta.journal import Group
from conda_source.prefix import pip_protection, prefix_change
from conda_source.prefix.replacement import replacing
from conda_source.reporting import LINKING, SOLVING, Change, Reporter, Silent
from conda_source.specs import spec_name
from conda_source.target import Environment

__all__ = ["DevelopRequest", "DevelopResult", "InstalledProject", "develop_install", "develop_record"]


def develop_install(
    request: DevelopRequest, installer: Installer | None = None, reporter: Reporter | None = None
) -> DevelopResult:
    prefix = checked_prefix(request.environment, request.allow_base)
    installer = installer or RattlerInstaller(request.environment, request.channels, command=request.command)
    reporter = reporter or Silent()
    with conda_meta.prefix_lock(prefix):
        recovered = prefix_change.recover(prefix, installer, request.command) if not request.dry_run else None
        plans = tuple(
            plan(PlanRequest(p, request.environment, request.extras, request.groups, request.overrides))
            for p in request.paths
        )
        by_name = {p.conda_name: p for p in plans}
        changes = tuple(_change(p, request) for p in plans)
        asked: list[tuple[str, str]] = []  # (spec, who asked): what the backend added
        prepared: dict[Path, Prepared] = {}  # by project root: the backends asked, which the builds reuse
        try:
            if not request.only_deps:
                for p, change in zip(plans, changes, strict=True):
                    if change.action != "unchanged":
                        pairs, ready = _asked_before(p, request, reporter, set(by_name))
                        asked += pairs
                        if ready is not None:
                            prepared[p.project.root.resolve()] = ready
            return _solve_and_install(request, installer, reporter, plans, changes, asked, prepared, recovered)
        finally:
            for ready in prepared.values():  # those no build took over (dry run, "no", an error)
                ready.close()


def _solve_and_install(
    request: DevelopRequest,
    installer: Installer,
    reporter: Reporter,
    plans: tuple[Plan, ...],
    changes: tuple[Change, ...],
    asked: list[tuple[str, str]],
    prepared: dict[Path, Prepared],
    recovered: str | None,
) -> DevelopResult:
    prefix = request.environment.prefix
    by_name = {p.conda_name: p for p in plans}
    # --no-deps skips runtime dependencies, as pip does; the build still needs its requirements.
    items = (item for p in plans for item in (p.build if not request.deps else (*p.build, *p.run)))
    wanted = [s for item in items for s in item.specs]
    specs = list(dict.fromkeys(s for s in [*wanted, *(spec for spec, _ in asked)] if spec_name(s) not in by_name))
    try:
        with reporter.phase(SOLVING):
            transaction = installer.install(specs, dry_run=True)
    except SolveError as exc:
        raise explained(exc, plans, asked) from None
    shown = () if request.only_deps else changes
    replaces = replacing(prefix, by_name) if request.dry_run else ()
    result = DevelopResult(
        plans, transaction, dry_run=request.dry_run, recovered=recovered, changes=shown, prefix=prefix,
        replacing=replaces,
    )  # fmt: skip
    if request.dry_run:
        return result
    unchanged = {c.source for c in shown if c.action == "unchanged"}
    nothing = not transaction.link and not transaction.unlink and len(unchanged) == len(shown)
    if nothing:  # a no-op re-run: no question, no snapshot, no transaction
        protected = _protect(request)
        if request.only_deps:
            return dataclasses.replace(result, protected=protected)
        projects = tuple(unchanged_project(by_name[name], request) for name in _build_order(by_name))
        return DevelopResult(
            plans, transaction, projects, recovered=recovered, changes=shown, prefix=prefix, protected=protected
        )
    if not reporter.confirm(shown, transaction.link, transaction.unlink):
        return DevelopResult(plans, transaction, recovered=recovered, changes=shown, declined=True, prefix=prefix)
    snapshot = installer.snapshot()
    group = Group(prefix)
    try:
        with reporter.phase(LINKING):
            installer.install(specs)
        if request.only_deps:
            return result
        projects = _install_projects(by_name, unchanged, request, installer, reporter, prepared, group, snapshot)
        group.mark_done()  # the commit point of every project of the run
    except BaseException:
        try:
            group.rollback()  # every project of the run back as it was, the last first
        finally:
            installer.restore(snapshot)  # and every package this run linked goes again: all or nothing
        raise
    prefix_change.finish(group)
    protected = _protect(request)
    return DevelopResult(
        plans,
        _whole_transaction(transaction, snapshot.records, record_files(prefix), projects),
        projects,
        recovered=recovered,
        changes=tuple(_named(c, projects) for c in shown),
        prefix=prefix,
        protected=protected,
    )


def _protect(request: DevelopRequest) -> str | None:
    """Write EXTERNALLY-MANAGED when asked, once the install is whole (a write refused then undoes nothing)."""
    try:
        protected = pip_protection.protect(request.environment) if request.protect_env else None
    except OSError as exc:
        raise TargetError(
            f"{exc.filename or request.environment.prefix}: {exc.strerror or exc}; the develop install is done, but "
            "the environment is not protected from pip: check that path (permissions, free space, file system) and "
            "run the command again (it writes only the protection)"
        ) from exc
    return str(protected) if protected else None


def _whole_transaction(
    first: Transaction, before: frozenset[str], after: frozenset[str], projects: tuple[InstalledProject, ...]
) -> Transaction:
    """The run's dependency changes as they ended: the first transaction's, and what the builds added
    (what the backends asked for, runtime dependencies only their metadata named)."""
    ours = {f"{p.name}-{p.version}-{p.build}" for p in projects}
    listed = {dist.rpartition("::")[2] for dist in first.link}
    added = sorted(f.removesuffix(".json") for f in after - before)
    later = [dist for dist in added if dist not in listed and dist not in ours]
    return Transaction(first.specs, (*first.link, *later), first.unlink)


def _named(change: Change, projects: tuple[InstalledProject, ...]) -> Change:
    """A change whose project's name and version only the backend knew (no [project] table), named now."""
    if change.name and change.version:
        return change
    built = next((p for p in projects if p.source == change.source), None)
    return dataclasses.replace(change, name=built.name, version=built.version) if built else change


def _install_projects(
    by_name: dict[str, Plan],
    unchanged: set[Path],
    request: DevelopRequest,
    installer: Installer,
    reporter: Reporter,
    prepared: dict[Path, Prepared],
    group: Group,
    snapshot: Snapshot,
) -> tuple[InstalledProject, ...]:
    """Every project's backend runs before any project is written, so a failing build changes no project;
    then each is written as a change of ``group``.  A project whose build requirements name another
    project of the run is built once that one is written (still undone with the group); its build may
    link packages, so ``snapshot`` takes the directories first (not the ones the writes create)."""
    order = _build_order(by_name)
    done: dict[str, InstalledProject] = {}
    ready: list[tuple[str, Ready]] = []

    def write_ready() -> None:
        for name, built in ready:
            done[name] = install_built(built, request, reporter, group)
        ready.clear()

    for name in order:
        p = by_name[name]
        root = p.project.root.resolve()
        if root in unchanged:
            done[name] = unchanged_project(p, request)
            continue
        if _build_needs(p, by_name) & {pending for pending, _ in ready}:
            snapshot.take_directories(request.environment.prefix)
            write_ready()
        ready.append((name, build_project(p, request, installer, set(by_name), reporter, prepared.pop(root, None))))
    write_ready()
    return tuple(done[name] for name in order)


def _change(p: Plan, request: DevelopRequest) -> Change:
    """What this run does to the project at ``p``: install, reinstall, replace a channel package, or nothing."""
    prefix = request.environment.prefix
    root = p.project.root.resolve()
    name = p.conda_name if p.project.name else ""
    version = str(Version(p.project.version)) if p.project.version else ""
    previous = develop_record(prefix, root)
    if previous is not None:
        read_files = read_files_of(prefix, previous)
        if is_unchanged(prefix, previous, project_fingerprint(p, request, previous.files, prefix, None, read_files)):
            return Change(root, "unchanged", previous.name, previous.version, request.editable)
        replaced = f"{DEVELOP_CHANNEL}::{previous.dist}"
        return Change(root, "reinstall", previous.name, version, request.editable, replaced)
    installed_record = conda_meta.records(prefix).get(name) if name else None
    if installed_record is not None and not installed_record.is_develop:
        replaced = f"{installed_record.channel}::{installed_record.dist}"
        return Change(root, "replace", name, version, request.editable, replaced)
    return Change(root, "install", name, version, request.editable)


def _asked_before(
    p: Plan, request: DevelopRequest, reporter: Reporter, local: set[str]
) -> tuple[list[tuple[str, str]], Prepared | None]:
    """What the backend adds (build requirements, then Requires-Dist), asked before anything changes,
    as (spec, who asked) pairs; and the backend with its answers, which the build reuses.

    Possible only when the build requirements are installed already (a reinstall, a second project
    with the same backend): otherwise the backend cannot run yet, and what it adds is installed
    later, in a transaction of its own (undone with the rest if anything fails).  A project whose
    pyproject.toml declares its dependencies is not asked for metadata: the plan has them.
    """
    prefix = request.environment.prefix
    if not installed(prefix, [s for item in p.build for s in item.specs]):
        return [], None
    hook = "get_requires_for_build_editable" if request.editable else "get_requires_for_build_wheel"
    backend = Backend(p.project, request.environment.interpreter, prefix, echo=reporter.output)
    mapped: list[str] = []

    def wants_metadata(requirements: list[Requirement]) -> bool:
        mapped.extend(map_requirements(requirements, hook, p.target, p.mapper))
        return request.deps and not static_metadata(p) and installed(prefix, mapped)

    try:
        with reporter.phase(f"{p.project.root.name}: asking the backend (before anything changes)"):
            asked = ask_before(backend, request.editable, wants_metadata)
    except (CondaSourceError, OSError):
        backend.close()
        return [], None  # the build reports it, in its order (after the solve), and the run is undone
    pairs = [(spec, f"requested by the backend's {hook}") for spec in mapped]
    if asked.metadata is not None:
        runtime = map_requirements(asked.metadata.requires_dist or [], "Requires-Dist", p.target, p.mapper, p.extras)
        origin = "Requires-Dist of the metadata the backend prepared"
        pairs += [(s, origin) for s in runtime if spec_name(s) not in local]
    return pairs, Prepared(backend, asked)


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


def _build_needs(p: Plan, by_name: dict[str, Plan]) -> set[str]:
    """The projects of the run that ``p``'s build-system requirements name."""
    return {spec_name(s) for item in p.build for s in item.specs} & set(by_name) - {p.conda_name}


def _build_order(by_name: dict[str, Plan]) -> list[str]:
    """Local projects (by conda name) that need each other, to build or to run, are built dependencies first."""
    needs = {
        name: ({spec_name(s) for item in p.run for s in item.specs} & set(by_name) - {name}) | _build_needs(p, by_name)
        for name, p in by_name.items()
    }
    try:
        return list(graphlib.TopologicalSorter(needs).static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise TargetError(f"the local projects depend on each other in a cycle ({cycle}); break the cycle") from None
