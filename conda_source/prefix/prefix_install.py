"""A wheel -> files in a conda prefix: the wheel-install layer of develop-install.

1. ``stage``: pypa/installer unpacks the wheel, in the prefix's own scheme, into memory
   (scripts use the prefix's python; ``INSTALLER`` says conda-source; ``direct_url.json``
   records the source).  Nothing may land in ``conda-meta/`` (the staging refuses it).
2. ``pip_leftovers``: the files of an earlier non-conda install of the same project
   (``pip install -e .``), which are taken over so conda lists the project once.  Its
   RECORD is untrusted: every entry must stay inside the dist's own scheme, out of
   ``conda-meta/``, off the interpreter and ``pyvenv.cfg``, and out of other dists'
   metadata, or the whole takeover is refused (see ``TakeoverError``).
3. ``write_file`` writes each file atomically; ``copy_exact`` keeps a file byte for byte.
"""

from __future__ import annotations

import csv
import json
import os
import posixpath
import re
import shutil
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from conda_source.artifact.layout import Layout
from conda_source.errors import CondaSourceError
from conda_source.meta.journal import step
from conda_source.target import Environment

SCHEMES = ("purelib", "platlib", "scripts", "data", "headers")

if TYPE_CHECKING:  # pypa/installer is imported when a wheel is staged, not for a no-op re-run
    from conda_source.artifact.staging import StagedFile, StagingDestination


class ClobberError(CondaSourceError):
    def __init__(self, project: str, path: str, owner: str | None) -> None:
        self.path = path
        self.owner = owner
        whose = (
            f"belongs to the conda package '{owner}'"
            if owner
            else "no conda package owns (another installer put it there)"
        )
        fix = "remove that package" if owner else "move it away"
        super().__init__(
            f"{project}: would overwrite {path}, which {whose}; {fix}, or pass --force to overwrite it "
            "(it is kept, and --uninstall puts it back)"
        )


class TakeoverError(CondaSourceError):
    """The RECORD of a pip install to take over lists files it may not remove: nothing is changed."""

    def __init__(self, project: str, dist_info: str, refused: Sequence[tuple[str, str]]) -> None:
        self.dist_info = dist_info
        self.refused = tuple(refused)
        lines = [f"{dist_info}/RECORD: refusing '{entry}': {reason}" for entry, reason in self.refused]
        lines.append(
            f"{project}: not installed, since the pip install {dist_info} cannot be taken over; "
            "check that directory and remove it by hand, then run again"
        )
        super().__init__("\n".join(lines))


def stage(wheel: Path, environment: Environment, source: Path, editable: bool) -> StagingDestination:
    import installer as pypa_installer
    from installer.sources import WheelFile

    from conda_source.artifact.staging import StagingDestination
    from conda_source.prefix.origin_rpath import origin_relative

    layout = Layout.prefix_scheme(environment.prefix, environment.paths, environment.interpreter)
    relocate = origin_relative(environment.prefix)  # compiled code survives a copy of the environment
    staging = StagingDestination(layout, str(wheel), relocate=relocate)  # it refuses targets in conda-meta/
    direct_url = {"url": source.as_uri(), "dir_info": {"editable": True} if editable else {}}
    metadata = {"INSTALLER": b"conda-source\n", "direct_url.json": json.dumps(direct_url).encode()}
    with WheelFile.open(wheel) as opened:
        pypa_installer.install(opened, staging, metadata)
    return staging


def keep_dirs(layout: Layout) -> list[str]:
    """Directories a removal never prunes, even when empty: the scheme's and their parents, and conda-meta."""
    kept = {"conda-meta"}
    for directory in layout.dirs.values():
        while directory:
            kept.add(directory)
            directory = posixpath.dirname(directory)
    return sorted(kept)


def pip_leftovers(
    prefix: Path,
    layout: Layout,
    name: str,
    claimed: Collection[str],
    owners: Mapping[str, str],
) -> list[str]:
    """Files of an earlier non-conda install of project ``name`` (``pip install -e .``), to take over.

    Left in place, conda would list the project twice: once from our record, once as pypi.
    ``claimed`` are the files any conda record lists (a dist-info they hold is no pip install);
    ``owners`` those of records that stay: their files are left where they are.
    """
    found: list[str] = []
    for site in dict.fromkeys((layout.dirs["purelib"], layout.dirs["platlib"])):
        ours: list[Path] = []
        others: list[Path] = []
        for dist_info in sorted((prefix / site).glob("*.dist-info")):
            relative = f"{site}/{dist_info.name}"
            dist_name = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
            if f"{relative}/RECORD" in claimed:
                continue
            (ours if canonicalize_name(dist_name) == name else others).append(dist_info)
        # A file another pip install lists stays with it.
        kept = {*owners, *(path for d in others for path in _record_paths(prefix, site, d))}
        for dist_info in ours:
            found += _taken_over(prefix, layout, site, dist_info, kept, name)
    return list(dict.fromkeys(found))


