"""The standalone ``conda-source`` command: one module per verb, errors as one clean message."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from conda_source import __version__
from conda_source.cli import build_local as build_local_verb
from conda_source.cli import develop_install as develop_install_verb
from conda_source.cli import plan as plan_verb
from conda_source.errors import CondaSourceError

VERBS = {"plan": plan_verb, "build-local": build_local_verb, "develop-install": develop_install_verb}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conda-source",
        description="Install Python checkouts into conda environments: dependencies by conda, "
        "builds by the project's own backend, records conda trusts.",
    )
    parser.add_argument("--version", action="version", version=f"conda-source {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for name, module in VERBS.items():
        sub = verbs.add_parser(
            name,
            help=module.SUMMARY,
            description=module.SUMMARY,
            epilog=module.EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure_parser(sub)
        sub.set_defaults(execute=module.execute)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.execute(args))
    except CondaSourceError as exc:
        print(f"conda-source: error: {exc}", file=sys.stderr)
        return 1


def entry() -> None:
    """The console script: run, flush, and leave without interpreter finalization.

    py-rattler's native worker threads can crash CPython's finalization after all
    work is done (an intermittent "PyGILState_Release" abort or segfault), which
    would turn a success into exit code 134.  Skipping finalization avoids it;
    everything conda-source writes is flushed or closed before this point.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
