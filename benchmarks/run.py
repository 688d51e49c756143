"""conda-source against its peers, side by side in one run, as ratios of medians.

    python benchmarks/run.py [--quick] [--repeats N]

Needs the peers installed in this interpreter (``pip install -e '.[bench]'``): pip,
uv, whl2conda, build.  A peer that cannot run here gets a row that says so.
Everything happens in a temporary folder: a test prefix, and a local channel
made by conda-source's own writer from PyPI wheels (downloaded once into
benchmarks/.cache).  Never run by the test command; no test asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
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


def develop_rows(work: Path, channel: Path, prefix: Path, repeats: int) -> list[Row]:
    """Each tool installs the same project into the same prefix, from the same clean state."""
    rows = []
    for backend, name in PROJECTS.items():
        project = Path(shutil.copytree(ROOT / "tests" / "projects" / name, work / "projects" / name))
        rows += _develop_project(backend, project, channel, prefix, repeats)
    return rows


def _develop_project(backend: str, project: Path, channel: Path, prefix: Path, repeats: int) -> list[Row]:
    from pyproject_hooks import BuildBackendHookCaller

    from conda_source.backend.activation import activate
    from conda_source.project import load_project

    python = prefix / "bin" / "python"
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    dist = load_project(project).name or project.name
    label = f"develop-install, {backend}, deps present"
    ours_args = ("develop-install", project, "-p", prefix, "-c", channel)
    pip_args = ("-m", "pip", "--python", python, "install", "-q", "-e", project, "--no-deps", "--no-build-isolation")
    uv_args = (uv, "pip", "install", "-q", "--python", python, "-e", project, "--no-deps", "--no-build-isolation")
    uninstall_ours = (sys.executable, "-m", "conda_source", "develop-install", project, "-p", prefix, "--uninstall")

    def clean() -> None:
        subprocess.run([str(a) for a in uninstall_ours], capture_output=True)
        run(sys.executable, "-m", "pip", "--python", python, "uninstall", "-y", "-q", dist)

    ours = median_time(lambda: conda_source(*ours_args), repeats, clean)
    ours_noop = median_time(lambda: conda_source(*ours_args), repeats)
    pip = median_time(lambda: run(sys.executable, *pip_args), repeats, clean)
    pip_noop = median_time(lambda: run(sys.executable, *pip_args), repeats)
    rows = [Row(label, ours, "pip install -e --no-deps --no-build-isolation", pip)]
    if Path(uv).exists():
        uv_time = median_time(lambda: run(*uv_args), repeats, clean)
        rows.append(Row(label, ours, "uv pip install -e --no-deps --no-build-isolation", uv_time))
    else:
        rows.append(Row(label, ours, "uv pip install -e", None, "uv not installed"))
    clean()
    # The floor: one build_editable hook in its own process, as pyproject-hooks runs it, in the activated env.
    spec = load_project(project)
    environ = activate(prefix, os.environ).environ
    hooks = BuildBackendHookCaller(
        str(project),
        spec.build_system.backend,
        backend_path=list(spec.build_system.backend_path) or None,
        python_executable=str(python),
        runner=lambda cmd, cwd=None, extra_environ=None: run(
            *cmd, cwd=Path(cwd) if cwd else None, env={**environ, **(extra_environ or {})}
        ),
    )

    def floor() -> None:
        with tempfile.TemporaryDirectory() as out:
            hooks.build_editable(out)

    # After the same clean-up as every other row: the run before a measured one (pip, our uninstall) leaves the
    # machine's caches as it leaves them for the others.
    floor_time = median_time(floor, repeats, clean)
    rows.append(Row(label, ours, "the backend's build_editable hook alone (the floor)", floor_time))
    rows.append(Row(f"no-op re-run, {backend}", ours_noop, "pip install -e again, already installed", pip_noop))
    if backend == "setuptools":
        rows.append(peak_memory_row(ours_args, clean))
    return rows


def peak_memory_row(ours_args: tuple[str | Path, ...], clean: Callable[[], object]) -> Row:
    """The peak resident memory of one develop-install process (deps present), from the OS's own accounting.

    A helper process runs it and reports RUSAGE_CHILDREN: only that process and what it waited for count.
    """
    clean()
    command = [sys.executable, "-m", "conda_source", *map(str, ours_args), "--no-user-mapping"]
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True).stdout
    megabytes = int(out) / 1024  # ru_maxrss is in KiB on Linux
    return Row(
        "peak memory of develop-install (MB, setuptools, deps present)",
        megabytes,
        "the target",
        120.0,
        "MB, not seconds",
    )


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


def mapping_rows(repeats: int) -> list[Row]:
    from packaging.requirements import Requirement

    from conda_source.mapping.names import NameMapper
    from conda_source.mapping.requirements import map_requirement
    from conda_source.target import TargetEnv

    lines = [
        line
        for line in (Path(__file__).parent / "data" / "requires-dist.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    requirements = lines[:1000]  # 1,000 distinct strings
    target = TargetEnv.from_spec(PY, "linux-64")

    def plan_all() -> None:
        mapper = NameMapper()
        for text in requirements:
            map_requirement(Requirement(text), "bench", target, mapper)

    per_thousand = median_time(plan_all, repeats)
    # The baseline imports what conda has always loaded before plugins: only our own cost remains.
    stdlib = "import __future__, typing, collections.abc"
    bare = median_time(lambda: run(sys.executable, "-c", stdlib), repeats * 5)
    with_plugin = median_time(lambda: run(sys.executable, "-c", f"{stdlib}; import conda_source.plugin"), repeats * 5)
    return [
        Row(
            "map 1,000 distinct Requires-Dist strings from real wheels",
            per_thousand,
            "-",
            None,
            "markers, names, versions",
        ),
        Row(
            "cold import of conda_source.plugin",
            with_plugin - bare,
            "interpreter start-up",
            bare,
            "our extra start-up time",
        ),
    ]


def scale_rows(work: Path, channel: Path, quick: bool) -> list[Row]:
    import rattler
    from support import local_project

    from conda_source.engine.develop_install import DevelopRequest, develop_install
    from conda_source.mapping.overrides import Overrides
    from conda_source.target import probe
    from conda_source.testing import make_test_prefix

    solves = []
    real_solve = rattler.solve

    async def counting_solve(*args: object, **kwargs: object) -> object:
        solves.append(1)
        return await real_solve(*args, **kwargs)  # type: ignore[arg-type]

    rattler.solve = counting_solve  # type: ignore[assignment]
    rows = []
    try:
        for n in (1, 5) if quick else (1, 5, 20):
            base = work / f"scale-{n}"
            projects = [local_project(base, "chain-0", ["six"])]
            projects += [local_project(base, f"chain-{i}", [f"chain-{i - 1}", "six"]) for i in range(1, n)]
            prefix = make_test_prefix(base / "env")
            solves.clear()
            start = time.perf_counter()
            develop_install(
                DevelopRequest(
                    tuple(reversed(projects)), probe(prefix), (channel.as_uri(),), overrides=Overrides(user_file=False)
                )
            )
            elapsed = time.perf_counter() - start
            rows.append(
                Row(
                    f"develop-install of {n} chained local projects",
                    elapsed,
                    "-",
                    None,
                    f"{len(solves)} solve(s); {elapsed / n:.2f}s per project",
                )
            )
    finally:
        rattler.solve = real_solve
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
    cores = _cores()
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


def startup_rows(repeats: int) -> list[Row]:
    """What a verb costs before it does anything: the standalone command's start-up, over a bare interpreter."""
    bare = median_time(lambda: run(sys.executable, "-c", "pass"), repeats * 3)
    verb = median_time(lambda: run(sys.executable, "-m", "conda_source", "develop-install", "--help"), repeats * 3)
    return [
        Row("start-up of python -m conda_source develop-install --help", verb, "bare interpreter start-up", bare, "")
    ]


