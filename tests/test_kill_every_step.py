"""A kill at every step of a change leaves the prefix as it was before, or as the change makes it.

Every place where conda-source changes the prefix calls ``journal.step``.  For each scenario the
change is run once to count its steps (``CONDA_SOURCE_FAULT_LOG``) and to see the prefix it makes;
then, from the same starting prefix each time, a real ``conda-source`` process is killed (SIGKILL)
at step k, the next run's recovery follows, and the prefix must be exactly the one before the
change (k before the commit point) or the one after it (k at or past it), and pass the invariants.
A run of several projects has one commit point: it is never left with some of them installed.

The normal test run kills at a spread of steps of each scenario; ``CONDA_SOURCE_EVERY_STEP=1``
kills at every one of them.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from lab import cli, write_project
from support import before, check_invariants, prefix_state, site_packages

from conda_source.installer.installer import RattlerInstaller
from conda_source.prefix.prefix_change import recover
from conda_source.target import probe
from conda_source.testing import make_test_prefix

Setup = Callable[[Path, Path, Path], list[str]]  # (prefix, project dir, channel) -> command arguments


def fresh(prefix: Path, project: Path, channel: Path) -> list[str]:
    write_project(project, "lab-proj", "1.0", members={"lab_proj-1.0.dist-info/licenses/LICENSE": "MIT\n"})
    return [str(project)]


def reinstall(prefix: Path, project: Path, channel: Path) -> list[str]:
    write_project(project, "lab-proj", "1.0", members={"lab_proj-1.0.dist-info/licenses/LICENSE": "MIT\n"})
    assert cli(prefix, str(project)).returncode == 0
    write_project(project, "lab-proj", "2.0", scripts={"lab-proj-two": "lab_proj:main"})
    return [str(project)]


def force(prefix: Path, project: Path, channel: Path) -> list[str]:
    RattlerInstaller(probe(prefix), [str(channel)]).install(["clashpkg"])
    write_project(project, "clash-dev", scripts={"clash-tool": "clash_dev:main"})
    return [str(project), "--force"]


def pip_takeover(prefix: Path, project: Path, channel: Path) -> list[str]:
    site = site_packages(prefix)
    old = site / "lab_proj-0.9.dist-info"
    (old / "licenses").mkdir(parents=True)
    (old / "licenses" / "LICENSE").write_text("MIT\n")
    (old / "INSTALLER").write_text("pip\n")
    (old / "METADATA").write_text("Metadata-Version: 2.1\nName: lab-proj\nVersion: 0.9\n")
    (site / "__editable__.lab_proj-0.9.pth").write_text("/somewhere/else\n")
    (prefix / "bin" / "lab-proj").write_text("#!/bin/sh\necho pip\n")
    (old / "RECORD").write_text(
        "__editable__.lab_proj-0.9.pth,,\n../../../bin/lab-proj,,\nlab_proj-0.9.dist-info/METADATA,,\n"
        "lab_proj-0.9.dist-info/INSTALLER,,\nlab_proj-0.9.dist-info/RECORD,,\n"
    )
    write_project(project, "lab-proj", "1.0")
    return [str(project)]


def replace(prefix: Path, project: Path, channel: Path) -> list[str]:
    RattlerInstaller(probe(prefix), [str(channel)]).install(["dependent"])
    write_project(project, "chanpkg", "2.0")
    return [str(project)]


def several(prefix: Path, project: Path, channel: Path) -> list[str]:
    """One run of three projects: a reinstall, a channel package replaced, a fresh install (one change)."""
    reinstalled = reinstall(prefix, project, channel)
    replacing = replace(prefix, project.with_name("replacing"), channel)
    fresh_one = write_project(project.with_name("fresh"), "lab-two", dependencies=["lab-proj", "chanpkg"])
    return [str(fresh_one), *replacing, *reinstalled]


def uninstall_forced(prefix: Path, project: Path, channel: Path) -> list[str]:
    args = force(prefix, project, channel)
    assert cli(prefix, *args).returncode == 0
    return [str(project), "--uninstall"]


def uninstall_replaced(prefix: Path, project: Path, channel: Path) -> list[str]:
    args = replace(prefix, project, channel)
    assert cli(prefix, *args).returncode == 0
    return [str(project), "--uninstall"]


SCENARIOS = [
    pytest.param(fresh, id="fresh-install"),
    pytest.param(reinstall, id="reinstall-version-and-entry-points"),
    pytest.param(force, id="force"),
    pytest.param(pip_takeover, id="pip-takeover"),
    pytest.param(replace, id="replace-channel-package"),
    pytest.param(several, id="several-projects-as-one"),
    pytest.param(uninstall_forced, id="uninstall-forced"),
    pytest.param(uninstall_replaced, id="uninstall-replaced"),
]
SAMPLE = 5  # kills per scenario in the normal run: the first step, the last, and three between


def chosen(total: int) -> list[int]:
    if os.environ.get("CONDA_SOURCE_EVERY_STEP") == "1" or total <= SAMPLE:
        return list(range(1, total + 1))
    return sorted({1 + round(i * (total - 1) / (SAMPLE - 1)) for i in range(SAMPLE)})


@pytest.mark.slow
@pytest.mark.parametrize("setup", SCENARIOS)
def test_kill_at_every_step(tmp_path: Path, lab_channel: Path, setup: Setup) -> None:
    prefix = make_test_prefix(tmp_path / "env")
    project = tmp_path / "project"
    args = setup(prefix, project, lab_channel)
    template = tmp_path / "template"
    shutil.copytree(prefix, template, symlinks=True)
    start = prefix_state(prefix)
    then = before(prefix, (lab_channel,))

    log = tmp_path / "steps.log"
    assert cli(prefix, *args, log=log).returncode == 0
    after = prefix_state(prefix)
    assert after != start
    check_invariants(prefix, then)
    labels = [line.split(" ", 1)[1] for line in log.read_text().splitlines()]
    commit = max(i for i, label in enumerate(labels, 1) if label == "journal in place")  # the change is marked done

    for k in chosen(len(labels)):
        shutil.rmtree(prefix)
        shutil.copytree(template, prefix, symlinks=True)
        killed = cli(prefix, *args, fault=f"step:{k}")
        assert killed.returncode == -signal.SIGKILL, (k, labels[k - 1], killed.stderr)
        recover(prefix)
        assert prefix_state(prefix) == (start if k < commit else after), (k, labels[k - 1])
        check_invariants(prefix, then)
