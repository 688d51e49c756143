"""The verbs inside conda: conda's options, settings, installer and errors around the same verbs.

``plugin.py`` yields what each hook function here makes (``subcommands``, ``settings``, ``health_checks``,
``pre_solves``, ``post_solves``, ``pre_transaction_actions``, ``pre_commands``, ``post_commands``,
``prefix_data_loaders``, ``environment_exporters``, ``environment_specifiers``, ``error_hints``).  conda calls
those at every start-up, so this module imports conda's plugin types only, and everything else when a hook or a
command runs.
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
        name="conda_source_protect_envs",
        description="Protect each environment conda develop-install installs into from pip: write PEP 668's "
        "EXTERNALLY-MANAGED file into its stdlib directory (conda doctor reports it missing; --fix writes it).",
        parameter=PrimitiveParameter(False, element_type=bool),
    )
    yield CondaSetting(
        name="conda_source_editable",
        description="Whether conda develop-install makes editable installs by default (--no-editable overrides).",
        parameter=PrimitiveParameter(True, element_type=bool),
    )


def health_checks() -> Iterator[Any]:
    from conda.plugins.types import CondaHealthCheck

    from conda_source.cli.conda_doctor import health_fix, health_report, protection_fix, protection_report

    yield CondaHealthCheck(
        name="conda-source-develop-installs",
        action=health_report,
        fixer=health_fix,
        summary="Detect stale or damaged conda-source develop installs",
        fix="Reinstall them from their source, or remove those whose source is gone",
    )
    yield CondaHealthCheck(
        name="conda-source-pip-protection",
        action=protection_report,
        fixer=protection_fix,
        summary="Detect an environment that asked to be protected from pip but has no EXTERNALLY-MANAGED file",
        fix="Write the EXTERNALLY-MANAGED file again",
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
    """Run a verb inside conda: conda's target, settings and installer; our errors as conda errors."""
    from conda.base.context import context
    from conda.exceptions import CondaValueError

    from conda_source.cli import stopped, verb
    from conda_source.cli.conda_errors import conda_error
    from conda_source.cli.conda_installer import CondaInstaller
    from conda_source.cli.conda_protect import exempt
    from conda_source.cli.invocation import (
        Invocation,
        command_line,
        describe_error,
        last_word,
        output_closed,
        overrides_from,
        run_verb,
    )
    from conda_source.errors import CondaSourceError

    plugins = context.plugins
    override_channels = bool(getattr(args, "override_channels", False))
    prefix = Path(context.target_prefix)  # conda resolved -n/-p, or the active environment
    invocation = Invocation(
        prefix=prefix,
        channels=tuple(getattr(args, "channel", None) or ()),
        overrides=overrides_from(args, tuple(getattr(plugins, "conda_source_mapping", ()) or ())),
        command=command_line("conda"),
        json=bool(context.json),
        quiet=bool(context.quiet),
        verbose=int(getattr(context, "verbosity", 0) or 0),
        installer_factory=lambda environment, channels: CondaInstaller(
            environment, channels, override_channels, ask=name != "develop-install"
        ),
        inside_conda=True,
        protect_envs=bool(getattr(plugins, "conda_source_protect_envs", False)),
        editable_default=bool(getattr(plugins, "conda_source_editable", True)),
        compression_level=context.conda_build.get("zstd_compression_level") if name == "build-local" else None,
        yes=bool(context.always_yes),
        spelled=f"-n {args.name}" if getattr(args, "name", None) else "",
    )
    if name == "develop-install" and prefix == Path(context.root_prefix) and not args.allow_base:
        raise CondaValueError(
            f"{context.root_prefix} is conda's base environment, where conda itself lives; develop in a "
            "separate environment ('conda create -n dev python'), or pass --allow-base if you mean it"
        )
    try:
        with exempt(_reinstalled(prefix, getattr(args, "paths", ()))):
            return run_verb(verb(name), args, invocation)
    except CondaSourceError as exc:
        raise conda_error(exc, invocation.spell(describe_error(exc))) from None
    except BrokenPipeError:  # the summary's own print handles its failure (run_verb): this one stopped the run
        last_word(stopped(name, "standard output was closed before the run ended"))
        return output_closed()
    except OSError as exc:
        from conda_source.errors import FileSystemError

        failed = FileSystemError(exc)
        raise conda_error(failed, invocation.spell(describe_error(failed))) from None


def _reinstalled(prefix: Path, paths: Any) -> list[str]:
    """The develop installs whose checkouts the command names: its own solves may replace them."""
    from conda_source.meta.conda_meta import develop_installs

    if not (prefix / "conda-meta").is_dir():
        return []
    sources = {str(Path(str(p).split("[", 1)[0]).resolve()) for p in paths or ()}
    return [record.name for record, state in develop_installs(prefix) if (state.source if state else "") in sources]


