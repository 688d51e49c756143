"""A re-run with nothing to do, seen before anything is planned, solved or even imported.

A develop-install run that changes nothing (the projects' fingerprints and files as
installed, their dependencies still satisfied) must cost little more than the
interpreter's start.  The full path sees it too, but only after planning every
project (``packaging``, the mapping table) and asking the installer; this path
decides from what the last install left in the project's state: the *key* of the
request it ran for (projects, extras, groups, editable, deps, the mapping overrides
and the user's mapping file, conda-source's version), the fingerprint's inputs, and
the specs it was solved with, checked against the records that satisfied them
(``satisfied.remembered``: unchanged record files, no solve).

Anything it cannot vouch for (another request, no state from this version, an open
journal or a package waiting to be put back, a record changed since) sends the run
down the full path, which decides exactly as before; so this path can only say
"unchanged" where the full path would say the same.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_source import __version__
from conda_source.build_files import canonical_name
from conda_source.installer import satisfied
from conda_source.meta import conda_meta

if TYPE_CHECKING:
    from conda_source.engine.develop_types import DevelopRequest, DevelopResult


def rerun_key(request: DevelopRequest) -> str:
    """Everything of a develop-install request that decides its plan, beside the checkouts' own files."""
    material = [
        __version__,
        sorted(str(Path(path).resolve()) for path in request.paths),
        [canonical_name(extra) for extra in request.extras],
        [canonical_name(group) for group in request.groups],
        request.editable,
        request.deps,
        list(request.overrides.flags),
        list(request.overrides.config),
        request.overrides.user_file_stat,  # as the plan read it
    ]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def nothing_to_do(request: DevelopRequest) -> DevelopResult | None:
    """The result of a re-run that has nothing to do, or None: then the full path decides."""
    if request.dry_run or request.only_deps or request.protect_env or not request.paths:
        return None  # --protect-env writes a file even when nothing else changes: the full path does it
    prefix = request.environment.prefix
    meta = prefix / "conda-meta"
    state_dir = meta / conda_meta.STATE_DIR
    if not state_dir.is_dir() or not os.access(meta, os.W_OK) or conda_meta.change_pending(prefix):
        return None
    if not request.allow_base and ((prefix / "condabin").is_dir() or (prefix / "envs").is_dir()):
        return None  # the full path says why not
    key = rerun_key(request)
    with conda_meta.prefix_lock(prefix):
        if conda_meta.change_pending(prefix):
            return None
        found = [_unchanged(request, Path(path).resolve(), key) for path in request.paths]
        if any(f is None for f in found):
            return None
        specs = list(dict.fromkeys(s for f in found if f is not None for s in f[1]))
        if specs and not satisfied.remembered(prefix, specs):
            return None
        return _result(request, [f[0] for f in found if f is not None], specs)


def _build_order(records: list[conda_meta.Record]) -> list[conda_meta.Record]:
    """The order the full path lists the projects in: those the others depend on first (``_build_order``
    of engine/develop_install.py, from the records' depends instead of the plans)."""
    from graphlib import TopologicalSorter

    from conda_source.specs import spec_name

    by_name = {record.name: record for record in records}
    needs = {name: {spec_name(s) for s in r.depends} & set(by_name) - {name} for name, r in by_name.items()}
    return [by_name[name] for name in TopologicalSorter(needs).static_order()]


def _unchanged(request: DevelopRequest, root: Path, key: str) -> tuple[conda_meta.Record, list[str]] | None:
    from conda_source.engine.fingerprint import Inputs, fingerprint_of

    prefix = request.environment.prefix
    record = conda_meta.develop_record(prefix, root)
    state = conda_meta.read_state(prefix, record.name) if record is not None else None
    rerun: Any = state.rerun if state is not None else None
    if record is None or state is None or not isinstance(rerun, dict) or rerun.get("key") != key:
        return None
    if state.editable != request.editable:
        return None
    backend = str(rerun.get("backend", ""))
    inputs = Inputs(str(root), tuple(state.extras), tuple(state.groups), backend, tuple(state.read_files))
    files, read = record.files, lambda path: (prefix / path).read_bytes()
    now = fingerprint_of(inputs, request.environment, request.editable, files, read)
    if now != state.fingerprint or not conda_meta.files_unchanged(prefix, record):
        return None
    if state.linked:
        from conda_source.artifact.linked import linked_library_problems

        if linked_library_problems(prefix, state.linked):
            return None
    specs = rerun.get("specs")
    if not isinstance(specs, list) or not all(isinstance(spec, str) for spec in specs):
        return None  # not as this version writes it: the full path decides
    return record, specs


def _result(request: DevelopRequest, records: list[conda_meta.Record], specs: list[str]) -> DevelopResult:
    from conda_source.engine.develop_types import DevelopResult, InstalledProject
    from conda_source.installer.installer import Transaction
    from conda_source.reporting import Change

    prefix = request.environment.prefix
    projects = tuple(
        InstalledProject(
            r.name, r.version, r.build, Path(str(r.source)), request.editable, r.file(prefix), len(r.files), True
        )
        for r in _build_order(records)
    )
    changes = tuple(Change(Path(r.source), "unchanged", r.name, r.version, request.editable) for r in records)
    return DevelopResult((), Transaction(tuple(specs), ()), projects, changes=changes, prefix=prefix)
