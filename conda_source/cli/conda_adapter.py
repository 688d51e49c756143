"""The verbs inside conda: the same parsers and engine, conda's errors and conventions."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from conda_source.errors import CondaSourceError

if TYPE_CHECKING:
    from types import ModuleType


def _verb(name: str) -> ModuleType:
    from conda_source.cli import VERBS

    return VERBS[name]


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    module = _verb(name)
    parser.description = module.SUMMARY
    parser.epilog = module.EXAMPLES.replace("conda-source ", "conda ")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    module.configure_parser(parser)


def run(name: str, args: argparse.Namespace) -> int:
    """Run a verb; our errors become one clean conda error (no traceback)."""
    from conda.exceptions import CondaError

    class CondaSourceCondaError(CondaError):  # type: ignore[misc]
        def __init__(self, message: str) -> None:
            super().__init__(message)

    try:
        return int(_verb(name).execute(args))
    except CondaSourceError as exc:
        output = getattr(exc, "output", "")
        if output:
            print(output, file=sys.stderr)
        raise CondaSourceCondaError(str(exc)) from None
