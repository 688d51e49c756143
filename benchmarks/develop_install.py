"""develop-install against its peers: pip, uv and the backend's hook alone, inside conda, and at scale."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import PROJECTS, ROOT, Row, conda_source, median_time, run


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
