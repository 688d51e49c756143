"""A backend process started before the plan (early_start.py) is taken over by its build, or ended unused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import local_project

from conda_source.backend import hook_process
from conda_source.backend.early_start import backends_started, start_backends
from conda_source.backend.runner_process import Running
from conda_source.backend.sequence import Backend
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


# A backend installed in the environment (not in the checkout): what an interrupted change may have half-written.
SITE_BACKEND = """
print("imported", flush=True)

def get_requires_for_build_editable(config_settings=None):
    return [{requirement!r}]
"""


def _wait_for_output(early: Running) -> None:
    deadline = time.monotonic() + 30
    while os.fstat(early._output.fileno()).st_size == 0 and early._popen.poll() is None:
        assert time.monotonic() < deadline, "the early process printed nothing"
        time.sleep(0.01)


def test_a_process_started_before_an_interrupted_change_is_undone_is_not_taken_over(
    prefix: Path, tmp_path: Path
) -> None:
    """The early process imports what the interrupted change left; the run first undoes that change (recover),
    which need not touch conda-meta itself.  The build must then run the backend as it is after the undo."""
    from conda_source.meta import conda_meta
    from conda_source.meta.journal import Journal
    from conda_source.prefix import prefix_change

    environment = probe(prefix)
    site = Path(environment.paths["purelib"])
    relative = (site / "review_site_backend.py").relative_to(prefix).as_posix()
    (prefix / relative).write_text(SITE_BACKEND.format(requirement="as-before"))
    state_dir = prefix / "conda-meta" / conda_meta.STATE_DIR
    state_dir.mkdir()
    (state_dir / "other.json").write_text("{}")  # another develop install's state: the directory stays
    Journal(prefix).begin([], [relative], "an interrupted develop-install")
    (prefix / relative).write_text(SITE_BACKEND.format(requirement="half-written"))
    project = tmp_path / "site-demo"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "review_site_backend"\n'
        '[project]\nname = "site-demo"\nversion = "1.0"\n'
    )
    start_backends([project], environment)
    for early in hook_process._early.values():  # as the plan would take, give it the time to import
        _wait_for_output(early)
    assert prefix_change.recover(prefix) is not None
    assert "as-before" in (prefix / relative).read_text()
    backend = Backend(load_project(project), environment.interpreter, prefix)
    assert [str(r) for r in backend.get_requires(editable=True)] == ["as-before"]
    backend.close()


def test_a_broken_activation_script_does_not_fail_a_dry_run_that_builds_nothing(prefix: Path, tmp_path: Path) -> None:
    """Starting early is only a head start: what it cannot start (here the activation fails) is left to the build,
    which a dry run of an unchanged project never reaches."""
    from conda_source import api

    project = local_project(tmp_path, "early-activation", [])
    api.develop_install(project, prefix=prefix, user_mapping=False)
    script = prefix / "etc" / "conda" / "activate.d" / "broken.sh"
    script.parent.mkdir(parents=True)
    script.write_text("exit 3\n")
    result = api.develop_install(project, prefix=prefix, user_mapping=False, dry_run=True)
    assert [c.action for c in result.changes] == ["unchanged"]
    assert hook_process._early == {}


def test_a_backend_that_fails_to_import_is_imported_once(prefix: Path, tmp_path: Path) -> None:
    """The runner imports the backend before the first request; a failed import is reported by the first hook
    as it was, not tried again (which ran the backend's import a second time and printed its output twice)."""
    project = local_project(tmp_path, "twice-demo", [])
    (project / "_backend" / "failing_backend.py").write_text("print('importing failing_backend')\nimport nowhere\n")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"minimal_backend"', '"failing_backend"'))
    environment = probe(prefix)
    backend = Backend(load_project(project), environment.interpreter, prefix)
    with pytest.raises(Exception, match="cannot import 'failing_backend'"):
        backend.get_requires(editable=True)
    assert "".join(backend.output).count("importing failing_backend") == 1
    backend.close()


def test_a_dry_run_starts_no_backend(prefix: Path, tmp_path: Path) -> None:
    """A dry run of an unchanged project needs no backend: none is started (a real run would start one early)."""
    project = loud_project(tmp_path)
    log = tmp_path / "imports.log"
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix)]
    environ = {**os.environ, "LOUD_LOG": str(log)}
    assert subprocess.run([*command, "--no-user-mapping"], capture_output=True, env=environ).returncode == 0
    log.unlink()
    completed = subprocess.run(
        [*command, "--no-user-mapping", "--dry-run"], capture_output=True, text=True, env=environ
    )
    assert completed.returncode == 0, completed.stderr
    assert "Dry run: nothing was changed." in completed.stdout
    assert not log.exists()  # the backend was never imported


