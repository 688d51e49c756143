"""conda's entry point for conda-source (``[project.entry-points.conda]``).

conda imports this module at every start-up, so it only registers hooks: every
other import happens inside a hook or an action, when the command is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

try:
    from conda.plugins import hookimpl
except ImportError:  # no conda: nothing loads this module as a plugin (the tests still import it)

    def hookimpl(function: Any) -> Any:
        return function


if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace


@hookimpl
def conda_subcommands() -> Iterator[Any]:
    from conda.plugins.types import CondaSubcommand

    yield CondaSubcommand(
        name="develop-install",
        summary="Install Python checkouts into this environment: deps by conda, editable, recorded.",
        action=_develop_install,
        configure_parser=_configure_develop_install,
    )
    yield CondaSubcommand(
        name="build-local",
        summary="Build a checkout, sdist or wheel into a .conda package for a local channel.",
        action=_build_local,
        configure_parser=_configure_build_local,
    )


@hookimpl
def conda_settings() -> Iterator[Any]:
    from conda.common.configuration import PrimitiveParameter, SequenceParameter
    from conda.plugins.types import CondaSetting

    yield CondaSetting(
        name="conda_source_mapping",
        description="PyPI name -> conda spec overrides for conda-source, as PYPI=SPEC entries "
        "('torch=pytorch-cpu', 'cupy-cuda12x=cupy; cuda-version 12.*', 'internal-lib=' drops it). "
        "In CONDA_PLUGINS_CONDA_SOURCE_MAPPING, separate entries with '|'.",
        parameter=SequenceParameter(PrimitiveParameter("", element_type=str), string_delimiter="|"),
    )
    yield CondaSetting(
        name="conda_source_editable",
        description="Whether conda develop-install makes editable installs by default (--no-editable overrides).",
        parameter=PrimitiveParameter(True, element_type=bool),
    )


@hookimpl
def conda_health_checks() -> Iterator[Any]:
    from conda.plugins.types import CondaHealthCheck

    yield CondaHealthCheck(
        name="conda-source-develop-installs",
        action=_health_report,
        fixer=_health_fix,
        summary="Detect stale or damaged conda-source develop installs",
        fix="Reinstall them from their source, or remove those whose source is gone",
    )


def _health_report(prefix: str, verbose: bool) -> None:
    from conda_source.cli import conda_adapter

    conda_adapter.health_report(prefix, verbose)


def _health_fix(prefix: str, args: Namespace, confirm: Any) -> int:
    from conda_source.cli import conda_adapter

    return conda_adapter.health_fix(prefix, args, confirm)


def _configure_develop_install(parser: ArgumentParser) -> None:
    from conda_source.cli import conda_adapter

    conda_adapter.configure("develop-install", parser)


def _configure_build_local(parser: ArgumentParser) -> None:
    from conda_source.cli import conda_adapter

    conda_adapter.configure("build-local", parser)


def _develop_install(args: Namespace) -> int:
    from conda_source.cli import conda_adapter

    return conda_adapter.run("develop-install", args)


def _build_local(args: Namespace) -> int:
    from conda_source.cli import conda_adapter

    return conda_adapter.run("build-local", args)
