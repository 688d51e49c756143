"""Options the verbs share, declared once; the standalone command's own target and output options."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path


def add_standalone_options(parser: argparse.ArgumentParser, purpose: str, dry_run: bool) -> None:
    """-p/-n/-c, --override-channels, --json, -q/-v, -y (and --dry-run): inside conda, conda's own helpers add these."""
    parser.add_argument(
        "-p", "--prefix", dest="target_prefix", metavar="PREFIX", type=Path, help=f"environment to {purpose}"
    )
    parser.add_argument(
        "-n", "--name", dest="target_name", metavar="NAME", help=f"conda environment (by name) to {purpose}"
    )
    parser.add_argument(
        "-c", "--channel", dest="channel", metavar="CHANNEL", action="append", default=[], help="channel to use"
    )
    parser.add_argument(
        "--override-channels", action="store_true", help="use only the -c channels (always so without conda)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors and the result")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="show more (the backend's output)")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    if dry_run:
        parser.add_argument(
            "--dry-run", action="store_true", help="show the plan and the packages to link; change nothing"
        )


def add_mapping_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--map",
        dest="mapping_flags",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="override a mapping ('--map torch=pytorch-cpu', '--map dep:generic/openssl=openssl'; "
        "'NAME=' drops it); wins over every table",
    )
    parser.add_argument("--no-user-mapping", action="store_true", help="ignore the user's mapping file")


def add_extras_option(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--extras", action="append", default=[], metavar="A,B", help=help)


def add_group_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", action="append", default=[], metavar="NAME", help="PEP 735 dependency group")


def parse_extras(flags: Iterable[str], *more: Iterable[str]) -> tuple[str, ...]:
    """``--extras a,b --extras c`` (and extras written after a path) -> ``('a', 'b', 'c')``, without repeats."""
    found = [e.strip() for flag in flags for e in flag.split(",") if e.strip()]
    return tuple(dict.fromkeys([*(e for group in more for e in group), *found]))