def conda_rows(work: Path, channel: Path, prefix: Path, repeats: int) -> list[Row]:
    """Inside conda: conda develop-install against conda pypi install -e, deps present (only where conda imports)."""
    import importlib.util

    label = "conda develop-install, setuptools, deps present"
    if importlib.util.find_spec("conda") is None:
        return [
            Row(label, None, "conda pypi install -e", None, "not measured: conda is not importable in this interpreter")
        ]
    project = Path(shutil.copytree(ROOT / "tests" / "projects" / "setuptools-basic", work / "conda-project"))
    conda = (sys.executable, "-m", "conda")
    flags = ("-p", prefix, "-c", channel, "--override-channels", "--offline", "-y")
    ours_args = (*conda, "develop-install", project, *flags, "--no-user-mapping")
    theirs_args = (*conda, "pypi", "install", "-e", project, "-p", prefix, "-y")

    def clean() -> None:
        subprocess.run(
            [str(a) for a in (*conda, "develop-install", project, "-p", prefix, "--uninstall", "-y")],
            capture_output=True,
        )
        subprocess.run(
            [str(a) for a in (*conda, "remove", "-p", prefix, "-y", "--force", "setuptools-basic")], capture_output=True
        )

    # conda pypi has no -c: it reads the channels from conda's settings (here, the environment).
    their_env = {**os.environ, "CONDA_CHANNELS": channel.as_uri(), "CONDA_OFFLINE": "true"}
    ours = median_time(lambda: run(*ours_args), repeats, clean)
    try:
        theirs: float | None = median_time(lambda: run(*theirs_args, env=their_env), repeats, clean)
        note = "the goal is at least 3x faster (ratio at most 0.33x)"
    except RuntimeError as exc:
        theirs, note = None, f"conda pypi could not run: {str(exc).splitlines()[0][:80]}"
    clean()
    return [Row(label, ours, "conda pypi install -e", theirs, note)]


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


