"""Options the standalone verbs share (inside conda, conda's own helpers add these instead)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_target_options(parser: argparse.ArgumentParser, purpose: str) -> None:
    """-p/-n/-c, --json and -q; ``purpose`` completes 'environment to ...'."""
    parser.add_argument(
        "-p", "--prefix", dest="target_prefix", metavar="PREFIX", type=Path, help=f"environment to {purpose}"
    )
    parser.add_argument(
        "-n", "--name", dest="target_name", metavar="NAME", help=f"conda environment (by name) to {purpose}"
    )
    parser.add_argument(
        "-c", "--channel", dest="source_channels", metavar="CHANNEL", action="append", default=[], help="channel to use"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors and the result")
