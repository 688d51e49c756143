"""``python -m conda_source.testing prefix DIR``: make a test prefix (see DESIGN.md)."""

from __future__ import annotations

import argparse
import sys

from conda_source.errors import CondaSourceError
from conda_source.testing.prefix import make_test_prefix


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m conda_source.testing")
    verbs = parser.add_subparsers(dest="verb", required=True)
    prefix = verbs.add_parser("prefix", help="create a conda prefix with a working python, without conda")
    prefix.add_argument("path")
    prefix.add_argument("--python", default=sys.executable, help="interpreter to copy (default: this one)")
    args = parser.parse_args()
    try:
        created = make_test_prefix(args.path, args.python)
    except CondaSourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(created)
    return 0


raise SystemExit(main())
