"""The ownership tests' laboratory: a local channel of small packages, develop projects written on demand,
and the ``conda-source`` command run as a real process (so it can be killed anywhere).

The channel (made by conda-source's own writer from hand-made wheels, no network):

- ``chanpkg 1.0``: module ``chanpkg``, script ``chan-tool``; what a develop checkout replaces;
- ``dependent 1.0``: needs ``chanpkg >=1.0``;
- ``clashpkg 1.0``: script ``clash-tool``, which a develop project overwrites under ``--force``;
- ``helper-lib 1.0``: a plain dependency.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from wheelmaker import make_wheel

LAB_BACKEND = Path(__file__).parent / "projects" / "lab-backend"
PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


def make_lab_channel(root: Path) -> Path:
    from conda_source.testing.channel import make_channel

    wheels = root / "wheels"
    wheels.mkdir(parents=True)
    script = b"#!/bin/sh\necho original clash-tool\n"
    made = [
        make_wheel(
            wheels,
            name="chanpkg",
            version="1.0",
            files={"chanpkg/__init__.py": b"WHO = 'channel'\n", "chanpkg-1.0.data/scripts/chan-tool": b"#!/bin/sh\n"},
        ),
        make_wheel(wheels, name="dependent", version="1.0", requires=("chanpkg>=1.0",)),
        make_wheel(wheels, name="clashpkg", version="1.0", files={"clashpkg-1.0.data/scripts/clash-tool": script}),
        make_wheel(wheels, name="helper_lib", version="1.0", files={"helper_lib/__init__.py": b""}),
    ]
    channel = root / "channel"
    make_channel(channel, made, python=PYTHON)
    return channel


def write_project(
    path: Path,
    name: str,
    version: str = "1.0",
    dependencies: Sequence[str] = (),
    scripts: dict[str, str] | None = None,
    members: dict[str, str] | None = None,
) -> Path:
    """A develop project built by tests/projects/lab-backend (rewritten in place when called again)."""
    module = name.replace("-", "_")
    (path / "src" / module).mkdir(parents=True, exist_ok=True)
    (path / "src" / module / "__init__.py").write_text(
        f"WHO = 'checkout'\n\n\ndef main():\n    print('{name} {version}')\n"
    )
    if not (path / "_backend").exists():
        shutil.copytree(LAB_BACKEND, path / "_backend")
    scripts = {name: f"{module}:main"} if scripts is None else scripts
    lines = [
        "[build-system]",
        "requires = []",
        'build-backend = "lab_backend"',
        'backend-path = ["_backend"]',
        "[project]",
        f'name = "{name}"',
        f'version = "{version}"',
        'requires-python = ">=3.11"',
        f"dependencies = {json.dumps(list(dependencies))}",
        "[project.scripts]",
        *(f'"{k}" = "{v}"' for k, v in scripts.items()),
        "[tool.lab.members]",
        *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in (members or {}).items()),
    ]
    (path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return path


def cli(
    prefix: Path, *args: str, fault: str | None = None, log: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``conda-source develop-install ARGS -p PREFIX``, as a process; ``fault`` kills it (journal.step)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_SOURCE_FAULT")}
    if fault:
        env["CONDA_SOURCE_FAULT"] = fault
    if log:
        env["CONDA_SOURCE_FAULT_LOG"] = str(log)
    command = [sys.executable, "-m", "conda_source", "develop-install", *args, "-p", str(prefix), "--no-user-mapping"]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def records(prefix: Path, name: str) -> list[str]:
    return sorted(
        p.name for p in (prefix / "conda-meta").glob(f"{name}-*.json") if p.name.count("-") == 2 + name.count("-")
    )
