"""A wheel -> files in a conda prefix: the wheel-install layer of develop-install.

1. ``stage``: pypa/installer unpacks the wheel, in the prefix's own scheme, into memory
   (scripts use the prefix's python; ``INSTALLER`` says conda-source; ``direct_url.json``
   records the source).
2. ``check_ownership``: no staged file may belong to another conda package, unless forced.
3. ``pip_leftovers``: the files of an earlier non-conda install of the same project
   (``pip install -e .``), which are taken over so conda lists the project once.
4. ``write_file`` writes each file atomically; ``prune_empty_dirs`` tidies after removals.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from conda_source.artifact.layout import Layout
from conda_source.errors import CondaSourceError
from conda_source.target import Environment

if TYPE_CHECKING:  # pypa/installer is imported when a wheel is staged, not for a no-op re-run
    from conda_source.artifact.staging import StagedFile, StagingDestination


class ClobberError(CondaSourceError):
    def __init__(self, project: str, path: str, owner: str) -> None:
        self.path = path
        self.owner = owner
        super().__init__(
            f"{project}: would overwrite {path}, which belongs to the conda package '{owner}'; "
            "remove that package, or pass --force to overwrite it"
        )


def stage(wheel: Path, environment: Environment, source: Path, editable: bool) -> StagingDestination:
    import installer as pypa_installer
    from installer.sources import WheelFile

    from conda_source.artifact.staging import StagingDestination

    layout = Layout.prefix_scheme(environment.prefix, environment.paths, environment.interpreter)
    staging = StagingDestination(layout, str(wheel))
    direct_url = {"url": source.as_uri(), "dir_info": {"editable": True} if editable else {}}
    metadata = {"INSTALLER": b"conda-source\n", "direct_url.json": json.dumps(direct_url).encode()}
    with WheelFile.open(wheel) as opened:
        pypa_installer.install(opened, staging, metadata)
    return staging


def check_ownership(project: str, staged: Sequence[str], owners: dict[str, str], force: bool) -> None:
    """Refuse to overwrite a file another conda package owns, unless the user forces it."""
    for path in sorted(staged):
        if path in owners and not force:
            raise ClobberError(project, path, owners[path])


def pip_leftovers(prefix: Path, staging: StagingDestination, name: str, owners: dict[str, str]) -> list[str]:
    """Files of an earlier non-conda install of this project (``pip install -e .``), to take over.

    Left in place, conda would list the project twice: once from our record, once as pypi.
    """
    site = staging.layout.dirs["purelib"]
    found: list[str] = []
    for dist_info in sorted((prefix / site).glob("*.dist-info")):
        record_txt = f"{site}/{dist_info.name}/RECORD"
        dist_name = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        if record_txt in owners or record_txt in staging.files or canonicalize_name(dist_name) != name:
            continue
        rows = (
            (dist_info / "RECORD").read_text(encoding="utf-8").splitlines() if (dist_info / "RECORD").is_file() else []
        )
        for row in csv.reader(rows):
            path = (prefix / site / row[0]).resolve() if row else None
            if path is not None and path.is_relative_to(prefix.resolve()):
                relative = path.relative_to(prefix.resolve()).as_posix()
                if relative not in owners:
                    found.append(relative)
        found += [f"{site}/{dist_info.name}/{f.name}" for f in dist_info.iterdir() if f.is_file()]
    return list(dict.fromkeys(found))


def write_file(path: Path, staged: StagedFile) -> None:
    """Write through a partial file renamed into place; a failure leaves neither behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".conda-source-partial")
    try:
        partial.write_bytes(staged.data)
        if staged.executable:
            partial.chmod(0o755)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def prune_empty_dirs(prefix: Path, removed: Sequence[str]) -> None:
    """After files went away: drop their bytecode caches and the directories left empty."""
    for relative in removed:
        path = prefix / relative
        if path.exists():
            continue
        if path.suffix == ".py":
            for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
                cached.unlink(missing_ok=True)
        for directory in (path.parent / "__pycache__", path.parent):
            with contextlib.suppress(OSError):
                if directory != prefix and directory.is_dir() and not any(directory.iterdir()):
                    directory.rmdir()
