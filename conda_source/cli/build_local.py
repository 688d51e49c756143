"""``build-local``: a checkout, sdist or wheel -> .conda, optionally into a local channel."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from conda_source.cli.common import add_extras_option, add_mapping_options, parse_extras
from conda_source.cli.invocation import Invocation

if TYPE_CHECKING:
    from conda_source.engine.build_local import BuildLocalResult, BuildRequest, BuildResult

SUMMARY = "Build a checkout, sdist or wheel into a .conda package, ready for a local channel."
EXAMPLES = """examples:
  conda-source build-local dist/pkg-1.0-py3-none-any.whl               # a wheel: no environment needed
  conda-source build-local . -p ./env -c file:///path/to/channel      # build a checkout in ./env
  conda-source build-local . --channel-dir ~/conda-local               # file it into a local channel
  conda-source build-local . --compression-level 3                     # faster builds, larger files
  conda install -c file://$HOME/conda-local pkg                        # then install it with conda
"""
DRY_RUN = False


def add_options(parser: argparse.ArgumentParser) -> None:
    """What only build-local has (each front end adds -p/-n/-c, --json, -q/-v)."""
    parser.add_argument(
        "sources",
        nargs="*",
        default=["."],
        metavar="SOURCE",
        help="project directories, .whl or sdist files, or a directory of projects (default: .); several are built "
        "in dependency order, each against the ones built before, independent ones in parallel",
    )
    parser.add_argument("--jobs", type=int, default=0, metavar="N", help="parallel builds (default: one per core)")
    parser.add_argument("--output-dir", type=Path, default=Path("dist-conda"), help="where .conda files go")
    parser.add_argument("--channel-dir", type=Path, help="also file the packages into this local channel and index it")
    add_extras_option(parser, "extras whose dependencies the package depends on")
    parser.add_argument("--build-number", type=int, default=0, help="the conda build number (default: 0)")
    parser.add_argument("--python", dest="pin_python", metavar="X.Y", help="build for one python (markers, abi3)")
    parser.add_argument(
        "--allow-system-libs",
        action="store_true",
        help="let compiled code link system libraries beyond the C library (reported, not refused)",
    )
    parser.add_argument(
        "--compression-level",
        type=_level,
        metavar="N",
        help="zstd level of the packages, 1 (fastest builds) to 22 (smallest files); default: 19, as conda-build "
        "(conda build-local reads conda-build's condarc setting conda_build: zstd_compression_level)",
    )
    add_mapping_options(parser)
    add_limit_options(parser)


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """Bounds on what a wheel or sdist may unpack to (artifact/limits.py)."""
    group = parser.add_argument_group("archive limits (a wheel or sdist from outside)")
    group.add_argument("--max-size", type=_size, metavar="SIZE", help="total unpacked size (default: 10G)")
    group.add_argument("--max-files", type=int, metavar="N", help="members (default: 200000)")
    group.add_argument("--max-ratio", type=int, metavar="N", help="compression ratio N:1 (default: 200)")


def _size(text: str) -> int:
    from conda_source.artifact.limits import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _level(text: str) -> int:
    from conda_source.artifact.writer import parse_level

    try:
        return parse_level(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _compression_level(given: int | None, setting: str | None) -> int:
    """--compression-level, else conda-build's condarc setting (conda read it), else the default."""
    from conda_source.artifact.writer import ZSTD_LEVEL, parse_level
    from conda_source.errors import SettingError

    if given is not None:
        return given
    if setting is None:
        return ZSTD_LEVEL
    try:
        return parse_level(setting)
    except ValueError as exc:
        raise SettingError(
            "condarc setting conda_build: zstd_compression_level",
            f"{exc} (correct it in the .condarc that 'conda config --show-sources' lists, "
            "or pass --compression-level N)",
        ) from None


def to_request(args: argparse.Namespace, invocation: Invocation) -> BuildRequest:
    from conda_source.artifact.limits import Limits
    from conda_source.engine.build_local import BuildRequest

    sources = tuple(Path(s) for s in args.sources)
    wheels = all(source.name.endswith(".whl") for source in sources)
    named = invocation.prefix or invocation.name or _active()
    return BuildRequest(
        sources=sources,
        output_dir=args.output_dir,
        channel_dir=args.channel_dir,
        environment=invocation.environment() if named and not wheels else None,
        channels=invocation.channels,
        extras=parse_extras(args.extras),
        build_number=args.build_number,
        python=args.pin_python,
        overrides=invocation.overrides,
        command=invocation.command,
        limits=Limits(**{k: v for k in ("max_size", "max_files", "max_ratio") if (v := getattr(args, k)) is not None}),
        jobs=args.jobs,
        allow_system_libs=args.allow_system_libs,
        compression_level=_compression_level(args.compression_level, invocation.compression_level),
    )


def execute(request: BuildRequest, invocation: Invocation) -> BuildLocalResult:
    from conda_source.engine.build_local import build_local

    environment, factory = request.environment, invocation.installer_factory
    installer = invocation.installer(environment) if environment else None
    installer_for = (lambda channels: factory(environment, channels)) if environment and factory else None
    return build_local(request, installer, installer_for)


def render(result: BuildLocalResult) -> str:
    if len(result.results) == 1:
        return render_one(result.results[0])
    lines = []
    if result.installed:
        lines += ["Installed build requirements"] + [f"  + {dist}" for dist in result.installed] + [""]
    for number, wave in enumerate(result.waves, start=1):
        lines.append(f"Wave {number}: {', '.join(str(source) for source in wave)}")
    lines.append("")
    for one in result.results:
        lines.append(render_one(dataclasses.replace(one, installed=(), channel=None)))
    if result.channel:
        lines += ["", f"Filed into channel {result.channel}; install with:"]
        names = sorted({p.identity.name for p in result.packages})
        lines.append(f"  conda install -c {result.channel.absolute().as_uri()} {' '.join(names)}")
    return "\n".join(lines)


def render_one(result: BuildResult) -> str:
    lines = []
    if result.installed:
        lines += ["Installed build requirements"] + [f"  + {dist}" for dist in result.installed] + [""]
    lines.append(f"Built from {result.kind} {result.source}")
    for package in result.packages:
        lines.append(f"  {package.path}")
        lines += [f"      depends {spec}" for spec in package.depends]
        lines += [f"      note: {note}" for note in package.notes]
    if result.channel:
        lines += ["", f"Filed into channel {result.channel}; install with:"]
        names = sorted({p.identity.name for p in result.packages})
        lines.append(f"  conda install -c {result.channel.absolute().as_uri()} {' '.join(names)}")
    return "\n".join(lines)


def _active() -> str | None:
    import os

    return os.environ.get("CONDA_PREFIX")
