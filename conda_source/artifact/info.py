"""The ``info/`` files of a conda package, computed from the staged files and the wheel's metadata."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conda_source.artifact.staging import EntryPoint, StagedFile

if TYPE_CHECKING:
    from packaging.metadata import Metadata

_URL_KEYS = {
    "home": ("homepage", "home", "home-page"),
    "dev_url": ("source", "source code", "repository", "code", "github"),
    "doc_url": ("documentation", "docs", "doc"),
}


@dataclass(frozen=True)
class PackageIdentity:
    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    noarch: bool

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"


def info_files(
    identity: PackageIdentity,
    depends: Sequence[str],
    files: Mapping[str, StagedFile],
    metadata: Metadata,
    entry_points: Sequence[EntryPoint],
    licenses: Mapping[str, StagedFile],
    imports: Sequence[str],
    timestamp: int,
) -> dict[str, StagedFile]:
    """Every ``info/`` file, as package path -> file."""
    license_text = metadata.license_expression or metadata.license or ""
    index: dict[str, object] = {
        "name": identity.name,
        "version": identity.version,
        "build": identity.build,
        "build_number": identity.build_number,
        "depends": list(depends),
        "license": license_text.strip().splitlines()[0] if license_text.strip() else "",
        "subdir": identity.subdir,
        "timestamp": timestamp * 1000,
    }
    if identity.noarch:
        index["noarch"] = "python"
    else:
        platform, _, arch = identity.subdir.partition("-")
        index["platform"] = platform
        index["arch"] = {"64": "x86_64", "aarch64": "aarch64", "arm64": "arm64", "ppc64le": "ppc64le"}.get(arch, arch)
    out = {
        "info/index.json": _json(index),
        "info/paths.json": _json({"paths": [_path_entry(p, files[p]) for p in sorted(files)], "paths_version": 1}),
        "info/files": StagedFile(("\n".join(sorted(files)) + "\n").encode()),
        "info/about.json": _json(_about(metadata, index["license"])),
    }
    if identity.noarch:
        link = {
            "noarch": {"type": "python", "entry_points": [str(e) for e in entry_points]},
            "package_metadata_version": 1,
        }
        out["info/link.json"] = _json(link)
    if imports:
        out["info/test/run_test.py"] = StagedFile("".join(f"import {name}\n" for name in imports).encode())
    for name, data in licenses.items():
        out[f"info/licenses/{name}"] = data
    return out


def _path_entry(path: str, staged: StagedFile) -> dict[str, object]:
    entry: dict[str, object] = {
        "_path": path,
        "path_type": "hardlink",
        "sha256": staged.sha256,
        "size_in_bytes": staged.size,
    }
    if staged.has_placeholder:
        entry["file_mode"] = staged.file_mode
        entry["prefix_placeholder"] = staged.prefix_placeholder
    return entry


def _about(metadata: Metadata, license_text: object) -> dict[str, object]:
    about: dict[str, object] = {"summary": metadata.summary or "", "license": license_text}
    urls = {key.lower(): url for key, url in (metadata.project_urls or {}).items()}
    if metadata.home_page:
        urls.setdefault("homepage", metadata.home_page)
    for field, keys in _URL_KEYS.items():
        for key in keys:
            if key in urls:
                about[field] = urls[key]
                break
    return about


def import_names(files: Mapping[str, str | StagedFile], site_packages: str) -> list[str]:
    """Top-level importable names a wheel installs (packages with __init__.py, and modules)."""
    names = set()
    prefix = site_packages + "/"
    for path in files:
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        if parts[0].endswith((".dist-info", ".data")) or parts[0] == "__pycache__" or "-" in parts[0]:
            continue
        if len(parts) == 2 and parts[1] == "__init__.py":
            names.add(parts[0])
        elif len(parts) == 1 and parts[0].endswith(".py") and parts[0] != "__init__.py":
            names.add(posixpath.splitext(parts[0])[0])
        elif len(parts) == 1 and (".cpython-" in parts[0] or parts[0].endswith(".abi3.so")):
            names.add(parts[0].split(".", 1)[0])
    return sorted(n for n in names if n.isidentifier() and not n.startswith("_"))


def _json(data: object) -> StagedFile:
    return StagedFile((json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
