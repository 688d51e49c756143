"""conda-source against its peers, side by side in one run, as ratios of medians.

    python benchmarks/run.py [--quick] [--repeats N] [--memory-only]

Measured: develop-install against pip, uv, the backend's build_editable hook alone and, inside
conda, conda pypi install -e, its no-op re-run and peak memory, and chains of local projects
(develop_install.py); build-local against whl2conda and python -m build, its peak memory by wheel
size, and many projects in one run (build_local.py); mapping Requires-Dist strings, the plugin's
cold import and the command's start-up (here).  common.py holds what they share.
--memory-only runs only build-local's peak memory (a few seconds).

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
import sys
import tempfile
from datetime import date
from pathlib import Path

from build_local import build_rows, build_scale_rows, memory_lines
from common import PY, Row, compile_bytecode, core_count, median_time, prepare, run
from develop_install import conda_rows, develop_rows, scale_rows


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


def startup_rows(repeats: int) -> list[Row]:
    """What a verb costs before it does anything: the standalone command's start-up, over a bare interpreter."""
    bare = median_time(lambda: run(sys.executable, "-c", "pass"), repeats * 3)
    verb = median_time(lambda: run(sys.executable, "-m", "conda_source", "develop-install", "--help"), repeats * 3)
    return [
        Row("start-up of python -m conda_source develop-install --help", verb, "bare interpreter start-up", bare, "")
    ]


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


def render(rows: list[Row], repeats: int) -> str:
    lines = [
        f"conda-source benchmarks, {date.today().isoformat()}, {platform.node()} ({platform.machine()}, "
        f"{platform.system()} {platform.release()}), python {platform.python_version()}, median of {repeats}, "
        f"{core_count()} cores, load average {_load()} at the end "
        "(the machine may be shared: compare ratios, not times)",
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
