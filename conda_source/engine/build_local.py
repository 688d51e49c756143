"""build-local: checkouts, sdists and wheels -> ``.conda`` packages, optionally filed into a channel.

The entry point of both front ends: one source is built by ``build_one``; several sources
(or a directory of projects) are built in dependency order, in waves, by ``build_many``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conda_source.engine.build_one import BuildLocalResult, BuildRequest, BuildResult, build_one
from conda_source.errors import TargetError

if TYPE_CHECKING:
    from conda_source.installer.installer import Installer  # a wheel's build-local never loads it

__all__ = ["BuildLocalResult", "BuildRequest", "BuildResult", "build_local", "expand_sources"]


def build_local(
    request: BuildRequest,
    installer: Installer | None = None,
    installer_for: Callable[[tuple[str, ...]], Installer] | None = None,
) -> BuildLocalResult:
    """Build every source.  ``installer`` serves one source; several get ``installer_for(channels)`` per wave."""
    sources = expand_sources(request.sources)
    if len(sources) != 1:
        from conda_source.engine.build_many import build_many

        return build_many(sources, request, installer_for)
    result = build_one(sources[0], request, installer)
    return BuildLocalResult((result,), ((sources[0],),), result.installed, request.channel_dir)


def expand_sources(sources: Sequence[Path]) -> tuple[Path, ...]:
    """The sources, with a directory of projects (no project files of its own) replaced by its projects."""
    found: list[Path] = []
    for source in sources:
        if source.is_dir() and not any((source / name).is_file() for name in ("pyproject.toml", "setup.py")):
            projects = sorted(
                d
                for d in source.iterdir()
                if d.is_dir() and any((d / n).is_file() for n in ("pyproject.toml", "setup.py"))
            )
            if projects:
                found += projects
                continue
        found.append(source)
    if not found:
        raise TargetError("nothing to build: pass project directories, wheels or sdists")
    return tuple(dict.fromkeys(found))
