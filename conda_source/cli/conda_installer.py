"""conda's own solver and transaction behind the ``Installer`` protocol (used only inside conda)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conda_source.installer import satisfied
from conda_source.installer.installer import (
    Snapshot,
    SolveError,
    Transaction,
    before_change,
    channel_urls,
    record_files,
)
from conda_source.target import Environment


class CondaInstaller:
    """conda's own solver and transaction, in-process: the default inside ``conda develop-install``.

    It respects what ``conda install`` respects: ``.condarc`` channels (unless
    ``override_channels``) and their priority, ``pinned`` packages, the solver
    setting, offline mode, and frozen environments (CEP 22).  conda writes its
    history; the packages are requirements of a project, never specs the user
    asked for, so the entry has no "update specs" and no record a ``requested_spec``.

    A dry run prints conda's plan (unless ``--json``/``-q``) and keeps the solved
    transaction: installing the same specs next executes it without solving again.
    With ``ask`` (build-local), it prints the plan and asks before executing;
    develop-install asks once for the whole change itself.
    """

    def __init__(
        self, environment: Environment, channels: Sequence[str], override_channels: bool = False, ask: bool = True
    ) -> None:
        self.prefix = environment.prefix
        self.channels = channel_urls(channels)
        self.override_channels = override_channels
        self.ask = ask
        self._solved: tuple[tuple[str, ...], frozenset[str], Any] | None = None
        self.snapshots: list[Snapshot] = []  # given out, their directories not taken yet

    def install(self, specs: Sequence[str], *, dry_run: bool = False) -> Transaction:
        from conda.base.context import context

        try:
            from conda.reporters import confirm_yn  # conda >= 25
        except ImportError:  # pragma: no cover - older conda
            from conda.cli.common import confirm_yn
        from conda.core.prefix_data import PrefixData
        from conda.models.match_spec import MatchSpec

        if not specs:
            return Transaction((), ())
        if satisfied.remembered(self.prefix, specs):  # by the same, unchanged record files as before
            return Transaction(tuple(specs), ())  # nothing to solve, and conda's records not even read
        prefix_data = PrefixData(str(self.prefix))
        records = list(prefix_data.iter_records())
        found = {spec: hit for spec in specs if (hit := next((r for r in records if MatchSpec(spec).match(r)), None))}
        if len(found) == len(set(specs)):
            meta = self.prefix / "conda-meta"
            satisfied.remember(
                self.prefix, {s: meta / f"{r.name}-{r.version}-{r.build}.json" for s, r in found.items()}
            )
            return Transaction(tuple(specs), ())  # nothing to solve
        if getattr(context, "protect_frozen_envs", False):
            prefix_data.assert_not_frozen()
        transaction = self._solve(tuple(specs))
        setups = transaction.prefix_setups.values()
        link = tuple(sorted(str(p.dist_str()) for s in setups for p in s.link_precs))
        unlink = tuple(sorted(str(p.dist_str()) for s in setups for p in s.unlink_precs))
        result = Transaction(tuple(specs), link, unlink)
        if transaction.nothing_to_do:
            return result
        if dry_run:
            if not context.json and not context.quiet:
                transaction.print_transaction_summary()
            self._solved = (tuple(specs), record_files(self.prefix), transaction)
            return result
        if self.ask:
            if not context.json and not context.quiet:
                transaction.print_transaction_summary()
            confirm_yn()
        transaction.download_and_extract()
        before_change(self.snapshots, self.prefix)
        transaction.execute()
        return result

    def _solve(self, specs: tuple[str, ...]) -> Any:
        """conda's transaction for ``specs`` (the one a dry run kept, if nothing changed since)."""
        from conda.base.constants import UpdateModifier
        from conda.base.context import context
        from conda.core.link import UnlinkLinkTransaction
        from conda.exceptions import CondaError

        if self._solved is not None and self._solved[:2] == (specs, record_files(self.prefix)):
            return self._solved[2]
        channels = [*self.channels, *(() if self.override_channels else context.channels)]
        if not channels:
            raise SolveError(specs, "no channels to install from; pass -c CHANNEL or configure channels in .condarc")
        solver = context.plugin_manager.get_cached_solver_backend()(
            str(self.prefix), channels, context.subdirs, specs_to_add=list(specs), command="install"
        )
        try:
            solved = solver.solve_for_transaction(update_modifier=UpdateModifier.FREEZE_INSTALLED)
        except CondaError as exc:
            raise SolveError(specs, str(exc).strip()) from exc
        # Requirements of a project, not the user's requests: no update specs, so conda's history
        # and records say nothing was asked for (conda env export --from-history leaves them out).
        return UnlinkLinkTransaction(*(s._replace(update_specs=()) for s in solved.prefix_setups.values()))

    def snapshot(self) -> Snapshot:
        self.snapshots.append(Snapshot.of(self.prefix))
        return self.snapshots[-1]

    def restore(self, snapshot: Snapshot) -> tuple[str, ...]:
        """Unlink exactly what was linked since ``snapshot``, in one conda transaction."""
        from conda.core.link import PrefixSetup, UnlinkLinkTransaction
        from conda.core.prefix_data import PrefixData

        prefix_data = PrefixData(str(self.prefix))
        prefix_data.reload()
        added = [
            r for r in prefix_data.iter_records() if f"{r.name}-{r.version}-{r.build}.json" not in snapshot.records
        ]
        if not added:
            return ()
        setup = PrefixSetup(str(self.prefix), tuple(added), (), (), (), ())
        transaction = UnlinkLinkTransaction(setup)
        transaction.execute()
        snapshot.put_back_directories(self.prefix)
        return tuple(sorted(str(r.dist_str()) for r in added))
