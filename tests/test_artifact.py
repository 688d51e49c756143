"""wheel -> .conda: checked from outside, with py-rattler and by reading the archive back."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rattler import Channel, IndexJson, PrefixRecord, RepoDataRecord, VirtualPackage, install, solve
from support import check_dist_info, check_paths_match_contents, read_members
from wheelmaker import make_wheel

from conda_source.artifact import BuiltPackage, WheelRequest, convert_wheel
from conda_source.errors import ArtifactError
from conda_source.installer._rattler import subdir
from conda_source.mapping.names import NameMapper
from conda_source.mapping.overrides import parse_override_table
from conda_source.target import host_subdir
from conda_source.testing import make_test_prefix
from conda_source.testing.channel import make_channel

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
NEXT = f"{sys.version_info[0]}.{sys.version_info[1] + 1}"
# Both compiled wheels are manylinux2014 (manylinux_2_17) wheels on Linux: they need glibc 2.17.
GLIBC_2_17 = ["__glibc >=2.17"] if sys.platform.startswith("linux") else []


def convert(wheel: Path, out: Path, **kwargs: object) -> list[BuiltPackage]:
    return convert_wheel(WheelRequest(wheel, out, **kwargs))  # type: ignore[arg-type]


# name, python pin, subdir ("host" = this machine), depends per variant, entry points
REAL_WHEELS = [
    pytest.param("tomli", None, "noarch", [["python >=3.7"]], [], id="tomli"),
    pytest.param("packaging", None, "noarch", [["python >=3.8"]], [], id="packaging"),
    pytest.param("six", None, "noarch", [["python >=2.7,!=3.0.*,!=3.1.*,!=3.2.*"]], [], id="six"),
    pytest.param("flit-core", None, "noarch", [["python >=3.6"]], [], id="flit-core"),
    pytest.param("wheel", None, "noarch", [["python >=3.8"]], ["wheel = wheel.cli:main"], id="wheel-console-script"),
    pytest.param(
        "requests", None, "noarch",
        [["python >=3.8", "charset-normalizer >=2,<4dev0", "idna >=2.5,<4dev0", "urllib3 >=1.21.1,<3dev0", "certifi >=2017.4.17"]],
        [], id="requests-extras-not-chosen",
    ),
    pytest.param(
        "click", None, "noarch",
        [["python >=3.7", "__unix"], ["python >=3.7", "colorama", "__win"]],
        [], id="click-platform-marker-variants",
    ),
    pytest.param(
        "black", PY, "noarch",
        [[f"python {PY}.*", "click >=8.0.0", "mypy_extensions >=0.4.3", "packaging >=22.0", "pathspec >=0.9.0", "platformdirs >=2"]
         + (["tomli >=1.1.0", "typing_extensions >=4.0.1"] if sys.version_info < (3, 11) else [])],
        ["black = black:patched_main", "blackd = blackd:patched_main"], id="black-python-pinned",
    ),
    pytest.param("markupsafe", None, "host", [[f"python >={PY},<{NEXT}.0a0", *GLIBC_2_17]], [], id="markupsafe-compiled"),
    pytest.param("pyyaml", None, "host", [[f"python >={PY},<{NEXT}.0a0", *GLIBC_2_17]], [], id="pyyaml-compiled"),
]  # fmt: skip


@pytest.mark.network
@pytest.mark.parametrize(("name", "python", "subdir", "depends", "entry_points"), REAL_WHEELS)
def test_real_wheel(
    pypi_wheels: dict[str, Path],
    tmp_path: Path,
    name: str,
    python: str | None,
    subdir: str,
    depends: list[list[str]],
    entry_points: list[str],
) -> None:
    built = convert(pypi_wheels[name], tmp_path, python=python)
    assert [list(b.depends) for b in built] == depends
    for package in built:
        index = IndexJson.from_package_archive(package.path)
        expected_subdir = host_subdir() if subdir == "host" else subdir
        assert (index.subdir, str(index.version), str(index.build)) == (
            expected_subdir,
            package.identity.version,
            package.identity.build,
        )
        record = asyncio.run(RepoDataRecord.from_package_archive(package.path))
        assert record.name.normalized == package.identity.name
        assert bytes(record.sha256).hex() == hashlib.sha256(package.path.read_bytes()).hexdigest()
        assert index.depends == list(package.depends)
        assert (str(index.noarch) == 'NoArchType("python")') is (subdir == "noarch")
        assert package.path.name == f"{index.name.normalized}-{index.version}-{index.build}.conda"
        check_paths_match_contents(package.path)
        check_dist_info(package.path)
        members = read_members(package.path)
        if subdir == "noarch":
            link = json.loads(members["info/link.json"])
            assert link["noarch"] == {"type": "python", "entry_points": entry_points}
        else:
            scripts = sorted(p for p in members if p.startswith("bin/"))
            assert scripts == sorted(f"bin/{e.split(' = ')[0]}" for e in entry_points)


@pytest.mark.network
def test_pure_wheel_with_python_markers_needs_a_python(pypi_wheels: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        convert(pypi_wheels["black"], tmp_path)
    assert str(caught.value) == (
        f"{pypi_wheels['black']}: the marker of 'tomli>=1.1.0; python_version < \"3.11\"' depends on the python "
        "version, which one noarch package cannot express; pass --python X.Y to build a package for one python"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.network
@pytest.mark.slow
def test_channel_solves_installs_imports_and_runs(pypi_wheels: dict[str, Path], tmp_path: Path) -> None:
    """The whole road: convert, index, solve and install with py-rattler, then use the packages."""
    channel = tmp_path / "channel"
    make_channel(channel, pypi_wheels.values(), python=PY)
    prefix = make_test_prefix(tmp_path / "env")
    installed = [PrefixRecord.from_path(p) for p in (prefix / "conda-meta").glob("*.json")]

    async def run() -> list[RepoDataRecord]:
        records = await solve(
            sources=[Channel(channel.as_uri())],
            specs=["black", "markupsafe", "pyyaml", "tomli", "six", "wheel"],
            platforms=[subdir(host_subdir()), subdir("noarch")],
            locked_packages=installed,
            virtual_packages=[v.into_generic() for v in VirtualPackage.detect()],
        )
        await install(records, prefix, cache_dir=tmp_path / "pkgs", installed_packages=installed, show_progress=False)
        return records

    records = asyncio.run(run())
    names = sorted(r.name.normalized for r in records)
    assert names == sorted(
        [
            "black",
            "click",
            "markupsafe",
            "mypy_extensions",
            "packaging",
            "pathspec",
            "platformdirs",
            "python",
            "pyyaml",
            "six",
            "tomli",
            "wheel",
        ]
    )
    click = next(r for r in records if r.name.normalized == "click")
    assert str(click.build).startswith("unix_"), "without __win the solver must pick the unix variant"

    python = prefix / "bin" / "python"
    imports = "import black, click, markupsafe, yaml, tomli, six, wheel; print(markupsafe.escape('<a>'))"
    assert subprocess.run([python, "-c", imports], capture_output=True, text=True, check=True).stdout == "&lt;a&gt;\n"
    assert subprocess.run(
        [prefix / "bin" / "black", "--version"], capture_output=True, text=True, check=True
    ).stdout.startswith("black, 24.10.0")
    assert (
        subprocess.run([prefix / "bin" / "wheel", "version"], capture_output=True, text=True, check=True).stdout
        == "wheel 0.45.1\n"
    )

    for record_file in (prefix / "conda-meta").glob("*.json"):
        record = PrefixRecord.from_path(record_file)
        for relative in record.files:
            assert (prefix / relative).exists(), f"{record.name.normalized}: {relative} missing on disk"


def test_reproducible_bytes(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, requires=("six",))
    first = convert(wheel, tmp_path / "a", source_date_epoch=1_700_000_000)[0].path
    second = convert(wheel, tmp_path / "b", source_date_epoch=1_700_000_000)[0].path
    other = convert(wheel, tmp_path / "c", source_date_epoch=1_600_000_000)[0].path
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()  # the epoch really is what is written


def test_timestamp_is_source_date_epoch_else_the_build_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never the wheel's zip dates (often a fixed 1980 or 2020 date): conda prefers the newer of equal builds."""
    import time

    wheel = make_wheel(tmp_path)  # zipfile writes the wheel's members with today's date; force an old one
    with zipfile.ZipFile(wheel) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(wheel, "w") as archive:
        for info, data in members:
            info.date_time = (2020, 2, 2, 0, 0, 0)
            archive.writestr(info, data)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = int(time.time())
    built = convert(wheel, tmp_path / "a")[0].path
    stamp = json.loads(read_members(built)["info/index.json"])["timestamp"] // 1000
    assert before <= stamp <= int(time.time())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    pinned = convert(wheel, tmp_path / "b")[0].path
    assert json.loads(read_members(pinned)["info/index.json"])["timestamp"] == 1_700_000_000_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"unrecorded": {"../evil.py": b""}},
            "refusing member '../evil.py': absolute or parent-relative path in the wheel",
            id="parent",
        ),
        pytest.param(
            {"unrecorded": {"/etc/evil": b""}},
            "refusing member '/etc/evil': absolute or parent-relative path in the wheel",
            id="absolute",
        ),
        pytest.param(
            {"unrecorded": {"demo/extra.py": b"x"}},
            "RECORD check failed: In {wheel}, demo/extra.py is not mentioned in RECORD",
            id="not-in-record",
        ),
        pytest.param(
            {"record_overrides": {"demo/__init__.py": "demo/__init__.py,sha256=AAAA,10"}},
            "RECORD check failed: In {wheel}, hash / size of demo/__init__.py didn't match RECORD",
            id="bad-hash",
        ),
    ],
)
def test_unsafe_or_inconsistent_wheels_are_refused(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    wheel = make_wheel(tmp_path, **kwargs)  # type: ignore[arg-type]
    out = tmp_path / "out"
    with pytest.raises(ArtifactError) as caught:
        convert(wheel, out)
    assert str(caught.value) == f"{wheel}: " + message.format(wheel=wheel)
    assert not out.exists() or list(out.iterdir()) == []


def test_not_a_wheel(tmp_path: Path) -> None:
    fake = tmp_path / "demo-1.0-py3-none-any.whl"
    fake.write_text("not a zip")
    with pytest.raises(ArtifactError) as caught:
        convert(fake, tmp_path / "out")
    assert str(caught.value) == f"{fake}: not a readable wheel (zip) file: File is not a zip file"
    bad_name = tmp_path / "demo.whl"
    bad_name.write_text("")
    with pytest.raises(ArtifactError) as caught:
        convert(bad_name, tmp_path / "out")
    assert str(caught.value).startswith(f"{bad_name}: not a valid wheel file name: ")


@pytest.mark.parametrize(
    ("requires", "python", "expected"),
    [
        pytest.param(("colorama; sys_platform == 'win32'",), None, {"unix": ["python", "__unix"], "win": ["python", "colorama", "__win"]}, id="win-only"),
        pytest.param(
            ("pyobjc; sys_platform == 'darwin'",), None,
            {"linux": ["python", "__linux"], "osx": ["python", "pyobjc", "__osx"], "win": ["python", "__win"]},
            id="osx-only-one-variant-per-system",
        ),
        pytest.param(
            ("x; sys_platform == 'linux' or sys_platform == 'win32'",), None,
            {"linux": ["python", "x", "__linux"], "osx": ["python", "__osx"], "win": ["python", "x", "__win"]},
            id="linux-and-windows",
        ),
        pytest.param(("tomli; python_version < '3.11'",), "3.10", {"": ["python 3.10.*", "tomli"]}, id="python-pinned-keeps"),
        pytest.param(("tomli; python_version < '3.11'",), "3.12", {"": ["python 3.12.*"]}, id="python-pinned-drops"),
        pytest.param(("six", "pytest; extra == 'test'"), None, {"": ["python", "six"]}, id="extra-not-chosen"),
    ],
)  # fmt: skip
def test_noarch_markers(
    tmp_path: Path, requires: tuple[str, ...], python: str | None, expected: dict[str, list[str]]
) -> None:
    built = convert(make_wheel(tmp_path, requires=requires), tmp_path / "out", python=python)
    by_label = {b.identity.build.split("_py")[0] if "_py" in b.identity.build else "": list(b.depends) for b in built}
    assert by_label == expected
    for package in built:
        assert IndexJson.from_package_archive(package.path).depends == list(package.depends)


def test_project_extras_add_their_dependencies(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, requires=("six", "pytest>=8; extra == 'test'"))
    built = convert(wheel, tmp_path / "out", extras=("test",))
    assert list(built[0].depends) == ["python", "six", "pytest >=8"]


@pytest.mark.parametrize(
    ("requires", "message"),
    [
        pytest.param(
            ("tomli; python_version < '3.11'",),
            "the marker of 'tomli; python_version < \"3.11\"' depends on the python version, which one noarch package "
            "cannot express; pass --python X.Y to build a package for one python",
            id="python-marker",
        ),
        pytest.param(
            ("simd; platform_machine == 'x86_64'",),
            "the marker of 'simd; platform_machine == \"x86_64\"' depends on the machine, which a noarch package cannot "
            "express; convert a platform-specific wheel instead",
            id="machine-marker",
        ),
    ],
)
def test_noarch_markers_that_cannot_be_expressed(tmp_path: Path, requires: tuple[str, ...], message: str) -> None:
    wheel = make_wheel(tmp_path, requires=requires)
    with pytest.raises(ArtifactError) as caught:
        convert(wheel, tmp_path / "out")
    assert str(caught.value) == f"{wheel}: {message}"
    assert not (tmp_path / "out").exists()


def test_about_licenses_and_import_test(tmp_path: Path) -> None:
    metadata = (
        "Summary: A demo\nLicense-Expression: MIT\nLicense-File: LICENSE\n"
        "Project-URL: Homepage, https://example.invalid/home\nProject-URL: Source, https://example.invalid/src\n"
        "Project-URL: Documentation, https://example.invalid/docs\n"
    )
    files = {"demo/__init__.py": b"", "demo-1.0.dist-info/licenses/LICENSE": b"MIT text\n", "helper.py": b""}
    built = convert(make_wheel(tmp_path, files=files, metadata_extra=metadata), tmp_path / "out")
    members = read_members(built[0].path)
    assert json.loads(members["info/about.json"]) == {
        "summary": "A demo",
        "license": "MIT",
        "home": "https://example.invalid/home",
        "dev_url": "https://example.invalid/src",
        "doc_url": "https://example.invalid/docs",
    }
    assert members["info/licenses/LICENSE"] == b"MIT text\n"
    assert members["info/test/run_test.py"] == b"import demo\nimport helper\n"
    assert json.loads(members["info/index.json"])["license"] == "MIT"


def test_package_name_comes_from_the_mapping(tmp_path: Path) -> None:
    built = convert(make_wheel(tmp_path, name="msgpack"), tmp_path / "out")
    assert built[0].identity.name == "msgpack-python"
    mapper = NameMapper([parse_override_table({"demo": ""}, "cli", "--map")])
    wheel = make_wheel(tmp_path, name="demo")
    with pytest.raises(ArtifactError) as caught:
        convert(wheel, tmp_path / "out2", mapper=mapper)
    assert str(caught.value) == f"{wheel}: 'demo' maps to no conda package (cli (--map.demo)); remove that override"


def test_platform_wheel_needs_one_python(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, tag="cp39-abi3-manylinux_2_17_x86_64")
    with pytest.raises(ArtifactError) as caught:
        convert(wheel, tmp_path / "out")
    assert (
        str(caught.value)
        == f"{wheel}: this wheel works on several pythons; pass --python X.Y to choose the one to package for"
    )
    built = convert(wheel, tmp_path / "out", python="3.12")
    assert (built[0].identity.subdir, built[0].depends) == (
        "linux-64",
        ("python >=3.12,<3.13.0a0", "__glibc >=2.17"),  # from the manylinux_2_17 tag
    )
    assert any(p.startswith("lib/python3.12/site-packages/demo/") for p in read_members(built[0].path))


def test_unsupported_platform(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, tag="cp312-cp312-win_amd64")
    with pytest.raises(ArtifactError) as caught:
        convert(wheel, tmp_path / "out")
    assert str(caught.value) == f"{wheel}: platform 'win_amd64' is not supported yet (linux and macOS wheels are)"


def test_pypi_requirements_are_hidden_from_pip(tmp_path: Path) -> None:
    """conda resolves dependencies: the shipped METADATA must not make pip call them missing."""
    from packaging.metadata import Metadata

    wheel = make_wheel(
        tmp_path,
        requires=("psycopg2-binary>=2.9", "colorama; sys_platform == 'win32'"),
        metadata_extra="Description-Content-Type: text/plain\n\nLong text\nRequires-Dist: not-a-header\n",
    )
    built = convert(wheel, tmp_path / "out")
    members = read_members(built[0].path)
    metadata = Metadata.from_email(members["site-packages/demo-1.0.dist-info/METADATA"], validate=False)
    assert [str(r) for r in metadata.requires_dist or []] == [
        'psycopg2-binary>=2.9; extra == "pypi-original"',
        'colorama; sys_platform == "win32" and extra == "pypi-original"',
    ]
    assert metadata.provides_extra == ["pypi-original"]
    for requirement in metadata.requires_dist or []:
        assert requirement.marker is not None and not requirement.marker.evaluate(
            {"extra": "", "sys_platform": "win32"}
        )
    assert (
        members["site-packages/demo-1.0.dist-info/METADATA"]
        .decode()
        .endswith("Long text\nRequires-Dist: not-a-header\n")
    )
    check_dist_info(built[0].path)


@pytest.mark.parametrize(
    ("tag", "subdir", "site", "virtual"),
    [
        pytest.param(
            "cp312-cp312-manylinux_2_28_aarch64",
            "linux-aarch64",
            "lib/python3.12/site-packages",
            ["__glibc >=2.28"],
            id="linux-aarch64",
        ),
        pytest.param(
            "cp312-cp312-macosx_11_0_arm64",
            "osx-arm64",
            "lib/python3.12/site-packages",
            ["__osx >=11.0"],
            id="osx-arm64",
        ),
        pytest.param(
            "cp311-cp311-macosx_10_9_x86_64", "osx-64", "lib/python3.11/site-packages", ["__osx >=10.9"], id="osx-64"
        ),
        pytest.param(  # conda has no virtual package for musl
            "cp313-cp313-musllinux_1_2_x86_64", "linux-64", "lib/python3.13/site-packages", [], id="musllinux"
        ),
        pytest.param(  # the oldest of several tags is what the wheel promises
            "cp311-cp311-manylinux2010_x86_64.manylinux_2_17_x86_64",
            "linux-64",
            "lib/python3.11/site-packages",
            ["__glibc >=2.12"],
            id="manylinux2010-and-2014",
        ),
        pytest.param(
            "cp311-cp311-manylinux1_x86_64",
            "linux-64",
            "lib/python3.11/site-packages",
            ["__glibc >=2.5"],
            id="manylinux1",
        ),
        pytest.param(  # no binaries, no tag that names a glibc: nothing to say
            "cp311-cp311-linux_x86_64", "linux-64", "lib/python3.11/site-packages", [], id="linux-untagged"
        ),
    ],
)
def test_platform_wheels_get_their_subdir(tmp_path: Path, tag: str, subdir: str, site: str, virtual: list[str]) -> None:
    built = convert(make_wheel(tmp_path, tag=tag), tmp_path / "out")
    (package,) = built
    index = IndexJson.from_package_archive(package.path)
    python = site.split("/")[1].removeprefix("python")
    major, minor = python.split(".")
    assert (index.subdir, index.depends) == (subdir, [f"python >={python},<{major}.{int(minor) + 1}.0a0", *virtual])
    assert package.identity.build.startswith(f"py{major}{minor}h")
    assert any(p.startswith(f"{site}/demo/") for p in read_members(package.path))
