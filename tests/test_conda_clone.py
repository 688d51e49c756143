"""Develop installs through conda's environment-level commands, against real conda: ``conda create --clone``,
``conda rename``, a python minor upgrade, ``conda remove --all``, ``conda clean --all``, and ``conda doctor`` after.

Marked ``conda``; every conda run uses the solver CONDA_SOLVER names (see test_conda_plugin).  conda's clone
installs each package again from its url, so the environments here get their python from a local channel
(an empty package: the interpreter is the test prefix's venv, which the clone copies as files nobody owns).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lab import write_project
from nativepkgs import pack
from support import copy_project, prefix_state
from test_conda_plugin import SOLVER, conda_env, listed

from conda_source.installer.channel import file_into_channel
from conda_source.prefix import pip_protection
from conda_source.target import host_subdir, probe
from conda_source.testing import make_test_prefix

pytestmark = pytest.mark.conda
NEXT_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor + 1}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project("in-tree-editable", tmp_path)


def conda(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """conda with its named environments in the test's folder."""
    environ = conda_env(home, CONDA_ENVS_DIRS=str(home / "envs"))
    environ.pop("CONDA_PREFIX", None)
    return subprocess.run([sys.executable, "-m", "conda", *args], capture_output=True, text=True, env=environ)


@pytest.fixture
def pythons(tmp_path: Path) -> str:
    """A channel with this python's version and the next minor (empty packages), and pip (conda adds it)."""
    version = str(probe(make_test_prefix(tmp_path / "probe")).python)
    built = tmp_path / "built"
    packages = [pack(built, "python", v, {}) for v in (version, f"{NEXT_PYTHON}.1")] + [pack(built, "pip", "24.0", {})]
    file_into_channel([(package, host_subdir()) for package in packages], tmp_path / "pythons")
    return (tmp_path / "pythons").as_uri()


def develop_env(home: Path, prefix: Path, pythons: str, project: Path, *options: str) -> Path:
    """A test prefix whose python has a package conda can install again, with a develop install of ``project``."""
    make_test_prefix(prefix)
    version = str(probe(prefix).python)
    channel = ["-c", pythons, "--override-channels", "--offline", "-y", *SOLVER]
    assert conda(home, "install", "-p", str(prefix), f"python={version}", *channel).returncode == 0
    result = conda(home, "develop-install", str(project), "-p", str(prefix), "--no-user-mapping", "-y", *options)
    assert result.returncode == 0, result.stderr
    return prefix


def doctor_says_intact(home: Path, prefix: Path) -> bool:
    result = conda(home, "doctor", "-p", str(prefix))
    return "conda-source develop installs are up to date and intact." in result.stdout


def carried_whole(home: Path, target: Path, project: Path, build: str) -> None:
    """The develop install in ``target``: listed once by conda, read by py-rattler, its files as its record
    says, the project importable by the new environment's python, conda doctor content."""
    import rattler

    rows = [row for row in listed(home, target) if row["name"] == "in-tree-editable"]
    assert [(row["channel"], row["build_string"]) for row in rows] == [("local-develop", build)]
    (record,) = (target / "conda-meta").glob("in-tree-editable-*.json")
    read = rattler.PrefixRecord.from_path(record)
    assert str(read.build) == build and len(read.paths_data.paths) == len(json.loads(record.read_text())["files"])
    script = target / "bin" / "in-tree-editable"
    assert script.read_text().startswith(f"#!{target}/bin/python")
    run = subprocess.run([script], capture_output=True, text=True)
    assert run.stdout == "in-tree-editable says from the checkout\n", run.stderr
    assert doctor_says_intact(home, target)
    assert f"# conda-source source of in-tree-editable: {project}" in (target / "conda-meta" / "history").read_text()


@pytest.mark.parametrize("options", [(), ("--no-editable",)], ids=["editable", "regular"])
def test_clone_carries_the_develop_install(
    home: Path, pythons: str, project: Path, tmp_path: Path, options: tuple[str, ...]
) -> None:
    source = develop_env(home, tmp_path / "source", pythons, project, *options)
    build = next((source / "conda-meta").glob("in-tree-editable-*.json")).stem.rsplit("-", 1)[1]
    before = prefix_state(source)
    target = tmp_path / "target"
    result = conda(home, "create", "--clone", str(source), "-p", str(target), "--offline", "-y")
    assert result.returncode == 0, result.stderr
    notice = f"conda-source: carried in-tree-editable 0.4.0 (develop install of {project}) into {target}"
    assert result.stderr.splitlines().count(notice) == 1
    carried_whole(home, target, project, build)
    assert prefix_state(source) == before
    # The copy is a develop install of its own: conda remove takes every file of it, and only in the copy.
    files = [target / f for f in json.loads(next((target / "conda-meta").glob("in-tree-*.json")).read_text())["files"]]
    removed = conda(home, "remove", "-p", str(target), "in-tree-editable", "-y", "--offline", *SOLVER)
    assert removed.returncode == 0, removed.stderr
    assert not [f for f in files if f.exists()] and prefix_state(source) == before


