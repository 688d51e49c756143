"""A digest of the files that decide what a project installs (its build files)."""

from __future__ import annotations

import hashlib
from pathlib import Path

BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def build_files_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for name in BUILD_FILES:
        path = root / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
