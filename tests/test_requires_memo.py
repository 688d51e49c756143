"""A backend's ``get_requires_for_build_*`` answer is remembered (requires_memo.py) while nothing it depends on changed.

The project's hatch build hook asks for ``six`` and writes a line to ``asked.log`` each time the
backend is asked that hook, so the log counts the real questions; a reinstall that only changes the
sources list (a new top-level module) must not ask again, and each input of the memo's key must.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import check_record_matches_disk, site_packages

from conda_source.backend import hook_process, requires_memo
from conda_source.backend.early_start import start_backends
from conda_source.backend.sequence import Backend
from conda_source.engine.develop_install import DevelopRequest, InstalledProject, develop_install
from conda_source.installer.installer import RattlerInstaller, installed
from conda_source.mapping.overrides import Overrides
from conda_source.project import load_project
from conda_source.target import probe

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "memo-demo"
version = "1.0"

[tool.hatch.build.hooks.custom]
"""

HOOK = """\
import inspect, os
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class AskedHook(BuildHookInterface):
    def dependencies(self):
        if any(frame.function.startswith("get_requires_for_build") for frame in inspect.stack()):
            with open(os.path.join(self.root, "asked.log"), "a") as log:
                log.write("asked\\n")
        return ["six"]
"""


def memo_project(tmp_path: Path) -> Path:
    project = tmp_path / "memo-demo"
    (project / "src" / "memo_demo").mkdir(parents=True)
    (project / "src" / "memo_demo" / "__init__.py").write_text("VALUE = 1\n")
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "hatch_build.py").write_text(HOOK)
    return project


def install(prefix: Path, channel: str, project: Path) -> InstalledProject:
    request = DevelopRequest(
        (project,), probe(prefix), (channel,), overrides=Overrides(user_file=False), command="memo test"
    )
    (result,) = develop_install(request).projects
    return result


def asked(project: Path) -> int:
    log = project / "asked.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_reinstall_with_the_same_build_inputs_does_not_ask_again(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    project = memo_project(tmp_path)
    first = install(prefix, build_channel, project)
    assert asked(project) == 1 and installed(prefix, ["six"])
    (project / "src" / "memo_extra.py").write_text("X = 1\n")  # a new top-level module: reinstalled
    second = install(prefix, build_channel, project)
    assert not second.unchanged and first.record == second.record  # same version and build: rewritten
    assert asked(project) == 1  # answered from the memo
    check_record_matches_disk(prefix, second.record)
    import subprocess

    imported = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import memo_demo, memo_extra; print(memo_demo.VALUE)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "1"