# A backend that logs every get_requires hook (with its process) and fails it when told to.
ASKED_BACKEND = """
import os
from minimal_backend import *

def _log(hook):
    with open(os.environ["ASKED_LOG"], "a") as log:
        log.write(hook + " " + str(os.getpid()) + chr(10))
    if os.environ.get("ASKED_FAIL"):
        print("asked backend: refusing", hook, flush=True)
        raise RuntimeError("refused")
    return []

def get_requires_for_build_editable(config_settings=None):
    return _log("get_requires_for_build_editable")

def get_requires_for_build_wheel(config_settings=None):
    return _log("get_requires_for_build_wheel")
"""


def asked_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> tuple[Path, Path]:
    project = local_project(tmp_path, "asked-demo", [])
    (project / "_backend" / "asked_backend.py").write_text(ASKED_BACKEND)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('build-backend = "minimal_backend"', 'build-backend = "asked_backend"')
    )
    log = tmp_path / "asked.log"
    monkeypatch.setenv("ASKED_LOG", str(log))
    if fail:
        monkeypatch.setenv("ASKED_FAIL", "1")
    return project, log


def started_then_built(prefix: Path, project: Path) -> tuple[Backend, Running]:
    """The project's backend started early (asked get_requires_for_build_editable ahead), and its build's Backend."""
    environment = probe(prefix)
    start_backends([project], environment, editable=True)
    (early,) = hook_process._early.values()
    return Backend(load_project(project), environment.interpreter, prefix), early


def test_the_first_hook_is_asked_ahead_and_its_answer_used(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, log = asked_project(tmp_path, monkeypatch)
    backend, early = started_then_built(prefix, project)
    assert backend.get_requires(editable=True) == []
    assert log.read_text().split(chr(10))[:-1] == [f"get_requires_for_build_editable {early._popen.pid}"]  # once
    backend.close()


def test_a_process_asked_another_first_hook_is_not_taken_over(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, log = asked_project(tmp_path, monkeypatch)
    backend, early = started_then_built(prefix, project)
    assert backend.get_requires(editable=False) == []  # a regular build: get_requires_for_build_wheel
    lines = log.read_text().splitlines()  # the early one may or may not reach its hook before it is ended
    wheel = [line for line in lines if line.startswith("get_requires_for_build_wheel ")]
    assert len(wheel) == 1 and wheel[0] != f"get_requires_for_build_wheel {early._popen.pid}"
    assert set(lines) - set(wheel) <= {f"get_requires_for_build_editable {early._popen.pid}"}
    assert hook_process._early == {}
    backend.close()


def test_a_hook_asked_ahead_that_fails_is_reported_by_the_build(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conda_source.backend.sequence import BackendError

    project, log = asked_project(tmp_path, monkeypatch, fail=True)
    backend, _ = started_then_built(prefix, project)
    with pytest.raises(BackendError) as caught:
        backend.get_requires(editable=True)
    assert str(caught.value).endswith(
        "build backend failed in get_requires_for_build_editable: the backend exited with status 1; its output is "
        "above, fix what it reports and run again"
    )
    assert "asked backend: refusing get_requires_for_build_editable" in caught.value.output
    assert "RuntimeError: refused" in caught.value.output
    assert len(log.read_text().splitlines()) == 1  # asked once: ahead
    backend.close()


def test_a_hook_asked_ahead_that_fails_does_not_fail_another_first_hook(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early process (whose hook asked ahead failed) is not taken over: the build's hook runs on its own."""
    from conda_source.backend.sequence import BackendError

    project, _ = asked_project(tmp_path, monkeypatch, fail=True)
    backend, _ = started_then_built(prefix, project)
    with pytest.raises(BackendError) as caught:
        backend.get_requires(editable=False)
    assert "build backend failed in get_requires_for_build_wheel" in str(caught.value)
    assert "refusing get_requires_for_build_wheel" in caught.value.output
    assert "refusing get_requires_for_build_editable" not in caught.value.output  # the early one's: not shown
    backend.close()
