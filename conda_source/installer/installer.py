"""Installing conda packages into a prefix, behind one protocol.

``RattlerInstaller`` uses py-rattler and serves the standalone command, pixi or
micromamba prefixes, and the tests; inside conda, ``cli.conda_installer.CondaInstaller``
(conda's own solver and transaction) takes its place.  Facts it relies on:

* ``rattler.install`` is declarative: anything installed but missing from the
  records it is given is removed.  So it is handed the full desired set, and
  every installed package the solve did not touch is listed as ignored.
* The installed records are *pinned* in the solve: adding build requirements
  never upgrades, downgrades or removes what the user already has.  When that
  is impossible the solve fails and says which spec conflicts, and ``locked_in``
  finds the installed packages it would have had to change (the error names them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import unquote, urlparse

from conda_source.errors import ChannelError, CondaSourceError
from conda_source.installer import satisfied
from conda_source.meta import record_reading
from conda_source.target import Environment

if TYPE_CHECKING:
    from rattler import PrefixRecord

T = TypeVar("T")


class SolveError(CondaSourceError):
    def __init__(
        self, specs: Sequence[str], reason: str, locked: Sequence[str] = (), prefix: Path | None = None
    ) -> None:
        self.specs = tuple(specs)
        self.reason = reason
        self.locked = tuple(locked)  # installed packages ("name version") the solve may not change, in ``prefix``
        self.prefix = prefix
        super().__init__(f"cannot install {', '.join(specs)}: {reason}")


@dataclass(frozen=True)
class Transaction:
    specs: tuple[str, ...]
    link: tuple[str, ...]  # dist strings (name-version-build) that will be added
    unlink: tuple[str, ...] = ()  # dist strings that will be removed (replaced or dropped)


_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$")
_LOCAL = ("file:", "/", "./", "../", "~")


def channel_urls(channels: Sequence[str]) -> tuple[str, ...]:
    """Check each -c channel before anything runs, and give local directories as file:// URLs.

    A local channel (a directory, or a file:// URL) must exist and be indexed; anything else
    must be a channel name (``conda-forge``, ``conda-forge/label/dev``) or an http(s) URL.
    """
    urls = []
    for channel in channels:
        local = channel.startswith(_LOCAL) or Path(channel).is_dir()
        if local:
            path = Path(unquote(urlparse(channel).path)) if channel.startswith("file:") else Path(channel).expanduser()
            if not path.is_dir():
                raise ChannelError(channel, f"no such directory ({path}); give an existing local channel")
            if not any(path.glob("*/repodata.json")):
                raise ChannelError(
                    channel,
                    f"{path} is not an indexed channel (no */repodata.json); file packages into it with "
                    "'conda-source build-local --channel-dir', or index it with 'conda index'",
                )
            urls.append(path.absolute().as_uri())
        elif channel.startswith(("http://", "https://")) or _CHANNEL_NAME.match(channel):
            urls.append(channel)
        else:
            raise ChannelError(
                channel, "not a channel name (like conda-forge), an http(s) URL, or a local channel directory"
            )
    return tuple(urls)


class Installer(Protocol):
    def install(self, specs: Sequence[str], *, dry_run: bool = False) -> Transaction:
        """Make ``specs`` installed, in one transaction, changing nothing else."""
        ...

    def snapshot(self) -> Snapshot:
        """What is installed now, for ``restore``; it takes its directories right before this installer
        next links or unlinks anything (``take_directories``)."""
        ...

    def restore(self, snapshot: Snapshot) -> tuple[str, ...]:
        """Remove every package installed since ``snapshot`` (in one transaction); returns their dists."""
        ...


@dataclass
class Snapshot:
    """What is installed at one point, for ``restore``: the records, and every directory outside conda-meta
    (unlinking prunes the empty ones, and those that existed are put back).  Walking a whole prefix is
    slow, so the directories are taken only when a change may follow that an unlink could meet: by the
    installer right before it links or unlinks anything, or by a run right before a change of its own
    that a link may follow.  Never taken: nothing was linked, nothing to put back."""

    records: frozenset[str]  # conda-meta/*.json
    directories: frozenset[str] | None = None  # None until taken

    @classmethod
    def of(cls, prefix: Path) -> Snapshot:
        return cls(record_files(prefix))

    def take_directories(self, prefix: Path) -> None:
        """Remember the directories as they are now, unless taken already (the first change since counts)."""
        if self.directories is not None:
            return
        directories = []
        for root, names, _ in os.walk(prefix):
            if Path(root) == prefix and "conda-meta" in names:
                names.remove("conda-meta")  # conda-source's own state lives there: not walked
            directories += [(Path(root) / name).relative_to(prefix).as_posix() for name in names]
        self.directories = frozenset(directories)

    def put_back_directories(self, prefix: Path) -> None:
        """Directories that existed before and went with the packages unlinked since (emptied, then pruned)."""
        for directory in sorted(self.directories or ()):
            (prefix / directory).mkdir(parents=True, exist_ok=True)


def before_change(snapshots: list[Snapshot], prefix: Path) -> None:
    """Right before an installer links or unlinks: each snapshot it gave out takes its directories (once)."""
    for snapshot in snapshots:
        snapshot.take_directories(prefix)
    snapshots.clear()


def record_files(prefix: Path) -> frozenset[str]:
    return frozenset(path.name for path in (prefix / "conda-meta").glob("*.json"))


def installed(prefix: Path, specs: Sequence[str]) -> bool:
    """Whether an installed package matches each spec (nothing to solve for them); see ``satisfied``."""
    return satisfied.check(prefix, specs)


class RattlerInstaller:
    def __init__(
        self, environment: Environment, channels: Sequence[str], cache_dir: Path | None = None, command: str = ""
    ) -> None:
        self.prefix = environment.prefix
        self.subdir = environment.subdir
        self.channels = channel_urls(channels)
        self.cache_dir = cache_dir
        self.command = command
        self.snapshots: list[Snapshot] = []  # given out, their directories not taken yet

    def install(self, specs: Sequence[str], *, dry_run: bool = False) -> Transaction:
        if not specs or satisfied.remembered(self.prefix, specs):
            return Transaction(tuple(specs), ())  # nothing to solve, and py-rattler not even imported

        from rattler import Channel, Gateway, RepoDataRecord, VirtualPackage, install, solve

        from conda_source.installer._rattler import no_new_cache_tag, settle_at_exit, subdir

        files = sorted((self.prefix / "conda-meta").glob("*.json"))
        installed = record_reading.prefix_records(files)
        installed_names = {r.name.normalized for r in installed}
        if satisfied.matching(self.prefix, specs, list(zip(files, installed, strict=True))) is not None:
            return Transaction(tuple(specs), ())  # nothing to solve
        if not self.channels:
            raise SolveError(specs, "no channels to install from; pass -c CHANNEL")

        async def run_solve() -> list[RepoDataRecord]:
            return await solve(
                sources=[Channel(c) for c in self.channels],
                specs=list(specs),
                # A gateway of its own: py-rattler 0.26 shares one default gateway per process, whose
                # in-memory repodata would hide packages filed into a local channel since the last solve.
                gateway=Gateway(),
                platforms=[subdir(self.subdir), subdir("noarch")],
                locked_packages=installed,
                pinned_packages=installed,
                virtual_packages=[v.into_generic() for v in VirtualPackage.detect()],
            )

        settle_at_exit()
        try:
            solved = _run(run_solve())
        except Exception as exc:  # rattler's solver and gateway errors
            reason = str(exc).strip()
            raise SolveError(specs, reason, locked_in(reason, installed), self.prefix) from exc
        new = [r for r in solved if r.name.normalized not in installed_names]
        link = tuple(sorted(f"{r.name.normalized}-{r.version}-{r.build}" for r in new))
        transaction = Transaction(tuple(specs), link)
        if dry_run or not new:
            return transaction
        solved_names = {r.name.normalized for r in solved}
        untouched = [r for r in installed if r.name.normalized not in solved_names]
        # Installed records are pinned, so none of them changes: all are left alone,
        # including the ones the solve returned (rattler would rewrite their records).

        async def run_install() -> None:
            await install(
                [*solved, *untouched],
                self.prefix,
                cache_dir=self.cache_dir,
                installed_packages=installed,
                ignored_packages=installed_names,
                show_progress=False,
            )

        before_change(self.snapshots, self.prefix)
        records_before = record_reading.snapshot_records(self.prefix)
        try:
            with no_new_cache_tag(self.prefix):
                _run(run_install())
        except Exception as exc:
            raise SolveError(specs, f"installing failed: {str(exc).strip()}") from exc
        # rattler rewrites the records of packages it was handed but left alone, dropping
        # conda's requested_spec; they are pinned and unchanged, so their records are restored.
        record_reading.restore_records(records_before)
        channel_dists = sorted(f"{str(r.channel).rstrip('/')}::{r.name.normalized}-{r.version}-{r.build}" for r in new)
        # Requirements of a project, never what the user asked for: no "update specs" for conda to read.
        from conda_source.meta import history

        history.append_history(self.prefix, self.command, channel_dists, (), requirements={"": specs})
        return transaction

    def snapshot(self) -> Snapshot:
        self.snapshots.append(Snapshot.of(self.prefix))
        return self.snapshots[-1]

    def restore(self, snapshot: Snapshot) -> tuple[str, ...]:
        """rattler.install is declarative: hand it what was there (left alone), and the rest goes."""
        from rattler import RepoDataRecord, install

        from conda_source.installer._rattler import no_new_cache_tag, settle_at_exit

        paths = sorted((self.prefix / "conda-meta").glob("*.json"))
        now = record_reading.prefix_records(paths)
        kept: list[RepoDataRecord] = [r for p, r in zip(paths, now, strict=True) if p.name in snapshot.records]
        added = [r for p, r in zip(paths, now, strict=True) if p.name not in snapshot.records]
        if not added:
            return ()
        settle_at_exit()

        async def run_remove() -> None:
            await install(
                kept,
                self.prefix,
                cache_dir=self.cache_dir,
                installed_packages=now,
                ignored_packages={r.name.normalized for r in kept},
                show_progress=False,
            )

        try:
            with no_new_cache_tag(self.prefix):
                _run(run_remove())
        except Exception as exc:
            names = ", ".join(sorted(r.name.normalized for r in added))
            raise SolveError(
                [r.name.normalized for r in added],
                f"could not remove what this run installed ({names}): {str(exc).strip()}; remove them with "
                f"'conda remove -p {self.prefix} {' '.join(sorted(r.name.normalized for r in added))}'",
            ) from exc
        snapshot.put_back_directories(self.prefix)
        dists = tuple(sorted(f"{str(r.channel).rstrip('/')}::{r.name.normalized}-{r.version}-{r.build}" for r in added))
        from conda_source.meta import history

        history.append_history(self.prefix, f"{self.command} (undone)", (), (), unlinked=dists)
        return dists


_LOCKED = re.compile(r"'?([A-Za-z0-9_.-]+)(?: [^\s']+)?'? is locked")  # rattler: "flit-core 4.2.0 is locked, but..."


def locked_in(reason: str, installed: Sequence[PrefixRecord]) -> tuple[str, ...]:
    """The installed packages ("name version") that a failed solve's reason says are locked: the solve
    needed them changed, and installed records are never changed here."""
    versions = {record.name.normalized: str(record.version) for record in installed}
    said = dict.fromkeys(match[1] for match in _LOCKED.finditer(reason))
    return tuple(f"{name} {versions[name]}" for name in said if name in versions)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one of py-rattler's coroutines (asyncio is imported only when something is solved or linked)."""
    import asyncio

    return asyncio.run(coroutine)
