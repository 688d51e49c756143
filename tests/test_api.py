"""The Python API does the same work as the command line and returns result objects."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from rattler import IndexJson
from support import copy_project
from wheelmaker import make_wheel

from conda_source import api
from conda_source.cli import main
from conda_source.errors import ProjectNotFoundError, SettingError
from conda_source.testing import make_test_prefix


def test_develop_install_and_uninstall(tmp_path: Path) -> None:
    prefix = make_test_prefix(tmp_path / "env")
    project = copy_project("in-tree-editable", tmp_path)
    result = api.develop_install(project, prefix=prefix, user_mapping=False)
    (installed,) = result.projects
    assert (installed.name, installed.editable, installed.record.is_file()) == ("in-tree-editable", True, True)
    out = subprocess.run([prefix / "bin" / "in-tree-editable"], capture_output=True, text=True, check=True).stdout
    assert out == "in-tree-editable says from the checkout\n"
    removed = api.uninstall(project, prefix=prefix)
    assert removed.removed == (f"local-develop::in-tree-editable-0.4.0-{installed.build}",)
    assert not installed.record.exists()


def test_build_local_of_a_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, name="api_demo", version="2.0", requires=("six",))
    result = api.build_local(wheel, output_dir=tmp_path / "out", channel_dir=tmp_path / "channel", user_mapping=False)
    (package,) = result.packages
    assert IndexJson.from_package_archive(package.path).depends == ["python", "six"]
    assert (tmp_path / "channel" / "noarch" / package.path.name).is_file()


def test_build_local_compression_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyword gives the bytes --compression-level gives; a bad level fails before any work."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    wheel = make_wheel(tmp_path, name="api_level", files={"api_level/__init__.py": b"VALUE = 1\n" * 50000})
    (package,) = api.build_local(wheel, output_dir=tmp_path / "api", user_mapping=False, compression_level=1).packages
    cli = ["build-local", str(wheel), "--output-dir", str(tmp_path / "cli"), "--no-user-mapping"]
    assert main([*cli, "--compression-level", "1"]) == 0
    assert package.path.read_bytes() == (tmp_path / "cli" / package.path.name).read_bytes()
    (default,) = api.build_local(wheel, output_dir=tmp_path / "default", user_mapping=False).packages
    assert default.path.read_bytes() != package.path.read_bytes()
    with pytest.raises(SettingError) as caught:
        api.build_local(wheel, output_dir=tmp_path / "bad", compression_level=0)
    assert str(caught.value) == (
        "compression_level: '0' is not a compression level: use a whole number from 1 (fastest) to 22 "
        "(smallest files); the default is 19"
    )
    assert not (tmp_path / "bad").exists()


def test_errors_are_raised_not_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = make_test_prefix(tmp_path / "env")
    with pytest.raises(ProjectNotFoundError):
        api.develop_install(tmp_path / "missing", prefix=prefix)
    assert capsys.readouterr() == ("", "")
