"""The files that decide what a project installs: its build files and the files their dynamic metadata reads."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from conda_source._toml import loads_toml

BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def build_files_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for name in BUILD_FILES:
        path = root / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_inputs(root: Path) -> tuple[tuple[str, bytes], ...]:
    """The build files and the files their dynamic metadata reads, as (label, content) pairs, in order."""
    found = [(name, (root / name).read_bytes()) for name in BUILD_FILES if (root / name).is_file()]
    for path in dynamic_files(root):
        found.append((f"dynamic\0{path}", path.read_bytes() if path.is_file() else b"-"))
    return tuple(found)


def dynamic_files(root: Path) -> list[Path]:
    """Files that pyproject.toml's dynamic metadata reads: setuptools' ``file`` entries, hatch's requirements files."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return []
    try:
        document = loads_toml(pyproject.read_text(encoding="utf-8"), str(pyproject))
    except Exception:  # an invalid pyproject.toml fails the plan before this is reached
        return []
    tool = document.get("tool") if isinstance(document.get("tool"), dict) else {}
    assert isinstance(tool, dict)
    names: list[str] = []
    setuptools_dynamic = (
        (tool.get("setuptools") or {}).get("dynamic") if isinstance(tool.get("setuptools"), dict) else {}
    )
    for value in _values(setuptools_dynamic):
        if isinstance(value, dict) and "file" in value:
            names += [value["file"]] if isinstance(value["file"], str) else list(value["file"])
    hatch = tool.get("hatch") if isinstance(tool.get("hatch"), dict) else {}
    assert isinstance(hatch, dict)
    hooks = ((hatch.get("metadata") or {}).get("hooks") or {}) if isinstance(hatch.get("metadata"), dict) else {}
    requirements = hooks.get("requirements_txt") if isinstance(hooks, dict) else None
    if isinstance(requirements, dict):
        for value in _values(requirements):
            if isinstance(value, list):
                names += [v for v in value if isinstance(v, str)]
        if "files" not in requirements:
            names.append("requirements.txt")
    return sorted({root / n for n in names if isinstance(n, str)})


def _values(table: object) -> Iterator[object]:
    """Every value of a (nested) TOML table."""
    if isinstance(table, dict):
        for value in table.values():
            yield value
            yield from _values(value)
