"""The plan on every sample project, through the engine, the CLI and the Python API.

Expected specs are worked out by hand from each project's pyproject.toml and
the mapping rules in README.md, not by running the code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conda_source import api
from conda_source.cli import main
from conda_source.engine.plan import PlanRequest, plan, split_path_extras
from conda_source.errors import SelectionError, TargetError, UntranslatableSpecifierError
from conda_source.mapping.names import bundled_table
from conda_source.mapping.overrides import Overrides
from conda_source.target import TargetEnv

PROJECTS = Path(__file__).parent / "projects"
LINUX_311 = TargetEnv.from_spec("3.11", "linux-64")
WIN_310 = TargetEnv.from_spec("3.10", "win-64")

SAMPLES = [
    pytest.param(
        "setuptools-basic", (), (), LINUX_311,
        ["setuptools >=61", "wheel"],
        ["python >=3.9", "packaging >=21", "six"],
        [],
        id="setuptools",
    ),
    pytest.param(
        "hatch-markers-extras", ("all",), (), LINUX_311,
        ["hatchling >=1.18"],
        ["python >=3.9", "six >=1.16", "matplotlib-base >=3.8", "dask-core >=2024.1", "pyyaml >=6"],
        [],
        id="hatchling-extras-linux",
    ),
    pytest.param(
        "hatch-markers-extras", (), (), WIN_310,
        ["hatchling >=1.18"],
        ["python >=3.9", "six >=1.16", "tomli >=1.1", "colorama", "pywin32 >=306"],
        [],
        id="hatchling-markers-windows",
    ),
    pytest.param(
        "flit-dynamic", (), (), LINUX_311,
        ["flit-core >=3.4,<4dev0"],
        ["python >=3.8", "packaging >=20"],
        ["version: dynamic; the backend's metadata hook provides it"],
        id="flit-core-dynamic-version",
    ),
    pytest.param(
        "pdm-groups", (), ("Dev_Tools",), LINUX_311,
        ["pdm-backend"],
        ["python >=3.9", "six", "pytest >=8", "coverage >=7", "ruff", "pre-commit"],
        [],
        id="pdm-backend-groups",
    ),
    pytest.param(
        "poetry-core-pep621", (), (), LINUX_311,
        ["poetry-core >=2.0,<3dev0"],
        ["python >=3.9,<4dev0", "packaging >=23,<27dev0", "tomli >=2.0,2.*", "typing_extensions >=4.6"],
        [],
        id="poetry-core",
    ),
    pytest.param(
        "scikit-build-cext", (), (), LINUX_311,
        ["scikit-build-core >=0.10", "c-compiler", "cmake >=3.26", "ninja"],
        ["python >=3.10", "numpy >=1.26,<3dev0", "libzlib >=1.3"],
        [],
        id="scikit-build-core-cext",
    ),
    pytest.param(
        "setuptools-dynamic", (), (), LINUX_311,
        ["setuptools >=64"],
        ["python >=3.9"],
        [
            "version: dynamic; the backend's metadata hook provides it",
            "dependencies: dynamic; mapped once the backend's metadata hook has run",
        ],
        id="setuptools-dynamic-deps",
    ),
    pytest.param(
        "legacy-setup-py", (), (), LINUX_311,
        ["setuptools >=40.8.0"],
        [],
        ["name, version and dependencies: no [project] table; the backend's metadata hook provides them"],
        id="setup-py-only",
    ),
    pytest.param(
        "mapping-overrides", (), (), LINUX_311,
        ["hatchling >=1.18", "python-build"],
        [
            "python >=3.10", "pytorch-cpu >=2.1,!=2.2.0", "pyqt >=5,<6,>=5.15", "cupy >=13", "cuda-version 12.*",
            "pytables >=3.9", "msgpack-python >=1.0,<2dev0", "psycopg2 2.9.*", "zope.interface >=6",
            "numpy >=1.26,<2.0dev0", "legacy-pin ==1.0.post1", "libxml2 >=2.12",
        ],
        [],
        id="mapping-overrides",
    ),
    pytest.param(
        "setuptools-cext", (), (), LINUX_311,
        ["setuptools >=64", "c-compiler"],
        ["python >=3.9"],
        [],
        id="setuptools-cext",
    ),
]  # fmt: skip

NO_USER_MAPPING = Overrides(user_file=False)


@pytest.mark.parametrize(("project", "extras", "groups", "target", "build", "run", "deferred"), SAMPLES)
def test_sample_projects(
    project: str,
    extras: tuple[str, ...],
    groups: tuple[str, ...],
    target: TargetEnv,
    build: list[str],
    run: list[str],
    deferred: list[str],
) -> None:
    result = plan(PlanRequest(PROJECTS / project, target, extras, groups, overrides=NO_USER_MAPPING))
    assert [spec for item in result.build for spec in item.specs] == build
    assert [spec for item in result.run for spec in item.specs] == run
    assert list(result.deferred) == deferred
    assert result.specs == tuple(dict.fromkeys(build + run))


def test_every_decision_has_a_reason() -> None:
    result = plan(PlanRequest(PROJECTS / "mapping-overrides", LINUX_311, overrides=NO_USER_MAPPING))
    by_requirement = {item.requirement: item for item in result.run}
    assert str(by_requirement["torch!=2.2.0,>=2.1"].provenance[0]) == "project (tool.conda-source.mapping.torch)"
    assert by_requirement["internal-telemetry>=1"].dropped == (
        "mapped to nothing by project (tool.conda-source.mapping.internal-telemetry)"
    )
    assert by_requirement["tables>=3.9"].provenance[0].source == "bundled"
    assert by_requirement["numpy<2.0,>=1.26"].provenance[0].source == "identity"
    assert by_requirement["legacy-pin===1.0.post1"].notes == (
        "'===1.0.post1' (string equality) has no conda equivalent; translated to the exact version match '==1.0.post1'",
    )
    for item in (*result.build, *result.run):
        assert item.dropped or item.provenance, item


def test_cli_map_flag_wins_over_the_project_table() -> None:
    result = plan(
        PlanRequest(PROJECTS / "mapping-overrides", LINUX_311, overrides=Overrides(("torch=pytorch",), (), False))
    )
    torch = next(item for item in result.run if item.requirement.startswith("torch"))
    assert torch.specs == ("pytorch >=2.1,!=2.2.0",)
    assert torch.provenance[0].source == "cli"


def test_user_mapping_applies_below_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "mapping.toml"
    user.write_text('[mapping]\ntorch = "pytorch-user"\ntables = "tables-user"\n')
    monkeypatch.setenv("CONDA_SOURCE_MAPPING", str(user))
    result = plan(PlanRequest(PROJECTS / "mapping-overrides", LINUX_311))
    specs = result.specs
    assert "pytorch-cpu >=2.1,!=2.2.0" in specs  # the project's own mapping wins
    assert "tables-user >=3.9" in specs


def test_dependency_extra_note_is_visible() -> None:
    result = plan(PlanRequest(PROJECTS / "hatch-markers-extras", LINUX_311, ("plot",), overrides=NO_USER_MAPPING))
    assert result.notes == (
        (
            "dask[array]>=2024.1",
            "extra 'array' of 'dask' has no conda mapping: mapped to the base package only; "
            "map 'dask[array]' to the conda packages it needs",
        ),
    )


def test_self_referencing_extra_is_expanded_once() -> None:
    result = plan(PlanRequest(PROJECTS / "hatch-markers-extras", LINUX_311, ("all", "yaml"), overrides=NO_USER_MAPPING))
    requirements = [item.requirement for item in result.run]
    assert requirements.count("PyYAML>=6") == 1
    expansion = next(item for item in result.run if item.expands)
    assert expansion.expands == ("plot", "yaml")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("proj[test,docs]", ("proj", ("test", "docs")), id="extras"),
        pytest.param("proj", ("proj", ()), id="plain"),
        pytest.param("proj[ ]", ("proj", ()), id="empty"),
    ],
)
def test_split_path_extras(path: str, expected: tuple[str, tuple[str, ...]]) -> None:
    project, extras = split_path_extras(path)
    assert (str(project), extras) == expected


def test_existing_path_with_brackets_is_a_path(tmp_path: Path) -> None:
    odd = tmp_path / "weird[name]"
    odd.mkdir()
    assert split_path_extras(str(odd)) == (odd, ())


@pytest.mark.parametrize(
    ("project", "extras", "groups", "target", "error", "message"),
    [
        pytest.param("hatch-markers-extras", ("tset",), (), LINUX_311, SelectionError, "{file}: no extra named 'tset' (defined: all, plot, yaml)", id="unknown-extra"),
        pytest.param("pdm-groups", (), ("docs",), LINUX_311, SelectionError, "{file}: no dependency group named 'docs' (defined: dev-tools, lint, test)", id="unknown-group"),
        pytest.param("setuptools-basic", (), ("dev",), LINUX_311, SelectionError, "{file}: no dependency group named 'dev' (defined: none)", id="no-groups"),
        pytest.param(
            "scikit-build-cext", (), (), TargetEnv.from_spec("3.9", "linux-64"), TargetError,
            "{file}: project.requires-python '>=3.10' excludes the target's python 3.9.0; target a matching python (-p PREFIX, or --python X.Y)",
            id="requires-python",
        ),
    ],
)  # fmt: skip
def test_plan_errors(
    project: str,
    extras: tuple[str, ...],
    groups: tuple[str, ...],
    target: TargetEnv,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error) as caught:
        plan(PlanRequest(PROJECTS / project, target, extras, groups, overrides=NO_USER_MAPPING))
    assert str(caught.value) == message.format(file=PROJECTS / project / "pyproject.toml")


def test_self_reference_to_an_undefined_extra(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "me"\nversion = "1"\n[project.optional-dependencies]\nall = ["me[nope]"]\n'
    )
    with pytest.raises(SelectionError) as caught:
        plan(PlanRequest(tmp_path, LINUX_311, ("all",), overrides=NO_USER_MAPPING))
    assert (
        str(caught.value)
        == f"{tmp_path / 'pyproject.toml'} (project.optional-dependencies.all[0]): no extra named 'nope' (defined: all)"
    )


def test_untranslatable_requirement_names_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "me"\nversion = "1"\ndependencies = ["old===weird"]\n')
    with pytest.raises(UntranslatableSpecifierError) as caught:
        plan(PlanRequest(tmp_path, LINUX_311, overrides=NO_USER_MAPPING))
    assert caught.value.requirement == "old===weird"


# --- through the command line -------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys,
        "plan",
        f"{PROJECTS / 'hatch-markers-extras'}[plot]",
        "--python",
        "3.11",
        "--platform",
        "linux-64",
        "--no-user-mapping",
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"Project  hatch-markers-extras 2.1.0  ({PROJECTS / 'hatch-markers-extras' / 'pyproject.toml'})"
    assert lines[1] == "Backend  hatchling.build"
    assert lines[2] == "Target   python 3.11.0 (cpython), linux-64"
    assert lines[3] == "Extras   plot   Groups  -"
    generated = bundled_table().generated
    assert ["matplotlib>=3.8", "matplotlib-base", ">=3.8", "bundled", "(cf-graph", "table,", f"{generated})"] in [
        line.split() for line in lines
    ]
    assert any(
        "tomli>=1.1" in line and "dropped: marker is false for python 3.11.0 on linux-64" in line for line in lines
    )
    assert lines[lines.index("Notes") + 1].startswith(
        "  dask[array]>=2024.1: extra 'array' of 'dask' has no conda mapping"
    )
    assert lines[lines.index("Conda specs (5)") + 1 :] == [
        "  hatchling >=1.18", "  python >=3.9", "  six >=1.16", "  matplotlib-base >=3.8", "  dask-core >=2024.1",
    ]  # fmt: skip


def test_cli_json_is_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys,
        "plan",
        str(PROJECTS / "pdm-groups"),
        "--group",
        "test",
        "--python",
        "3.12",
        "--platform",
        "osx-arm64",
        "--json",
        "--no-user-mapping",
    )
    assert code == 0
    document = json.loads(out)
    assert document["specs"] == ["pdm-backend", "python >=3.9", "six", "pytest >=8", "coverage >=7"]
    assert document["target"] == {"python": "3.12.0", "subdir": "osx-arm64", "prefix": None}
    assert document["groups"] == ["test"]
    assert document["project"]["build_backend"] == "pdm.backend"


def test_cli_probes_a_prefix(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from conda_source.testing import make_test_prefix

    prefix = make_test_prefix(tmp_path / "env")
    code, out, _ = run_cli(
        capsys, "plan", str(PROJECTS / "setuptools-basic"), "-p", str(prefix), "--json", "--no-user-mapping"
    )
    assert code == 0
    assert json.loads(out)["target"]["prefix"] == str(prefix)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["plan", "/nonexistent/project", "--python", "3.11"], "/nonexistent/project: no such file or directory", id="missing-path"),
        pytest.param(["plan", str(PROJECTS / "setuptools-basic"), "--python", "3.11", "--map", "six"], "--map six: expected PYPI-NAME=CONDA-SPEC (e.g. --map torch=pytorch-cpu)", id="bad-map"),
        pytest.param(["plan", str(PROJECTS / "setuptools-basic"), "--python", "3.11", "--extras", "nope"], f"{PROJECTS / 'setuptools-basic' / 'pyproject.toml'}: no extra named 'nope' (defined: none)", id="bad-extra"),
    ],
)  # fmt: skip
def test_cli_errors_are_one_clean_line(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run_cli(capsys, *args, "--no-user-mapping")
    assert (code, out) == (1, "")
    assert err == f"conda-source: error: {message}\n"


def test_module_entry_point_runs() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "conda_source",
            "plan",
            str(PROJECTS / "flit-dynamic"),
            "--python",
            "3.12",
            "--json",
            "--no-user-mapping",
        ],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["specs"] == ["flit-core >=3.4,<4dev0", "python >=3.8", "packaging >=20"]


def test_python_api() -> None:
    result = api.plan(
        f"{PROJECTS / 'hatch-markers-extras'}[yaml]", python="3.10", platform="win-64", user_mapping=False
    )
    assert result.specs == (
        "hatchling >=1.18",
        "python >=3.9",
        "six >=1.16",
        "tomli >=1.1",
        "colorama",
        "pywin32 >=306",
        "pyyaml >=6",
    )
    assert result.extras == ("yaml",)
