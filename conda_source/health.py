"""Health of develop installs, for ``conda doctor`` (and anyone reading a prefix).

A develop install is *stale* when its source directory is gone, when a ``.pth``
file it installed points at a directory that no longer exists, or when the
project's build files (pyproject.toml, setup.py, setup.cfg) changed since it was
installed.  It is *damaged* when a file it owns was changed or deleted by
something else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from conda_source import conda_meta

DEVELOP_CHANNEL = "local-develop"
SOURCE_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


@dataclass(frozen=True)
class Finding:
    name: str
    source: str
    problem: str  # stale | damaged
    detail: str

    def __str__(self) -> str:
        return f"{self.name} ({self.source}): {self.problem}: {self.detail}"


def sources_digest(root: Path) -> str:
    """A digest of the files that decide what a project installs."""
    digest = hashlib.sha256()
    for name in SOURCE_FILES:
        path = root / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def check_prefix(prefix: Path) -> list[Finding]:
    findings: list[Finding] = []
    for name, record in sorted(conda_meta.records(prefix).items()):
        if record.get("channel") != DEVELOP_CHANNEL:
            continue
        state = conda_meta.read_state(prefix, name) or {}
        source = state.get("source") or record.get("link", {}).get("source", "")
        root = Path(source)
        if not root.is_dir():
            findings.append(Finding(name, source, "stale", "its source directory is gone"))
        elif state.get("sources") and state["sources"] != sources_digest(root):
            findings.append(Finding(name, source, "stale", "the project's build files changed since it was installed"))
        for entry in record.get("paths_data", {}).get("paths", []):
            path = prefix / entry["_path"]
            if not path.is_file():
                findings.append(Finding(name, source, "damaged", f"{entry['_path']} is missing"))
                continue
            if hashlib.sha256(path.read_bytes()).hexdigest() != entry.get("sha256"):
                findings.append(Finding(name, source, "damaged", f"{entry['_path']} was changed by another installer"))
            elif path.suffix == ".pth":
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    target = line.strip()
                    if target.startswith("/") and not Path(target).exists():
                        findings.append(
                            Finding(name, source, "stale", f"{entry['_path']} points at {target}, which is gone")
                        )
    return findings
