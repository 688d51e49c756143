"""conda's own solver and transaction behind the ``Installer`` protocol (used only inside conda)."""

from __future__ import annotations

from collections.abc import Sequence

from conda_source.installer import SolveError, Transaction, channel_urls
from conda_source.target import Environment


class CondaInstaller:
    """conda's own solver and transaction, in-process: the default inside ``conda develop-install``.

    It respects what ``conda install`` respects: ``.condarc`` channels (unless
    ``override_channels``) and their priority, ``pinned`` packages, the solver
    setting, offline mode, and frozen environments (CEP 22).  conda prints its
    plan, asks for confirmation (unless ``-y``), and writes its history.
    """

    def __init__(self, environment: Environment, channels: Sequence[str], override_channels: bool = False) -> None:
        self.prefix = environment.prefix
        self.channels = channel_urls(channels)
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
            return Transaction((), ())
        prefix = str(self.prefix)
        prefix_data = PrefixData(prefix)
        records = list(prefix_data.iter_records())
        if all(any(MatchSpec(spec).match(r) for r in records) for spec in specs):
            return Transaction(tuple(specs), ())  # nothing to solve
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
        if transaction.nothing_to_do or dry_run:
            return Transaction(tuple(specs), link)
        if not context.json and not context.quiet:
            transaction.print_transaction_summary()
        confirm_yn()
        transaction.download_and_extract()
        transaction.execute()
        return Transaction(tuple(specs), link)
