"""develop-install end to end, checked from outside: the prefix's python, py-rattler, the files on disk."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from rattler import PrefixRecord
from support import check_record_matches_disk, copy_project, tree_digest

from conda_source.backend.sequence import BackendError
from conda_source.cli import main
from conda_source.engine.develop_install import DevelopRequest, develop_install
from conda_source.engine.uninstall import UninstallRequest, develop_uninstall
from conda_source.errors import ProjectNotFoundError, TargetError
from conda_source.mapping.overrides import Overrides
from conda_source.prefix.prefix_install import ClobberError
from conda_source.target import host_subdir, probe

PROJECTS = Path(__file__).parent / "projects"

NO_USER_MAPPING = Overrides(user_file=False)

SUBDIR = host_subdir()  # develop records' subdir, as conda's history names them


def run_python(prefix: Path, code: str) -> str:
    completed = subprocess.run([prefix / "bin" / "python", "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def install(prefix: Path, channel: str, *paths: Path, **kwargs: object) -> object:
    request = DevelopRequest(
        tuple(paths), probe(prefix), (channel,), overrides=NO_USER_MAPPING, command="test", **kwargs
    )  # type: ignore[arg-type]
    return develop_install(request)


@pytest.mark.network
@pytest.mark.slow
def test_editable_install_end_to_end(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    project = copy_project("setuptools-basic", tmp_path)
    python_record = next((prefix / "conda-meta").glob("python-*.json")).read_bytes()
    result = install(prefix, build_channel, project)
    (installed,) = result.projects  # type: ignore[attr-defined]
    assert (installed.name, installed.version, installed.editable) == ("setuptools-basic", "1.0.0", True)

    # The prefix's python imports the project from the checkout, and sees edits at once.
    assert run_python(prefix, "import setuptools_basic; print(setuptools_basic.__file__)").strip() == str(
        project / "src" / "setuptools_basic" / "__init__.py"
    )
    (project / "src" / "setuptools_basic" / "extra.py").write_text("ANSWER = 42\n")
    assert run_python(prefix, "from setuptools_basic.extra import ANSWER; print(ANSWER)") == "42\n"
    assert subprocess.run([prefix / "bin" / "setuptools-basic"], capture_output=True, text=True, check=True).stdout == (
        "setuptools-basic 1.0.0\n"
    )

    # conda's view: one record, read by py-rattler, matching the disk and the dist-info RECORD.
    record = check_record_matches_disk(prefix, installed.record)
    assert record.channel == "local-develop"
    assert record.depends[0].startswith("python >=") and "packaging >=21" in record.depends and "six" in record.depends
    assert any(str(f).endswith("setuptools_basic-1.0.0.dist-info/RECORD") for f in record.files)
    assert json.loads(installed.record.read_text())["requested_spec"] == "setuptools-basic"
    dist_info = (
        prefix / "lib" / f"python{probe(prefix).python_short}" / "site-packages" / "setuptools_basic-1.0.0.dist-info"
    )
    assert (dist_info / "INSTALLER").read_text() == "conda-source\n"
    assert json.loads((dist_info / "direct_url.json").read_text()) == {
        "url": project.as_uri(),
        "dir_info": {"editable": True},
    }
    assert next((prefix / "conda-meta").glob("python-*.json")).read_bytes() == python_record
    history = (prefix / "conda-meta" / "history").read_text()
    assert f"+local-develop/{SUBDIR}::setuptools-basic-1.0.0-{installed.build}" in history

    # Nothing changed: a re-run is a no-op that leaves the record alone.
    stamp = installed.record.stat().st_mtime_ns
    again = install(prefix, build_channel, project).projects[0]  # type: ignore[attr-defined]
    assert again.unchanged and installed.record.stat().st_mtime_ns == stamp

    # A new version reinstalls cleanly: one record, the old one gone, history says both.
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0.0"', 'version = "1.1.0"'))
    updated = install(prefix, build_channel, project).projects[0]  # type: ignore[attr-defined]
    assert updated.version == "1.1.0" and not installed.record.exists()
    assert sorted(p.name for p in (prefix / "conda-meta").glob("setuptools-basic-*.json")) == [updated.record.name]
    check_record_matches_disk(prefix, updated.record)
    assert not dist_info.exists()
    assert (
        f"-local-develop/{SUBDIR}::setuptools-basic-1.0.0-{installed.build}"
        in (prefix / "conda-meta" / "history").read_text()
    )

    # Uninstall removes every file and the record, and reports what only this project needed.
    files = [prefix / str(f) for f in PrefixRecord.from_path(updated.record).files]
    removed = develop_uninstall(UninstallRequest((project,), probe(prefix), "test"))
    assert removed.removed == (f"local-develop::setuptools-basic-1.1.0-{updated.build}",)
    assert removed.left_behind == ("packaging", "six")
    assert not any(f.exists() for f in files) and not updated.record.exists()
    run = subprocess.run([prefix / "bin" / "python", "-c", "import setuptools_basic"], capture_output=True, text=True)
    assert run.returncode != 0


@pytest.mark.network
@pytest.mark.slow
def test_regular_install_copies_the_package(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    project = copy_project("setuptools-basic", tmp_path)
    installed = install(prefix, build_channel, project, editable=False).projects[0]  # type: ignore[attr-defined]
    assert installed.build.startswith("develop_h")
    location = run_python(prefix, "import setuptools_basic; print(setuptools_basic.__file__)").strip()
    assert Path(location).is_relative_to(prefix)
    check_record_matches_disk(prefix, installed.record)


@pytest.mark.network
@pytest.mark.slow
def test_c_extension_editable(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    project = copy_project("setuptools-cext", tmp_path)
    install(prefix, build_channel, project)
    assert run_python(prefix, "import setuptools_cext; print(setuptools_cext.add(40, 2))") == "42\n"


@pytest.mark.network
@pytest.mark.slow
def test_hatchling_project_with_dependency_group(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    project = copy_project("hatch-markers-extras", tmp_path)
    installed = install(prefix, build_channel, project).projects[0]  # type: ignore[attr-defined]
    assert run_python(prefix, "import hatch_markers_extras, six; print('ok')") == "ok\n"
    check_record_matches_disk(prefix, installed.record)


@pytest.mark.network
def test_dry_run_changes_nothing(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    project = copy_project("setuptools-basic", tmp_path)
    before = tree_digest(prefix)
    result = install(prefix, build_channel, project, dry_run=True)
    assert [d.split("-")[0] for d in result.transaction.link] == ["packaging", "setuptools", "six", "wheel"]  # type: ignore[attr-defined]
    assert result.projects == ()  # type: ignore[attr-defined]
    assert tree_digest(prefix) == before


@pytest.mark.network
def test_refuses_to_clobber_another_package(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    project = copy_project("setuptools-basic", tmp_path)
    owner = {"name": "other-tool", "version": "1", "build": "0", "build_number": 0, "channel": "x", "subdir": "noarch",
             "fn": "other-tool-1-0.conda", "url": "file:///x/other-tool-1-0.conda", "depends": [], "files": ["bin/setuptools-basic"]}  # fmt: skip
    (prefix / "conda-meta" / "other-tool-1-0.json").write_text(json.dumps(owner))
    with pytest.raises(ClobberError) as caught:
        install(prefix, build_channel, project)
    assert str(caught.value) == (
        "setuptools-basic: would overwrite bin/setuptools-basic, which belongs to the conda package 'other-tool'; "
        "remove that package, or pass --force to overwrite it (it is kept, and --uninstall puts it back)"
    )
    assert not (prefix / "bin" / "setuptools-basic").exists()
    assert not list((prefix / "conda-meta").glob("setuptools-basic-*.json"))


def in_tree_project(root: Path, backend_source: str, dynamic: bool = False) -> Path:
    """``dynamic``: the dependencies come from the backend, so develop-install asks prepare_metadata first."""
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "in_tree"\nbackend-path = ["."]\n[project]\nname = "in-tree"\nversion = "1.0"\n'
        + ('dynamic = ["dependencies"]\n' if dynamic else "")
    )
    (root / "in_tree.py").write_text(backend_source)
    return root


def test_backend_without_pep660_suggests_no_editable(prefix: Path, tmp_path: Path) -> None:
    project = in_tree_project(
        tmp_path / "proj",
        "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    raise SystemExit(1)\n",
        dynamic=True,
    )
    before = tree_digest(prefix)
    with pytest.raises(BackendError) as caught:
        develop_install(DevelopRequest((project,), probe(prefix), overrides=NO_USER_MAPPING))
    assert str(caught.value) == (
        f"{project}: build backend failed in prepare_metadata_for_build_editable: the backend has no 'build_editable' "
        "hook (it predates PEP 660 editable installs); use --no-editable, or upgrade the backend"
    )
    assert tree_digest(prefix) == before


def test_backend_crash_leaves_the_prefix_as_it_was(prefix: Path, tmp_path: Path) -> None:
    source = (
        "def get_requires_for_build_editable(config_settings=None):\n    return []\n"
        "def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):\n"
        "    print('metadata exploded')\n    raise RuntimeError('boom')\n"
    )
    project = in_tree_project(tmp_path / "proj", source, dynamic=True)
    before = tree_digest(prefix)
    with pytest.raises(BackendError) as caught:
        develop_install(DevelopRequest((project,), probe(prefix), overrides=NO_USER_MAPPING))
    assert (
        str(caught.value) == f"{project}: build backend failed in prepare_metadata_for_build_editable: "
        "the backend exited with status 1; its output is above, fix what it reports and run again"
    )
    assert "metadata exploded" in caught.value.output
    assert tree_digest(prefix) == before


def test_refuses_the_base_environment(prefix: Path, tmp_path: Path) -> None:
    (prefix / "condabin").mkdir()
    with pytest.raises(TargetError) as caught:
        develop_install(DevelopRequest((PROJECTS / "setuptools-basic",), probe(prefix)))
    assert str(caught.value) == (
        f"{prefix} is conda's base environment, where conda itself lives; develop in a separate environment "
        "('conda create -n dev python'), or pass --allow-base if you mean it"
    )


def test_missing_project_path(prefix: Path, tmp_path: Path) -> None:
    before = tree_digest(prefix)
    with pytest.raises(ProjectNotFoundError) as caught:
        develop_install(DevelopRequest((tmp_path / "nope",), probe(prefix)))
    assert str(caught.value) == f"{tmp_path / 'nope'}: no such file or directory"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ProjectNotFoundError):
        develop_install(DevelopRequest((empty,), probe(prefix)))
    assert tree_digest(prefix) == before


def test_uninstall_of_something_not_installed(prefix: Path, tmp_path: Path) -> None:
    with pytest.raises(TargetError) as caught:
        develop_uninstall(UninstallRequest((tmp_path,), probe(prefix)))
    assert str(caught.value) == f"{tmp_path}: not develop-installed in {prefix}; nothing to uninstall"


def test_cli_requires_a_target(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert main(["develop-install", "."]) == 1
    assert capsys.readouterr().err == (
        "conda-source: error: no target environment: pass -p PREFIX or -n NAME, or activate a conda environment\n"
    )


@pytest.mark.network
def test_cli_dry_run_json(build_channel: str, prefix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = copy_project("setuptools-basic", tmp_path)
    code = main(
        [
            "develop-install",
            str(project),
            "-p",
            str(prefix),
            "-c",
            build_channel,
            "--dry-run",
            "--json",
            "--no-user-mapping",
        ]
    )
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["dry_run"] is True
    assert document["plans"][0]["specs"] == ["setuptools >=61", "wheel", "python >=3.9", "packaging >=21", "six"]
    assert [d.split("-")[0] for d in document["link"]] == ["packaging", "setuptools", "six", "wheel"]


EDITABLE_SAMPLES = [
    pytest.param("flit-dynamic", "flit_dynamic", "flit_dynamic/__init__.py", id="flit-core"),
    pytest.param("pdm-groups", "pdm_groups", "src/pdm_groups/__init__.py", id="pdm-backend"),
    pytest.param("poetry-core-pep621", "poetry_core_pep621", "src/poetry_core_pep621/__init__.py", id="poetry-core"),
    pytest.param(
        "setuptools-dynamic", "setuptools_dynamic", "src/setuptools_dynamic/__init__.py", id="setuptools-dynamic"
    ),
    pytest.param("legacy-setup-py", "legacy_setup_py", "legacy_setup_py/__init__.py", id="setup-py-legacy"),
]


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.parametrize(("name", "module", "source"), EDITABLE_SAMPLES)
def test_sample_projects_editable(
    build_channel: str, prefix: Path, tmp_path: Path, name: str, module: str, source: str
) -> None:
    project = copy_project(name, tmp_path)
    # poetry-core-pep621 needs typing_extensions and tomli at run time, which the test channel lacks
    result = install(prefix, build_channel, project, deps=name != "poetry-core-pep621")
    (installed,) = result.projects  # type: ignore[attr-defined]
    check_record_matches_disk(prefix, installed.record)
    assert run_python(prefix, f"import {module}; print({module}.__file__)").strip() == str(project / source)
    (project / Path(source).parent / "added_later.py").write_text("VALUE = 'edited'\n")
    assert run_python(prefix, f"from {module}.added_later import VALUE; print(VALUE)") == "edited\n"


def test_own_name_follows_the_mapping_overrides(prefix: Path, tmp_path: Path) -> None:
    """The project's own conda name goes through the same layers as its dependencies (as in build-local)."""
    project = copy_project("in-tree-editable", tmp_path)
    request = DevelopRequest(
        (project,), probe(prefix), overrides=Overrides(("in-tree-editable=renamed-tool",), (), False)
    )
    (installed,) = develop_install(request).projects
    assert installed.name == "renamed-tool"
    assert installed.record.name.startswith("renamed-tool-0.4.0-editable_h")
    assert run_python(prefix, "import in_tree_editable; print('ok')") == "ok\n"


@pytest.mark.network
def test_a_project_named_only_by_its_backend_is_recorded_under_that_name(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    """No [project] table (setup.py only): the record takes the metadata's name, never the folder's."""
    import shutil

    project = Path(shutil.copytree(PROJECTS / "legacy-setup-py", tmp_path / "legacy-setup-py-main"))
    result = install(prefix, build_channel, project)
    (installed,) = result.projects  # type: ignore[attr-defined]
    assert installed.name == "legacy-setup-py"
    assert installed.record.name.startswith("legacy-setup-py-0.9.0-editable_h")
    assert not list((prefix / "conda-meta").glob("legacy-setup-py-main-*.json"))
    check_record_matches_disk(prefix, installed.record)
    assert run_python(prefix, "import legacy_setup_py, six; print('ok')") == "ok\n"
