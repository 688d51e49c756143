"""Health of develop installs (what conda doctor reports), checked on real installs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import copy_project

from conda_source.engine.develop_install import DevelopRequest, develop_install
from conda_source.mapping.overrides import Overrides
from conda_source.prefix.health import Finding, check_prefix
from conda_source.target import probe
from conda_source.testing import make_test_prefix

NO_USER_MAPPING = Overrides(user_file=False)


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(prefix, project, record) after a develop install of the in-tree project."""
    prefix = make_test_prefix(tmp_path / "env")
    project = copy_project("in-tree-editable", tmp_path)
    result = develop_install(DevelopRequest((project,), probe(prefix), overrides=NO_USER_MAPPING))
    return prefix, project, result.projects[0].record


def test_a_fresh_install_is_healthy(installed: tuple[Path, Path, Path]) -> None:
    prefix, _, _ = installed
    assert check_prefix(prefix) == []


def test_source_gone(installed: tuple[Path, Path, Path]) -> None:
    prefix, project, _ = installed
    shutil.rmtree(project)
    findings = check_prefix(prefix)
    assert Finding("in-tree-editable", str(project), "stale", "its source directory is gone") in findings
    pth = next(f for f in findings if ".pth" in f.detail)
    assert pth.problem == "stale" and pth.detail.endswith(f"points at {project / 'src'}, which is gone")


def test_build_files_changed(installed: tuple[Path, Path, Path]) -> None:
    prefix, project, _ = installed
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.4.0"', 'version = "0.4.1"'))
    assert check_prefix(prefix) == [
        Finding("in-tree-editable", str(project), "stale", "the project's build files changed since it was installed")
    ]


def test_file_overwritten_or_missing(installed: tuple[Path, Path, Path]) -> None:
    prefix, project, _ = installed
    script = prefix / "bin" / "in-tree-editable"
    script.write_text("#!/bin/sh\necho hijacked\n")
    metadata = next((prefix / "lib").rglob("in_tree_editable-0.4.0.dist-info/METADATA"))
    metadata.unlink()
    relative = metadata.relative_to(prefix).as_posix()
    assert check_prefix(prefix) == [
        Finding("in-tree-editable", str(project), "damaged", "bin/in-tree-editable was changed by another installer"),
        Finding("in-tree-editable", str(project), "damaged", f"{relative} is missing"),
    ]


def test_damaged_install_is_not_a_no_op(installed: tuple[Path, Path, Path]) -> None:
    """A re-run repairs damage instead of skipping: the no-op check compares hashes."""
    prefix, project, _ = installed
    (prefix / "bin" / "in-tree-editable").write_text("#!/bin/sh\necho hijacked\n")
    result = develop_install(DevelopRequest((project,), probe(prefix), overrides=NO_USER_MAPPING))
    assert not result.projects[0].unchanged
    assert check_prefix(prefix) == []