def _record_paths(prefix: Path, site: str, dist_info: Path) -> list[str]:
    return [posixpath.normpath(posixpath.join(site, row[0])) for row in _record_rows(dist_info) if row and row[0]]


def _record_rows(dist_info: Path) -> list[list[str]]:
    record = dist_info / "RECORD"
    text = record.read_text(encoding="utf-8", errors="replace") if record.is_file() else ""
    return list(csv.reader(text.splitlines()))


def _taken_over(
    prefix: Path, layout: Layout, site: str, dist_info: Path, kept: Collection[str], project: str
) -> list[str]:
    own = f"{site}/{dist_info.name}"
    files, refused = [], []
    for row in _record_rows(dist_info):
        if not row or not row[0]:
            continue
        relative, reason = _checked_entry(prefix, layout, site, own, row[0])
        if reason:
            refused.append((row[0], reason))
        elif relative not in kept and ((prefix / relative).is_file() or (prefix / relative).is_symlink()):
            files.append(relative)
    if refused:
        raise TakeoverError(project, own, refused)
    # Every file of its own metadata directory goes too (licenses/, REQUESTED, ...), listed or not.
    files += sorted(
        p.relative_to(prefix).as_posix() for p in dist_info.rglob("*") if p.is_file() and not p.is_symlink()
    )
    return files


def _checked_entry(prefix: Path, layout: Layout, site: str, own: str, entry: str) -> tuple[str, str]:
    """A RECORD entry, normalized to a prefix-relative path, and why it may not be removed ('' if it may)."""
    if entry.startswith("/") or "\\" in entry or re.match(r"^[A-Za-z]:", entry):
        absolute = Path(os.path.normpath(entry.replace("\\", "/")))
        if not absolute.is_relative_to(prefix):
            return "", "it is outside the environment"
        relative = absolute.relative_to(prefix).as_posix()
    else:
        relative = posixpath.normpath(posixpath.join(site, entry))
    if relative in ("..", ".") or relative.startswith("../"):
        return "", "it is outside the environment"
    reason = _forbidden(layout, own, relative)
    if reason:
        return relative, reason
    # Judged again where it really is: a symlinked directory could lead anywhere.
    real_parent = (prefix / relative).parent.resolve()
    real_prefix = prefix.resolve()
    if not real_parent.is_relative_to(real_prefix):
        return relative, "it leads out of the environment through a symbolic link"
    real = (real_parent / posixpath.basename(relative)).relative_to(real_prefix).as_posix()
    return relative, _forbidden(layout, own, real)


def _forbidden(layout: Layout, own: str, relative: str) -> str:
    parts = relative.split("/")
    if parts[0].lower() == "conda-meta":
        return f"{relative} is in conda-meta/, which belongs to conda"
    if relative.lower() == "pyvenv.cfg":
        return "pyvenv.cfg tells the environment's python where its prefix is"
    scripts = layout.dirs["scripts"]
    interpreter = posixpath.basename(layout.interpreter)
    if posixpath.dirname(relative) == scripts and (
        parts[-1] == interpreter or re.fullmatch(r"python[0-9.]*", parts[-1])
    ):
        return f"{relative} is the environment's python"
    for index, part in enumerate(parts[:-1]):
        if part.lower().endswith((".dist-info", ".egg-info")) and "/".join(parts[: index + 1]) != own:
            return f"{relative} is in {part}, the metadata of another distribution"
    if not any(_under(relative, layout.dirs[s]) for s in SCHEMES):
        return f"{relative} is outside the distribution's install scheme"
    return ""


def _under(relative: str, directory: str) -> bool:
    return not directory or relative.startswith(directory.rstrip("/") + "/")


def write_file(path: Path, staged: StagedFile) -> None:
    """Write through a partial file renamed into place; a failure leaves neither behind."""
    """Write through a partial file renamed into place; a failure leaves neither behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".conda-source-partial")
    try:
        with staged.open() as source, partial.open("wb") as target:
            shutil.copyfileobj(source, target)
        if staged.executable:
            partial.chmod(0o755)
        step(f"partial {path.name}")
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    step(f"wrote {path.name}")


def copy_exact(source: Path, path: Path) -> None:
    """Put a copy of ``source`` at ``path``, byte for byte, with its mode (a symbolic link stays a link)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".conda-source-partial")
    partial.unlink(missing_ok=True)
    if source.is_symlink():
        partial.symlink_to(source.readlink())
    else:
        shutil.copy2(source, partial)
    step(f"partial {path.name}")
    partial.replace(path)
    step(f"copied {path.name}")
