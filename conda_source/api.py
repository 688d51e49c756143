"""The Python API: the same work as the command line, returning result objects.

>>> from conda_source import api
>>> result = api.plan("path/to/project", python="3.12", platform="linux-64")
>>> result.specs
('hatchling', 'python >=3.10', ...)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from conda_source.artifact.writer import ZSTD_LEVEL, parse_level
from conda_source.backend.early_start import backends_started
from conda_source.engine.build_local import BuildLocalResult, BuildRequest, BuildResult
from conda_source.engine.build_local import build_local as _build_local
from conda_source.engine.develop_install import DevelopRequest, DevelopResult
from conda_source.engine.develop_install import develop_install as _develop_install
from conda_source.engine.plan import Plan, PlanRequest
from conda_source.engine.plan import plan as _plan
from conda_source.engine.rerun import nothing_to_do
from conda_source.engine.uninstall import UninstallRequest, develop_uninstall
from conda_source.errors import SettingError
from conda_source.mapping.overrides import Overrides
from conda_source.path_extras import split_path_extras
from conda_source.target import Environment, resolve_environment, resolve_target

__all__ = [
    "BuildLocalResult",
    "BuildResult",
    "DevelopResult",
    "Plan",
    "build_local",
    "develop_install",
    "plan",
    "uninstall",
]


def plan(
    path: str | os.PathLike[str] = ".",
    *,
    prefix: str | os.PathLike[str] | None = None,
    python: str | None = None,
    platform: str | None = None,
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    mapping: Iterable[str] = (),
    user_mapping: bool = True,
) -> Plan:
    """Map a project's requirements to conda specs for a target environment.

    ``path`` may carry extras (``"proj[test]"``).  The target is ``prefix``
    (probed), or ``python``/``platform`` (described), or the active
    ``$CONDA_PREFIX``.  ``mapping`` takes ``"PYPI=SPEC"`` overrides, as ``--map``.
    Raises a ``CondaSourceError`` subclass on bad input.
    """
    project_path, path_extras = split_path_extras(os.fspath(path))
    target = resolve_target(Path(prefix) if prefix is not None else None, python, platform, os.environ)
    request = PlanRequest(
        path=project_path,
        target=target,
        extras=(*path_extras, *extras),
        groups=tuple(groups),
        overrides=Overrides(tuple(mapping), (), user_mapping),
    )
    return _plan(request)


def develop_install(
    *paths: str | os.PathLike[str],
    prefix: str | os.PathLike[str] | None = None,
    name: str | None = None,
    channels: Iterable[str] = (),
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    editable: bool = True,
    deps: bool = True,
    dry_run: bool = False,
    force: bool = False,
    mapping: Iterable[str] = (),
    user_mapping: bool = True,
) -> DevelopResult:
    """Install checkouts into a conda environment, as ``conda-source develop-install``."""
    parsed = [split_path_extras(os.fspath(p)) for p in paths or (".",)]
    request = DevelopRequest(
        paths=tuple(path for path, _ in parsed),
        environment=_environment(prefix, name),
        channels=tuple(channels),
        extras=tuple(dict.fromkeys([*(e for _, pe in parsed for e in pe), *extras])),
        groups=tuple(groups),
        editable=editable,
        deps=deps,
        dry_run=dry_run,
        force=force,
        overrides=Overrides(tuple(mapping), (), user_mapping),
        command="conda_source.api.develop_install",
    )
    unchanged = nothing_to_do(request)
    if unchanged is not None:
        return unchanged
    if dry_run:  # a dry run starts no backend it may not need
        return _develop_install(request)
    with backends_started(request.paths, request.environment, editable):
        return _develop_install(request)


def uninstall(
    *paths: str | os.PathLike[str], prefix: str | os.PathLike[str] | None = None, name: str | None = None
) -> DevelopResult:
    """Remove develop installs of ``paths``, as ``develop-install --uninstall``."""
    request = UninstallRequest(tuple(Path(p) for p in paths), _environment(prefix, name), "conda_source.api.uninstall")
    return develop_uninstall(request)


def build_local(
    *sources: str | os.PathLike[str],
    output_dir: str | os.PathLike[str] = "dist-conda",
    channel_dir: str | os.PathLike[str] | None = None,
    prefix: str | os.PathLike[str] | None = None,
    name: str | None = None,
    channels: Iterable[str] = (),
    extras: Iterable[str] = (),
    build_number: int = 0,
    python: str | None = None,
    mapping: Iterable[str] = (),
    user_mapping: bool = True,
    jobs: int = 0,
    compression_level: int = ZSTD_LEVEL,
) -> BuildLocalResult:
    """Build checkouts, sdists or wheels (default: ``.``) into .conda packages, as ``conda-source build-local``.

    Wheels need no environment; checkouts and sdists are built in ``prefix``/``name``
    (or the active environment), several in dependency order, each against the ones built before.
    ``compression_level`` is zstd's, 1 (fastest) to 22 (smallest files), as ``--compression-level``.
    """
    try:
        level = parse_level(compression_level)
    except ValueError as exc:
        raise SettingError("compression_level", str(exc)) from None
    paths = tuple(Path(s) for s in sources or (".",))
    request = BuildRequest(
        sources=paths,
        output_dir=Path(output_dir),
        channel_dir=Path(channel_dir) if channel_dir is not None else None,
        environment=None if all(p.name.endswith(".whl") for p in paths) else _environment(prefix, name),
        channels=tuple(channels),
        extras=tuple(extras),
        build_number=build_number,
        python=python,
        overrides=Overrides(tuple(mapping), (), user_mapping),
        command="conda_source.api.build_local",
        jobs=jobs,
        compression_level=level,
    )
    return _build_local(request)


def _environment(prefix: str | os.PathLike[str] | None, name: str | None) -> Environment:
    return resolve_environment(Path(prefix) if prefix is not None else None, name, os.environ)
