"""conda's entry point for conda-source (``[project.entry-points.conda]``).

conda imports this module at every start-up, so it only registers hooks; what
they yield is made in ``cli.conda_adapter``, which imports the rest when used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

try:
    from conda.plugins import hookimpl
except ImportError:  # no conda: nothing loads this module as a plugin (the tests still import it)

    def hookimpl(function: Any) -> Any:
        return function


@hookimpl
def conda_subcommands() -> Iterator[Any]:
    from conda_source.cli.conda_adapter import subcommands

    yield from subcommands()


@hookimpl
def conda_settings() -> Iterator[Any]:
    from conda_source.cli.conda_adapter import settings

    yield from settings()


@hookimpl
def conda_health_checks() -> Iterator[Any]:
    from conda_source.cli.conda_adapter import health_checks

    yield from health_checks()
