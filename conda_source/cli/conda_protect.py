"""Develop installs survive later conda commands: one pin per develop install, for each solve (issue 14).

Facts, checked against conda 26.7.1 with conda-rattler-solver 0.2.0 (py-rattler 0.26.0) and the classic solver:

- Without help, a develop record (channel ``local-develop``, a version no channel offers) does not survive:
  ``conda update --all`` fails under rattler (the record is no candidate, and conda adds the constraint
  ``NAME >=VERSION``) and is superseded by the channel build under classic; ``conda install OTHER``
  supersedes it under both as soon as OTHER needs another version of NAME.
- Both solvers read pins through ``conda.core.solve.get_pinned_specs(prefix)``: ``context.pinned_packages``
  plus ``conda-meta/pinned``.  A pin ``NAME ==VERSION BUILD`` keeps the record under both solvers for
  ``update --all`` and ``install OTHER`` (a conflicting OTHER fails instead of replacing it); a name-only
  pin does not.
- A pin in ``conda-meta/pinned`` cannot be the mechanism: with it, rattler refuses ``conda remove NAME``
  and ``conda install NAME``.  So the pins hold for one solve, and never for a package the command names.
- ``conda_pre_solves`` hooks get ``(specs_to_add, specs_to_remove)`` (frozensets) and run in
  ``Solver.solve_for_transaction`` before either solver reads the pins; ``conda_post_solves`` hooks get
  ``(repodata_fn, unlink_precs, link_precs)`` before conda prints the plan and asks.  Both raise to veto.
  ``conda install --revision N`` does not solve: no hook runs; ``error_hints`` explains its failure.

conda-source's own solves (``CondaInstaller``) exempt the develop installs being reinstalled (``exempt``).
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conda_source.errors import DamagedRecordError
from conda_source.meta import conda_meta, history
from conda_source.meta.conda_meta import DEVELOP_CHANNEL
from conda_source.specs import built_for_python


@dataclass(frozen=True)
class DevelopInstall:
    name: str
    version: str
    build: str
    source: str
    python: str = ""  # the python minor it is built for (its record depends on python X.Y.*)

    @property
    def pin(self) -> str:
        """The spec that matches this record and nothing a channel offers under another build string."""
        return f"{self.name} =={self.version} {self.build}"

    def __str__(self) -> str:
        return f"{self.name} {self.version} (develop install of {self.source})"


def develop_installs(prefix: Path) -> dict[str, DevelopInstall]:
    """The develop installs of ``prefix``, by package name (none when it is not a conda prefix)."""
    if not (prefix / "conda-meta").is_dir():
        return {}
    return {
        record.name: DevelopInstall(
            record.name,
            record.version,
            record.build,
            (state.source if state else record.source) or "(unknown)",
            built_for_python(record.depends),
        )
        for record, state in conda_meta.develop_installs(prefix)
    }


def pins(prefix: Path, named: Iterable[str]) -> list[str]:
    """Pins that keep every develop install of ``prefix`` except those the command names."""
    exempted = set(named) | _exempt
    return [install.pin for name, install in sorted(develop_installs(prefix).items()) if name not in exempted]


# Names conda-source's own transactions replace themselves (the develop installs being reinstalled).
_exempt: set[str] = set()
# What the last pre-solve saw: the names the command gave, and the pins it added to conda's context.
_named: set[str] = set()
_added: tuple[str, ...] = ()


@contextlib.contextmanager
def exempt(names: Iterable[str]) -> Iterator[None]:
    """Let conda-source's own solves inside the block change these develop installs."""
    _exempt.update(names)
    try:
        yield
    finally:
        _exempt.clear()


def _target_prefix() -> Path:
    from conda.base.context import context

    return Path(context.target_prefix)


