"""build-local of one source: a checkout, sdist or wheel -> ``.conda`` package(s), optionally filed into a channel.

1. A wheel goes straight to the package writer.
2. An sdist is unpacked safely (no absolute paths, no ``..``, no links out) and built as a checkout.
3. A checkout (engine/build_checkout.py): its mapped build requirements are installed into the target prefix
   (one transaction), then what ``get_requires_for_build_wheel`` adds, then
   ``build_wheel`` runs with the prefix's interpreter.  The wheel is converted, and its
   compiled code relocated and checked against the prefix (artifact/native.py).
4. ``channel_dir`` files the packages under their subdir and re-indexes the channel.

``engine.build_local`` is the entry point: it builds one source here, or several in
dependency waves through ``engine.build_many``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from conda_source.artifact.limits import Limits
from conda_source.artifact.outputs import check_dir, output_guard
from conda_source.artifact.sdist import unpack_sdist
from conda_source.artifact.writer import ZSTD_LEVEL
from conda_source.errors import ArtifactError
from conda_source.installer.channel import file_into_channel
from conda_source.mapping.overrides import Overrides
from conda_source.target import Environment

if TYPE_CHECKING:
    from conda_source.artifact import BuiltPackage
    from conda_source.artifact.native import BuildEnvironment
    from conda_source.installer.installer import Installer  # a wheel's build-local never loads it

SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip")


@dataclass(frozen=True)
class BuildRequest:
    sources: tuple[Path, ...]
    output_dir: Path = Path("dist-conda")
    channel_dir: Path | None = None
    environment: Environment | None = None  # needed to build a checkout or sdist
    channels: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    build_number: int = 0
    python: str | None = None
    overrides: Overrides = field(default_factory=Overrides)
    command: str = ""
    limits: Limits = field(default_factory=Limits)  # what a wheel or sdist may unpack to
    jobs: int = 0  # independent projects built at once; 0: one per core
    allow_system_libs: bool = False  # compiled code may link system libraries beyond the C library
    compression_level: int = ZSTD_LEVEL  # zstd, 1 (fastest) to 22 (smallest)


@dataclass(frozen=True)
class BuildResult:
    source: Path
    kind: str  # wheel | sdist | checkout
    packages: tuple[BuiltPackage, ...]
    installed: tuple[str, ...]  # build requirements linked into the prefix
    channel: Path | None

    def to_dict(self) -> dict[str, object]:
        return {
            "source": str(self.source),
            "kind": self.kind,
            "packages": [p.to_dict() for p in self.packages],
            "installed": list(self.installed),
            "channel": str(self.channel) if self.channel else None,
        }


@dataclass(frozen=True)
class BuildLocalResult:
    """Every project's result, in the order of the sources; the waves they were built in."""

    results: tuple[BuildResult, ...]
    waves: tuple[tuple[Path, ...], ...] = ()
    installed: tuple[str, ...] = ()  # build requirements linked into the prefix for the waves
    channel: Path | None = None

    @property
    def packages(self) -> tuple[BuiltPackage, ...]:
        return tuple(p for r in self.results for p in r.packages)

    def to_dict(self) -> dict[str, object]:
        return {
            "projects": [r.to_dict() for r in self.results],
            "packages": [p.to_dict() for p in self.packages],
            "waves": [[str(s) for s in wave] for wave in self.waves],
            "installed": list(self.installed),
            "channel": str(self.channel) if self.channel else None,
        }


def build_one(source: Path, request: BuildRequest, installer: Installer | None = None) -> BuildResult:
    kind = _kind(source)
    # Output problems show before any work, and a failed run leaves no output behind.
    if request.channel_dir is not None:
        check_dir(request.channel_dir, "--channel-dir")
    new_output = not request.output_dir.exists()
    with output_guard(request.output_dir) as written:
        result = _build(request, installer, source, kind)
        written += [p.path for p in result.packages]
        if request.channel_dir is not None:
            for subdir in sorted({"noarch", *(p.identity.subdir for p in result.packages)}):
                check_dir(request.channel_dir / subdir, "--channel-dir")
            file_into_channel([(p.path, p.identity.subdir) for p in result.packages], request.channel_dir)
    if new_output:  # made by this run: keep it out of the checkout's git status, as other build tools do
        (request.output_dir / ".gitignore").write_text("*\n", encoding="utf-8")
    return result


def _build(request: BuildRequest, installer: Installer | None, source: Path, kind: str) -> BuildResult:
    installed: tuple[str, ...] = ()
    with tempfile.TemporaryDirectory(prefix="conda-source-build-") as scratch:
        conda_depends: tuple[str, ...] = ()
        built_in: BuildEnvironment | None = None
        if kind == "wheel":
            wheel, mapper = source, request.overrides.mapper()
        else:
            from conda_source.engine.build_checkout import build_checkout

            root = source if kind == "checkout" else unpack_sdist(source, Path(scratch, "src"), request.limits)
            environment, overrides, out = request.environment, request.overrides, Path(scratch, "wheel")
            wheel, mapper, installed, conda_depends, host = build_checkout(
                root, environment, overrides, request.channels, request.command, installer, out
            )
            assert request.environment is not None  # build_checkout refuses to build without one
            from conda_source.artifact.native import BuildEnvironment

            built_in = BuildEnvironment(request.environment.prefix, host, request.allow_system_libs)
        from conda_source.artifact import WheelRequest, convert_wheel  # a checkout's build imported it meanwhile

        wheel_request = WheelRequest(
            wheel,
            request.output_dir,
            mapper,
            request.extras,
            request.build_number,
            request.python,
            extra_depends=conda_depends,
            limits=request.limits,
            built_in=built_in,
            compression_level=request.compression_level,
        )
        packages = tuple(convert_wheel(wheel_request))
    return BuildResult(source, kind, packages, installed, request.channel_dir)


def _kind(source: Path) -> str:
    if not source.exists():
        raise ArtifactError(source, "no such file or directory")
    if source.is_dir():
        return "checkout"
    if source.name.endswith(".whl"):
        return "wheel"
    if source.name.endswith(SDIST_SUFFIXES):
        return "sdist"
    raise ArtifactError(source, "not a project directory, wheel (.whl) or sdist (.tar.gz, .zip)")
