"""The files that decide what a project installs: its build files and the files their dynamic metadata reads."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conda_source._toml import loads_toml

# Fields of [project] that, when dynamic, only the backend's metadata hook can tell before the build.
METADATA_BEFORE_BUILD = ("version", "dependencies", "optional-dependencies")
_SEPARATORS = re.compile(r"[-_.]+")
BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "hatch.toml")  # hatch.toml: [tool.hatch] of its own


def build_files_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for name in BUILD_FILES:
        path = root / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_inputs(root: Path) -> tuple[tuple[str, bytes], ...]:
    """The build files and the files their dynamic metadata reads, as (label, content) pairs, in order;
    for a dynamic version, where it comes from too (``version_inputs``)."""
    found = [(name, (root / name).read_bytes()) for name in BUILD_FILES if (root / name).is_file()]
    document = _pyproject(root)  # read once for both
    for path in dynamic_files(root, document):
        found.append((f"dynamic\0{path}", path.read_bytes() if path.is_file() else b"-"))
    for path in hook_files(root, document):
        found.append((f"hook\0{path}", path.read_bytes() if path.is_file() else b"-"))
    return (*found, *version_inputs(root, document))


def version_inputs(root: Path, document: dict[str, Any] | None = None) -> list[tuple[str, bytes]]:
    """Where a dynamic version comes from, beside the build files: the file it is read from (hatch's
    ``version.path``, setuptools' ``version.attr`` module, flit's module), and for version-control
    versions (setuptools-scm, hatch-vcs, ...) the commit checked out, the tags and the
    ``SETUPTOOLS_SCM_PRETEND_VERSION*`` variables.  Not whether the tree is dirty: that changes
    with every edit an editable install follows anyway."""
    document = _pyproject(root) if document is None else document
    project = document.get("project") if isinstance(document.get("project"), dict) else None
    if not isinstance(project, dict) or "version" not in (project.get("dynamic") or []):
        return []
    found = [
        (f"version\0{path}", path.read_bytes() if path.is_file() else b"-") for path in _version_files(root, document)
    ]
    pretend = sorted((k, v) for k, v in os.environ.items() if k.startswith("SETUPTOOLS_SCM_PRETEND_VERSION"))
    found.append(("version\0env", repr(pretend).encode()))
    found.append(("version\0vcs", _git_identity(root)))
    return found


def _version_files(root: Path, document: dict[str, Any]) -> list[Path]:
    tool = document.get("tool") if isinstance(document.get("tool"), dict) else {}
    assert isinstance(tool, dict)
    files: list[Path] = []
    hatch_version = hatch_config(root, document).get("version")
    if isinstance(hatch_version, dict) and isinstance(hatch_version.get("path"), str):
        files.append(root / hatch_version["path"])
    setuptools = tool.get("setuptools") if isinstance(tool.get("setuptools"), dict) else {}
    dynamic = setuptools.get("dynamic") if isinstance(setuptools, dict) else None
    version = dynamic.get("version") if isinstance(dynamic, dict) else None
    if isinstance(version, dict) and isinstance(version.get("attr"), str):
        files += _module_files(root, version["attr"].rsplit(".", 1)[0])
    backend = (
        (document.get("build-system") or {}).get("build-backend")
        if isinstance(document.get("build-system"), dict)
        else None
    )
    name = (document.get("project") or {}).get("name")
    if isinstance(backend, str) and backend.startswith("flit_core") and isinstance(name, str):
        flit_module = (
            ((tool.get("flit") or {}).get("module") or {}).get("name") if isinstance(tool.get("flit"), dict) else None
        )
        files += _module_files(root, flit_module if isinstance(flit_module, str) else name.replace("-", "_"))
    return sorted(set(files))


def _module_files(root: Path, module: str) -> list[Path]:
    """Where ``module`` (dotted) can live in a checkout: flat or src/ layout, package or module."""
    parts = module.split(".")
    return [
        base.joinpath(*parts[:-1], parts[-1] + suffix)
        for base in (root, root / "src")
        for suffix in ("/__init__.py", ".py")
    ]


def _git_identity(root: Path) -> bytes:
    """The commit checked out and every tag, read from the repository's files (no git process)."""
    for directory in (root, *root.parents):
        dot_git = directory / ".git"
        if dot_git.exists():
            break
    else:
        return b"-"
    try:
        git_dir = dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: PATH"
            git_dir = (directory / dot_git.read_text(encoding="utf-8").split(":", 1)[1].strip()).resolve()
        common = git_dir
        if (git_dir / "commondir").is_file():
            common = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
        head = (git_dir / "HEAD").read_bytes()
        parts = [head]
        if head.startswith(b"ref: "):
            ref = head[5:].strip().decode()
            parts.append((common / ref).read_bytes() if (common / ref).is_file() else b"(packed)")
        tags = common / "refs" / "tags"
        if tags.is_dir():
            parts += [
                f"{t.relative_to(tags)}={t.read_text().strip()}".encode()
                for t in sorted(tags.rglob("*"))
                if t.is_file()
            ]
        if (common / "packed-refs").is_file():
            parts.append((common / "packed-refs").read_bytes())
        return b"\0".join(parts)
    except (OSError, UnicodeDecodeError, IndexError):
        return b"?"