def render(rows: list[Row], repeats: int) -> str:
    lines = [
        f"conda-source benchmarks, {date.today().isoformat()}, {platform.node()} ({platform.machine()}, "
        f"{platform.system()} {platform.release()}), python {platform.python_version()}, median of {repeats}, "
        f"{_cores()} cores, load average {_load()} at the end (the machine may be shared: compare ratios, not times)",
        "",
        "| benchmark | conda-source (s) | compared with | their time (s) | ratio (ours/theirs) | note |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ours = f"{row.ours:.3f}" if row.ours is not None else "n/a"
        theirs = f"{row.theirs:.3f}" if row.theirs is not None else "n/a"
        lines.append(f"| {row.name} | {ours} | {row.peer} | {theirs} | {row.ratio()} | {row.note} |")
    conda_ran = any(row.peer == "conda pypi install -e" and row.theirs is not None for row in rows)
    not_here = [
        *([] if conda_ran else ["conda-pypi: needs conda (and conda-pypi) in this interpreter; not run here"]),
        "conda-build (`conda develop`, `conda build`): not installable from the registries these machines reach",
    ]
    lines += ["", "Peers that cannot run here:"] + [f"- {item}" for item in not_here]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and sizes: under two minutes")
    parser.add_argument("--repeats", type=int, help="repeats per measurement (default 3 quick, 7 full)")
    parser.add_argument("--memory-only", action="store_true", help="only the peak memory of build-local")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    with tempfile.TemporaryDirectory(prefix="conda-source-bench-") as scratch:
        work = Path(scratch)
        memory = memory_lines(work)
        if args.memory_only:
            print("\n".join(memory).lstrip())
            return 0
        channel, prefix = prepare(work)
        compile_bytecode(prefix)
        rows = develop_rows(work, channel, prefix, repeats)
        rows += build_rows(work, channel, prefix, repeats)
        rows += conda_rows(work, channel, prefix, repeats)
        rows += mapping_rows(repeats)
        rows += startup_rows(repeats)
        rows += scale_rows(work, channel, args.quick)
        rows += build_scale_rows(work, channel, args.quick)
    print("\n".join([render(rows, repeats), *memory]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