def as_conda_errors(action: Any) -> Any:
    """A hook's action whose errors reach conda as conda errors: a one-line message, not conda's error report
    (a damaged record read by a hook that runs before conda reads the prefix itself)."""

    def call(*args: Any) -> Any:
        from conda_source.errors import CondaSourceError, FileSystemError

        try:
            try:
                return action(*args)
            except OSError as refused:  # a full disk, say: one line naming the path, as the commands say it
                raise FileSystemError(refused, in_hook=True) from None
        except CondaSourceError as exc:
            from conda.base.context import context

            from conda_source.cli.conda_errors import conda_error

            name = (getattr(context, "_argparse_args", None) or {}).get("name")  # said as the user named it
            message = str(exc).replace(f"-p {context.target_prefix}", f"-n {name}") if name else str(exc)
            raise conda_error(exc, message) from None

    return call


def pre_solves() -> Iterator[Any]:
    from conda.plugins.types import CondaPreSolve

    yield CondaPreSolve(name=KEEP, action=_call("protect", "pre_solve"))


def post_solves() -> Iterator[Any]:
    from conda.plugins.types import CondaPostSolve

    yield CondaPostSolve(name=KEEP, action=_call("protect", "post_solve"))


def pre_transaction_actions() -> Iterator[Any]:
    """A transaction that does not solve (``conda install URL``, ``--revision N``) is checked as it is verified."""
    from conda.plugins.types import CondaPreTransactionAction

    yield CondaPreTransactionAction(name=KEEP, action=_call("protect", "transaction_check")())


def error_hints(error: Any) -> Iterator[Any]:
    from conda.plugins.types import CondaErrorHint

    from conda_source.cli import conda_protect

    for text, code in conda_protect.error_hints(error):
        yield CondaErrorHint(text=text, hint_code=code)


def post_commands() -> Iterator[Any]:
    from conda.plugins.types import CondaPostCommand

    recreate = _call("environment", "recreate_develop_installs")
    yield CondaPostCommand(name="conda-source-recreate-develop-installs", action=recreate, run_for=set(RECREATE_AFTER))
    yield CondaPostCommand(name=LEFT_OUT, action=_call("export", "after_export"), run_for=EXPORTING)
    yield CondaPostCommand(name=CARRY, action=_call("clone", "after_copy"), run_for=COPYING)


RECREATE_AFTER = ("create", "install", "update", "env_update")  # conda env create runs main_create
EXPORTING = {"export", "list"}  # conda (env) export, and conda list --export (conda_export.before_export)
LEFT_OUT, KEEP = "conda-source-export-left-out", "conda-source-keep-develop-installs"
COPYING, CARRY = {"create", "rename"}, "conda-source-carry-develop-installs"  # create --clone (conda_clone)


def pre_commands() -> Iterator[Any]:
    from conda.plugins.types import CondaPreCommand

    yield CondaPreCommand(name=LEFT_OUT, action=_call("export", "before_export"), run_for=EXPORTING)
    yield CondaPreCommand(name=CARRY, action=_call("clone", "before_copy"), run_for=COPYING)


def prefix_data_loaders() -> Iterator[Any]:
    from conda.plugins.types import CondaPrefixDataLoader

    # conda runs the loaders in the order of their names: this one after conda's "pypi", which would otherwise
    # list a develop install taken out of the records as a pip package.
    yield CondaPrefixDataLoader(name="unexportable-develop-installs", loader=_call("export", "load"))


def _call(module: str, name: str) -> Any:
    """A function of conda_export (develop installs left out of conda's exports), conda_clone (carried by a
    clone), conda_protect (kept through later commands) or conda_environment, imported when conda calls it."""

    @as_conda_errors
    def call(*args: Any) -> Any:
        found: Any
        if module == "clone":
            from conda_source.cli import conda_clone as found
        elif module == "protect":
            from conda_source.cli import conda_protect as found
        elif module == "environment":
            from conda_source.cli import conda_environment as found
        else:
            from conda_source.cli import conda_export as found
        return getattr(found, name)(*args)

    return call


def environment_exporters() -> Iterator[Any]:
    from conda.plugins.types import CondaEnvironmentExporter

    yield CondaEnvironmentExporter(
        name="conda-source",
        aliases=("conda-source-yaml",),
        default_filenames=("*.conda-source.yml", "*.conda-source.yaml"),
        export=_call("environment", "export"),
        description="conda packages plus develop installs, re-created from their checkouts by conda-source",
    )


def environment_specifiers() -> Iterator[Any]:
    from conda.plugins.types import CondaEnvironmentSpecifier

    from conda_source.cli.conda_environment import spec_class

    yield CondaEnvironmentSpecifier(
        name="conda-source",
        aliases=("conda-source-yaml",),
        environment_spec=spec_class(),
        default_filenames=("*.conda-source.yml", "*.conda-source.yaml"),
        description="conda packages plus develop installs, re-created from their checkouts by conda-source",
    )
