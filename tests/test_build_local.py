"""build-local end to end: checkouts, sdists and wheels into packages that install and run.

Build requirements come from a local channel made by our own writer from PyPI
wheels (see conftest.build_channel); everything between the prefix and the
channel is real: solve, link, backend, conversion, indexing.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from support import check_dist_info, check_paths_match_contents, copy_project, tree_digest

from conda_source.backend.sequence import BackendError
from conda_source.cli import main
from conda_source.engine.build_local import BuildRequest, build_local
from conda_source.errors import ArtifactError, TargetError
from conda_source.installer.channel import index_channel
from conda_source.installer.installer import RattlerInstaller, SolveError
from conda_source.mapping.overrides import Overrides
from conda_source.target import host_subdir, probe
from conda_source.testing import make_test_prefix

PROJECTS = Path(__file__).parent / "projects"
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"

NO_USER_MAPPING = Overrides(user_file=False)


def history(prefix: Path) -> str:
    return (prefix / "conda-meta" / "history").read_text()


@pytest.mark.network
@pytest.mark.slow
def test_checkout_builds_records_and_installs(build_channel: str, tmp_path: Path) -> None:
    prefix = make_test_prefix(tmp_path / "build-env")
    python_record = next((prefix / "conda-meta").glob("python-*.json")).read_bytes()
    result = build_local(
        BuildRequest(
            sources=(copy_project("setuptools-basic", tmp_path / "src"),),
            output_dir=tmp_path / "out",
            channel_dir=tmp_path / "local",
            environment=probe(prefix),
            channels=(build_channel,),
            command="conda-source build-local tests/projects/setuptools-basic",
        )
    )
    (package,) = result.packages
    assert (package.identity.name, package.identity.version, package.identity.subdir) == (
        "setuptools-basic",
        "1.0.0",
        "noarch",
    )
    assert package.depends == ("python >=3.9", "packaging >=21", "six")
    assert [dist.split("-")[0] for dist in result.installed] == ["setuptools", "wheel"]

    # The build environment changed only by the build requirements, and conda knows how.
    assert next((prefix / "conda-meta").glob("python-*.json")).read_bytes() == python_record
    log = history(prefix)
    assert "# cmd: conda-source build-local tests/projects/setuptools-basic" in log
    assert f"+{build_channel}::setuptools-75.6.0-" in log
    # Build requirements are recorded as such, never as specs the user asked for (--from-history).
    assert "# conda-source requirements: ['setuptools >=61', 'wheel']" in log
    assert "# update specs: ['setuptools" not in log
    setuptools_record = json.loads(next((prefix / "conda-meta").glob("setuptools-*.json")).read_text())
    assert not setuptools_record.get("requested_spec")

    # The filed package installs from the local channel and its entry point runs.
    assert (tmp_path / "local" / "noarch" / package.path.name).is_file()
    user = make_test_prefix(tmp_path / "user-env")
    RattlerInstaller(probe(user), [(tmp_path / "local").as_uri(), build_channel]).install(["setuptools-basic"])
    run = subprocess.run([user / "bin" / "setuptools-basic"], capture_output=True, text=True, check=True)
    assert run.stdout == "setuptools-basic 1.0.0\n"


@pytest.mark.network
@pytest.mark.slow
def test_c_extension_is_compiled_against_the_prefix_python(build_channel: str, tmp_path: Path) -> None:
    prefix = make_test_prefix(tmp_path / "build-env")
    result = build_local(
        BuildRequest(
            (copy_project("setuptools-cext", tmp_path / "src"),),
            tmp_path / "out",
            tmp_path / "local",
            probe(prefix),
            (build_channel,),
        )
    )
    (package,) = result.packages
    major, minor = sys.version_info[:2]
    assert package.identity.subdir == host_subdir()
    assert package.depends == (f"python >={PY},<{major}.{minor + 1}.0a0",)
    assert package.identity.build.startswith(f"py{major}{minor}h")
    user = make_test_prefix(tmp_path / "user-env")
    RattlerInstaller(probe(user), [(tmp_path / "local").as_uri(), build_channel]).install(["setuptools-cext"])
    code = "import setuptools_cext, setuptools_cext._speedup as s; print(setuptools_cext.add(2, 3), s.__file__)"
    out = subprocess.run([user / "bin" / "python", "-c", code], capture_output=True, text=True, check=True).stdout
    value, path = out.split()
    assert value == "5"
    assert Path(path).is_relative_to(user) and path.endswith(".so")


def make_sdist(project: Path, destination: Path, top: str) -> Path:
    sdist = destination / f"{top}.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for path in sorted(project.rglob("*")):
            if "__pycache__" not in path.parts and path.is_file():
                archive.add(path, arcname=f"{top}/{path.relative_to(project)}")
    return sdist


@pytest.mark.network
@pytest.mark.slow
def test_sdist_is_unpacked_and_built(build_channel: str, tmp_path: Path) -> None:
    sdist = make_sdist(PROJECTS / "setuptools-basic", tmp_path, "setuptools_basic-1.0.0")
    prefix = make_test_prefix(tmp_path / "env")
    result = build_local(BuildRequest((sdist,), tmp_path / "out", None, probe(prefix), (build_channel,)))
    assert result.results[0].kind == "sdist"
    assert [p.path.name.split("-py")[0] for p in result.packages] == ["setuptools-basic-1.0.0"]


def test_sdist_with_a_parent_path_is_refused(tmp_path: Path) -> None:
    sdist = tmp_path / "evil-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        info = tarfile.TarInfo("../evil.py")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    prefix = make_test_prefix(tmp_path / "env")
    with pytest.raises(ArtifactError) as caught:
        build_local(BuildRequest((sdist,), tmp_path / "out", None, probe(prefix)))
    assert str(caught.value).startswith(f"{sdist}: refusing to unpack: ")
    assert "evil.py" in str(caught.value)
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.py").exists()


def test_zip_sdist_with_a_parent_path_is_refused(tmp_path: Path) -> None:
    sdist = tmp_path / "evil-1.0.zip"
    with zipfile.ZipFile(sdist, "w") as archive:
        archive.writestr("../evil.py", "x")
    prefix = make_test_prefix(tmp_path / "env")
    with pytest.raises(ArtifactError) as caught:
        build_local(BuildRequest((sdist,), tmp_path / "out", None, probe(prefix)))
    assert str(caught.value) == f"{sdist}: refusing member '../evil.py': it would unpack outside the source tree"


def in_tree_project(root: Path, backend_source: str, requires: str = "[]", backend: str = "in_tree") -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(
        f'[build-system]\nrequires = {requires}\nbuild-backend = "{backend}"\nbackend-path = ["."]\n'
        '[project]\nname = "in-tree"\nversion = "1.0"\n'
    )
    (root / "in_tree.py").write_text(backend_source)
    return root


def test_backend_failure_carries_its_output(tmp_path: Path) -> None:
    source = (
        "def get_requires_for_build_wheel(config_settings=None):\n    return []\n"
        "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
        "    print('compiler exploded on line 3')\n    raise RuntimeError('boom')\n"
    )
    project = in_tree_project(tmp_path / "proj", source)
    prefix = make_test_prefix(tmp_path / "env")
    before = tree_digest(prefix)
    with pytest.raises(BackendError) as caught:
        build_local(BuildRequest((project,), tmp_path / "out", None, probe(prefix)))
    assert str(caught.value) == (
        f"{project}: build backend failed in build_wheel: "
        "the backend exited with status 1; its output is above, fix what it reports and run again"
    )
    assert "compiler exploded on line 3" in caught.value.output
    assert "RuntimeError: boom" in caught.value.output
    assert tree_digest(prefix) == before
    assert not (tmp_path / "out").exists()


def test_backend_that_cannot_be_imported(tmp_path: Path) -> None:
    project = in_tree_project(tmp_path / "proj", "", backend="not_installed_backend")
    prefix = make_test_prefix(tmp_path / "env")
    with pytest.raises(BackendError) as caught:
        build_local(BuildRequest((project,), tmp_path / "out", None, probe(prefix)))
    assert str(caught.value) == (
        f"{project}: build backend failed in get_requires_for_build_wheel: cannot import 'not_installed_backend' "
        "in the target environment; is it in build-system.requires?"
    )


def test_unsatisfiable_build_requirement_changes_nothing(tmp_path: Path) -> None:
    channel = tmp_path / "empty-channel"
    index_channel(channel)
    project = in_tree_project(tmp_path / "proj", "", requires='["definitely-not-a-package>=1"]')
    prefix = make_test_prefix(tmp_path / "env")
    before = tree_digest(prefix)
    with pytest.raises(SolveError) as caught:
        build_local(BuildRequest((project,), tmp_path / "out", None, probe(prefix), (channel.as_uri(),)))
    assert str(caught.value).startswith("cannot install definitely-not-a-package >=1: ")
    assert "definitely-not-a-package" in str(caught.value).split(": ", 1)[1]
    assert tree_digest(prefix) == before


def test_no_channels_for_build_requirements(tmp_path: Path) -> None:
    prefix = make_test_prefix(tmp_path / "env")
    with pytest.raises(SolveError) as caught:
        build_local(BuildRequest((PROJECTS / "setuptools-basic",), tmp_path / "out", None, probe(prefix)))
    assert str(caught.value) == "cannot install setuptools >=61, wheel: no channels to install from; pass -c CHANNEL"


def test_checkout_needs_a_target(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as caught:
        build_local(BuildRequest((PROJECTS / "setuptools-basic",), tmp_path / "out"))
    assert str(caught.value) == "building from source needs a target environment: pass -p PREFIX or activate one"


def test_unknown_input_kind(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("")
    with pytest.raises(ArtifactError) as caught:
        build_local(BuildRequest((odd,), tmp_path / "out"))
    assert str(caught.value) == f"{odd}: not a project directory, wheel (.whl) or sdist (.tar.gz, .zip)"


def test_cli_wheel_into_a_channel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wheelmaker import make_wheel

    wheel = make_wheel(tmp_path, name="demo", requires=("six>=1.16",))
    code = main(
        [
            "build-local",
            str(wheel),
            "--output-dir",
            str(tmp_path / "out"),
            "--channel-dir",
            str(tmp_path / "ch"),
            "--json",
            "--no-user-mapping",
        ]
    )
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    document = json.loads(out)
    (package,) = document["packages"]
    assert package["depends"] == ["python", "six >=1.16"]
    repodata = json.loads((tmp_path / "ch" / "noarch" / "repodata.json").read_text())
    assert list(repodata["packages.conda"]) == [Path(package["path"]).name]
    assert repodata["packages.conda"][Path(package["path"]).name]["depends"] == ["python", "six >=1.16"]


NEEDS_TOMLI = ["tomli >=1.1"] if sys.version_info < (3, 11) else []
SAMPLE_BUILDS = [
    pytest.param(
        "hatch-markers-extras", PY,
        {
            "unix": [f"python {PY}.*", "six >=1.16", *NEEDS_TOMLI, "__unix"],
            # hatchling writes Requires-Dist sorted, and depends keeps the METADATA order
            "win": [f"python {PY}.*", "colorama", "pywin32 >=306", "six >=1.16", *NEEDS_TOMLI, "__win"],
        },
        id="hatchling-markers-variants",
    ),
    pytest.param("flit-dynamic", None, {"": ["python >=3.8", "packaging >=20"]}, id="flit-core-dynamic-version"),
    pytest.param("pdm-groups", None, {"": ["python >=3.9", "six"]}, id="pdm-backend"),
    # poetry-core writes tomli~=2.0 into METADATA as tomli>=2.0,<3.0
    pytest.param(
        "poetry-core-pep621", None,
        {"": ["python >=3.9,<4dev0", "packaging >=23,<27dev0", "tomli >=2.0,<3.0dev0", "typing_extensions >=4.6"]},
        id="poetry-core",
    ),
    pytest.param("setuptools-dynamic", None, {"": ["python >=3.9", "six >=1.15"]}, id="setuptools-dynamic-deps"),
    pytest.param("legacy-setup-py", None, {"": ["python", "six"]}, id="setup-py-legacy-backend"),
    pytest.param(
        "mapping-overrides", None,
        # hatchling sorts Requires-Dist by PyPI name; internal-telemetry is mapped to nothing;
        # libxml2 is the project's conda-only dependency and comes last.
        {"": [
            "python >=3.10", "cupy >=13", "cuda-version 12.*", "legacy-pin ==1.0.post1", "msgpack-python >=1.0,<2dev0",
            "numpy >=1.26,<2.0dev0", "psycopg2 2.9.*", "pyqt >=5,<6,>=5.15", "pytables >=3.9",
            "pytorch-cpu >=2.1,!=2.2.0", "zope.interface >=6", "libxml2 >=2.12",
        ]},
        id="hatchling-project-mapping-and-conda-deps",
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def shared_build_prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One development environment that every sample is built in, as a user's would be."""
    return make_test_prefix(tmp_path_factory.mktemp("samples") / "env")


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.parametrize(("project", "python", "variants"), SAMPLE_BUILDS)
def test_sample_checkouts_build_with_their_own_backend(
    build_channel: str,
    shared_build_prefix: Path,
    tmp_path: Path,
    project: str,
    python: str | None,
    variants: dict[str, list[str]],
) -> None:
    result = build_local(
        BuildRequest(
            (copy_project(project, tmp_path / "src"),),
            tmp_path / "out",
            None,
            probe(shared_build_prefix),
            (build_channel,),
            python=python,
            overrides=NO_USER_MAPPING,
        )
    )
    by_label = {
        p.identity.build.split("_py")[0] if "_py" in p.identity.build else "": list(p.depends) for p in result.packages
    }
    assert by_label == variants
    for package in result.packages:
        assert package.identity.name == project
        check_written_package(package.path)


def check_written_package(path: Path) -> None:

    check_paths_match_contents(path)
    check_dist_info(path)


@pytest.mark.network
@pytest.mark.slow
def test_checkout_build_is_reproducible(
    build_channel: str, shared_build_prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_local(
        BuildRequest(
            (copy_project("flit-dynamic", tmp_path / "a" / "src"),),
            tmp_path / "a",
            None,
            probe(shared_build_prefix),
            (build_channel,),
        )
    )
    second = build_local(
        BuildRequest(
            (copy_project("flit-dynamic", tmp_path / "b" / "src"),),
            tmp_path / "b",
            None,
            probe(shared_build_prefix),
            (build_channel,),
        )
    )
    assert first.packages[0].path.read_bytes() == second.packages[0].path.read_bytes()
