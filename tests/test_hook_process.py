"""One backend process per build: every hook of a build served by one process of the prefix's python,
with pyproject-hooks' semantics, and prepare_metadata skipped when pyproject.toml says it all."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pytest
from support import local_project

from conda_source.backend.meanwhile import importing
from conda_source.backend.sequence import Backend
from conda_source.engine.develop_install import DevelopRequest, develop_install
from conda_source.mapping.overrides import Overrides
from conda_source.project import load_project
from conda_source.target import probe

# An in-tree backend that logs each hook (name, pid, whether the checkout is on sys.path) and
# otherwise is the minimal backend of tests/projects/in-tree-editable.
LOGGED_BACKEND = """
import json, os, sys
import minimal_backend as base

def _log(hook):
    with open(os.environ["HOOK_LOG"], "a") as log:
        log.write(json.dumps([hook, os.getpid(), "" in sys.path or os.getcwd() in sys.path]) + "\\n")

def get_requires_for_build_editable(config_settings=None):
    _log("get_requires_for_build_editable")
    return json.loads(os.environ.get("HOOK_REQUIRES", "[]"))

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _log("build_editable")
    return base.build_editable(wheel_directory, config_settings, metadata_directory)

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _log("build_wheel")
    return base.build_wheel(wheel_directory, config_settings, metadata_directory)
"""
PREPARE = """
def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    _log("prepare_metadata_for_build_editable")
    return base.prepare_metadata_for_build_editable(metadata_directory, config_settings)
"""


def logged_project(tmp_path: Path, name: str, *, dynamic: bool, prepare: bool = True) -> Path:
    project = local_project(tmp_path, name, [])
    (project / "_backend" / "logged_backend.py").write_text(LOGGED_BACKEND + (PREPARE if prepare else ""))
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('build-backend = "minimal_backend"', 'build-backend = "logged_backend"')
    if dynamic:  # the in-tree backend writes no Requires-Dist: dependencies stay empty either way
        text = text.replace("dependencies = []", 'dynamic = ["dependencies"]')
    pyproject.write_text(text)
    return project


def hooks(log: Path) -> list[list[object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def install(prefix: Path, project: Path, channels: tuple[str, ...] = ()) -> None:
    request = DevelopRequest((project,), probe(prefix), channels, overrides=Overrides(user_file=False), command="t")
    develop_install(request)


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "hooks.log"
    monkeypatch.setenv("HOOK_LOG", str(path))
    return path


def test_one_process_serves_every_hook_of_a_build(prefix: Path, tmp_path: Path, log: Path) -> None:
    install(prefix, logged_project(tmp_path, "dyn-demo", dynamic=True))
    called = hooks(log)
    assert [hook for hook, _, _ in called] == [
        "get_requires_for_build_editable",
        "prepare_metadata_for_build_editable",
        "build_editable",
    ]
    assert len({pid for _, pid, _ in called}) == 1 and called[0][1] != os.getpid()
    assert not any(on_path for _, _, on_path in called)  # the checkout is not importable, as in pyproject-hooks


def test_a_static_project_skips_prepare_metadata(prefix: Path, tmp_path: Path, log: Path) -> None:
    project = logged_project(tmp_path, "static-demo", dynamic=False)
    install(prefix, project)
    assert [hook for hook, _, _ in hooks(log)] == ["get_requires_for_build_editable", "build_editable"]
    record = json.loads(next((prefix / "conda-meta").glob("static-demo-0.4.0-*.json")).read_text())
    assert record["version"] == "0.4.0" and record["depends"][0].startswith("python >=")


def test_missing_prepare_metadata_falls_back_to_one_build(prefix: Path, tmp_path: Path, log: Path) -> None:
    """pyproject-hooks' fallback: the metadata comes from a build, and that wheel is the one installed."""
    project = logged_project(tmp_path, "fallback-demo", dynamic=True, prepare=False)
    install(prefix, project)
    assert [hook for hook, _, _ in hooks(log)] == ["get_requires_for_build_editable", "build_editable"]
    assert (prefix / "bin" / "fallback-demo").is_file()


def test_a_backend_keeps_its_process_until_closed(prefix: Path, tmp_path: Path, log: Path) -> None:
    project = logged_project(tmp_path, "reuse-demo", dynamic=True)
    backend = Backend(load_project(project), probe(prefix).interpreter, prefix)
    with backend:
        assert backend.get_requires(editable=True) == []
        assert backend.get_requires(editable=True) == []
    assert backend.get_requires(editable=True) == []  # a closed backend starts a new process on use
    backend.close()
    first, second, third = (pid for _, pid, _ in hooks(log))
    assert first == second != third


def test_the_process_restarts_when_activation_changes(prefix: Path, tmp_path: Path, log: Path) -> None:
    """An activation script added between two hooks (a compiler package installed) takes effect."""
    project = logged_project(tmp_path, "activate-demo", dynamic=True)
    with Backend(load_project(project), probe(prefix).interpreter, prefix) as backend:
        backend.get_requires(editable=True)
        (prefix / "etc" / "conda" / "activate.d").mkdir(parents=True)
        (prefix / "etc" / "conda" / "activate.d" / "demo.sh").write_text("export DEMO_ACTIVATED=1\n")
        backend.get_requires(editable=True)
    first, second = (pid for _, pid, _ in hooks(log))
    assert first != second


@pytest.mark.network
@pytest.mark.slow
def test_the_process_restarts_when_a_package_is_installed_between_hooks(
    build_channel: str, prefix: Path, tmp_path: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """get_requires asks for six: once it is installed, the next hook runs in a process that sees it."""
    monkeypatch.setenv("HOOK_REQUIRES", json.dumps(["six"]))
    install(prefix, logged_project(tmp_path, "needs-six", dynamic=True), (build_channel,))
    (requires, _, _), (prepare, after, _), (build, last, _) = hooks(log)
    assert (requires, prepare, build) == (
        "get_requires_for_build_editable",
        "prepare_metadata_for_build_editable",
        "build_editable",
    )
    assert hooks(log)[0][1] != after == last


def test_the_runner_is_stdlib_only() -> None:
    """It runs under the prefix's python, which has none of conda-source's dependencies."""
    source = (Path(__file__).parents[1] / "conda_source" / "backend" / "_hook_runner.py").read_text()
    imported = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from ")) and "__future__" not in line
    }
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_modules_needed_after_a_hook_are_imported_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``importing``: imported in another thread during the block, done when it ends; a module that cannot be
    imported is left to the code that uses it (which reports it), not raised here."""
    (tmp_path / "meanwhile_probe.py").write_text("import threading\nTHREAD = threading.current_thread().name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "meanwhile_probe", raising=False)
    with importing(["no_such_module_for_this_test", "meanwhile_probe"]):
        pass
    probe = sys.modules["meanwhile_probe"]
    assert threading.main_thread().name != probe.THREAD
    assert "no_such_module_for_this_test" not in sys.modules
