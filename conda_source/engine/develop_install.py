"""develop-install: a checkout into a conda environment, editable by default, recorded for conda.

1. Check the target (probed by the caller): never the base environment unless
   allowed; take the prefix lock so two runs cannot interleave.
2. Plan every path, then install all mapped build and runtime requirements in
   one transaction (local projects do not ask the channels for each other).
3. For each project, unless nothing changed since its last install: ask the
   backend for extra build requirements and its metadata (dynamic version and
   dependencies become exact and are installed too), then ``build_editable``
   (PEP 660), or ``build_wheel`` with ``editable=False``.
4. Stage the wheel with pypa/installer in the prefix's probed scheme, refuse to
   overwrite files other conda packages own, then write the files.
5. Write the conda-meta record last (conda lists the project once: the record
   depends on python and claims the dist-info RECORD), and a history entry.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import graphlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import installer as pypa_installer
from installer.sources import WheelFile
from packaging.metadata import Metadata
from packaging.utils import canonicalize_name

from conda_source import __version__, conda_meta
from conda_source.artifact.layout import Layout
from conda_source.artifact.staging import StagedFile, StagingDestination
from conda_source.backend import Backend
from conda_source.engine.plan import Plan, PlanRequest, build_mapper, plan
from conda_source.errors import CondaSourceError, TargetError
from conda_source.health import DEVELOP_CHANNEL, SOURCE_FILES, sources_digest
from conda_source.installer import Installer, RattlerInstaller, SolveError, Transaction
from conda_source.journal import Journal, fault
from conda_source.mapping.names import NameMapper, identity_name
from conda_source.mapping.requirements import map_requirement
from conda_source.mapping.versions import conda_version
from conda_source.target import TargetEnv, python_in


class ClobberError(CondaSourceError):
    def __init__(self, project: str, path: str, owner: str) -> None:
        self.path = path
        self.owner = owner
        super().__init__(
            f"{project}: would overwrite {path}, which belongs to the conda package '{owner}'; "
            "remove that package, or pass --force to overwrite it"
        )


@dataclass(frozen=True)
class DevelopRequest:
    paths: tuple[Path, ...]
    target: TargetEnv
    channels: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    editable: bool = True
    deps: bool = True
    only_deps: bool = False
    dry_run: bool = False
    force: bool = False
    allow_base: bool = False
    mapping_flags: tuple[str, ...] = ()
    user_mapping: bool = True
    command: str = ""
    config_mapping: tuple[str, ...] = ()  # PYPI=SPEC from conda's plugins.conda_source_mapping


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

    def to_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "plans": [p.to_dict() for p in self.plans],
            "link": list(self.transaction.link) if self.transaction else [],
            "projects": [p.to_dict() for p in self.projects],
            "removed": list(self.removed),
            "left_behind": list(self.left_behind),
            "recovered": self.recovered,
        }


def develop_install(request: DevelopRequest, installer: Installer | None = None) -> DevelopResult:
    prefix = _checked_prefix(request.target, request.allow_base)
    installer = installer or RattlerInstaller(request.target, request.channels, command=request.command)
    with prefix_lock(prefix):
        recovered = Journal(prefix).recover() if not request.dry_run else None
        plans = tuple(
            plan(
                PlanRequest(
                    p,
                    request.target,
                    request.extras,
                    request.groups,
                    request.mapping_flags,
                    request.user_mapping,
                    request.config_mapping,
                )
            )
            for p in request.paths
        )
        by_name = {_conda_name(p, request): p for p in plans}
        local = set(by_name)
        # --no-deps skips runtime dependencies, as pip does; the build still needs its requirements.
        wanted = (
            s for p in plans for item in (p.build if not request.deps else (*p.build, *p.run)) for s in item.specs
        )
        specs = list(dict.fromkeys(s for s in wanted if s.split(" ", 1)[0] not in local))
        try:
            transaction = installer.install(specs, dry_run=request.dry_run)
        except SolveError as exc:
            raise SolveError(exc.specs, _with_origins(exc, plans)) from exc
        if request.dry_run or request.only_deps:
            return DevelopResult(plans, transaction, dry_run=request.dry_run, recovered=recovered)
        projects = tuple(
            _install_project(name, by_name[name], request, installer, local) for name in _build_order(by_name)
        )
    return DevelopResult(plans, transaction, projects, recovered=recovered)


def develop_uninstall(target: TargetEnv, paths: Sequence[Path], command: str = "") -> DevelopResult:
    """Remove develop installs (found by their source paths): every file, the record, the state."""
    prefix = _checked_prefix(target, allow_base=True)
    removed, left = [], []
    with prefix_lock(prefix):
        Journal(prefix).recover()
        installed = conda_meta.records(prefix)
        for path in paths:
            name, record = _record_for_source(prefix, installed, path.resolve())
            record_relative = conda_meta.record_path(prefix, record).relative_to(prefix).as_posix()
            state_relative = conda_meta.state_path(prefix, name).relative_to(prefix).as_posix()
            journal = Journal(prefix)
            # The record is moved last: its absence then means every file is gone.
            moved = [*record.get("files", []), state_relative, record_relative]
            journal.begin(moved, [], record_relative, done_if_exists=False)
            journal.commit()
            _prune_empty_dirs(prefix, record.get("files", []))
            del installed[name]
            dist = f"{DEVELOP_CHANNEL}::{name}-{record['version']}-{record['build']}"
            conda_meta.append_history(prefix, command, (), (), unlinked=(dist,))
            removed.append(dist)
            left += _only_needed_by(record, installed)
    return DevelopResult((), None, removed=tuple(removed), left_behind=tuple(sorted(set(left))))


@contextlib.contextmanager
def prefix_lock(prefix: Path) -> Iterator[None]:
    """One conda-source run per prefix at a time; a second run waits for the first.

    The lock is taken on the conda-meta directory itself, so locking creates nothing.
    """
    descriptor = os.open(prefix / "conda-meta", os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _checked_prefix(target: TargetEnv, allow_base: bool) -> Path:
    prefix = target.prefix
    if prefix is None:
        raise TargetError("develop-install needs an environment: pass -p PREFIX or -n NAME, or activate one")
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


def _conda_name(p: Plan, request: DevelopRequest) -> str:
    """The project's own conda name, through the same mapping layers as its dependencies."""
    name = p.project.name or p.project.root.name
    mapper = build_mapper(request.mapping_flags, p.project, request.user_mapping, request.config_mapping)
    specs = mapper.map_name(name).specs
    return specs[0].split(" ", 1)[0] if specs else identity_name(name)


