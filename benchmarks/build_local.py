"""build-local against its peers (whl2conda, python -m build), its peak memory, and at scale."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import CACHE, ROOT, Row, conda_source, core_count, median_time, run


def build_rows(work: Path, channel: Path, prefix: Path, repeats: int) -> list[Row]:
    wheel = next(CACHE.glob("wheel-*.whl"))  # console scripts, no python-version markers
    out = work / "build-out"

    def ours_wheel(*options: str) -> None:
        shutil.rmtree(out, ignore_errors=True)
        conda_source("build-local", wheel, "--output-dir", out, *options)

    whl2conda = shutil.which("whl2conda") or str(Path(sys.executable).parent / "whl2conda")
    if not Path(whl2conda).exists():
        return [
            Row(
                "build-local of a wheel",
                median_time(ours_wheel, repeats),
                "whl2conda convert",
                None,
                "whl2conda not installed",
            )
        ]

    def theirs_wheel() -> None:
        shutil.rmtree(out, ignore_errors=True)
        run(whl2conda, "convert", wheel, "--out-dir", out, "--quiet")

    ours, theirs = median_time(ours_wheel, repeats), median_time(theirs_wheel, repeats)
    level_10 = median_time(lambda: ours_wheel("--compression-level", "10"), repeats)
    rows = [
        Row("build-local of a wheel (wheel 0.45.1)", ours, "whl2conda convert", theirs),
        Row("build-local of a wheel (wheel 0.45.1), --compression-level 10", level_10, "whl2conda convert", theirs),
    ]
    project = Path(shutil.copytree(ROOT / "tests" / "projects" / "setuptools-basic", work / "build-checkout"))

    def ours_checkout() -> None:
        shutil.rmtree(out, ignore_errors=True)
        conda_source("build-local", project, "-p", prefix, "-c", channel, "--output-dir", out)

    def theirs_checkout() -> None:
        shutil.rmtree(out, ignore_errors=True)
        # pypa/build's own process drives the backend; --no-isolation uses this interpreter's setuptools
        run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out / "whl", project)
        run(whl2conda, "convert", next((out / "whl").glob("*.whl")), "--out-dir", out, "--quiet")

    rows.append(
        Row(
            "build-local of a checkout (setuptools)",
            median_time(ours_checkout, repeats),
            "python -m build --wheel --no-isolation + whl2conda convert",
            median_time(theirs_checkout, repeats),
        )
    )
    return rows


# Linux's VmHWM: the peak of this process image alone (ru_maxrss also counts the parent's pages
# the child was forked with, carried across exec).
PEAK_RSS = """
import sys, time
from conda_source.cli import main
start = time.perf_counter()
code = main(["build-local", sys.argv[1], "--output-dir", sys.argv[2], "--no-user-mapping"])
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(code, time.perf_counter() - start, int(status["VmHWM"].split()[0]) // 1024)
"""


def memory_lines(work: Path, sizes_mib: tuple[int, ...] = (16, 256)) -> list[str]:
    """Peak resident memory of build-local on one wheel, in a fresh interpreter that does only that (Linux).

    The wheel holds one stored member of the given size (a repeated random MiB, so the .conda is
    small but every byte goes through staging, tar and zstd).  Memory must not grow with the size.
    """
    from wheelmaker import make_large_wheel

    lines = ["", "Peak memory of build-local (VmHWM of a fresh interpreter; target: under 150 MiB):", ""]
    lines += ["| wheel content | peak RSS (MiB) | time (s) |", "| --- | --- | --- |"]
    for size in sizes_mib:
        folder = work / f"memory-{size}"
        folder.mkdir()
        wheel = make_large_wheel(folder, size << 20)
        completed = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, str(wheel), str(folder / "out")], capture_output=True, text=True
        )
        code, elapsed, peak = (completed.stdout.splitlines() or ["1 0 0"])[-1].split()
        if completed.returncode != 0 or code != "0":
            raise RuntimeError(f"build-local of a {size} MiB wheel failed:\n{completed.stdout}\n{completed.stderr}")
        lines.append(f"| {size} MiB in one member | {peak} | {float(elapsed):.1f} |")
        shutil.rmtree(folder)
    return lines


def build_scale_rows(work: Path, channel: Path, quick: bool) -> list[Row]:
    """build-local of N projects in one run (each command a whole process, as a user runs it)."""
    from support import local_project

    from conda_source.testing import make_test_prefix

    rows = []
    for n in (1, 5) if quick else (1, 5, 20):
        base = work / f"build-chain-{n}"
        projects = [local_project(base, "chain-0", ["six"])]
        projects += [local_project(base, f"chain-{i}", [f"chain-{i - 1}", "six"]) for i in range(1, n)]
        prefix = make_test_prefix(base / "env")
        elapsed = _timed_build(projects, prefix, channel, base / "out")
        rows.append(
            Row(f"build-local of {n} chained local projects", elapsed, "-", None, f"{elapsed / n:.2f}s per project")
        )
    n = 5 if quick else 20
    base = work / f"build-free-{n}"
    projects = [local_project(base, f"free-{i}", ["six"]) for i in range(n)]
    prefix = make_test_prefix(base / "env")
    together = _timed_build(projects, prefix, channel, base / "out")
    start = time.perf_counter()
    for index, project in enumerate(projects):
        conda_source("build-local", project, "-p", prefix, "-c", channel, "--output-dir", base / f"single-{index}")
    singles = time.perf_counter() - start
    cores = core_count()
    rows.append(
        Row(
            f"build-local of {n} independent local projects, one run",
            together,
            f"{n} single build-local runs",
            singles,
            f"{cores} cores; the goal is at most 0.6x",
        )
    )
    return rows


def _timed_build(projects: list[Path], prefix: Path, channel: Path, out: Path) -> float:
    start = time.perf_counter()
    conda_source("build-local", *reversed(projects), "-p", prefix, "-c", channel, "--output-dir", out)
    return time.perf_counter() - start
