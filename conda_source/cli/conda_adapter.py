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
    """conda's own helpers give the standard options (-n/-p, -c, --json, -y, --offline, ...)."""
    from conda.cli import helpers

    module = _verb(name)
    parser.description = module.SUMMARY
    parser.epilog = module.EXAMPLES.replace("conda-source ", "conda ")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    helpers.add_parser_prefix(parser)
    helpers.add_parser_channels(parser)
    helpers.add_output_and_prompt_options(parser)
    helpers.add_parser_networking(parser)
    helpers.add_parser_solver(parser)
    module.add_options(parser)


def run(name: str, args: argparse.Namespace) -> int:
    """Run a verb inside conda: conda's settings and installer; our errors as one conda error."""
    from pathlib import Path

    from conda.base.context import context
    from conda.exceptions import CondaError

    from conda_source.installer import CondaInstaller

    # conda resolved -n/-p (or the active environment) into context.target_prefix.
    args.target_prefix, args.target_name = Path(context.target_prefix), None
    args.source_channels = list(getattr(args, "channel", None) or ())
    if name == "develop-install" and Path(context.target_prefix) == Path(context.root_prefix) and not args.allow_base:
        raise CondaError(
            f"{context.root_prefix} is conda's base environment, where conda itself lives; develop in a "
            "separate environment ('conda create -n dev python'), or pass --allow-base if you mean it"
        )
    plugins = context.plugins
    args.config_mapping = tuple(getattr(plugins, "conda_source_mapping", ()) or ())
    if name == "develop-install" and not args.no_editable and not getattr(plugins, "conda_source_editable", True):
        args.no_editable = True
    args.installer_factory = lambda target, channels: CondaInstaller(
        target, channels, override_channels=getattr(args, "override_channels", False)
    )

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