def pre_solve(specs_to_add: frozenset[Any], specs_to_remove: frozenset[Any]) -> None:
    """Pin every develop install the command does not name, for this solve."""
    global _added
    from conda.base.context import context

    from conda_source.installer._rattler import settle_at_exit

    settle_at_exit()  # whichever solver runs, py-rattler's threads may be at work (see _rattler)
    named = {spec.name for spec in (*specs_to_add, *specs_to_remove)}
    _named.clear()
    _named.update(named)
    users = tuple(spec for spec in context.pinned_packages if spec not in _added)
    _added = tuple(pins(_target_prefix(), named))
    # context.pinned_packages is computed once and kept in the context's cache; both solvers read it
    # through conda.core.solve.get_pinned_specs during this solve.  The user's pins come first, unchanged.
    context._cache_["pinned_packages"] = users + _added


def post_solve(repodata_fn: str, unlink_precs: tuple[Any, ...], link_precs: tuple[Any, ...]) -> None:
    """Say which develop installs the transaction replaces or removes; refuse to drop one nobody named."""
    from conda.base.context import context

    installs = develop_installs(_target_prefix())
    linked = {prec.name: prec for prec in link_precs}
    for prec in unlink_precs:
        install = installs.get(prec.name)
        if install is None or prec.channel.canonical_name != DEVELOP_CHANNEL or prec.name in _exempt:
            continue
        replacement = linked.get(prec.name)
        if prec.name not in _named:
            from conda_source.cli.conda_errors import DevelopInstallProtectedError

            raise DevelopInstallProtectedError(install, replacement.dist_str() if replacement else None)
        if not context.json:
            action = f"replaces it with {replacement.dist_str()}" if replacement else "removes it"
            print(f"conda-source: {install}: this transaction {action}.", file=sys.stderr)


def transaction_check() -> type:
    """A conda pre-transaction action (its class): at conda's verification, before anything changes, it refuses a
    transaction that links a package which a develop install it keeps does not accept (``conda install URL`` and
    ``--revision N`` do not solve, so no pin holds them: a python of another minor would leave the develop install's
    files in the old ``lib/pythonX.Y/site-packages``)."""
    from conda.core.path_actions import Action

    class KeepDevelopInstallsWhole(Action):  # type: ignore[misc]
        def verify(self) -> Exception | None:
            from conda_source.cli.conda_errors import DevelopInstallDependencyError

            self._verified = True
            problem = _unaccepted(Path(str(self.target_prefix)), self.unlink_precs or (), self.link_precs or ())
            return DevelopInstallDependencyError(problem) if problem else None

        def execute(self) -> None: ...

        def reverse(self) -> None: ...

        def cleanup(self) -> None: ...

    return KeepDevelopInstallsWhole


def _unaccepted(prefix: Path, unlink_precs: Iterable[Any], link_precs: Iterable[Any]) -> str:
    """What is wrong with linking ``link_precs`` for a develop install that stays, or ""."""
    from conda.models.match_spec import MatchSpec

    linked = {prec.name: prec for prec in link_precs}
    leaving = {prec.name for prec in unlink_precs}
    for record, _ in conda_meta.develop_installs(prefix) if (prefix / "conda-meta").is_dir() else ():
        if record.name in leaving or record.name in linked:
            continue
        for depend in record.depends:
            spec = MatchSpec(depend)
            prec = linked.get(spec.name)
            if prec is None or spec.match(prec):
                continue
            install = develop_installs(prefix)[record.name]
            after = f"conda develop-install {install.source} {_spelled(prefix)}"
            fix = f"conda develop-install --uninstall {install.source} {_spelled(prefix)}, then the command again"
            built = f" (it is built for python {install.python}: its files are in lib/python{install.python}/"
            return (
                f"{install}: this transaction installs {prec.dist_str()}, which its dependency '{depend}' excludes"
                + (
                    f"{built}site-packages); nothing was changed: run {fix}, then {after}"
                    if spec.name == "python"
                    else f"; nothing was changed: run {fix} (or install a build of {spec.name} it accepts)"
                )
            )
    return ""


