"""A dynamic version that changes reinstalls: from version control (a new tag or commit, setuptools-scm's
pretend variable) or from the file it is read from; an edit the editable install follows does not.

Every re-run goes the way a front end does (the quick no-op first, then the full path), so both are held to it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import local_project

from conda_source.engine.develop_install import DevelopRequest, InstalledProject, develop_install
from conda_source.engine.rerun import nothing_to_do
from conda_source.mapping.overrides import Overrides
from conda_source.target import probe

# The in-tree minimal backend, with the version as a VCS plugin finds it: SETUPTOOLS_SCM_PRETEND_VERSION,
# else the newest tag of .git/refs/tags, else src/<module>/__about__.py's __version__.
VCS_BACKEND = """
import os, re, tomllib
import minimal_backend as base
from minimal_backend import *

def _version():
    if os.environ.get("SETUPTOOLS_SCM_PRETEND_VERSION"):
        return os.environ["SETUPTOOLS_SCM_PRETEND_VERSION"]
    tags = base.ROOT / ".git" / "refs" / "tags"
    if tags.is_dir() and any(tags.iterdir()):
        return max(t.name.lstrip("v") for t in tags.iterdir())
    about = next(base.ROOT.glob("src/*/__about__.py"))
    return re.search(r'__version__ = "(.+)"', about.read_text()).group(1)

def _project():
    data = tomllib.loads((base.ROOT / "pyproject.toml").read_text())["project"]
    return data["name"], _version(), data.get("scripts", {})

base._project = _project
"""


def vcs_project(tmp_path: Path, name: str, *, git: bool = True, hatch_path: bool = False) -> Path:
    project = local_project(tmp_path, name, [])
    (project / "_backend" / "vcs_backend.py").write_text(VCS_BACKEND)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('build-backend = "minimal_backend"', 'build-backend = "vcs_backend"')
    text = text.replace('version = "0.4.0"', 'dynamic = ["version"]')
    if hatch_path:
        text += f'\n[tool.hatch.version]\npath = "src/{name.replace("-", "_")}/__about__.py"\n'
    pyproject.write_text(text)
    (project / "src" / name.replace("-", "_") / "__about__.py").write_text('__version__ = "0.4.0"\n')
    if git:
        refs = project / ".git" / "refs"
        (refs / "heads").mkdir(parents=True)
        (refs / "tags").mkdir()
        (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (refs / "heads" / "main").write_text("1" * 40 + "\n")
        (refs / "tags" / "v0.4.0").write_text("1" * 40 + "\n")
    return project


def run(prefix: Path, project: Path) -> InstalledProject:
    request = DevelopRequest((project,), probe(prefix), (), overrides=Overrides(user_file=False), command="t")
    (installed,) = (nothing_to_do(request) or develop_install(request)).projects
    return installed


def test_a_new_tag_reinstalls_with_its_version(prefix: Path, tmp_path: Path) -> None:
    project = vcs_project(tmp_path, "tagged-demo")
    assert run(prefix, project).version == "0.4.0"
    assert run(prefix, project).unchanged
    (project / ".git" / "refs" / "tags" / "v0.5.0").write_text("2" * 40 + "\n")
    again = run(prefix, project)
    assert not again.unchanged and again.version == "0.5.0"
    assert run(prefix, project).unchanged


def test_a_new_commit_reinstalls(prefix: Path, tmp_path: Path) -> None:
    """setuptools-scm's version of an untagged commit names the commit: the metadata changes with it."""
    project = vcs_project(tmp_path, "committed-demo")
    run(prefix, project)
    assert run(prefix, project).unchanged
    (project / ".git" / "refs" / "heads" / "main").write_text("3" * 40 + "\n")
    assert not run(prefix, project).unchanged


def test_the_pretend_version_counts(prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = vcs_project(tmp_path, "pretend-demo", git=False)
    monkeypatch.setenv("SETUPTOOLS_SCM_PRETEND_VERSION", "1.0.0")
    assert run(prefix, project).version == "1.0.0"
    assert run(prefix, project).unchanged
    monkeypatch.setenv("SETUPTOOLS_SCM_PRETEND_VERSION", "1.1.0")
    again = run(prefix, project)
    assert not again.unchanged and again.version == "1.1.0"


def test_the_file_a_version_is_read_from_counts(prefix: Path, tmp_path: Path) -> None:
    project = vcs_project(tmp_path, "about-demo", git=False, hatch_path=True)
    assert run(prefix, project).version == "0.4.0"
    assert run(prefix, project).unchanged
    (project / "src" / "about_demo" / "__about__.py").write_text('__version__ = "0.6.0"\n')
    again = run(prefix, project)
    assert not again.unchanged and again.version == "0.6.0"


def test_an_edit_the_editable_install_follows_is_still_a_no_op(prefix: Path, tmp_path: Path) -> None:
    """A dirty tree is not a new version here: source edits never reinstall an editable install."""
    project = vcs_project(tmp_path, "dirty-demo")
    run(prefix, project)
    module = project / "src" / "dirty_demo" / "__init__.py"
    module.write_text(module.read_text() + "\nEDITED = True\n")
    assert run(prefix, project).unchanged
    assert os.environ.get("SETUPTOOLS_SCM_PRETEND_VERSION") is None
