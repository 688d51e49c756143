"""The embedded default of DESIGN.md, from the command line.

python -m conda_source.testing prefix DIR              # a conda prefix with a working python
python -m conda_source.testing channel DIR REQ ...     # a local channel from PyPI wheels
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from conda_source.errors import CondaSourceError
from conda_source.testing.channel import make_channel
from conda_source.testing.prefix import make_test_prefix


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m conda_source.testing")
    verbs = parser.add_subparsers(dest="verb", required=True)
    prefix = verbs.add_parser("prefix", help="create a conda prefix with a working python, without conda")
    prefix.add_argument("path")
    prefix.add_argument("--python", default=sys.executable, help="interpreter to copy (default: this one)")
    channel = verbs.add_parser("channel", help="build a local channel from PyPI wheels with conda-source's writer")
    channel.add_argument("path")
    channel.add_argument("requirements", nargs="+", help="pinned requirements, e.g. six==1.16.0")
    args = parser.parse_args()
    try:
        if args.verb == "prefix":
            print(make_test_prefix(Path(args.path), args.python))
        else:
            print(_channel_from_pypi(Path(args.path), args.requirements))
    except CondaSourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _channel_from_pypi(channel: Path, requirements: list[str]) -> Path:
    wheels = channel / ".wheels"
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    command += ["--platform", "any", "--python-version", python, "--dest", str(wheels), *requirements]
    if subprocess.run(command).returncode != 0:
        raise CondaSourceError(f"could not download {' '.join(requirements)} from the package index")
    make_channel(channel, sorted(wheels.glob("*.whl")), python=python)
    return channel.absolute()


raise SystemExit(main())