def error_hints(error: BaseException) -> Iterator[tuple[str, str]]:
    """(text, hint_code) for an error a develop install took part in: a kept one, or one conda cannot download."""
    text = str(error)
    prefix = _target_prefix()
    for install in develop_installs(prefix).values():
        if install.pin in _added and (f"{install.name} ==" in text or f"{install.name}==" in text):
            yield (
                f"{install} is kept by conda-source. To let conda replace it, name it: conda install "
                f"{install.name}; to give it up, run conda develop-install --uninstall {install.source}.",
                "conda_source_develop_install_kept",
            )
    if "python" in _named and "Unsatisfiable" in type(error).__name__:
        for install in develop_installs(prefix).values():
            if install.python:
                yield (
                    f"{install} is built for python {install.python} (its files are in lib/python{install.python}/"
                    f"site-packages), so conda keeps python {install.python} for it. To change python, run conda "
                    f"develop-install --uninstall {install.source} {_spelled(prefix)}, then this command again, then "
                    f"conda develop-install {install.source} {_spelled(prefix)} (it builds it for the new python).",
                    "conda_source_develop_install_python",
                )
    names = _develop_names_in(text)
    has_meta = (prefix / "conda-meta").is_dir()
    known = history.history_sources(prefix) if names and has_meta else {}
    for name in sorted(names):
        try:
            state = conda_meta.read_state(prefix, name) if has_meta else None
        except DamagedRecordError:  # a hint never fails: the history may still know the checkout
            state = None
        source = state.source if state else known.get(name, "")
        yield (
            f"{name} was a develop install{f' of {source}' if source else ''}; conda cannot download it. Re-create "
            f"it with conda develop-install {source or 'PATH-OF-ITS-CHECKOUT'} {_spelled(prefix)}, then run the "
            "command again.",
            "conda_source_develop_install_missing",
        )
    for url, checkout in _checkouts_in(text):
        yield (
            f"{url} is the checkout of a conda-source develop install (conda list --explicit names it), not a "
            "package. Take that line out of the file and run the command again, then re-create the develop install "
            f"with conda develop-install {checkout} {_spelled(prefix)}.",
            "conda_source_develop_install_checkout",
        )
    if (names or DEVELOP_CHANNEL in text) and _arguments().get("revision") is None:
        yield (
            f"'{DEVELOP_CHANNEL}' is no channel: it marks conda-source develop installs. To carry them to another "
            "environment, export with conda export --format conda-source --file env.conda-source.yml and re-create "
            "with conda env create -f env.conda-source.yml (the checkouts must exist).",
            "conda_source_develop_channel",
        )


# local-develop::NAME==..., local-develop/linux-64::NAME-VERSION-BUILD, or a spec with a develop build string.
_IN_CHANNEL = re.compile(rf"{DEVELOP_CHANNEL}(?:/[\w.-]+)?::([A-Za-z0-9_.-]+)")
_DEVELOP_BUILD = re.compile(r"(?<![\w.:-])([A-Za-z0-9_.-]+)==?[^\s=]+=(?:editable|develop)_h[0-9a-f]{8}_\d+")


def _develop_names_in(text: str) -> set[str]:
    names = {m.group(1) for m in _DEVELOP_BUILD.finditer(text)}
    for match in _IN_CHANNEL.finditer(text):
        name = match.group(1)
        dist = re.fullmatch(r"(.+?)-[^-]+-(?:editable|develop)_h[0-9a-f]{8}_\d+", name)
        names.add(dist.group(1) if dist else name)
    return names


def _arguments() -> Any:
    from conda.base.context import context

    return getattr(context, "_argparse_args", None) or {}


def _spelled(prefix: Path) -> str:
    """The environment as the user named it: -n NAME, or -p PATH."""
    name = _arguments().get("name")
    return f"-n {name}" if name else f"-p {prefix}"


def _checkouts_in(text: str) -> Iterator[tuple[str, Path]]:
    """file:// URLs conda could not read as packages that name a checkout (develop records' URLs)."""
    from urllib.parse import unquote, urlparse

    for match in re.finditer(r"Could not parse explicit URL: (file://\S+)", text):
        path = Path(unquote(urlparse(match.group(1)).path))
        if (path / "pyproject.toml").is_file() or (path / "setup.py").is_file():
            yield match.group(1), path
