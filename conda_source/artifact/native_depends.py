"""What compiled code adds to a package's depends: the ``run_exports`` of the host packages it
was built against, and ``__glibc``/``__osx`` constraints from its platform tag and symbols."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.tags import Tag

from conda_source.artifact.elf import ElfError, is_elf, read_elf
from conda_source.artifact.staging import StagedFile
from conda_source.errors import ArtifactError

_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MACOSX = re.compile(r"^macosx_(\d+)_(\d+)_")


def host_run_exports(prefix: Path, names: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The weak and strong run_exports of the named packages installed in ``prefix``, and notes.

    Each is read from ``info/run_exports.json`` of the package the record was installed from:
    its extracted directory in the package cache, else its archive (cached or a ``file://`` url).
    """
    from conda_source.meta.record_reading import read_json  # (a wheel's build-local never loads it)

    wanted = set(names)
    exports: list[str] = []
    notes: list[str] = []
    for path in sorted((prefix / "conda-meta").glob("*.json")):
        record = read_json(path)
        if record.get("name") not in wanted:
            continue
        found = _run_exports(record)
        dist = f"{record['name']}-{record['version']}-{record['build']}"
        if found is None:
            notes.append(
                f"run_exports of {dist} unknown: its package is neither in a package cache nor a local file "
                f"({record.get('url') or 'no url'}); they are not in depends"
            )
            continue
        for kind in ("weak", "strong"):
            exports += [str(spec) for spec in found.get(kind) or ()]
    return tuple(dict.fromkeys(exports)), tuple(notes)


def _run_exports(record: Mapping[str, Any]) -> dict[str, Any] | None:
    extracted = record.get("extracted_package_dir")
    if extracted and Path(extracted, "info", "index.json").is_file():
        file = Path(extracted, "info", "run_exports.json")
        return _normalized(json.loads(file.read_text(encoding="utf-8"))) if file.is_file() else {}
    archives = [record.get("package_tarball_full_path") or ""]
    url = urlparse(str(record.get("url") or ""))
    if url.scheme == "file":
        archives.append(unquote(url.path))
    for archive in archives:
        if archive and Path(archive).is_file():
            return _from_archive(Path(archive))
    return None


def _from_archive(archive: Path) -> dict[str, Any]:
    from conda_package_streaming.package_streaming import stream_conda_info

    with archive.open("rb") as stream:
        for tar, member in stream_conda_info(archive.name, stream):
            if member.name == "info/run_exports.json":
                extracted = tar.extractfile(member)
                return _normalized(json.loads(extracted.read())) if extracted else {}
    return {}


def _normalized(data: object) -> dict[str, Any]:
    """conda-build's old run_exports format is a bare list, meaning weak exports."""
    if isinstance(data, list):
        return {"weak": data}
    return data if isinstance(data, dict) else {}


def platform_constraints(
    wheel: str, subdir: str, tags: Iterable[Tag], files: Mapping[str, StagedFile]
) -> tuple[str, ...]:
    """``__glibc``/``__osx`` lower bounds of a platform wheel, from its tags and its binaries."""
    platforms = [tag.platform for tag in tags]
    if subdir.startswith("linux-"):
        tagged = [_manylinux(p) for p in platforms]
        floors = [v for v in tagged if v is not None]
        needed: list[tuple[int, ...]] = [min(floors)] if floors else []
        for path, staged in files.items():
            if is_elf(staged.data):
                try:
                    glibc = read_elf(staged.data, path).glibc
                except ElfError as exc:
                    raise ArtifactError(wheel, str(exc)) from exc
                if glibc is not None:
                    needed.append(glibc)
        return (f"__glibc >={_dotted(max(needed))}",) if needed else ()
    if subdir.startswith("osx-"):
        found = [(int(m.group(1)), int(m.group(2))) for m in map(_MACOSX.match, platforms) if m]
        return (f"__osx >={_dotted(min(found))}",) if found else ()
    return ()


def _manylinux(platform: str) -> tuple[int, ...] | None:
    for legacy, version in _LEGACY_MANYLINUX.items():
        if platform.startswith(legacy + "_"):
            return version
    found = _MANYLINUX.match(platform)
    return (int(found.group(1)), int(found.group(2))) if found else None


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


# --- develop-install: what an install's binaries link, for conda doctor ----------------------------
