"""build-local of several projects in one run: dependency order, waves, parallel builds.

1. Every checkout (and unpacked sdist) is planned; a project that needs another one
   of the run (a build or run requirement naming it) comes after it.  The projects
   fall into waves: each wave only needs earlier waves.  A cycle is an error.
2. The packages go into an output channel (``--channel-dir``, else a temporary one),
   which comes first among the channels, so each project builds against the
   projects built before it, not against a channel's older release.
3. Per wave: one transaction installs every build requirement of the wave; then the
   wave's projects build at once in worker processes (one per core), each with its
   own backend process.  A project whose backend asks for more
   (``get_requires_for_build_wheel``) than is installed waits: after the wave, one
   more transaction installs all of that, and those projects build again.  The
   wave's packages are filed into the output channel, indexed once.
"""

from __future__ import annotations

import dataclasses
import graphlib
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from conda_source.artifact.sdist import unpack_sdist
from conda_source.engine.build_one import BuildLocalResult, BuildRequest, BuildResult, _kind, build_one
from conda_source.engine.plan import Plan, PlanRequest, plan
from conda_source.errors import CondaSourceError, TargetError
from conda_source.installer import satisfied
from conda_source.installer.channel import file_into_channel, index_channel
from conda_source.installer.installer import Installer, RattlerInstaller, Snapshot, Transaction
from conda_source.specs import spec_name


class NeedsInstall(CondaSourceError):
    """A worker's project needs packages that are not installed (its backend asked for them)."""

    def __init__(self, specs: Sequence[str]) -> None:
        self.specs = tuple(specs)
        super().__init__(f"needs {', '.join(specs)} installed first")


@dataclass(frozen=True)
class _Source:
    given: Path  # what the user named
    kind: str  # wheel | sdist | checkout
    path: Path  # what is built: the wheel, the checkout, or the unpacked sdist
    name: str  # the conda name it provides
    plan: Plan | None = None


def build_many(
    sources: Sequence[Path],
    request: BuildRequest,
    installer_for: Callable[[tuple[str, ...]], Installer] | None = None,
) -> BuildLocalResult:
    with tempfile.TemporaryDirectory(prefix="conda-source-build-many-") as scratch:
        items = [_source(s, request, Path(scratch, f"sdist-{i}")) for i, s in enumerate(sources)]
        waves = _waves(items)
        channel = (request.channel_dir or Path(scratch, "channel")).absolute()
        if not (channel / "noarch" / "repodata.json").is_file():
            index_channel(channel)  # the solver needs the channel to exist before anything is in it
        channels = (channel.as_uri(), *request.channels)
        environment = request.environment

        def make_installer() -> Installer:
            if installer_for is not None:
                return installer_for(channels)
            assert environment is not None
            return RattlerInstaller(environment, channels, command=request.command)

        results: dict[Path, BuildResult] = {}
        linked: list[str] = []
        jobs = request.jobs or _cores()
        pool: Executor | None = None
        try:
            for wave in waves:
                specs = list(dict.fromkeys(s for i in wave if i.plan for item in i.plan.build for s in item.specs))
                installer: Installer | None = None
                if specs:
                    installer = make_installer()
                    linked += installer.install(specs).link
                if pool is None and len(wave) > 1 and jobs > 1:
                    context = multiprocessing.get_context("spawn")  # never fork a process running py-rattler's threads
                    pool = ProcessPoolExecutor(max_workers=min(jobs, len(wave)), mp_context=context)
                outcomes = _run_wave(wave, request, pool if len(wave) > 1 else None)
                waiting = [i for i in wave if isinstance(outcomes[i.given], NeedsInstall)]
                if waiting:
                    more = [s for i in waiting for s in outcomes[i.given].specs]  # type: ignore[union-attr]
                    installer = installer or make_installer()
                    linked += installer.install(list(dict.fromkeys(more))).link
                    for item in waiting:  # now in this process, installing what else the backend asks for
                        outcomes[item.given] = _attempt(item, request, installer)
                for item in wave:  # the first failure, in the order the sources were given
                    outcome = outcomes[item.given]
                    if isinstance(outcome, BaseException):
                        raise outcome
                built = {i.given: r for i in wave if isinstance(r := outcomes[i.given], BuildResult)}
                file_into_channel([(p.path, p.identity.subdir) for r in built.values() for p in r.packages], channel)
                results.update(built)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        ordered = tuple(results[s] for s in sources)
        return BuildLocalResult(
            ordered, tuple(tuple(i.given for i in wave) for wave in waves), tuple(linked), request.channel_dir
        )