def _fingerprint(p: Plan, request: DevelopRequest) -> str:
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [__version__, str(p.project.root.resolve()), request.editable, list(p.extras), list(p.groups)]
        ).encode()
    )
    for name in SOURCE_FILES:
        path = p.project.root / name
        if path.is_file():
            digest.update(name.encode() + path.read_bytes())
    return digest.hexdigest()


def _with_origins(error: SolveError, plans: Sequence[Plan]) -> str:
    """The solver's reason, plus the PyPI requirement each spec it names came from."""
    reason = str(error).split(": ", 1)[1]
    lines = [
        f"  {spec}  <-  {item.requirement}  ({p.project.file}: {item.origin})"
        for p in plans
        for item in (*p.build, *p.run)
        for spec in item.specs
        if spec.split(" ", 1)[0] in reason
    ]
    return reason + ("\nthe specs come from:\n" + "\n".join(dict.fromkeys(lines)) if lines else "")


def _build_order(by_name: dict[str, Plan]) -> list[str]:
    """Local projects (by conda name) that need each other are built dependencies first."""
    needs = {
        name: {s.split(" ", 1)[0] for item in p.run for s in item.specs} & set(by_name) - {name}
        for name, p in by_name.items()
    }
    try:
        return list(graphlib.TopologicalSorter(needs).static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise TargetError(f"the local projects depend on each other in a cycle ({cycle}); break the cycle") from None


def _install_project(
    conda_name: str, p: Plan, request: DevelopRequest, installer: Installer, local: set[str]
) -> InstalledProject:
    target, prefix = request.target, request.target.prefix
    assert prefix is not None
    root = p.project.root.resolve()
    fingerprint = _fingerprint(p, request)
    installed = conda_meta.records(prefix)
    previous = _previous(prefix, installed, root)
    if previous is not None and _unchanged(prefix, previous, fingerprint):
        name, record = previous
        record_file = conda_meta.record_path(prefix, record)
        files = len(record["files"])
        return InstalledProject(
            name, record["version"], record["build"], root, request.editable, record_file, files, True
        )

    mapper = build_mapper(request.mapping_flags, p.project, request.user_mapping, request.config_mapping)
    python = python_in(prefix)
    backend = Backend(p.project, python, prefix)
    extra = backend.get_requires_for_build_editable() if request.editable else backend.get_requires_for_build_wheel()
    installer.install(_mapped(extra, target, mapper, "get_requires_for_build"))
    with tempfile.TemporaryDirectory(prefix="conda-source-develop-") as scratch:
        metadata_dir = backend.prepare_metadata(Path(scratch, "metadata"), request.editable)
        metadata = Metadata.from_email((metadata_dir / "METADATA").read_text(encoding="utf-8"), validate=False)
        runtime = _mapped([str(r) for r in metadata.requires_dist or []], target, mapper, "Requires-Dist", p.extras)
        if request.deps:
            # Local projects are satisfied by each other, built earlier in this run, not from channels.
            installer.install([s for s in runtime if s.split(" ", 1)[0] not in local])
        out = Path(scratch, "wheel")
        out.mkdir()
        wheel = backend.build_editable(out, metadata_dir) if request.editable else backend.build_wheel(out)
        staging = _stage(wheel, root, prefix, target, python, request.editable)

    version = conda_version(metadata.version)
    conda_only = [spec for spec, _ in p.project.conda.dependencies]
    depends = list(dict.fromkeys([*_python_spec(target), *runtime, *conda_only]))
    exclude = {previous[0]} if previous else set()
    owners = conda_meta.owners(prefix, exclude)
    for path in sorted(staging.files):
        if path in owners and not request.force:
            raise ClobberError(conda_name, path, owners[path])

    foreign = _foreign_install(prefix, staging, p.project.canonical_name or "", owners)
    build = _build_string(version, depends, staging, request.editable, root)
    record = _record(conda_name, version, build, depends, staging.files, target, root)
    record_relative = conda_meta.record_path(prefix, record).relative_to(prefix).as_posix()
    state_relative = conda_meta.state_path(prefix, conda_name).relative_to(prefix).as_posix()
    replaced = [*foreign, *(f for f in staging.files if (prefix / f).exists()), state_relative]
    unlinked: tuple[str, ...] = ()
    if previous is not None:
        old_name, old = previous
        replaced += [*old.get("files", []), conda_meta.record_path(prefix, old).relative_to(prefix).as_posix()]
        unlinked = (f"{DEVELOP_CHANNEL}::{old_name}-{old['version']}-{old['build']}",)

    journal = Journal(prefix)
    journal.begin(replaced, [*staging.files, state_relative, record_relative], record_relative, done_if_exists=True)
    try:
        for index, (path, staged) in enumerate(sorted(staging.files.items())):
            _write_file(prefix / path, staged)
            if index == len(staging.files) // 2:
                fault("mid-files")
        state = {
            "source": str(root),
            "fingerprint": fingerprint,
            "editable": request.editable,
            "sources": sources_digest(root),
        }
        conda_meta.write_state(prefix, conda_name, state)
        fault("before-record")
        record_file = conda_meta.write_record(prefix, record)  # the record last: it marks the install complete
    except BaseException:
        journal.recover()  # an error or Ctrl-C here: back to how it was, at once
        raise
    fault("before-commit")
    journal.commit()
    _prune_empty_dirs(prefix, replaced)
    linked = (f"{DEVELOP_CHANNEL}::{conda_name}-{version}-{build}",)
    conda_meta.append_history(prefix, request.command, linked, (conda_name,), unlinked)
    return InstalledProject(conda_name, version, build, root, request.editable, record_file, len(staging.files))


def _foreign_install(prefix: Path, staging: StagingDestination, name: str, owners: dict[str, str]) -> list[str]:
    """Files of an earlier non-conda install of this project (``pip install -e .``), to take over.

    Left in place, conda would list the project twice: once from our record, once as pypi.
    """
    site = staging.layout.dirs["purelib"]
    found: list[str] = []
    for dist_info in sorted((prefix / site).glob("*.dist-info")):
        record_txt = f"{site}/{dist_info.name}/RECORD"
        dist_name = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        if record_txt in owners or record_txt in staging.files or canonicalize_name(dist_name) != name:
            continue
        rows = (
            (dist_info / "RECORD").read_text(encoding="utf-8").splitlines() if (dist_info / "RECORD").is_file() else []
        )
        for row in csv.reader(rows):
            path = (prefix / site / row[0]).resolve() if row else None
            if path is not None and path.is_relative_to(prefix.resolve()):
                relative = path.relative_to(prefix.resolve()).as_posix()
                if relative not in owners:
                    found.append(relative)
        found += [f"{site}/{dist_info.name}/{f.name}" for f in dist_info.iterdir() if f.is_file()]
    return list(dict.fromkeys(found))


def _mapped(
    requirements: Sequence[str], target: TargetEnv, mapper: NameMapper, origin: str, extras: Sequence[str] = ()
) -> list[str]:
    from packaging.requirements import Requirement

    specs: list[str] = []
    for index, text in enumerate(requirements):
        for extra in ("", *extras):
            mapped = map_requirement(Requirement(text), f"{origin}[{index}]", target, mapper, extra)
            if mapped.dropped is None:
                specs += [s for s in mapped.specs if s not in specs]
                break
    return specs


def _python_spec(target: TargetEnv) -> list[str]:
    major, minor = target.python.major, target.python.minor
    return [f"python >={major}.{minor},<{major}.{minor + 1}.0a0"]


def _stage(
    wheel: Path, root: Path, prefix: Path, target: TargetEnv, python: Path, editable: bool
) -> StagingDestination:
    layout = Layout.prefix_scheme(prefix, target.paths, python)
    staging = StagingDestination(layout, str(wheel))
    direct_url = {"url": root.as_uri(), "dir_info": {"editable": True} if editable else {}}
    metadata = {"INSTALLER": b"conda-source\n", "direct_url.json": json.dumps(direct_url).encode()}
    with WheelFile.open(wheel) as source:
        pypa_installer.install(source, staging, metadata)
    return staging


def _write_file(path: Path, staged: StagedFile) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".conda-source-partial")
    partial.write_bytes(staged.data)
    if staged.executable:
        partial.chmod(0o755)
    partial.replace(path)


