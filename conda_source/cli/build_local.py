"""``conda-source build-local``: a checkout, sdist or wheel -> .conda, optionally into a local channel."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from conda_source.artifact.limits import Limits, parse_size
from conda_source.cli.common import add_target_options
from conda_source.engine.build_local import BuildRequest, BuildResult, build_local
from conda_source.target import TargetEnv, resolve_target

SUMMARY = "Build a checkout, sdist or wheel into a .conda package, ready for a local channel."
EXAMPLES = """examples:
  conda-source build-local dist/pkg-1.0-py3-none-any.whl               # a wheel: no environment needed
  conda-source build-local . -p ./env -c file:///path/to/channel      # build a checkout in ./env
  conda-source build-local . --channel-dir ~/conda-local               # file it into a local channel
  conda install -c file://$HOME/conda-local pkg                        # then install it with conda
"""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The standalone command: our own target and output options, then the verb's."""
    add_target_options(parser, "build in")
    add_options(parser)


def add_options(parser: argparse.ArgumentParser) -> None:
    """What only build-local has (inside conda, conda's helpers add the standard options)."""
    parser.add_argument("source", nargs="?", default=".", help="project directory, .whl, or sdist (default: .)")
    parser.add_argument("--output-dir", type=Path, default=Path("dist-conda"), help="where .conda files go")
    parser.add_argument("--channel-dir", type=Path, help="also file the packages into this local channel and index it")
    parser.add_argument("--extras", action="append", default=[], metavar="A,B", help="extras whose deps to depend on")
    parser.add_argument("--build-number", type=int, default=0)
    parser.add_argument("--python", dest="pin_python", metavar="X.Y", help="build for one python (markers, abi3)")
    parser.add_argument("--map", dest="mapping_flags", action="append", default=[], metavar="PYPI=SPEC")
    parser.add_argument("--no-user-mapping", action="store_true", help="ignore the user's mapping file")
    add_limit_options(parser)


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """Bounds on what a wheel or sdist may unpack to (artifact/limits.py)."""
    group = parser.add_argument_group("archive limits (a wheel or sdist from outside)")
    group.add_argument(
        "--max-size", type=_size, default=Limits.max_size, metavar="SIZE", help="total unpacked size (default: 10G)"
    )
    group.add_argument("--max-files", type=int, default=Limits.max_files, metavar="N", help="members (default: 200000)")
    group.add_argument(
        "--max-ratio", type=int, default=Limits.max_ratio, metavar="N", help="compression ratio N:1 (default: 200)"
    )


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def execute(args: argparse.Namespace) -> int:
    source = Path(args.source)
    target: TargetEnv | None = None
    if not source.name.endswith(".whl") and (args.target_prefix or args.target_name or os.environ.get("CONDA_PREFIX")):
        target = resolve_target(args.target_prefix, None, None, os.environ, args.target_name)
    factory = getattr(args, "installer_factory", None)
    installer = factory(target, tuple(args.source_channels)) if factory and target is not None else None
    result = build_local(
        BuildRequest(
            source=source,
            output_dir=args.output_dir,
            channel_dir=args.channel_dir,
            target=target,
            channels=tuple(args.source_channels),
            extras=tuple(e.strip() for flag in args.extras for e in flag.split(",") if e.strip()),
            build_number=args.build_number,
            python=args.pin_python,
            mapping_flags=tuple(args.mapping_flags),
            config_mapping=tuple(getattr(args, "config_mapping", ())),
            user_mapping=not args.no_user_mapping,
            command=" ".join(["conda-source", *sys.argv[1:]]),
            limits=Limits(args.max_size, args.max_files, args.max_ratio),
        ),
        installer,
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else render(result))
    return 0


def render(result: BuildResult) -> str:
    lines = []
    if result.installed:
        lines += ["Installed build requirements"] + [f"  + {dist}" for dist in result.installed] + [""]
    lines.append(f"Built from {result.kind} {result.source}")
    for package in result.packages:
        lines.append(f"  {package.path}")
        lines += [f"      depends {spec}" for spec in package.depends]
    if result.channel:
        lines += ["", f"Filed into channel {result.channel}; install with:"]
        names = sorted({p.identity.name for p in result.packages})
        lines.append(f"  conda install -c {result.channel.absolute().as_uri()} {' '.join(names)}")
    return "\n".join(lines)
