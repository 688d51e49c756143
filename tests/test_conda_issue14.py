"""A develop install through the environment's whole life, against real conda (issue 14): the round trip,
asking first, all or nothing, --json and conda's error types, verbosity, conda doctor, names in hints.

Marked ``conda``; every conda run uses the solver CONDA_SOLVER names (see test_conda_plugin).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import copy_project, local_project, prefix_state
from test_conda_plugin import SOLVER, conda, conda_env, listed
from wheelmaker import make_wheel

from conda_source.installer.installer import RattlerInstaller
from conda_source.target import probe
from conda_source.testing import make_test_prefix
from conda_source.testing.channel import make_channel

pytestmark = pytest.mark.conda


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def channel(tmp_path: Path) -> str:
    make_channel(tmp_path / "channel", [make_wheel(tmp_path, name="helper_lib", version="1.2")])
    return (tmp_path / "channel").as_uri()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return local_project(tmp_path, "uses-helper", ["helper-lib>=1"])


def develop(
    home: Path, env: Path, channel: str, *args: str, answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conda", "develop-install", *args, "-p", str(env), "-c", channel]
    command += ["--override-channels", "--offline", "--no-user-mapping", *SOLVER]
    environ = conda_env(home)
    environ.pop("CONDA_PREFIX", None)
    return subprocess.run(command, input=answer, capture_output=True, text=True, env=environ)


def state(env: Path) -> tuple[list[str], list[str]]:
    records = sorted(p.name for p in (env / "conda-meta").glob("*.json"))
    files = sorted(str(p.relative_to(env)) for p in env.rglob("*") if "conda-meta" not in p.parts)
    return records, files


def names(home: Path, env: Path) -> list[str]:
    return [row["name"] for row in listed(home, env)]


def test_export_and_recreate_with_the_develop_installs(home: Path, channel: str, project: Path, tmp_path: Path) -> None:
    env = make_test_prefix(tmp_path / "env")
    assert develop(home, env, channel, str(project), "-y").returncode == 0
    exported = tmp_path / "dev.conda-source.yml"
    result = conda(home, "export", "-p", str(env), "--file", str(exported))
    assert result.returncode == 0, result.stderr
    text = exported.read_text()
    assert "local-develop" not in text and str(project) in text and "helper-lib=1.2=" in text
    # A fresh environment (make_test_prefix: python only) gets the packages from conda, then the develop install.
    fresh = make_test_prefix(tmp_path / "fresh")
    result = conda(home, "env", "update", "-f", str(exported), "-p", str(fresh), *SOLVER)
    assert result.returncode == 0, result.stderr + result.stdout
    assert f"conda-source: develop-installed uses-helper 0.4.0 (editable) from {project}" in result.stderr
    rows = {row["name"]: row for row in listed(home, fresh)}
    assert rows["uses-helper"]["channel"] == "local-develop" and rows["helper-lib"]["version"] == "1.2"
    run = subprocess.run([fresh / "bin" / "uses-helper"], capture_output=True, text=True)
    assert run.stdout == "in-tree-editable says from the checkout\n", run.stderr  # the copied module's text


def test_a_file_whose_checkout_is_gone_changes_nothing(home: Path, channel: str, tmp_path: Path) -> None:
    exported = tmp_path / "dev.conda-source.yml"
    gone = tmp_path / "gone"
    exported.write_text(f"dependencies: []\nconda-source:\n  develop:\n    - path: {gone}\n")
    fresh = make_test_prefix(tmp_path / "fresh")
    before = state(fresh)
    result = conda(home, "env", "update", "-f", str(exported), "-p", str(fresh), *SOLVER)
    assert result.returncode == 1
    assert (
        f"{exported}: conda-source.develop[0]: {gone}: no checkout there (no pyproject.toml or setup.py); clone or "
        "copy the project there, or edit the path, then run the command again"
    ) in result.stderr
    assert state(fresh) == before


def test_no_changes_nothing_for_install_reinstall_and_uninstall(
    home: Path, channel: str, project: Path, tmp_path: Path
) -> None:
    env = make_test_prefix(tmp_path / "env")
    before = state(env)
    declined = develop(home, env, channel, str(project), answer="n\n")
    assert declined.returncode == 0, declined.stderr
    assert "helper-lib" in declined.stdout and "Proceed ([y]/n)?" in declined.stdout
    assert f"Projects:\n  uses-helper 0.4.0: install (editable) from {project}\n" in declined.stdout
    assert state(env) == before

    dry = develop(home, env, channel, str(project), "--dry-run")
    assert dry.returncode == 0 and f"  uses-helper 0.4.0: install (editable) from {project}" in dry.stdout
    assert state(env) == before

    assert develop(home, env, channel, str(project), "-y").returncode == 0
    installed = state(env)
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + "\n# changed\n")
    declined = develop(home, env, channel, str(project), answer="n\n")
    assert declined.returncode == 0 and ": reinstall (editable) from " in declined.stdout, declined.stderr
    assert state(env) == installed
    declined = develop(home, env, channel, str(project), "--uninstall", answer="n\n")
    assert declined.returncode == 0 and ": uninstall the develop install of " in declined.stdout, declined.stderr
    assert state(env) == installed


def test_a_downgrade_by_condas_solver_is_shown_as_one(home: Path, tmp_path: Path) -> None:
    """helper-lib 2.0 installed, the project needs <2: conda's solver downgrades it (the standalone one refuses,
    test_installer), and the dry run's plan and the summary say so on one line, not as a new package."""
    channel = tmp_path / "two"
    make_channel(channel, [make_wheel(tmp_path, name="helper_lib", version=v) for v in ("1.2", "2.0")])
    env = make_test_prefix(tmp_path / "env")
    RattlerInstaller(probe(env), [channel.as_uri()]).install(["helper-lib ==2.0"])
    project = local_project(tmp_path, "uses-old", ["helper-lib<2"])
    dry = develop(home, env, channel.as_uri(), str(project), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Dependencies: 1 package(s) to link, 1 to unlink\n  ~ helper-lib 2.0 (pyh" in dry.stdout
    done = develop(home, env, channel.as_uri(), str(project), "-y")
    assert done.returncode == 0, done.stderr
    header, change = done.stdout.split("Dependencies: ")[1].splitlines()[:2]
    assert header == "1 package(s) linked, 1 unlinked"
    assert re.fullmatch(r"  ~ helper-lib 2\.0 \(pyh\w+_0\) -> 1\.2 \(pyh\w+_0\), downgraded", change), change
    assert [row["version"] for row in listed(home, env) if row["name"] == "helper-lib"] == ["1.2"]


def test_a_failed_build_unlinks_what_conda_linked(home: Path, channel: str, project: Path, tmp_path: Path) -> None:
    env = make_test_prefix(tmp_path / "env")
    backend = project / "_backend" / "minimal_backend.py"
    backend.write_text(backend.read_text() + "\n\ndef build_editable(*args, **kwargs):\n    raise SystemExit(3)\n")
    before = state(env)
    result = develop(home, env, channel, str(project), "-y", "--json")
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["exception_name"] == "BackendError"
    assert error["exception_type"] == "<class 'conda_source.cli.conda_errors.BackendError'>"
    assert error["hook"] == "build_editable" and error["project"] == str(project)
    assert state(env) == before
    assert "helper-lib" not in names(home, env)


def test_a_later_project_refused_puts_every_project_and_dependency_back(
    home: Path, channel: str, project: Path, tmp_path: Path
) -> None:
    """conda develop-install A B: A's reinstall is written, conda linked B's dependency, then B's install is
    refused (its script clashes with A's): A's older install is back byte for byte, the dependency unlinked."""
    env = make_test_prefix(tmp_path / "env")
    assert develop(home, env, channel, str(project), "-y").returncode == 0
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.4.0"', 'version = "0.5.0"'))
    more = tmp_path / "more-channel"
    make_channel(more, [make_wheel(tmp_path, name="other_lib", version="1.0")])
    second = local_project(tmp_path, "second-proj", ["uses-helper", "other-lib"])
    (second / "pyproject.toml").write_text(
        (second / "pyproject.toml").read_text().replace("second-proj = ", "uses-helper = ")
    )
    before = prefix_state(env)
    result = develop(home, env, channel, str(second), str(project), "-y", "-c", more.as_uri())
    assert result.returncode == 1, result.stdout
    assert (
        "second-proj: would overwrite bin/uses-helper, which belongs to the conda package 'uses-helper'; remove that "
        "package, or pass --force to overwrite it (it is kept, and --uninstall puts it back)"
    ) in result.stderr
    assert prefix_state(env) == before
    assert "other-lib" not in names(home, env) and "uses-helper" in names(home, env)


def test_json_carries_condas_keys(home: Path, channel: str, project: Path, tmp_path: Path) -> None:
    env = make_test_prefix(tmp_path / "env")
    result = develop(home, env, channel, str(project), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["success"] is True and document["prefix"] == str(env)
    linked = sorted(item["name"] for item in document["actions"]["LINK"])
    assert linked == ["helper-lib", "uses-helper"]


def test_verbose_streams_the_backend_output(home: Path, channel: str, tmp_path: Path) -> None:
    env = make_test_prefix(tmp_path / "env")
    project = copy_project("in-tree-editable", tmp_path)
    backend = project / "_backend" / "minimal_backend.py"
    backend.write_text(
        backend.read_text() + "\n\n_build_editable = build_editable\n\n\ndef build_editable(*args, **kwargs):\n"
        "    print('compiling', flush=True)\n    return _build_editable(*args, **kwargs)\n"
    )
    result = develop(home, env, channel, str(project), "-y", "-v")
    assert result.returncode == 0, result.stderr
    assert "in-tree-editable: build_editable ...\n" in result.stdout and "compiling\n" in result.stderr


def test_doctor_fix_says_what_it_did(home: Path, channel: str, project: Path, tmp_path: Path) -> None:
    env = make_test_prefix(tmp_path / "env")
    assert develop(home, env, channel, str(project), "-y").returncode == 0
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + "\n# changed\n")
    fixed = conda(home, "doctor", "-p", str(env), "--fix", "-y")
    assert fixed.returncode == 0, fixed.stderr
    assert f"  reinstall from {project}" in fixed.stdout
    assert f"Reinstalled uses-helper 0.4.0 from {project}." in fixed.stdout


def test_a_named_environment_is_named_in_hints(home: Path, tmp_path: Path) -> None:
    nopy = home / ".conda" / "envs" / "nopy"
    (nopy / "conda-meta").mkdir(parents=True)
    (nopy / "conda-meta" / "history").write_text("")
    result = conda(home, "develop-install", ".", "-n", "nopy")
    assert result.returncode == 1
    assert f"TargetError: {nopy}: this environment has no python; add one with 'conda install -n nopy python'" in (
        result.stderr
    )


def test_protection_from_pip_by_setting_reported_and_fixed_by_doctor(
    home: Path, channel: str, project: Path, tmp_path: Path
) -> None:
    env = make_test_prefix(tmp_path / "env")
    other = make_test_prefix(tmp_path / "other")
    marker = env / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "EXTERNALLY-MANAGED"
    (home / ".condarc").write_text("plugins:\n  conda_source_protect_envs: true\n")
    result = develop(home, env, channel, str(project), "-y")
    assert result.returncode == 0, result.stderr
    assert f"protected from pip: wrote {marker}" in result.stdout and "conda develop-install ." in marker.read_text()
    assert "is protected from pip" in conda(home, "doctor", "-p", str(env)).stdout
    marker.unlink()  # as a python update does: a new stdlib directory
    report = conda(home, "doctor", "-p", str(env))
    assert f"This environment asked to be protected from pip, but {marker} is missing." in report.stdout
    fixed = conda(home, "doctor", "-p", str(env), "--fix", "-y")
    assert fixed.returncode == 0, fixed.stderr
    assert f"Wrote {marker}: pip refuses to install into this environment again." in fixed.stdout
    assert marker.is_file()
    # An environment that never asked is not looked at, nor touched.
    assert "protected from pip" not in conda(home, "doctor", "-p", str(other)).stdout
    conda(home, "doctor", "-p", str(other), "--fix", "-y")
    assert not list(other.rglob("EXTERNALLY-MANAGED"))