def _prune_empty_dirs(prefix: Path, removed: Sequence[str]) -> None:
    """After files went away: drop their bytecode caches and the directories left empty."""
    for relative in removed:
        path = prefix / relative
        if path.exists():
            continue
        if path.suffix == ".py":
            for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
                cached.unlink(missing_ok=True)
        for directory in (path.parent / "__pycache__", path.parent):
            with contextlib.suppress(OSError):
                if directory != prefix and directory.is_dir() and not any(directory.iterdir()):
                    directory.rmdir()


def _build_string(version: str, depends: list[str], staging: StagingDestination, editable: bool, root: Path) -> str:
    """Changes when the version, dependencies, entry points, editable flag or source path change."""
    material = [version, depends, sorted(str(e) for e in staging.entry_points), editable, str(root)]
    return f"{'editable' if editable else 'develop'}_h{hashlib.sha256(json.dumps(material).encode()).hexdigest()[:8]}_0"


def _record(
    name: str, version: str, build: str, depends: list[str], files: dict[str, StagedFile], target: TargetEnv, root: Path
) -> dict[str, Any]:
    paths = [
        {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(f.data).hexdigest(),
            "size_in_bytes": len(f.data),
        }
        for path, f in sorted(files.items())
    ]
    fn = f"{name}-{version}-{build}.conda"
    return {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "channel": DEVELOP_CHANNEL,
        "subdir": target.subdir,
        "fn": fn,
        "url": f"{root.as_uri()}/{fn}",
        "depends": depends,
        "constrains": [],
        "files": sorted(files),
        "paths_data": {"paths": paths, "paths_version": 1},
        "requested_spec": name,
        "package_type": None,  # a regular package whose files are listed, not a virtual pypi one
        "timestamp": int(time.time() * 1000),
        "link": {"source": str(root), "type": 1},
    }