def _source(given: Path, request: BuildRequest, scratch: Path) -> _Source:
    kind = _kind(given)
    if kind == "wheel":
        try:
            name = parse_wheel_filename(given.name)[0]
        except InvalidWheelFilename:
            name = canonicalize_name(given.name.split("-")[0])
        return _Source(given, kind, given, request.overrides.mapper().conda_name(name) or str(name))
    if request.environment is None:
        raise TargetError("building from source needs a target environment: pass -p PREFIX or activate one")
    root = given if kind == "checkout" else unpack_sdist(given, scratch, request.limits)
    planned = plan(PlanRequest(root, request.environment, overrides=request.overrides))
    return _Source(given, kind, root, planned.conda_name, planned)


def _waves(items: Sequence[_Source]) -> list[list[_Source]]:
    """Items in dependency order, grouped: each group needs only earlier groups."""
    by_name: dict[str, _Source] = {}
    for item in items:
        if item.name in by_name:
            raise TargetError(
                f"{by_name[item.name].given} and {item.given} both build the conda package '{item.name}'; "
                "build them in separate runs"
            )
        by_name[item.name] = item
    graph = graphlib.TopologicalSorter[str]()
    for item in items:
        specs = [s for group in (item.plan.build, item.plan.run) for r in group for s in r.specs] if item.plan else []
        graph.add(item.name, *sorted({spec_name(s) for s in specs} & set(by_name) - {item.name}))
    try:
        graph.prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise TargetError(f"the local projects depend on each other in a cycle ({cycle}); break the cycle") from None
    order = {item.name: index for index, item in enumerate(items)}
    waves = []
    while graph.is_active():
        ready = sorted(graph.get_ready(), key=order.__getitem__)
        waves.append([by_name[name] for name in ready])
        graph.done(*ready)
    return waves


def _run_wave(
    wave: Sequence[_Source], request: BuildRequest, pool: Executor | None
) -> dict[Path, BuildResult | BaseException]:
    if pool is None:
        return {item.given: _attempt(item, request, None) for item in wave}
    futures: dict[Path, Future[BuildResult | BaseException]] = {  # the worker plans again: a Plan stays here
        item.given: pool.submit(_attempt, dataclasses.replace(item, plan=None), request, None) for item in wave
    }
    return {given: future.result() for given, future in futures.items()}


def _attempt(item: _Source, request: BuildRequest, installer: Installer | None) -> BuildResult | BaseException:
    """Build one item (in a worker process, or here); a failure is returned, to be raised in order.

    Without an ``installer`` nothing is installed: what is missing comes back as ``NeedsInstall``.
    """
    single = dataclasses.replace(request, sources=(item.path,), channel_dir=None)
    try:
        result = build_one(item.path, single, installer or _CheckOnly(request))
    except Exception as exc:  # CondaSourceError and anything unforeseen, raised by the parent in order
        return exc
    return dataclasses.replace(result, source=item.given, kind=item.kind, channel=request.channel_dir)


class _CheckOnly:
    """An installer that installs nothing: it answers when everything is installed, else raises NeedsInstall."""

    def __init__(self, request: BuildRequest) -> None:
        self.prefix = request.environment.prefix if request.environment else None

    def install(self, specs: Sequence[str], *, dry_run: bool = False) -> Transaction:
        if self.prefix is not None and not satisfied.check(self.prefix, specs):
            raise NeedsInstall(specs)
        return Transaction(tuple(specs), ())

    def snapshot(self) -> Snapshot:
        return Snapshot(frozenset())

    def restore(self, snapshot: Snapshot) -> tuple[str, ...]:
        return ()  # it never installs anything


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
