"""Develop installs carried by ``conda create --clone SRC`` and ``conda rename`` (a clone, then SRC removed).

Facts, checked against conda 26.7.1 (both solvers: a clone does not solve):

- Without help, a clone of an environment with a develop install fails: conda copies the files nobody owns
  (``conda.misc.untracked``), then installs every record from its url (``conda.misc.explicit``), and a develop
  record's url is its checkout (``ParseError: Could not parse explicit URL``).  The new environment is left
  half made (the copied files, no conda-meta); ``conda rename`` keeps the old one.
- ``install.clone`` and ``clone_env`` read the source through ``PrefixData(SRC)``, which conda caches per
  prefix: records taken out of that object in a pre-command hook are out of the clone's list, and their
  files, claimed by no record left, are copied with the old prefix replaced by the new one in text files.
- Pre-command hooks run for ``create`` and ``rename`` before conda changes anything; post-command hooks run
  after the command succeeded (not after a failure, nor after ``--dry-run``'s exit).

So the pre-command checks each develop install (prefix/copied.py: none forced over another package's file,
every file intact; else the command stops, with what to run) and takes it out of the clone's records; the
post-command writes its record, state and history entry in the new environment (``adopt``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from conda_source.prefix import copied, pip_protection

_carrying: list[copied.Carried] = []
_protected: list[bool] = []


def before_copy(command: str) -> None:
    """A pre-command hook (``create``, ``rename``): check what the copy must carry, and let conda copy it."""
    from conda.base.context import context

    arguments = getattr(context, "_argparse_args", None) or {}
    if command == "create" and not arguments.get("clone"):
        return
    source, spelled = _source(command, arguments, Path(context.target_prefix))
    if not (source / "conda-meta").is_dir():
        return  # conda says what is wrong with it
    installs = _carried(source, spelled)
    _protected[:] = [pip_protection.requested(source)]
    if not installs:
        return
    from conda.core.prefix_data import PrefixData

    records = PrefixData(source)._prefix_records  # the object conda's clone reads next (conda caches it)
    for install in installs:
        records.pop(install.record.name, None)
        if context.dry_run and not (context.quiet or context.json):
            print(
                f"conda-source: would carry {install.record.name} {install.record.version} (develop install of "
                f"{install.source})",
                file=sys.stderr,
            )
    _carrying[:] = installs


def after_copy(command: str) -> None:
    """A post-command hook (``create``, ``rename``): record the develop installs conda copied."""
    from conda.base.context import context

    arguments = getattr(context, "_argparse_args", None) or {}
    installs, protected = list(_carrying), any(_protected)
    _carrying.clear()
    _protected.clear()
    if context.dry_run or not (installs or protected):
        return
    target = _destination(arguments) if command == "rename" else Path(context.target_prefix)
    if not (target / "conda-meta").is_dir():
        return
    lines = _adopt(target, installs, protected)
    if not (context.quiet or context.json):
        for line in lines:
            print(line, file=sys.stderr)


def _carried(source: Path, spelled: str) -> list[copied.Carried]:
    from conda_source.cli.conda_errors import DevelopInstallNotCarriedError

    try:
        return copied.carried(source, spelled)
    except copied.NotCarriedError as exc:
        raise DevelopInstallNotCarriedError(str(exc), exc) from None


def _adopt(target: Path, installs: list[copied.Carried], protected: bool) -> list[str]:
    from conda_source.cli.conda_errors import conda_error
    from conda_source.cli.invocation import command_line
    from conda_source.errors import CondaSourceError

    try:
        return copied.adopt(target, installs, command_line("conda"), protected)
    except CondaSourceError as exc:
        raise conda_error(exc, str(exc)) from None


def _source(command: str, arguments: Any, target: Path) -> tuple[Path, str]:
    """The environment copied, and how the user named it (``-n NAME`` or ``-p PATH``)."""
    if command == "rename":
        name = arguments.get("name")
        return target, f"-n {name}" if name else f"-p {target}"
    given = str(arguments.get("clone"))
    if os.sep in given:
        path = os.path.abspath(given)  # noqa: PTH100 -- as conda's install.clone spells it: its cache's key
        return Path(path), f"-p {path}"
    from conda.base.context import locate_prefix_by_name
    from conda.exceptions import EnvironmentNameNotFound

    try:
        return Path(locate_prefix_by_name(given)), f"-n {given}"
    except EnvironmentNameNotFound:
        return Path(given), f"-n {given}"  # conda fails on it next


def _destination(arguments: Any) -> Path:
    """Where ``conda rename`` put the environment, as conda 26.7.1's main_rename works it out."""
    from conda.common.path import expand
    from conda.core.prefix_data import PrefixData

    given = str(arguments.get("destination"))
    if os.sep in given:
        return Path(expand(given)).absolute()
    return Path(PrefixData.from_name(given).prefix_path)
