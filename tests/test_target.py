"""The target environment: probed from a real prefix, or described; and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rattler import PrefixRecord

from conda_source.errors import TargetError
from conda_source.meta import history
from conda_source.target import TargetEnv, host_subdir, probe, python_in, resolve_target
from conda_source.testing import make_test_prefix


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_prefix(tmp_path_factory.mktemp("target") / "env")


def test_test_prefix_is_a_conda_environment(prefix: Path) -> None:
    version = ".".join(map(str, sys.version_info[:3]))
    record = PrefixRecord.from_path(str(prefix / "conda-meta" / f"python-{version}-0.json"))
    assert (record.name.normalized, str(record.version), record.files) == ("python", version, [])
    assert record.requested_spec == "python"
    assert (prefix / "conda-meta" / "history").is_file()


def test_probe_reads_the_prefix_interpreter(prefix: Path) -> None:
    target = probe(prefix)
    assert target.python.release == tuple(sys.version_info[:3])
    assert target.subdir == host_subdir()
    assert target.prefix == prefix
    assert Path(target.paths["purelib"]).is_relative_to(prefix)
    assert Path(target.paths["scripts"]) == prefix / "bin"
    assert target.target.markers["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert target.target.marker_environment("test")["extra"] == "test"
    assert target.interpreter == prefix / "bin" / "python"


def test_described_target_markers() -> None:
    target = TargetEnv.from_spec("3.10", "win-64")
    assert target.marker_environment() == {
        "implementation_name": "cpython",
        "implementation_version": "3.10.0",
        "platform_python_implementation": "CPython",
        "python_version": "3.10",
        "python_full_version": "3.10.0",
        "platform_release": "",
        "platform_version": "",
        "sys_platform": "win32",
        "platform_system": "Windows",
        "os_name": "nt",
        "platform_machine": "AMD64",
        "extra": "",
    }
    assert target.describe() == "python 3.10.0 (cpython), win-64"


@pytest.mark.parametrize(
    ("python", "subdir", "message"),
    [
        pytest.param(
            "3.11",
            "linux-32",
            "unknown platform 'linux-32'; choose one of: linux-64, linux-aarch64, linux-ppc64le, osx-64, osx-arm64, win-64, win-arm64",
            id="platform",
        ),
        pytest.param(
            "three", "linux-64", "--python 'three' is not a version; use X.Y or X.Y.Z, e.g. 3.12", id="not-a-version"
        ),
        pytest.param(
            "2.7", "linux-64", "--python '2.7' is not a python 3 version; use X.Y or X.Y.Z, e.g. 3.12", id="python2"
        ),
        pytest.param(
            "3", "linux-64", "--python '3' is not a python 3 version; use X.Y or X.Y.Z, e.g. 3.12", id="major-only"
        ),
    ],
)
def test_bad_described_target(python: str, subdir: str, message: str) -> None:
    with pytest.raises(TargetError) as caught:
        TargetEnv.from_spec(python, subdir)
    assert str(caught.value) == message


def test_missing_prefix(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as caught:
        python_in(tmp_path / "nope")
    assert (
        str(caught.value)
        == f"{tmp_path / 'nope'}: no such environment; create it with 'conda create -p {tmp_path / 'nope'} python'"
    )


def test_prefix_without_python(tmp_path: Path) -> None:
    (tmp_path / "conda-meta").mkdir()
    with pytest.raises(TargetError) as caught:
        probe(tmp_path)
    assert (
        str(caught.value)
        == f"{tmp_path}: this environment has no python; add one with 'conda install -p {tmp_path} python'"
    )


def test_broken_interpreter(tmp_path: Path) -> None:
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text("#!/bin/sh\necho 'python is broken' >&2\nexit 3\n")
    python.chmod(0o755)
    with pytest.raises(TargetError) as caught:
        probe(tmp_path)
    assert str(caught.value) == f"{python}: could not run this interpreter to inspect it: python is broken"


def test_make_test_prefix_is_idempotent(prefix: Path) -> None:
    before = sorted(p.name for p in (prefix / "conda-meta").iterdir())
    assert make_test_prefix(prefix) == prefix
    assert sorted(p.name for p in (prefix / "conda-meta").iterdir()) == before


def test_make_test_prefix_refuses_a_foreign_environment(tmp_path: Path) -> None:
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "python-3.12.1-0.json").write_text('{"channel": "conda-forge"}')
    with pytest.raises(TargetError) as caught:
        make_test_prefix(tmp_path)
    assert str(caught.value) == f"{tmp_path}: already a conda environment; pick a new directory"
    assert [p.name for p in (tmp_path / "conda-meta").iterdir()] == ["python-3.12.1-0.json"]


def test_resolve_target_order(prefix: Path) -> None:
    assert resolve_target(None, "3.12", "osx-arm64", {"CONDA_PREFIX": str(prefix)}).subdir == "osx-arm64"
    assert resolve_target(None, "3.12", None, {}).subdir == host_subdir()
    assert resolve_target(None, None, None, {"CONDA_PREFIX": str(prefix)}).prefix == prefix
    assert resolve_target(prefix, None, None, {}).prefix == prefix


@pytest.mark.parametrize(
    ("prefix_given", "python", "subdir", "message"),
    [
        pytest.param(
            True,
            "3.12",
            None,
            "give either -p/--prefix (probe an environment) or --python (describe one), not both",
            id="both",
        ),
        pytest.param(
            False,
            None,
            "linux-64",
            "--platform describes a target together with --python X.Y; add --python",
            id="platform-alone",
        ),
        pytest.param(
            False,
            None,
            None,
            "no target environment: pass -p PREFIX or -n NAME, activate a conda environment, or describe one with --python X.Y [--platform SUBDIR]",
            id="nothing",
        ),
    ],
)
def test_resolve_target_errors(
    prefix: Path, prefix_given: bool, python: str | None, subdir: str | None, message: str
) -> None:
    with pytest.raises(TargetError) as caught:
        resolve_target(prefix if prefix_given else None, python, subdir, {})
    assert str(caught.value) == message


def test_probe_script_runs_without_site_packages() -> None:
    """The probe runs in the *target* interpreter, which may have nothing installed."""
    script = (Path(__file__).parents[1] / "conda_source" / "_probe.py").read_text()
    out = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert sorted(data) == ["executable", "markers", "paths", "prefix", "soabi", "version"]
    assert sorted(data["paths"]) == ["data", "include", "platlib", "purelib", "scripts"]


def test_named_environment_lookup(tmp_path: Path, prefix: Path) -> None:
    from conda_source.target import named_environment

    envs = tmp_path / "envs"
    (envs / "dev" / "conda-meta").mkdir(parents=True)
    assert named_environment("dev", {"CONDA_ENVS_PATH": str(envs)}, home=tmp_path) == envs / "dev"
    root = tmp_path / "miniforge"
    (root / "envs" / "work" / "conda-meta").mkdir(parents=True)
    conda_exe = {"CONDA_EXE": str(root / "bin" / "conda")}
    assert named_environment("work", conda_exe, home=tmp_path) == root / "envs" / "work"
    assert named_environment("base", conda_exe, home=tmp_path) == root
    (tmp_path / ".conda").mkdir()
    (tmp_path / ".conda" / "environments.txt").write_text(f"{prefix}\n")
    assert named_environment(prefix.name, {}, home=tmp_path) == prefix
    assert resolve_target(None, None, None, {"CONDA_ENVS_PATH": str(prefix.parent)}, prefix.name).prefix == prefix


def test_unknown_environment_name(tmp_path: Path) -> None:
    from conda_source.target import named_environment

    with pytest.raises(TargetError) as caught:
        named_environment("nope", {}, home=tmp_path)
    assert str(caught.value) == (
        "no conda environment named 'nope' (looked in $CONDA_ENVS_PATH, the conda installation's envs/ "
        "and ~/.conda/environments.txt); pass -p PREFIX instead"
    )
    with pytest.raises(TargetError) as caught:
        resolve_target(tmp_path, None, None, {}, "dev")
    assert str(caught.value) == "give either -n/--name or -p/--prefix, not both"


def test_probed_prefix_is_absolute(prefix: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(prefix.parent)
    target = probe(Path(prefix.name))
    assert target.prefix == prefix and target.prefix.is_absolute()


def test_history_entries_are_in_conda_format(prefix: Path) -> None:
    """conda parses history itself: '# conda version:' must be conda's own, specs a python list."""
    import re

    history.append_history(prefix, "conda-source develop-install .", ["local-develop::a-1-0"], ["a"], ["ch::b-1-0"])
    block = (prefix / "conda-meta" / "history").read_text().split("==> ")[-1].splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d <==", block[0])
    assert block[1:] == [
        "# cmd: conda-source develop-install .",
        "# conda-source version: 0.1.0",
        "-ch::b-1-0",
        "+local-develop::a-1-0",
        "# update specs: ['a']",
    ]
    assert not any(line.startswith("# conda version:") for line in block)