def test_rename_carries_the_develop_install_and_the_protection_from_pip(
    home: Path, pythons: str, project: Path
) -> None:
    source = develop_env(home, home / "envs" / "dev", pythons, project, "--protect-env")
    build = next((source / "conda-meta").glob("in-tree-editable-*.json")).stem.rsplit("-", 1)[1]
    result = conda(home, "rename", "-n", "dev", "dev2")
    assert result.returncode == 0, result.stderr
    assert not source.exists()
    target = home / "envs" / "dev2"
    carried_whole(home, target, project, build)
    assert pip_protection.requested(target) and pip_protection.missing(probe(target)) is None
    doctor = conda(home, "doctor", "-n", "dev2")
    assert "This environment is protected from pip (PEP 668 EXTERNALLY-MANAGED)." in doctor.stdout


def test_a_clone_that_cannot_carry_it_stops_before_anything_changes(
    home: Path, pythons: str, project: Path, tmp_path: Path
) -> None:
    source = develop_env(home, home / "envs" / "dev", pythons, project)
    (source / "bin" / "in-tree-editable").write_text("#!/bin/sh\necho changed\n")
    before = prefix_state(source)
    for command in (["create", "--clone", "dev", "-n", "dev2", "-y"], ["rename", "-n", "dev", "dev2"]):
        result = conda(home, *command)
        assert result.returncode == 1
        assert (
            f"DevelopInstallNotCarriedError: in-tree-editable 0.4.0 (develop install of {project}) in {source}: "
            "bin/in-tree-editable is missing or was changed by another installer, so its record is no longer true; "
            f"nothing was changed: run conda doctor -n dev --fix (or conda develop-install --uninstall {project} -n "
            "dev), then the command again"
        ) in result.stderr.splitlines()
        assert not (home / "envs" / "dev2").exists() and prefix_state(source) == before


def test_a_clone_of_a_develop_install_with_an_unreadable_state_stops_and_the_advice_works(
    home: Path, pythons: str, project: Path
) -> None:
    source = develop_env(home, home / "envs" / "dev", pythons, project)
    state = source / "conda-meta" / "conda-source" / "in-tree-editable.json"
    state.write_text("", encoding="utf-8")
    before = prefix_state(source)
    result = conda(home, "create", "--clone", "dev", "-n", "dev2", "-y", "--offline")
    assert result.returncode == 1
    assert (
        f"DevelopInstallNotCarriedError: in-tree-editable 0.4.0 (develop install of {project}) in {source}: its state "
        f"{state} is unreadable (the file is empty), and a copy without it would lose what --uninstall puts back; "
        f"nothing was changed: move that file out of {state.parent}, run conda develop-install {project} -n dev to "
        "write it again, then the command again"
    ) in result.stderr.splitlines()
    assert not (home / "envs" / "dev2").exists() and prefix_state(source) == before
    state.unlink()
    again = conda(home, "develop-install", str(project), "-n", "dev", "--no-user-mapping", "-y", "--offline", *SOLVER)
    assert again.returncode == 0, again.stderr
    result = conda(home, "create", "--clone", "dev", "-n", "dev2", "-y", "--offline")
    assert result.returncode == 0, result.stderr
    assert (home / "envs" / "dev2" / "conda-meta" / "conda-source" / "in-tree-editable.json").is_file()


def test_a_develop_install_with_a_conda_entry_point_stops_the_clone_before_anything_changes(
    home: Path, pythons: str, project: Path, tmp_path: Path
) -> None:
    """conda's clone never copies bin/conda: the new environment used to be made without it, and without any
    develop install's record (the post-command found the file missing)."""
    source = develop_env(home, home / "envs" / "dev", pythons, project)
    checkout = write_project(tmp_path / "myconda", "myconda", scripts={"conda": "myconda:main"})
    installed = conda(home, "develop-install", str(checkout), "-n", "dev", "-y", "--no-user-mapping", "--offline")
    assert installed.returncode == 0, installed.stderr
    before = prefix_state(source)
    result = conda(home, "create", "--clone", "dev", "-n", "dev2", "-y", "--offline")
    assert result.returncode == 1
    assert (
        f"DevelopInstallNotCarriedError: myconda 1.0 (develop install of {checkout}) in {source}: conda's clone does "
        f"not copy bin/conda (a name conda keeps for itself); nothing was changed: run conda develop-install "
        f"--uninstall {checkout} -n dev, then the command again, then conda develop-install {checkout} in each "
        "environment"
    ) in result.stderr.splitlines()
    assert not (home / "envs" / "dev2").exists() and prefix_state(source) == before