def _previous(prefix: Path, installed: dict[str, dict[str, Any]], root: Path) -> tuple[str, dict[str, Any]] | None:
    for name, record in installed.items():
        state = conda_meta.read_state(prefix, name)
        if record.get("channel") == DEVELOP_CHANNEL and state and state.get("source") == str(root):
            return name, record
    return None


def _unchanged(prefix: Path, previous: tuple[str, dict[str, Any]], fingerprint: str) -> bool:
    """Same source, same settings, and every file still exactly as installed."""
    name, record = previous
    state = conda_meta.read_state(prefix, name) or {}
    if state.get("fingerprint") != fingerprint:
        return False
    for entry in record.get("paths_data", {}).get("paths", []):
        path = prefix / entry["_path"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            return False
    return True


def _record_for_source(prefix: Path, installed: dict[str, dict[str, Any]], root: Path) -> tuple[str, dict[str, Any]]:
    found = _previous(prefix, installed, root)
    if found is None:
        raise TargetError(f"{root}: not develop-installed in {prefix}; nothing to uninstall")
    return found


def _only_needed_by(record: dict[str, Any], installed: dict[str, dict[str, Any]]) -> list[str]:
    """Dependencies of ``record`` that no remaining package needs (reported, never removed)."""
    wanted = {canonicalize_name(d.split(" ", 1)[0]) for d in record.get("depends", [])} - {"python"}
    needed = {canonicalize_name(d.split(" ", 1)[0]) for r in installed.values() for d in r.get("depends", [])}
    return sorted(name for name in installed if canonicalize_name(name) in wanted - needed)
