"""Develop installs copied with their environment (conda_source.prefix.copied): checked before, adopted after.

conda's clone (``conda.misc.clone_env``, conda 26.7.1) copies every file no record claims and replaces the old
prefix with the new one in each file that reads as UTF-8; ``copy_as_conda_does`` does that for the develop
installs' files, so the adoption is checked here without conda (tests/test_conda_clone.py runs the real clone).
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from lab import PYTHON, write_project
from support import copy_project, prefix_state

from conda_source import api
from conda_source.errors import CondaSourceError
from conda_source.meta import history
from conda_source.prefix import copied, pip_protection
from conda_source.prefix.health import check_prefix
from conda_source.testing import make_test_prefix


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project("in-tree-editable", tmp_path)


def copy_as_conda_does(source: Path, target: Path, installs: list[copied.Carried]) -> None:
    for install in installs:
        for relative in install.record.files:
            data = (source / relative).read_bytes()
            with contextlib.suppress(UnicodeDecodeError):
                data = data.decode("utf-8").replace(str(source), str(target)).encode("utf-8")
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).write_bytes(data)
            shutil.copystat(source / relative, target / relative)


@pytest.mark.parametrize("editable", [True, False], ids=["editable", "regular"])
def test_a_copied_develop_install_is_adopted_whole(project: Path, tmp_path: Path, editable: bool) -> None:
    source = make_test_prefix(tmp_path / "source")
    api.develop_install(project, prefix=source, editable=editable, user_mapping=False)
    before = prefix_state(source)
    installs = copied.carried(source, f"-p {source}")
    target = make_test_prefix(tmp_path / "target")
    copy_as_conda_does(source, target, installs)
    lines = copied.adopt(target, installs, f"conda create --clone {source} -p {target}")
    assert lines == [f"conda-source: carried in-tree-editable 0.4.0 (develop install of {project}) into {target}"]
    assert prefix_state(source) == before
    assert check_prefix(target) == []  # every file as its record says, nothing stale
    (record,) = (target / "conda-meta").glob("in-tree-editable-*.json")
    assert record.name == next((source / "conda-meta").glob("in-tree-editable-*.json")).name
    script = target / "bin" / "in-tree-editable"
    assert script.read_text().startswith(f"#!{target}/bin/python")
    run = subprocess.run([script], capture_output=True, text=True)
    assert run.stdout == "in-tree-editable says from the checkout\n", run.stderr
    assert history.history_sources(target) == {"in-tree-editable": str(project)}
    state = json.loads((target / "conda-meta" / "conda-source" / "in-tree-editable.json").read_text())
    assert state["source"] == str(project) and state["editable"] is editable
    files = [target / f for f in json.loads(record.read_text())["files"]]
    api.uninstall(project, prefix=target)  # the copy is conda-source's to remove, the source's stays
    assert not [f for f in files if f.exists()] and not record.exists()
    assert prefix_state(source) == before


def test_a_damaged_develop_install_is_not_carried(project: Path, tmp_path: Path) -> None:
    source = make_test_prefix(tmp_path / "source")
    api.develop_install(project, prefix=source, user_mapping=False)
    (source / "bin" / "in-tree-editable").write_text("#!/bin/sh\necho changed\n")
    with pytest.raises(copied.NotCarriedError) as raised:
        copied.carried(source, "-n dev")
    assert str(raised.value) == (
        f"in-tree-editable 0.4.0 (develop install of {project}) in {source}: bin/in-tree-editable is missing or was "
        "changed by another installer, so its record is no longer true; nothing was changed: run conda doctor -n dev "
        f"--fix (or conda develop-install --uninstall {project} -n dev), then the command again"
    )


def test_a_develop_install_forced_over_a_file_is_not_carried(project: Path, tmp_path: Path) -> None:
    source = make_test_prefix(tmp_path / "source")
    (source / "bin" / "in-tree-editable").write_text("#!/bin/sh\necho nobody's\n")
    api.develop_install(project, prefix=source, user_mapping=False, force=True)
    with pytest.raises(copied.NotCarriedError) as raised:
        copied.carried(source, f"-p {source}")
    assert str(raised.value) == (
        f"in-tree-editable 0.4.0 (develop install of {project}) in {source}: it overwrote bin/in-tree-editable "
        "(--force) and keeps the originals aside, which a copy loses; nothing was changed: run conda develop-install "
        f"--uninstall {project} -p {source}, then the command again"
    )


def test_a_binary_file_naming_the_environment_is_not_carried(tmp_path: Path) -> None:
    """conda's clone relocates text files only: compiled code that names the old prefix (an RPATH, say) would
    keep loading from it."""
    source = make_test_prefix(tmp_path / "source")
    blob = b"\x7fELF\xff\x00" + str(source / "lib").encode() + b"\x00"
    member = {"lab_blob/_native.so": "base64:" + base64.b64encode(blob).decode()}
    project = write_project(tmp_path / "lab-blob", "lab-blob", members=member)
    api.develop_install(project, prefix=source, editable=False, user_mapping=False)
    with pytest.raises(copied.NotCarriedError) as raised:
        copied.carried(source, "-n dev")
    assert str(raised.value) == (
        f"lab-blob 1.0 (develop install of {project}) in {source}: the binary file lib/python{PYTHON}/site-packages/"
        f"lab_blob/_native.so names {source}, which a copy cannot relocate; nothing was changed: run conda "
        f"develop-install --uninstall {project} -n dev, then the command again, then conda develop-install {project} "
        "in each environment"
    )


def test_a_file_the_copy_missed_records_nothing(project: Path, tmp_path: Path) -> None:
    source = make_test_prefix(tmp_path / "source")
    api.develop_install(project, prefix=source, user_mapping=False)
    installs = copied.carried(source, f"-p {source}")
    target = make_test_prefix(tmp_path / "target")
    copy_as_conda_does(source, target, installs)
    (target / "bin" / "in-tree-editable").unlink()
    before = prefix_state(target)
    with pytest.raises(CondaSourceError) as raised:
        copied.adopt(target, installs, "conda rename")
    assert str(raised.value) == (
        f"{target / 'bin' / 'in-tree-editable'} was not copied with in-tree-editable's other files; nothing was "
        f"recorded for it: re-create it with conda develop-install {project} -p {target}"
    )
    assert prefix_state(target) == before
    api.develop_install(project, prefix=target, user_mapping=False)  # the advice, followed: the copied files taken over
    assert check_prefix(target) == [] and (target / "bin" / "in-tree-editable").is_file()


def test_the_request_for_protection_from_pip_is_carried(tmp_path: Path) -> None:
    target = make_test_prefix(tmp_path / "target")
    assert not pip_protection.requested(target)
    assert copied.adopt(target, [], "conda create --clone", protected=True) == []
    assert pip_protection.requested(target)


def test_a_develop_install_whose_state_is_unreadable_is_not_carried(project: Path, tmp_path: Path) -> None:
    """Its state holds what --uninstall puts back (a replaced channel package, --force's originals): a copy without
    it would be a develop install --uninstall does not know.  The advice works when followed."""
    source = make_test_prefix(tmp_path / "source")
    api.develop_install(project, prefix=source, user_mapping=False)
    state = source / "conda-meta" / "conda-source" / "in-tree-editable.json"
    state.write_text("", encoding="utf-8")
    with pytest.raises(copied.NotCarriedError) as raised:
        copied.carried(source, "-n dev")
    assert str(raised.value) == (
        f"in-tree-editable 0.4.0 (develop install of {project}) in {source}: its state {state} is unreadable (the "
        "file is empty), and a copy without it would lose what --uninstall puts back; nothing was changed: move that "
        f"file out of {state.parent}, run conda develop-install {project} -n dev to write it again, then the command "
        "again"
    )
    state.unlink()
    api.develop_install(project, prefix=source, user_mapping=False)
    assert [install.state is not None for install in copied.carried(source, "-n dev")] == [True]


def test_a_develop_install_with_a_file_conda_does_not_copy_is_not_carried(tmp_path: Path) -> None:
    """conda's clone leaves out bin/conda, bin/activate, bin/deactivate and a few top-level names whoever owns
    them (conda.misc.walk_prefix): a develop install of a project with a ``conda`` entry point (conda itself, say)
    would arrive without it, after conda made the new environment."""
    source = make_test_prefix(tmp_path / "source")
    project = write_project(tmp_path / "myconda", "myconda", scripts={"conda": "myconda:main"})
    api.develop_install(project, prefix=source, user_mapping=False)
    with pytest.raises(copied.NotCarriedError) as raised:
        copied.carried(source, "-n dev")
    assert str(raised.value) == (
        f"myconda 1.0 (develop install of {project}) in {source}: conda's clone does not copy bin/conda (a name conda "
        f"keeps for itself); nothing was changed: run conda develop-install --uninstall {project} -n dev, then the "
        f"command again, then conda develop-install {project} in each environment"
    )
