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


def run(*command: str | Path, cwd: Path | None = None) -> None:
    completed = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{completed.stdout}\n{completed.stderr}")


def prepare(work: Path) -> tuple[Path, Path]:
    """A channel with the build backends and a prefix that already has them."""
    from conda_source.installer import RattlerInstaller
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
        ["setuptools", "wheel", "hatchling", "editables", "flit-core", "packaging", "six"]
    )
    return channel, prefix


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
    from conda_source.backend import Backend
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
    hooks = Backend(load_project(project), python, prefix)

    def floor() -> None:
        with tempfile.TemporaryDirectory() as out:
            hooks.build_editable(Path(out))

    rows.append(Row(label, ours, "the backend's build_editable hook alone (the floor)", median_time(floor, repeats)))
    rows.append(Row(f"no-op re-run, {backend}", ours_noop, "pip install -e again, already installed", pip_noop))
    return rows


def build_rows(work: Path, channel: Path, prefix: Path, repeats: int) -> list[Row]:
    wheel = next(CACHE.glob("wheel-*.whl"))  # console scripts, no python-version markers
    out = work / "build-out"

    def ours_wheel() -> None:
        shutil.rmtree(out, ignore_errors=True)
        conda_source("build-local", wheel, "--output-dir", out)

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

    rows = [
        Row(
            "build-local of a wheel (wheel 0.45.1)",
            median_time(ours_wheel, repeats),
            "whl2conda convert",
            median_time(theirs_wheel, repeats),
        )
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
    from test_journal import local_project

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
        rattler.solve = real_solve  # type: ignore[assignment]
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


def render(rows: list[Row], repeats: int) -> str:
    lines = [
        f"conda-source benchmarks, {date.today().isoformat()}, {platform.node()} ({platform.machine()}, "
        f"{platform.system()} {platform.release()}), python {platform.python_version()}, median of {repeats}",
        "",
        "| benchmark | conda-source (s) | compared with | their time (s) | ratio (ours/theirs) | note |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ours = f"{row.ours:.3f}" if row.ours is not None else "n/a"
        theirs = f"{row.theirs:.3f}" if row.theirs is not None else "n/a"
        lines.append(f"| {row.name} | {ours} | {row.peer} | {theirs} | {row.ratio()} | {row.note} |")
    not_here = [
        "conda-pypi: needs conda with its solver plugin; not run here",
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
        rows = develop_rows(work, channel, prefix, repeats)
        rows += build_rows(work, channel, prefix, repeats)
        rows += mapping_rows(repeats)
        rows += scale_rows(work, channel, args.quick)
    print("\n".join([render(rows, repeats), *memory]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
