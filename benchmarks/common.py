"""What every benchmark module shares: the paths, the wheels of the local channel, a result row, timing and running.

Importing it puts tests/ on sys.path, for the test helpers (support, wheelmaker) the benchmarks reuse.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
CACHE = Path(__file__).resolve().parent / ".cache"
PROJECTS = {"setuptools": "setuptools-basic", "hatchling": "hatch-markers-extras", "flit-core": "flit-dynamic"}
WHEELS = (
    "setuptools==75.6.0", "wheel==0.45.1", "hatchling==1.27.0", "pluggy==1.5.0", "trove-classifiers==2024.10.21.16",
    "pathspec==0.12.1", "editables==0.5", "flit-core==3.10.1", "packaging==24.2", "six==1.16.0",
    "build==1.2.2", "pyproject-hooks==1.2.0",  # conda pypi install -e builds with python-build in the environment
)  # fmt: skip
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@dataclass
class Row:
    name: str
    ours: float | None
    peer: str
    theirs: float | None
    note: str = ""

    def ratio(self) -> str:
        if self.ours is None or self.theirs is None:
            return "n/a"
        return f"{self.ours / self.theirs:.2f}x"


def median_time(action: Callable[[], object], repeats: int, setup: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, env=env)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{completed.stdout}\n{completed.stderr}")


def prepare(work: Path) -> tuple[Path, Path]:
    """A channel with the build backends and a prefix that already has them."""
    from conda_source.installer.installer import RattlerInstaller
    from conda_source.target import probe
    from conda_source.testing import make_test_prefix
    from conda_source.testing.channel import make_channel

    CACHE.mkdir(exist_ok=True)
    if len(list(CACHE.glob("*.whl"))) < len(WHEELS):
        run(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--platform", "any",
            "--python-version", PY, "--dest", CACHE, *WHEELS)  # fmt: skip
    channel = work / "channel"
    make_channel(channel, sorted(CACHE.glob("*.whl")), python=PY)
    prefix = make_test_prefix(work / "env")
    RattlerInstaller(probe(prefix), [channel.as_uri()]).install(
        ["setuptools", "wheel", "hatchling", "editables", "flit-core", "packaging", "six", "python-build"]
    )
    return channel, prefix


def compile_bytecode(prefix: Path) -> None:
    """Byte-compile conda-source and the prefix's packages, as an install would (conda compiles at link time).

    Without it, a checkout run with PYTHONDONTWRITEBYTECODE compiles every module from source on every
    run, which measures the compiler rather than the tools (pip and uv run from compiled installs).
    """
    for tree in (ROOT / "conda_source", *prefix.glob("lib/python*/site-packages")):
        run(sys.executable, "-m", "compileall", "-q", "-j", "0", tree)


def conda_source(*args: str | Path) -> None:
    run(sys.executable, "-m", "conda_source", *args, "--no-user-mapping")


def core_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