def _pyproject(root: Path) -> dict[str, Any]:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        document = loads_toml(pyproject.read_text(encoding="utf-8"), str(pyproject))
    except Exception:  # an invalid pyproject.toml fails the plan before this is reached
        return {}
    return document if isinstance(document, dict) else {}


def dynamic_files(root: Path, document: dict[str, Any] | None = None) -> list[Path]:
    """Files that pyproject.toml's dynamic metadata reads: setuptools' ``file`` entries, hatch's requirements files."""
    document = _pyproject(root) if document is None else document
    tool = document.get("tool") if isinstance(document.get("tool"), dict) else {}
    assert isinstance(tool, dict)
    names: list[str] = []
    setuptools_dynamic = (
        (tool.get("setuptools") or {}).get("dynamic") if isinstance(tool.get("setuptools"), dict) else {}
    )
    for value in _values(setuptools_dynamic):
        if isinstance(value, dict) and "file" in value:
            names += [value["file"]] if isinstance(value["file"], str) else list(value["file"])
    hatch = hatch_config(root, document)
    hooks = ((hatch.get("metadata") or {}).get("hooks") or {}) if isinstance(hatch.get("metadata"), dict) else {}
    requirements = hooks.get("requirements_txt") if isinstance(hooks, dict) else None
    if isinstance(requirements, dict):
        for value in _values(requirements):
            if isinstance(value, list):
                names += [v for v in value if isinstance(v, str)]
        if "files" not in requirements:
            names.append("requirements.txt")
    return sorted({root / n for n in names if isinstance(n, str)})


def hook_files(root: Path, document: dict[str, Any] | None = None) -> list[Path]:
    """The code of hatch's custom build and metadata hooks (``[tool.hatch...hooks.custom]``, ``path``
    or ``hatch_build.py``): it decides the metadata and what a build asks for."""
    document = _pyproject(root) if document is None else document
    files = set()
    for table in nested_tables(hatch_config(root, document)):
        custom = table.get("hooks", {}).get("custom") if isinstance(table.get("hooks"), dict) else None
        if isinstance(custom, dict):
            path = custom.get("path", "hatch_build.py")
            files.add(root / path if isinstance(path, str) else root / "hatch_build.py")
    return sorted(files)


def hatch_config(root: Path, document: dict[str, Any]) -> dict[str, Any]:
    """hatch's configuration as hatchling reads it: ``[tool.hatch]``, its top-level tables replaced by
    hatch.toml's (the same tables without the ``tool.hatch`` prefix)."""
    tool = document.get("tool")
    hatch = tool.get("hatch") if isinstance(tool, dict) else None
    config = dict(hatch) if isinstance(hatch, dict) else {}
    file = root / "hatch.toml"
    if file.is_file():
        with contextlib.suppress(Exception):  # an invalid one: hatchling reports it at the build
            config.update(loads_toml(file.read_text(encoding="utf-8"), str(file)))
    return config


def nested_tables(table: object) -> Iterator[dict[str, Any]]:
    """A TOML table and every table nested in it."""
    if isinstance(table, dict):
        yield table
        for value in table.values():
            yield from nested_tables(value)


def _values(table: object) -> Iterator[object]:
    """Every value of a (nested) TOML table."""
    if isinstance(table, dict):
        for value in table.values():
            yield value
            yield from _values(value)


def project_name(root: Path) -> str | None:
    """``[project].name`` as pyproject.toml declares it, or None."""
    project = _pyproject(root).get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return name if isinstance(name, str) else None


def canonical_name(name: str) -> str:
    """PEP 503's normal form of a project, extra or group name (runs of ``-_.`` are one ``-``, lowercase),
    as packaging's ``canonicalize_name`` gives it, without importing packaging's tags for it."""
    return _SEPARATORS.sub("-", name).lower()
