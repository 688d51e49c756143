"""Installing conda packages into a prefix, behind one protocol.

``RattlerInstaller`` uses py-rattler and serves the standalone command, pixi or
micromamba prefixes, and the tests; inside conda, ``cli.conda_installer.CondaInstaller``
(conda's own solver and transaction) takes its place.  Facts it relies on:

* ``rattler.install`` is declarative: anything installed but missing from the
  records it is given is removed.  So it is handed the full desired set, and
  every installed package the solve did not touch is listed as ignored.
* The installed records are *pinned* in the solve: adding build requirements
  never upgrades, downgrades or removes what the user already has.  When that
  is impossible the solve fails and says which spec conflicts.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from conda_source import conda_meta, satisfied
from conda_source.errors import ChannelError, CondaSourceError
from conda_source.target import Environment


class SolveError(CondaSourceError):
    def __init__(self, specs: Sequence[str], reason: str) -> None:
        self.specs = tuple(specs)
        self.reason = reason
        super().__init__(f"cannot install {', '.join(specs)}: {reason}")


@dataclass(frozen=True)
class Transaction:
    specs: tuple[str, ...]
    link: tuple[str, ...]  # dist strings (name-version-build) that will be added


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


class RattlerInstaller:
    def __init__(
        self, environment: Environment, channels: Sequence[str], cache_dir: Path | None = None, command: str = ""
    ) -> None:
        self.prefix = environment.prefix
        self.subdir = environment.subdir
        self.channels = channel_urls(channels)
        self.cache_dir = cache_dir
        self.command = command

    def install(self, specs: Sequence[str], *, dry_run: bool = False) -> Transaction:
        if not specs or satisfied.remembered(self.prefix, specs):
            return Transaction(tuple(specs), ())  # nothing to solve, and py-rattler not even imported

        from rattler import Channel, Gateway, MatchSpec, PrefixRecord, RepoDataRecord, VirtualPackage, install, solve

        from conda_source._rattler import subdir

        files = sorted((self.prefix / "conda-meta").glob("*.json"))
        installed = [PrefixRecord.from_path(p) for p in files]
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

        try:
            solved = asyncio.run(run_solve())
        except Exception as exc:  # rattler's solver and gateway errors
            raise SolveError(specs, str(exc).strip()) from exc
        new = [r for r in solved if r.name.normalized not in installed_names]
        link = tuple(sorted(f"{r.name.normalized}-{r.version}-{r.build}" for r in new))
        transaction = Transaction(tuple(specs), link)
        if dry_run or not new:
            return transaction
        solved_names = {r.name.normalized for r in solved}
        untouched = [r for r in installed if r.name.normalized not in solved_names]
        # Installed records are pinned, so none of them changes: all are left alone,
        # including the ones the solve returned (rattler would rewrite their records).
        wrapped = [MatchSpec(s) for s in specs]
        # py-rattler 0.28 forwards requested_specs to its native layer without unwrapping
        # them; argument conversion fails before anything is touched, so retrying is safe.
        native = [getattr(spec, "_match_spec", spec) for spec in wrapped]

        async def run_install(requested: list[MatchSpec]) -> None:
            await install(
                [*solved, *untouched],
                self.prefix,
                cache_dir=self.cache_dir,
                installed_packages=installed,
                ignored_packages=installed_names,
                show_progress=False,
                requested_specs=requested,
            )

        records_before = conda_meta.snapshot_records(self.prefix)
        try:
            try:
                asyncio.run(run_install(native))
            except TypeError as exc:
                if "MatchSpec" not in str(exc):
                    raise
                asyncio.run(run_install(wrapped))
        except Exception as exc:
            raise SolveError(specs, f"installing failed: {str(exc).strip()}") from exc
        # rattler rewrites the records of packages it was handed but left alone, dropping
        # conda's requested_spec; they are pinned and unchanged, so their records are restored.
        conda_meta.restore_records(records_before)
        conda_meta.record_requested_specs(self.prefix, link, specs)
        channel_dists = sorted(f"{str(r.channel).rstrip('/')}::{r.name.normalized}-{r.version}-{r.build}" for r in new)
        conda_meta.append_history(self.prefix, self.command, channel_dists, specs)
        return transaction
