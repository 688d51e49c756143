"""The standalone ``conda-source`` command: one module per verb, errors as one clean message.

Nothing heavy is imported here: conda imports ``cli.conda_adapter`` (and so this
package) at every start-up through the plugin hooks.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conda_source.cli.invocation import Invocation
    from conda_source.errors import CondaSourceError

VERBS = {
    "plan": "conda_source.cli.plan",
    "build-local": "conda_source.cli.build_local",
    "develop-install": "conda_source.cli.develop_install",
}
PURPOSES = {"build-local": "build in", "develop-install": "install into"}
# What a run stopped midway leaves: a develop-install is one change, whole or not at all; a build's output too.
STOPPED = {
    "develop-install": "everything the run had changed was put back, so the environment is as it was before it",
    "build-local": "nothing of the package being built was written (packages finished before it, and build "
    "requirements already installed into the environment, stay)",
    "": "a change under way was rolled back, so the environment is as it was before it (packages an earlier step "
    "linked stay)",
}


def stopped(name: str, why: str) -> str:
    """The one line for a run stopped midway (Ctrl-C; its standard output closed): why, then what it leaves."""
    return f"conda-source: {why}; {STOPPED.get(name, STOPPED[''])}"


def verb(name: str) -> ModuleType:
    return importlib.import_module(VERBS[name])


def build_parser() -> argparse.ArgumentParser:
    from conda_source import __version__
    from conda_source.cli.common import add_standalone_options

    parser = argparse.ArgumentParser(
        prog="conda-source",
        description="Install Python checkouts into conda environments: dependencies by conda, "
        "builds by the project's own backend, records conda trusts.",
    )
    parser.add_argument("--version", action="version", version=f"conda-source {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for name in VERBS:
        module = verb(name)
        sub = verbs.add_parser(
            name,
            help=module.SUMMARY,
            description=module.SUMMARY,
            epilog=module.EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name in PURPOSES:
            add_standalone_options(sub, PURPOSES[name], module.DRY_RUN)
        module.add_options(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from conda_source.cli.invocation import (
        Invocation,
        command_line,
        last_word,
        output_closed,
        overrides_from,
        run_verb,
    )
    from conda_source.errors import CondaSourceError

    args = build_parser().parse_args(argv)
    invocation: Invocation | None = None
    try:
        invocation = Invocation(
            prefix=args.target_prefix,
            name=args.target_name,
            channels=tuple(getattr(args, "channel", ())),
            overrides=overrides_from(args),
            command=command_line("conda-source"),
            json=args.json,
            quiet=getattr(args, "quiet", False),
            verbose=getattr(args, "verbose", 0),
            yes=getattr(args, "yes", False),
            spelled=f"-n {args.target_name}" if getattr(args, "target_name", None) else "",
        )
        return run_verb(verb(args.verb), args, invocation)
    except CondaSourceError as exc:
        return main_failed(args, invocation, exc)
    except KeyboardInterrupt:
        last_word(stopped(args.verb, "interrupted"))
        return 130
    except BrokenPipeError:  # the summary's own print handles its failure (run_verb): this one stopped the run
        last_word(stopped(args.verb, "standard output was closed before the run ended"))
        return output_closed()
    except OSError as exc:
        from conda_source.errors import FileSystemError

        return main_failed(args, invocation, FileSystemError(exc))


def main_failed(args: argparse.Namespace, invocation: Invocation | None, error: CondaSourceError) -> int:
    """Say why the run failed, as a JSON error document with ``--json``; the exit status."""
    from conda_source.cli.invocation import describe_error, error_document, last_word

    if getattr(args, "json", False):
        last_word(json.dumps(error_document(error), indent=2), sys.stdout)
    else:
        message = describe_error(error, "conda-source: error: ")
        last_word(invocation.spell(message) if invocation else message)
    return 1


def entry() -> None:
    """The console script.  The interpreter finalizes normally: py-rattler's threads are waited for at exit
    (``_rattler.settle_at_exit``), so a run that did its work never ends in a crash."""
    sys.exit(main())