@pytest.mark.parametrize("change", ["hook", "pyproject", "environment", "installed", "pip-installed", "no-cache"])
def test_each_input_of_the_key_asks_again(
    build_channel: str, prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    project = memo_project(tmp_path)
    install(prefix, build_channel, project)
    assert asked(project) == 1
    if change == "hook":
        (project / "hatch_build.py").write_text(HOOK + "# edited\n")
    elif change == "pyproject":
        (project / "pyproject.toml").write_text(PYPROJECT.replace('version = "1.0"', 'version = "1.1"'))
    elif change == "environment":
        monkeypatch.setenv("MEMO_DEMO_SETTING", "on")
    elif change == "installed":
        RattlerInstaller(probe(prefix), [build_channel]).install(["tomli"])
    elif change == "pip-installed":  # what pip leaves in site-packages, which conda-meta does not list
        (site_packages(prefix) / "extra_plugin-1.0.dist-info").mkdir()
    else:
        monkeypatch.setenv("CONDA_SOURCE_NO_CACHE", "1")
    (project / "src" / "memo_extra.py").write_text("X = 1\n")
    install(prefix, build_channel, project)
    assert asked(project) == 2


def test_only_backends_that_answer_from_the_project_are_remembered(prefix: Path, tmp_path: Path) -> None:
    """An in-tree backend (backend-path) and one that looks at the machine (scikit-build-core: cmake on PATH)
    get no key: they are asked every time."""
    environment = probe(prefix)
    for backend, backend_path in (("minimal_backend", ["_backend"]), ("scikit_build_core.build", [])):
        key = requires_memo.memo_key(
            "get_requires_for_build_wheel", tmp_path, backend, backend_path, environment.interpreter, os.environ, prefix
        )
        assert key is None
    key = requires_memo.memo_key(
        "get_requires_for_build_wheel", tmp_path, "hatchling.build", [], environment.interpreter, os.environ, prefix
    )
    assert key is not None


def test_a_remembered_answer_is_neither_asked_ahead_nor_asked(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    """The process started early (early_start.py) is not asked the hook; the build takes it over for the build."""
    project = memo_project(tmp_path)
    install(prefix, build_channel, project)
    environment = probe(prefix)
    try:
        start_backends([project], environment)
        (early,) = hook_process._early.values()
        assert early.ahead is None
        backend = Backend(load_project(project), environment.interpreter, prefix)
        assert [str(r) for r in backend.get_requires(editable=True)] == ["six", "editables~=0.3"]
        assert backend._hooks.started == 0 and asked(project) == 1
        wheel = backend.build_editable(tmp_path)
        assert wheel.name.startswith("memo_demo-1.0-") and backend._hooks.started == 1
        assert hook_process._early == {}  # the build took over the process started early
        backend.close()
    finally:
        hook_process.end_early()


def test_a_changed_hatch_toml_asks_again(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    """hatchling merges hatch.toml (tool.hatch without the prefix) into its configuration: a build dependency
    added there is part of the answer, so the run reinstalls, asks again and installs it."""
    project = memo_project(tmp_path)
    install(prefix, build_channel, project)
    assert asked(project) == 1 and not installed(prefix, ["tomli"])
    hatch_toml = '[build]\ndependencies = ["tomli"]\n\n[build.hooks.custom]\n'  # replaces [tool.hatch.build]
    (project / "hatch.toml").write_text(hatch_toml)
    again = install(prefix, build_channel, project)  # a build file changed: not a no-op either
    assert not again.unchanged and asked(project) == 2 and installed(prefix, ["tomli"])


SETUP_PY = """\
from pathlib import Path
from setuptools import setup

setup(setup_requires=Path("build-requirements.txt").read_text().split())
"""


def setup_py_project(tmp_path: Path, name: str, setup_py: str, more_project: str = "") -> Path:
    """A setuptools project whose setup.py is ``setup_py`` (the [project] table gets ``more_project``)."""
    project = tmp_path / name
    (project / "src" / name.replace("-", "_")).mkdir(parents=True)
    (project / "src" / name.replace("-", "_") / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "1.0"\n{more_project}'
    )
    (project / "setup.py").write_text(setup_py)
    return project


def test_a_file_setup_py_reads_for_its_build_requirements_counts(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    """setuptools runs setup.py to answer: a file it reads decides the answer as much as the build files do."""
    project = setup_py_project(tmp_path, "reads-demo", SETUP_PY)
    (project / "build-requirements.txt").write_text("six\n")
    install(prefix, build_channel, project)
    assert installed(prefix, ["six"]) and not installed(prefix, ["tomli"])
    (project / "build-requirements.txt").write_text("six\ntomli\n")
    (project / "src" / "reads_extra.py").write_text("X = 1\n")  # a new top-level module: reinstalled
    install(prefix, build_channel, project)
    assert installed(prefix, ["tomli"])


RUNTIME_SETUP_PY = """\
from setuptools import setup

setup(install_requires=open("requirements.txt").read().split())
"""


def test_a_file_setup_py_reads_its_dependencies_from_reinstalls_when_only_it_changes(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    """Nothing else changes (no new module, no build file): the file setup.py reads is an input of the install
    (the files the get_requires hook read are kept in its state), so the re-run reinstalls, with the new
    dependency; the run after that has nothing to do (no endless reinstalls)."""
    project = setup_py_project(tmp_path, "runreqs-demo", RUNTIME_SETUP_PY, 'dynamic = ["dependencies"]\n')
    (project / "requirements.txt").write_text("six\n")
    first = install(prefix, build_channel, project)
    assert installed(prefix, ["six"]) and not installed(prefix, ["tomli"])
    assert install(prefix, build_channel, project).unchanged
    (project / "requirements.txt").write_text("six\ntomli\n")
    second = install(prefix, build_channel, project)
    assert not second.unchanged and installed(prefix, ["tomli"])
    assert "tomli" in second.record.read_text() and second.record != first.record
    check_record_matches_disk(prefix, second.record)
    assert install(prefix, build_channel, project).unchanged
