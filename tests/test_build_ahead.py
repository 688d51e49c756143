"""The editable build started before the plan (early_start.py), when nothing else comes first.

Once a backend's ``get_requires`` answer is remembered (requires_memo.py) and pyproject.toml declares the
version and every dependency, a hatchling or flit-core project's process is asked ``build_editable`` at
once, into a scratch directory; the build's own call takes the wheel over.  A build asked ahead that no
build takes over is stopped and its scratch directory removed: the checkout never sees it.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import check_record_matches_disk, site_packages, tree_digest

from conda_source.backend import hook_process
from conda_source.backend.early_start import start_backends
from conda_source.backend.sequence import Backend
from conda_source.engine.develop_install import DevelopRequest, InstalledProject, develop_install
from conda_source.mapping.overrides import Overrides
from conda_source.project import load_project
from conda_source.target import probe

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "ahead-demo"
version = "1.0"
dependencies = ["six"]

[project.optional-dependencies]
extra = ["tomli"]
"""


@pytest.fixture(autouse=True)
def scratch_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Temporary directories of this process go to a folder of the test's own, to see what is left there."""
    here = tmp_path / "tmp"
    here.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(here))
    hook_process.end_early()
    yield here
    hook_process.end_early()


def ahead_project(tmp_path: Path, pyproject: str = PYPROJECT) -> Path:
    project = tmp_path / "ahead-demo"
    (project / "src" / "ahead_demo").mkdir(parents=True)
    (project / "src" / "ahead_demo" / "__init__.py").write_text("VALUE = 'ahead'\n")
    (project / "pyproject.toml").write_text(pyproject)
    return project


def install(prefix: Path, channel: str, project: Path, extras: tuple[str, ...] = ()) -> InstalledProject:
    request = DevelopRequest(
        (project,), probe(prefix), (channel,), extras, overrides=Overrides(user_file=False), command="ahead test"
    )
    (result,) = develop_install(request).projects
    return result


def asked_ahead(prefix: Path, project: Path) -> dict[str, object] | None:
    """Start the project's backend as a develop-install does, and read what its process was asked at once."""
    start_backends([project], probe(prefix))
    (early,) = hook_process._early.values()
    return json.loads(early.ahead) if early.ahead else None


def test_the_build_takes_over_the_wheel_built_ahead(
    build_channel: str, prefix: Path, tmp_path: Path, scratch_here: Path
) -> None:
    project = ahead_project(tmp_path)
    install(prefix, build_channel, project)  # the get_requires answer is remembered from here on
    ahead = asked_ahead(prefix, project)
    assert ahead is not None and ahead["hook"] == "build_editable"
    scratch = Path(str(ahead["kwargs"]["wheel_directory"]))  # type: ignore[index]
    assert scratch.parent == scratch_here
    backend = Backend(load_project(project), probe(prefix).interpreter, prefix)
    out = tmp_path / "out"
    out.mkdir()
    assert [str(r) for r in backend.get_requires(editable=True)] == ["editables~=0.3"]
    wheel = backend.build_editable(out)
    assert wheel.parent == out and wheel.name.startswith("ahead_demo-1.0-") and wheel.is_file()
    assert backend._hooks.started == 1 and hook_process._early == {}  # the process started early, taken over
    assert not scratch.exists()
    backend.close()


def test_a_build_ahead_nobody_takes_over_is_stopped_and_leaves_nothing(
    build_channel: str, prefix: Path, tmp_path: Path, scratch_here: Path
) -> None:
    project = ahead_project(tmp_path)
    install(prefix, build_channel, project)
    checkout = tree_digest(project)
    assert asked_ahead(prefix, project) is not None
    (early,) = hook_process._early.values()
    hook_process.end_early()  # the run ended before its build (declined, failed, a no-op after all)
    assert early._popen.poll() is not None  # stopped, not left building
    assert list(scratch_here.iterdir()) == []
    assert tree_digest(project) == checkout


def test_a_reinstall_with_a_build_ahead_is_complete(
    build_channel: str, prefix: Path, tmp_path: Path, scratch_here: Path
) -> None:
    project = ahead_project(tmp_path)
    install(prefix, build_channel, project)
    (project / "src" / "ahead_more.py").write_text("X = 1\n")  # a new module: reinstalled, the build went ahead
    again = install(prefix, build_channel, project)
    assert not again.unchanged
    check_record_matches_disk(prefix, again.record)
    python = str(prefix / "bin" / "python")
    imported = subprocess.run([python, "-c", "import ahead_demo, ahead_more; print(ahead_demo.VALUE)"], text=True,
                              capture_output=True, check=True)  # fmt: skip
    assert imported.stdout.strip() == "ahead"
    assert list(scratch_here.iterdir()) == []


