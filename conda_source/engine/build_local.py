"""build-local: a checkout, sdist or wheel -> ``.conda`` package(s), optionally filed into a channel.

1. A wheel goes straight to the package writer.
2. An sdist is unpacked safely (no absolute paths, no ``..``, no links out) and built as a checkout.
3. A checkout: its mapped build requirements are installed into the target prefix
   (one transaction), then what ``get_requires_for_build_wheel`` adds, then
   ``build_wheel`` runs with the prefix's interpreter.  The wheel is converted.
4. ``channel_dir`` files the packages under their subdir and re-indexes the channel.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from conda_source.artifact import BuiltPackage, WheelRequest, convert_wheel
from conda_source.artifact.limits import Limits
from conda_source.artifact.outputs import check_dir, output_guard
from conda_source.artifact.sdist import unpack_sdist
from conda_source.backend import Backend
from conda_source.channel import file_into_channel
from conda_source.engine.plan import PlanRequest, build_mapper, plan
from conda_source.errors import ArtifactError, TargetError
from conda_source.installer import Installer, RattlerInstaller
from conda_source.mapping.names import NameMapper
from conda_source.mapping.requirements import map_requirement
from conda_source.target import TargetEnv, python_in

SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip")


@dataclass(frozen=True)
class BuildRequest:
    source: Path
    output_dir: Path = Path("dist-conda")
    channel_dir: Path | None = None
    target: TargetEnv | None = None  # needed to build a checkout or sdist
    channels: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    build_number: int = 0
    python: str | None = None
    mapping_flags: tuple[str, ...] = ()
    user_mapping: bool = True
    command: str = ""
    config_mapping: tuple[str, ...] = ()  # PYPI=SPEC from conda's plugins.conda_source_mapping
    limits: Limits = field(default_factory=Limits)  # what a wheel or sdist may unpack to


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


def build_local(request: BuildRequest, installer: Installer | None = None) -> BuildResult:
    source = request.source
    kind = _kind(source)
    # Output problems show before any work, and a failed run leaves no output behind.
    if request.channel_dir is not None:
        check_dir(request.channel_dir, "--channel-dir")
    with output_guard(request.output_dir) as written:
        result = _build(request, installer, source, kind)
        written += [p.path for p in result.packages]
        if request.channel_dir is not None:
            for subdir in sorted({"noarch", *(p.identity.subdir for p in result.packages)}):
                check_dir(request.channel_dir / subdir, "--channel-dir")
            file_into_channel([(p.path, p.identity.subdir) for p in result.packages], request.channel_dir)
    return result


def _build(request: BuildRequest, installer: Installer | None, source: Path, kind: str) -> BuildResult:
    installed: tuple[str, ...] = ()
    with tempfile.TemporaryDirectory(prefix="conda-source-build-") as scratch:
        conda_depends: tuple[str, ...] = ()
        if kind == "wheel":
            wheel, mapper = (
                source,
                build_mapper(request.mapping_flags, None, request.user_mapping, request.config_mapping),
            )
        else:
            root = source if kind == "checkout" else unpack_sdist(source, Path(scratch, "src"), request.limits)
            wheel, mapper, installed, conda_depends = _build_wheel(root, request, installer, Path(scratch, "wheel"))
        wheel_request = WheelRequest(
            wheel,
            request.output_dir,
            mapper,
            request.extras,
            request.build_number,
            request.python,
            extra_depends=conda_depends,
            limits=request.limits,
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


def _build_wheel(
    root: Path, request: BuildRequest, installer: Installer | None, out: Path
) -> tuple[Path, NameMapper, tuple[str, ...], tuple[str, ...]]:
    """Returns the wheel, the mapper, what was installed, and the project's conda-only run deps."""
    target = request.target
    if target is None or target.prefix is None:
        raise TargetError("building from source needs a target environment: pass -p PREFIX or activate one")
    planned = plan(
        PlanRequest(
            root,
            target,
            mapping_flags=request.mapping_flags,
            user_mapping=request.user_mapping,
            config_mapping=request.config_mapping,
        )
    )
    mapper = build_mapper(request.mapping_flags, planned.project, request.user_mapping, request.config_mapping)
    installer = installer or RattlerInstaller(target, request.channels, command=request.command)
    build_specs = [spec for item in planned.build for spec in item.specs]
    linked = list(installer.install(build_specs).link)

    backend = Backend(planned.project, python_in(target.prefix), target.prefix)
    extra_specs = []
    for index, text in enumerate(backend.get_requires_for_build_wheel()):
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise ArtifactError(root, f"the backend asked for an invalid requirement '{text}': {exc}") from None
        mapped = map_requirement(requirement, f"get_requires_for_build_wheel[{index}]", target, mapper)
        extra_specs += [s for s in mapped.specs if s not in build_specs]
    linked += installer.install(extra_specs).link
    out.mkdir(parents=True, exist_ok=True)
    conda_depends = tuple(spec for spec, _ in planned.project.conda.dependencies)
    return backend.build_wheel(out), mapper, tuple(linked), conda_depends
