"""Health of develop installs, for ``conda doctor`` (and anyone reading a prefix).

A develop install is *stale* when its source directory is gone, when a ``.pth``
file it installed points at a directory that no longer exists, or when the
project's build files (pyproject.toml, setup.py, setup.cfg, hatch.toml) changed since it was
installed, or when a library its compiled code links is gone or its package changed
version since the build, or when the environment's python is no longer the minor it was built
for.  It is *damaged* when a file it owns was changed or deleted by something else.  It has a
*forced* overlap for as long as a file it overwrote under ``--force`` (another package's, or one
nobody owned) is kept aside for ``--uninstall``.
A channel package a develop install replaced is *not restored* while its uninstall could
not link it again yet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from conda_source.artifact.linked import linked_library_problems
from conda_source.errors import DamagedRecordError
from conda_source.meta import conda_meta
from conda_source.prefix.replacement import pending, read_marker
from conda_source.project import build_files_digest
from conda_source.specs import built_for_python


@dataclass(frozen=True)
class Finding:
    name: str
    source: str
    problem: str  # stale | damaged | forced | not restored
    detail: str

    def __str__(self) -> str:
        return f"{self.name} ({self.source}): {self.problem}: {self.detail}"


def check_prefix(prefix: Path) -> list[Finding]:
    findings: list[Finding] = []
    installed = conda_meta.records(prefix)
    python = installed.get("python")
    for record, state in sorted(conda_meta.develop_installs(prefix), key=lambda found: found[0].name):
        name = record.name
        source = state.source if state else record.source
        root = Path(source)
        if not root.is_dir():
            findings.append(Finding(name, source, "stale", "its source directory is gone"))
        elif state and state.sources != build_files_digest(root):
            findings.append(Finding(name, source, "stale", "the project's build files changed since it was installed"))
        if state:
            findings += [
                Finding(name, source, "stale", problem) for problem in linked_library_problems(prefix, state.linked)
            ]
        built = built_for_python(record.depends)
        if built and python and not python.version.startswith(f"{built}."):
            detail = f"it is built for python {built} (lib/python{built}/site-packages); the environment has "
            detail += f"python {python.version}, which does not read that directory"
            findings.append(Finding(name, source, "stale", detail))
        for overwritten, owner in sorted(state.forced.items() if state else ()):
            if owner and owner not in installed:
                continue  # that package is gone, and with it the overlap
            whose = f"a file of the conda package '{owner}'" if owner else "a file no conda package owned"
            kept = conda_meta.forced_path(name, overwritten)
            where = f"the original is kept in {kept}" if (prefix / kept).exists() else "there was no original to keep"
            detail = f"{overwritten} overwrote {whose} (--force); {where}, --uninstall puts it back"
            findings.append(Finding(name, source, "forced", detail))
        for entry in record.paths:
            path = prefix / entry.path
            if not path.is_file():
                findings.append(Finding(name, source, "damaged", f"{entry.path} is missing"))
                continue
            if hashlib.sha256(path.read_bytes()).hexdigest() != entry.sha256:
                findings.append(Finding(name, source, "damaged", f"{entry.path} was changed by another installer"))
            elif path.suffix == ".pth":
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    target = line.strip()
                    if target.startswith("/") and not Path(target).exists():
                        findings.append(
                            Finding(name, source, "stale", f"{entry.path} points at {target}, which is gone")
                        )
    for marker in pending(prefix):
        try:
            waiting = read_marker(prefix, marker)[1]
        except DamagedRecordError as exc:
            findings.append(Finding(marker.stem, str(marker), "not restored", str(exc)))
            continue
        findings.append(
            Finding(
                waiting.name,
                waiting.channel,
                "not restored",
                f"{waiting.dist} was replaced by a develop install and is not back yet; the next conda-source run "
                "in this environment retries, or install it again with conda",
            )
        )
    return findings
