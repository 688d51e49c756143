"""Installing conda packages into a prefix, behind one protocol.

``RattlerInstaller`` uses py-rattler and serves the standalone command, pixi or
micromamba prefixes, and the tests.  (A ``CondaInstaller`` on conda's own
solver and transaction joins it with the conda plugin.)  Facts it relies on:

* ``rattler.install`` is declarative: anything installed but missing from the
  records it is given is removed.  So it is handed the full desired set, and
  every installed package the solve did not touch is listed as ignored.
* The installed records are *pinned* in the solve: adding build requirements
  never upgrades, downgrades or removes what the user already has.  When that
  is impossible the solve fails and says which spec conflicts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from conda_source import conda_meta
from conda_source.errors import CondaSourceError
from conda_source.target import TargetEnv


class SolveError(CondaSourceError):
    def __init__(self, specs: Sequence[str], reason: str) -> None:
        self.specs = tuple(specs)
        super().__init__(f"cannot install {', '.join(specs)}: {reason}")


@dataclass(frozen=True)
class Transaction:
    specs: tuple[str, ...]
    link: tuple[str, ...]  # dist strings (name-version-build) that will be added
    unchanged: tuple[str, ...]


class Installer(Protocol):
    def install(self, specs: Sequence[str], *, dry_run: bool = False) -> Transaction:
        """Make ``specs`` installed, in one transaction, changing nothing else."""
        ...


class RattlerInstaller:
    def __init__(
        self, target: TargetEnv, channels: Sequence[str], cache_dir: Path | None = None, command: str = ""
    ) -> None:
        if target.prefix is None:
            raise ValueError("RattlerInstaller needs a probed prefix")
        self.prefix = target.prefix
        self.subdir = target.subdir
        # A local directory works as a channel too: conda-source build-local --channel-dir makes them.
        self.channels = tuple(Path(c).absolute().as_uri() if Path(c).is_dir() else c for c in channels)
        self.cache_dir = cache_dir
        self.command = command

    def install(self, specs: Sequence[str], *, dry_run: bool = False) -> Transaction:
        from rattler import Channel, MatchSpec, PrefixRecord, RepoDataRecord, VirtualPackage, install, solve

        from conda_source._rattler import subdir

        if not specs:
            return Transaction((), (), ())
        installed = [PrefixRecord.from_path(p) for p in sorted((self.prefix / "conda-meta").glob("*.json"))]
        installed_names = {r.name.normalized for r in installed}
        if all(any(MatchSpec(spec).matches(r) for r in installed) for spec in specs):
            return Transaction(tuple(specs), (), tuple(sorted(installed_names)))  # nothing to solve
        if not self.channels:
            raise SolveError(specs, "no channels to install from; pass -c CHANNEL")

        async def run_solve() -> list[RepoDataRecord]:
            return await solve(
                sources=[Channel(c) for c in self.channels],
                specs=list(specs),
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
        transaction = Transaction(tuple(specs), link, tuple(sorted(installed_names)))
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
        conda_meta.restore_records(self.prefix, records_before)
        conda_meta.record_requested_specs(self.prefix, link, specs)
        channel_dists = sorted(f"{str(r.channel).rstrip('/')}::{r.name.normalized}-{r.version}-{r.build}" for r in new)
        conda_meta.append_history(self.prefix, self.command, channel_dists, specs)
        return transaction


class CondaInstaller:
    """conda's own solver and transaction, in-process: the default inside ``conda develop-install``.

    It respects what ``conda install`` respects: ``.condarc`` channels (unless
    ``override_channels``) and their priority, ``pinned`` packages, the solver
    setting, offline mode, and frozen environments (CEP 22).  conda prints its
    plan, asks for confirmation (unless ``-y``), and writes its history.
    """

    def __init__(self, target: TargetEnv, channels: Sequence[str], override_channels: bool = False) -> None:
        if target.prefix is None:
            raise ValueError("CondaInstaller needs a probed prefix")
        self.prefix = target.prefix
        self.channels = tuple(Path(c).absolute().as_uri() if Path(c).is_dir() else c for c in channels)
        self.override_channels = override_channels

    def install(self, specs: Sequence[str], *, dry_run: bool = False) -> Transaction:
        from conda.base.constants import UpdateModifier
        from conda.base.context import context

        try:
            from conda.reporters import confirm_yn  # conda >= 25
        except ImportError:  # pragma: no cover - older conda
            from conda.cli.common import confirm_yn
        from conda.core.prefix_data import PrefixData
        from conda.exceptions import CondaError
        from conda.models.match_spec import MatchSpec

        if not specs:
            return Transaction((), (), ())
        prefix = str(self.prefix)
        prefix_data = PrefixData(prefix)
        records = list(prefix_data.iter_records())
        if all(any(MatchSpec(spec).match(r) for r in records) for spec in specs):
            return Transaction(tuple(specs), (), tuple(sorted(r.name for r in records)))  # nothing to solve
        if getattr(context, "protect_frozen_envs", False):
            prefix_data.assert_not_frozen()
        channels = [*self.channels, *(() if self.override_channels else context.channels)]
        if not channels:
            raise SolveError(specs, "no channels to install from; pass -c CHANNEL or configure channels in .condarc")
        solver = context.plugin_manager.get_cached_solver_backend()(
            prefix, channels, context.subdirs, specs_to_add=list(specs), command="install"
        )
        try:
            transaction = solver.solve_for_transaction(update_modifier=UpdateModifier.FREEZE_INSTALLED)
        except CondaError as exc:
            raise SolveError(specs, str(exc).strip()) from exc
        setups = transaction.prefix_setups.values()
        link = tuple(sorted(str(p.dist_str()) for s in setups for p in s.link_precs))
        unchanged = tuple(sorted(r.name for r in records))
        if transaction.nothing_to_do or dry_run:
            return Transaction(tuple(specs), link, unchanged)
        if not context.json and not context.quiet:
            transaction.print_transaction_summary()
        confirm_yn()
        transaction.download_and_extract()
        transaction.execute()
        return Transaction(tuple(specs), link, unchanged)
