"""The verbs inside conda: conda's options, settings, installer and errors around the same verbs.

``plugin.py`` yields what ``subcommands``, ``settings`` and ``health_checks`` make.
conda calls those at every start-up, so this module imports conda's plugin types
only, and everything else when a command runs.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUBCOMMANDS = {
    "develop-install": "Install Python checkouts into this environment: deps by conda, editable, recorded.",
    "build-local": "Build a checkout, sdist or wheel into a .conda package for a local channel.",
}


def subcommands() -> Iterator[Any]:
    from conda.plugins.types import CondaSubcommand

    for name, summary in SUBCOMMANDS.items():
        yield CondaSubcommand(
            name=name,
            summary=summary,
            action=functools.partial(run, name),
            configure_parser=functools.partial(configure, name),
        )


def settings() -> Iterator[Any]:
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


def health_checks() -> Iterator[Any]:
    from conda.plugins.types import CondaHealthCheck

    yield CondaHealthCheck(
        name="conda-source-develop-installs",
        action=health_report,
        fixer=health_fix,
        summary="Detect stale or damaged conda-source develop installs",
        fix="Reinstall them from their source, or remove those whose source is gone",
    )


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """conda's own helpers give the standard options (-n/-p, -c, --json, -y, --offline, ...)."""
    from conda.cli import helpers

    from conda_source.cli import verb

    module = verb(name)
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
    """Run a verb inside conda: conda's target, settings and installer; our errors as one conda error."""
    from conda.base.context import context
    from conda.exceptions import CondaError

    from conda_source.cli import verb
    from conda_source.cli.conda_installer import CondaInstaller
    from conda_source.cli.invocation import Invocation, command_line, describe_error, overrides_from, run_verb
    from conda_source.errors import CondaSourceError

    class CondaSourceError_(CondaError):  # type: ignore[misc]
        pass

    plugins = context.plugins
    override_channels = bool(getattr(args, "override_channels", False))
    invocation = Invocation(
        prefix=Path(context.target_prefix),  # conda resolved -n/-p, or the active environment
        channels=tuple(getattr(args, "channel", None) or ()),
        overrides=overrides_from(args, tuple(getattr(plugins, "conda_source_mapping", ()) or ())),
        command=command_line("conda"),
        json=bool(context.json),
        quiet=bool(context.quiet),
        verbose=int(getattr(context, "verbosity", 0) or 0),
        installer_factory=lambda environment, channels: CondaInstaller(environment, channels, override_channels),
        editable_default=bool(getattr(plugins, "conda_source_editable", True)),
    )
    if name == "develop-install" and Path(context.target_prefix) == Path(context.root_prefix) and not args.allow_base:
        raise CondaError(
            f"{context.root_prefix} is conda's base environment, where conda itself lives; develop in a "
            "separate environment ('conda create -n dev python'), or pass --allow-base if you mean it"
        )
    try:
        return run_verb(verb(name), args, invocation)
    except CondaSourceError as exc:
        raise CondaSourceError_(describe_error(exc)) from None


def health_report(prefix: str, verbose: bool) -> None:
    """conda doctor: one line per problem, in conda's style."""
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


def health_fix(prefix: str, args: argparse.Namespace, confirm: Any) -> int:
    """Reinstall stale or damaged develop installs from their source; remove those whose source is gone."""
    from conda_source.engine.develop_install import DevelopRequest, develop_install
    from conda_source.engine.uninstall import UninstallRequest, develop_uninstall
    from conda_source.health import check_prefix
    from conda_source.target import probe

    # A forced overlap is undone by uninstalling, a replaced package put back by the next run: only reported.
    findings = [f for f in check_prefix(Path(prefix)) if f.problem in ("stale", "damaged")]
    if not findings:
        print("No conda-source develop installs need fixing.")
        return 0
    sources = sorted({f.source for f in findings})
    gone = [Path(s) for s in sources if not Path(s).is_dir()]
    present = [Path(s) for s in sources if Path(s).is_dir()]
    for source in present:
        print(f"  reinstall from {source}")
    for source in gone:
        print(f"  remove the develop install of {source} (its source is gone)")
    confirm("Proceed?")
    environment = probe(Path(prefix))
    if present:
        develop_install(DevelopRequest(tuple(present), environment, deps=False, command="conda doctor --fix"))
    if gone:
        develop_uninstall(UninstallRequest(tuple(gone), environment, "conda doctor --fix"))
    return 0
