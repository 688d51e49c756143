"""Unpack an sdist without trusting it: member paths, links, count and size are all checked.

A zip is checked whole from its central directory before anything is written; a
tar.gz is checked member by member as its headers are read (a gzip stream has
no index): the content declared so far against the limits, and against the
ratio to the whole compressed file.  Members are streamed to disk.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from conda_source.artifact.limits import Limits, check_zip
from conda_source.artifact.staging import CHUNK
from conda_source.errors import ArtifactError

_FILTER_REASONS = {
    "OutsideDestinationError": "it would unpack outside the source tree",
    "AbsolutePathError": "it has an absolute path",
    "AbsoluteLinkError": "it links to an absolute path",
    "LinkOutsideDestinationError": "it links outside the source tree",
    "SpecialFileError": "it is a device or other special file",
}


def unpack_sdist(sdist: Path, destination: Path, limits: Limits) -> Path:
    """Unpack into ``destination`` (created); return the directory holding the project."""
    destination.mkdir(parents=True)
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as archive:
                _unpack_zip(sdist, archive, destination, limits)
        else:
            _unpack_tar(sdist, destination, limits)
    except tarfile.FilterError as exc:
        member = getattr(exc, "tarinfo", None)
        name = f"member '{member.name}'" if member is not None else "a member"
        why = _FILTER_REASONS.get(type(exc).__name__, "it is not a plain file or directory inside the tree")
        raise ArtifactError(sdist, f"refusing to unpack: {name}: {why}; the sdist is malformed") from None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
        first = str(exc).strip().splitlines()[0].rstrip(":") if str(exc).strip() else type(exc).__name__
        if "could not be opened" in first:
            first = "not a gzip, bzip2 or xz compressed tar file"
        raise ArtifactError(sdist, f"not a readable sdist (.tar.gz or .zip): {first}") from None
    for candidate in [destination, *sorted(p for p in destination.iterdir() if p.is_dir())]:
        if (candidate / "pyproject.toml").is_file() or (candidate / "setup.py").is_file():
            return candidate
    raise ArtifactError(sdist, "no pyproject.toml or setup.py at the top of the sdist")


def _unpack_zip(sdist: Path, archive: zipfile.ZipFile, destination: Path, limits: Limits) -> None:
    for name in archive.namelist():
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            raise ArtifactError(sdist, f"refusing member '{name}': it would unpack outside the source tree")
    check_zip(sdist, archive, limits, "sdist")
    unpacked = 0
    for info in archive.infolist():
        target = destination / info.filename
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, target.open("wb") as sink:
            while chunk := source.read(CHUNK):
                unpacked += len(chunk)
                if unpacked > limits.max_size:
                    raise limits.exceeded(sdist, "sdist")
                sink.write(chunk)


def _unpack_tar(sdist: Path, destination: Path, limits: Limits) -> None:
    compressed = sdist.stat().st_size
    with tarfile.open(sdist, mode="r:*") as archive:
        declared = 0
        for count, member in enumerate(archive, 1):  # each header is read just before its member is written
            limits.check_count(sdist, "sdist", count)
            declared += member.size if member.isfile() else 0
            if declared > limits.max_size:
                raise limits.too_large(sdist, "sdist", declared)
            limits.check_ratio(sdist, "the sdist", declared, compressed)
            if member.islnk() and not (destination / member.linkname).is_file():
                # tarfile would look for the target by reading every header to the end, unchecked.
                reason = f"a hard link to '{member.linkname}', not unpacked before it"
                raise ArtifactError(sdist, f"refusing member '{member.name}': {reason}")
            archive.extract(member, destination, filter="data")
