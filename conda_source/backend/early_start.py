"""Start each project's backend process before the plan is made, so the two overlap.

A develop-install spends its first tenth of a second importing its own modules and
planning; the backend's process spends about as long starting its interpreter and
importing the backend.  Neither needs the other until the first hook is called, so
the front ends start the processes here, right after the quick no-op check
(``engine/rerun.py``), and ``hook_process.HookProcess`` takes one over when its
build asks for exactly that process (same interpreter, project, backend,
activated environment and installed packages); any other is ended unused.

Only what pyproject.toml declares plainly is started early: a project without
``build-backend`` (or with a value the plan would reject) waits for the plan.  Nothing
starts while the environment is mid-change (an interrupted run, which the run puts right
first, not always touching ``conda-meta/``), and a start that fails (a broken activation
script) is left to the build, which reports it if it is reached at all.

What the process is asked at once is what the build will ask first: the
``get_requires_for_build_*`` hook; or, when its answer is remembered (``requires_memo``)
and nothing else comes before the build (``_writes_only_the_wheel``), the editable build
itself, into a scratch directory the build takes the wheel from.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conda_source.target import Environment


@contextlib.contextmanager
def backends_started(paths: Iterable[Path], environment: Environment, editable: bool = True) -> Iterator[None]:
    """``start_backends``, and at the end of the block, end those no build took over."""
    from conda_source.backend.hook_process import end_early

    try:
        start_backends(paths, environment, editable)
        yield
    finally:
        end_early()


def start_backends(paths: Iterable[Path], environment: Environment, editable: bool = True) -> None:
    """Start the backend process of each project at ``paths`` (directories or their pyproject.toml), and ask
    it at once what a build asks first (``get_requires_for_build_editable``, or ``_wheel``)."""
    from conda_source.backend.activation import activate
    from conda_source.backend.hook_process import installed_token, start_early
    from conda_source.backend.requires_memo import memo_key, recall
    from conda_source.errors import CondaSourceError
    from conda_source.meta import conda_meta

    if conda_meta.change_pending(environment.prefix):
        return
    for path in paths:
        declared = _declared(Path(path))
        if declared is None:
            continue
        root, backend, backend_path, document = declared
        try:
            environ = activate(environment.prefix, os.environ).environ
            context = (environ, installed_token(environment.prefix))
            hook = "get_requires_for_build_editable" if editable else "get_requires_for_build_wheel"
            key = memo_key(hook, root, backend, backend_path, environment.interpreter, environ, environment.prefix)
            python = environment.interpreter
            if recall(key) is None:
                start_early(root, backend, backend_path, python, context, hook)
            elif editable and _writes_only_the_wheel(root, backend, document):  # the build's first call: build now
                start_early(root, backend, backend_path, python, context, "build_editable")
            else:  # the build will not ask the hook (requires_memo): nothing to ask ahead
                start_early(root, backend, backend_path, python, context)
        except (CondaSourceError, OSError):
            continue


AHEAD_BACKENDS = frozenset({"hatchling.build", "flit_core.buildapi"})  # editable builds: the wheel, nothing else


def _writes_only_the_wheel(root: Path, backend: str, document: dict[str, Any]) -> bool:
    """Whether the editable build can start before the plan: a backend whose editable build writes only the
    wheel (into a scratch directory until the build takes it over: nothing in the checkout, so a run that ends
    before its build leaves no trace), no build hook of the project's own, and pyproject.toml declaring the
    version and every dependency (no metadata hook comes first).  ``backend.build`` asks nothing else then."""
    from conda_source.build_files import METADATA_BEFORE_BUILD, hatch_config, nested_tables

    project = document.get("project")
    if backend not in AHEAD_BACKENDS or not isinstance(project, dict):
        return False
    dynamic = project.get("dynamic") or []
    if not isinstance(dynamic, list) or set(METADATA_BEFORE_BUILD) & set(dynamic):
        return False
    return not any("hooks" in table for table in nested_tables(hatch_config(root, document)))  # hatch.toml's too


def _declared(path: Path) -> tuple[Path, str, list[str], dict[str, Any]] | None:
    """The project root, build-backend and backend-path pyproject.toml declares, and the document; None when
    not plainly there."""
    from conda_source._toml import loads_toml

    root, file = (path.parent, path) if path.name == "pyproject.toml" else (path, path / "pyproject.toml")
    try:
        document = loads_toml(file.read_text(encoding="utf-8"), str(file))
    except Exception:  # unreadable or invalid: the plan reports it
        return None
    table = document.get("build-system")
    backend = table.get("build-backend") if isinstance(table, dict) else None
    backend_path = table.get("backend-path", []) if isinstance(table, dict) else []
    if not isinstance(backend, str) or not backend or not isinstance(backend_path, list):
        return None
    if not all(isinstance(entry, str) for entry in backend_path):
        return None
    return root, backend, backend_path, document