def test_a_damaged_record_named_by_a_hook_is_spelled_as_the_user_named_the_environment(
    home: Path, pythons: str, project: Path
) -> None:
    """The plugin's hooks read the records before conda: their one-line error says -n NAME when the command did,
    and what it says to run works."""
    env = develop_env(home, home / "envs" / "dev", pythons, project)
    (damaged,) = (env / "conda-meta").glob("pip-*.json")
    damaged.write_text("", encoding="utf-8")
    channel = ["-c", pythons, "--override-channels", "--offline", "-y", *SOLVER]
    result = conda(home, "install", "-n", "dev", "pip", *channel)
    assert result.returncode == 1
    assert (
        f"TargetError: {damaged}: not a readable conda-meta record (the file is empty); conda cannot read this "
        f"environment either. Move that file out of {damaged.parent}, reinstall its package (conda install -n dev "
        "--force-reinstall pip, or develop-install its checkout again), then run again"
    ) in result.stderr.splitlines(), result.stderr
    damaged.rename(home / damaged.name)
    repaired = conda(home, "install", "-n", "dev", "--force-reinstall", "pip", *channel)
    assert repaired.returncode == 0, repaired.stderr
    assert damaged.is_file() and doctor_says_intact(home, env)


def test_a_python_minor_upgrade_is_refused_and_says_what_to_run(
    home: Path, pythons: str, project: Path, tmp_path: Path
) -> None:
    env = develop_env(home, tmp_path / "env", pythons, project)
    before = prefix_state(env)
    channel = ["-c", pythons, "--override-channels", "--offline", "-y", *SOLVER]
    result = conda(home, "install", "-p", str(env), f"python={NEXT_PYTHON}", *channel)
    assert result.returncode == 1
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert (
        f"  - (conda_source_develop_install_python) in-tree-editable 0.4.0 (develop install of {project}) is built "
        f"for python {minor} (its files are in lib/python{minor}/site-packages), so conda keeps python {minor} for "
        f"it. To change python, run conda develop-install --uninstall {project} -p {env}, then this command again, "
        f"then conda develop-install {project} -p {env} (it builds it for the new python)."
    ) in result.stdout.splitlines() + result.stderr.splitlines()
    assert prefix_state(env) == before and doctor_says_intact(home, env)
    # conda update python stays within the minor the develop install is built for.
    result = conda(home, "update", "-p", str(env), "python", *channel)
    assert result.returncode == 0, result.stderr
    assert next(row["version"] for row in listed(home, env) if row["name"] == "python").startswith(f"{minor}.")
    assert doctor_says_intact(home, env)


def test_an_explicit_python_of_another_minor_is_refused_before_anything_changes(
    home: Path, pythons: str, project: Path, tmp_path: Path
) -> None:
    """``conda install URL`` does not solve (no pin holds): conda-source's pre-transaction action refuses it when
    conda verifies the transaction; with conda's safety checks disabled conda skips that, and conda doctor says."""
    env = develop_env(home, tmp_path / "env", pythons, project)
    before = prefix_state(env)
    (package,) = Path(pythons.removeprefix("file://"), host_subdir()).glob(f"python-{NEXT_PYTHON}.1-*.conda")
    dist = f"{pythons}/{host_subdir()}::{package.name.removesuffix('.conda')}"
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    result = conda(home, "install", "-p", str(env), package.as_uri(), "--offline", "-y")
    assert result.returncode == 1
    assert (
        f"DevelopInstallDependencyError: in-tree-editable 0.4.0 (develop install of {project}): this transaction "
        f"installs {dist}, which its dependency 'python >={minor},<{NEXT_PYTHON}.0a0' excludes (it is built for "
        f"python {minor}: its files are in lib/python{minor}/site-packages); nothing was changed: run conda "
        f"develop-install --uninstall {project} -p {env}, then the command again, then conda develop-install "
        f"{project} -p {env}"
    ) in result.stderr.splitlines()
    assert prefix_state(env) == before
    environ = conda_env(home, CONDA_SAFETY_CHECKS="disabled")
    unsafe = [sys.executable, "-m", "conda", "install", "-p", str(env), package.as_uri(), "--offline", "-y"]
    assert subprocess.run(unsafe, capture_output=True, text=True, env=environ).returncode == 0
    doctor = conda(home, "doctor", "-p", str(env))
    assert (
        f"  in-tree-editable ({project}): stale: it is built for python {minor} (lib/python{minor}/site-packages); the "
        f"environment has python {NEXT_PYTHON}.1, which does not read that directory"
    ) in doctor.stdout.splitlines()


def test_remove_all_and_clean_all(home: Path, pythons: str, project: Path, tmp_path: Path) -> None:
    env = develop_env(home, tmp_path / "env", pythons, project)
    before = prefix_state(env)
    result = conda(home, "clean", "--all", "-y")
    assert result.returncode == 0, result.stderr
    assert prefix_state(env) == before and doctor_says_intact(home, env)  # nothing of ours is conda's to clean
    checkout = prefix_state(project)
    result = conda(home, "remove", "--all", "-p", str(env), "-y", "--offline", *SOLVER)
    assert result.returncode == 0, result.stderr
    assert not env.exists() and prefix_state(project) == checkout