def test_a_run_whose_solve_links_something_first_builds_again(
    build_channel: str, prefix: Path, tmp_path: Path, scratch_here: Path
) -> None:
    """An extra asked for now needs tomli: the transaction changes the environment, so the build ahead (made
    before it) is not taken over; the build runs again after it."""
    project = ahead_project(tmp_path)
    install(prefix, build_channel, project)
    (project / "src" / "ahead_more.py").write_text("X = 1\n")
    again = install(prefix, build_channel, project, extras=("extra",))
    assert "tomli" in again.record.read_text()
    check_record_matches_disk(prefix, again.record)
    assert list(scratch_here.iterdir()) == []


@pytest.mark.parametrize(
    "change",
    [
        ('version = "1.0"', 'dynamic = ["version"]\n[tool.hatch.version]\npath = "src/ahead_demo/__init__.py"'),
        ('extra = ["tomli"]', 'extra = ["tomli"]\n\n[tool.hatch.build.hooks.custom]'),
        ('extra = ["tomli"]', 'extra = ["tomli"]\n\n[tool.hatch.build.targets.wheel.hooks.custom]'),
        ('build-backend = "hatchling.build"', 'build-backend = "setuptools.build_meta"'),
    ],
    ids=["dynamic version", "build hook", "target build hook", "setuptools (egg-info in the checkout)"],
)
def test_no_build_ahead_where_something_comes_first_or_the_checkout_is_written(
    build_channel: str, prefix: Path, tmp_path: Path, change: tuple[str, str]
) -> None:
    pyproject = PYPROJECT.replace(*change)
    if "setuptools" in pyproject:
        pyproject = pyproject.replace('requires = ["hatchling"]', 'requires = ["setuptools"]')
    if "hooks.custom" in pyproject:
        (tmp_path / "ahead-demo").mkdir()
        (tmp_path / "ahead-demo" / "hatch_build.py").write_text(
            "from hatchling.builders.hooks.plugin.interface import BuildHookInterface\n\n\n"
            "class Hook(BuildHookInterface):\n    pass\n"
        )
    project = ahead_project(tmp_path, pyproject)
    if "tool.hatch.version" in pyproject:
        (project / "src" / "ahead_demo" / "__init__.py").write_text("__version__ = '1.0'\nVALUE = 'ahead'\n")
    install(prefix, build_channel, project)
    assert asked_ahead(prefix, project) is None  # the answer is remembered: nothing asked at once


def test_no_build_ahead_with_a_build_hook_in_hatch_toml(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    """hatch.toml holds hatch's configuration as tool.hatch does: a build hook there comes first too."""
    project = ahead_project(tmp_path)
    (project / "hatch.toml").write_text("[build.targets.wheel.hooks.custom]\n")
    (project / "hatch_build.py").write_text(
        "from hatchling.builders.hooks.plugin.interface import BuildHookInterface\n\n\n"
        "class Hook(BuildHookInterface):\n    pass\n"
    )
    install(prefix, build_channel, project)
    assert asked_ahead(prefix, project) is None


def test_a_project_named_twice_builds_ahead_once_and_leaves_no_scratch_directory(
    build_channel: str, prefix: Path, tmp_path: Path, scratch_here: Path
) -> None:
    project = ahead_project(tmp_path)
    install(prefix, build_channel, project)
    start_backends([project, project / "pyproject.toml"], probe(prefix))  # the same checkout, spelled twice
    (early,) = hook_process._early.values()
    assert early.ahead is not None and len(list(scratch_here.iterdir())) == 1
    hook_process.end_early()
    assert list(scratch_here.iterdir()) == []


def test_a_build_ahead_that_ignores_sigterm_is_killed_before_its_directory_goes(
    build_channel: str, prefix: Path, tmp_path: Path, scratch_here: Path
) -> None:
    """A backend process busy (here: asleep at start-up, a .pth line) and ignoring SIGTERM: ending the build
    ahead falls back on SIGKILL after its grace period, so nothing writes into the directory once it is gone."""
    project = ahead_project(tmp_path)
    install(prefix, build_channel, project)
    started = tmp_path / "started"
    (site_packages(prefix) / "stubborn.pth").write_text(
        "import signal, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(started)!r}).touch(); time.sleep(60)\n"
    )
    assert asked_ahead(prefix, project) is not None
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (early,) = hook_process._early.values()
    hook_process.end_early()
    assert early._popen.returncode == -9  # killed: it ignored the polite request
    assert list(scratch_here.iterdir()) == []
