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


def health_report(prefix: str, verbose: bool) -> None:
    """conda doctor: one line per problem, in conda's style."""
    from pathlib import Path

    from conda.base.constants import OK_MARK, X_MARK

    from conda_source.health import check_prefix

    findings = check_prefix(Path(prefix))
    if not findings:
        print(f"{OK_MARK} conda-source develop installs are up to date and intact.\n")
        return
    print(f"{X_MARK} conda-source develop installs that need attention:\n")
    for finding in findings:
        print(f"  {finding}")
    print()


def health_fix(prefix: str, args: argparse.Namespace, confirm: object) -> int:
    """Reinstall stale or damaged develop installs from their source; remove those whose source is gone."""
    from pathlib import Path

    from conda_source.engine.develop_install import DevelopRequest, develop_install, develop_uninstall
    from conda_source.health import check_prefix
    from conda_source.target import probe

    findings = check_prefix(Path(prefix))
    if not findings:
        print("No conda-source develop installs need fixing.")
        return 0
    sources = sorted({f.source for f in findings})
    gone = [s for s in sources if not Path(s).is_dir()]
    present = [s for s in sources if Path(s).is_dir()]
    for source in present:
        print(f"  reinstall from {source}")
    for source in gone:
        print(f"  remove the develop install of {source} (its source is gone)")
    confirm("Proceed?")  # type: ignore[operator]
    target = probe(Path(prefix))
    if present:
        develop_install(
            DevelopRequest(tuple(Path(s) for s in present), target, deps=False, command="conda doctor --fix")
        )
    if gone:
        develop_uninstall(target, [Path(s) for s in gone], command="conda doctor --fix")
    return 0
