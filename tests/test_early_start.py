"""A backend process started before the plan (early_start.py) is taken over by its build, or ended unused."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import local_project

from conda_source import hook_process
from conda_source.backend import Backend
from conda_source.early_start import backends_started, start_backends
from conda_source.project import load_project
from conda_source.target import probe

# The in-tree minimal backend, saying who imported it (the process's pid) and warning as it imports.
LOUD_BACKEND = """
import os, sys, warnings
from minimal_backend import *
print("loud backend imported in", os.getpid(), flush=True)
warnings.warn("imported early", UserWarning)
if os.environ.get("LOUD_LOG"):
    with open(os.environ["LOUD_LOG"], "a") as log:
        log.write(str(os.getpid()) + chr(10))
"""


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    hook_process.end_early()
    yield
    hook_process.end_early()


def loud_project(tmp_path: Path) -> Path:
    project = local_project(tmp_path, "early-demo", [])
    (project / "_backend" / "loud_backend.py").write_text(LOUD_BACKEND)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('build-backend = "minimal_backend"', 'build-backend = "loud_backend"')
    )
    return project


def test_the_build_takes_over_the_process_started_early(prefix: Path, tmp_path: Path) -> None:
    project = loud_project(tmp_path)
    environment = probe(prefix)
    start_backends([project], environment)
    (early,) = hook_process._early.values()
    backend = Backend(load_project(project), environment.interpreter, prefix)
    assert backend.get_requires(editable=True) == []
    assert hook_process._early == {}
    assert backend._hooks.started == 1
    output = "".join(backend.output)
    assert f"loud backend imported in {early._popen.pid}" in output  # printed before the build asked: kept
    assert "warning: imported early" in output  # the import's warning, handed on with the first hook
    backend.close()


def test_a_process_started_before_packages_changed_is_ended_unused(prefix: Path, tmp_path: Path) -> None:
    project = loud_project(tmp_path)
    environment = probe(prefix)
    start_backends([project], environment)
    (early,) = hook_process._early.values()
    marker = prefix / "conda-meta" / "touched.json.partial"
    marker.write_text("")  # conda-meta changed: what the early process imported may be stale
    marker.unlink()
    os.utime(prefix / "conda-meta", ns=(1, 1))
    backend = Backend(load_project(project), environment.interpreter, prefix)
    assert backend.get_requires(editable=True) == []
    assert hook_process._early == {}
    assert early._popen.wait(timeout=10) == 0  # its request pipe closed: it ended on its own
    assert f"imported in {early._popen.pid}" not in "".join(backend.output)
    backend.close()


def test_a_process_no_build_took_over_ends_with_the_run(prefix: Path, tmp_path: Path) -> None:
    project = loud_project(tmp_path)
    with backends_started([project], probe(prefix)):
        (early,) = hook_process._early.values()  # e.g. the user answered "no", or the run failed before building
    assert hook_process._early == {}
    assert early._popen.wait(timeout=10) == 0


@pytest.mark.parametrize(
    "build_system",
    [
        "",  # no [build-system]: the legacy backend, decided by the plan
        "[build-system]\nrequires = []\nbuild-backend = 42\n",  # the plan reports it
        '[build-system]\nrequires = []\nbuild-backend = "x"\nbackend-path = "not-a-list"\n',
        "not toml at all [",
    ],
)
def test_nothing_is_started_for_a_backend_the_plan_must_decide(prefix: Path, tmp_path: Path, build_system: str) -> None:
    project = tmp_path / "odd"
    project.mkdir()
    (project / "pyproject.toml").write_text(build_system)
    start_backends([project], probe(prefix))
    assert hook_process._early == {}


def test_a_backend_that_cannot_import_fails_as_before(prefix: Path, tmp_path: Path) -> None:
    """The early import swallows nothing: the first hook imports again and reports the failure."""
    project = local_project(tmp_path, "broken-demo", [])
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('build-backend = "minimal_backend"', 'build-backend = "nope"'))
    environment = probe(prefix)
    start_backends([project], environment)
    backend = Backend(load_project(project), environment.interpreter, prefix)
    with pytest.raises(Exception, match="nope"):
        backend.get_requires(editable=True)
    backend.close()


def test_develop_install_through_the_cli_uses_one_backend_process(prefix: Path, tmp_path: Path) -> None:
    """End to end: the process started early is the one every hook of the build ran in."""
    project = loud_project(tmp_path)
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix), "-v"]
    log = tmp_path / "imports.log"
    environ = {**os.environ, "LOUD_LOG": str(log)}
    completed = subprocess.run([*command, "--no-user-mapping"], capture_output=True, text=True, env=environ)
    assert completed.returncode == 0, completed.stderr
    assert "early-demo 0.4.0" in completed.stdout
    (pid,) = log.read_text().split()  # imported once: the process started early ran every hook
    assert f"loud backend imported in {pid}" in completed.stdout + completed.stderr
    python = prefix / "bin" / "python"
    check = subprocess.run([str(python), "-c", "import early_demo"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
