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

from conda_source.engine.plan import Plan, PlanRequest, split_path_extras
from conda_source.engine.plan import plan as _plan
from conda_source.target import resolve_target

__all__ = ["Plan", "plan"]


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
        mapping_flags=tuple(mapping),
        user_mapping=user_mapping,
    )
    return _plan(request)
