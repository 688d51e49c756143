"""conda's entry point (``[project.entry-points.conda]``), imported at every conda start-up: it only
registers hooks; ``conda_NAME()`` yields what ``cli.conda_adapter.NAME()`` makes, importing the rest when used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

try:
    from conda.plugins import hookimpl
except ImportError:  # no conda: nothing loads this module as a plugin (the tests still import it)

    def hookimpl(function: Any) -> Any:
        return function


HOOKS: tuple[str, ...] = ("subcommands", "settings", "health_checks", "pre_solves", "post_solves", "pre_commands")
HOOKS += ("pre_transaction_actions",)
HOOKS += ("post_commands", "prefix_data_loaders", "environment_exporters", "environment_specifiers")


def _hook(name: str) -> Callable[[], Iterator[Any]]:
    def hook() -> Iterator[Any]:
        from conda_source.cli import conda_adapter

        yield from getattr(conda_adapter, name)()

    hook.__name__ = hook.__qualname__ = f"conda_{name}"
    return hookimpl(hook)  # type: ignore[no-any-return]


globals().update({f"conda_{name}": _hook(name) for name in HOOKS})


@hookimpl
def conda_error_hints(error: Any) -> Iterator[Any]:
    from conda_source.cli.conda_adapter import error_hints

    yield from error_hints(error)
