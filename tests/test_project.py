"""pyproject.toml -> ProjectSpec: what is read, and every malformed input's exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from conda_source.errors import InvalidProjectError, ProjectNotFoundError
from conda_source.project import load_project
from conda_source.project.model import LEGACY_BACKEND

PROJECTS = Path(__file__).parent / "projects"
MINIMAL = '[project]\nname = "p"\nversion = "1"\n'


def load_text(tmp_path: Path, text: str) -> object:
    (tmp_path / "pyproject.toml").write_text(text)
    return load_project(tmp_path)


# Each case: the pyproject.toml text, and the message after "<file>: ".
BAD_PYPROJECTS = [
    pytest.param(
        "[project\nname = 1",
        "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 9)",
        id="toml-syntax",
    ),
    pytest.param(
        '[project]\nname = "a"\nname = "b"\n',
        "invalid TOML: Cannot overwrite a value (at line 3, column 11)",
        id="toml-duplicate-key",
    ),
    pytest.param('project = "x"\n', "project: expected a table", id="project-not-table"),
    pytest.param('[project]\nversion = "1"\n', "project.name: missing; [project] needs a name", id="name-missing"),
    pytest.param(
        '[project]\nname = "foo bar"\nversion = "1"\n',
        "project.name: 'foo bar' is not a valid package name (letters, digits, '.', '_', '-')",
        id="name-invalid",
    ),
    pytest.param(
        '[project]\nname = 3\nversion = "1"\n',
        "project.name: 3 is not a valid package name (letters, digits, '.', '_', '-')",
        id="name-not-string",
    ),
    pytest.param(
        '[project]\nname = "p"\n',
        "project.version: missing; set it, or list 'version' in project.dynamic for the backend to provide",
        id="version-missing",
    ),
    pytest.param(
        '[project]\nname = "p"\nversion = "1.0-foo-bar"\n',
        "project.version: '1.0-foo-bar' is not a PEP 440 version (e.g. '1.2.0')",
        id="version-invalid",
    ),
    pytest.param(
        '[project]\nname = "p"\nversion = "1"\ndynamic = ["version"]\n',
        "project.version: listed in project.dynamic but also given; remove one of the two",
        id="version-static-and-dynamic",
    ),
    pytest.param(
        '[project]\nname = "p"\ndynamic = ["name", "version"]\n',
        "project.dynamic[0]: 'name' cannot be dynamic; set project.name",
        id="dynamic-name",
    ),
    pytest.param(
        MINIMAL + 'dynamic = ["colour"]\n',
        "project.dynamic[0]: 'colour' is not a [project] field",
        id="dynamic-unknown",
    ),
    pytest.param(
        MINIMAL + 'dynamic = "version"\n', "project.dynamic: expected a list of field names", id="dynamic-not-list"
    ),
    pytest.param(
        MINIMAL + 'dependencies = ["six", "foo>="]\n',
        "project.dependencies[1]: invalid requirement 'foo>=': Expected semicolon (after name with no version specifier) or end",
        id="requirement-invalid",
    ),
    pytest.param(
        MINIMAL + 'dependencies = ["foo; python_version <"]\n',
        "project.dependencies[0]: invalid requirement 'foo; python_version <': Expected a marker variable or quoted string",
        id="requirement-bad-marker",
    ),
    pytest.param(
        MINIMAL + 'dependencies = "six"\n',
        "project.dependencies: expected a list of requirement strings",
        id="dependencies-not-list",
    ),
    pytest.param(
        MINIMAL + 'requires-python = ">=3.x"\n',
        "project.requires-python: '>=3.x' is not a version specifier (e.g. '>=3.10')",
        id="requires-python-invalid",
    ),
    pytest.param(
        MINIMAL + '[project.optional-dependencies]\n"bad extra" = ["six"]\n',
        "project.optional-dependencies.bad extra: 'bad extra' is not a valid extra name (letters, digits, '.', '_', '-')",
        id="extra-name-invalid",
    ),
    pytest.param(
        MINIMAL + '[project.optional-dependencies]\nTest = ["six"]\ntest = ["six"]\n',
        "project.optional-dependencies.test: same extra as another key once normalized (PEP 685); merge the two",
        id="extra-duplicate",
    ),
    pytest.param(
        MINIMAL + '[project.optional-dependencies]\ntest = ["pytest>>8"]\n',
        "project.optional-dependencies.test[0]: invalid requirement 'pytest>>8': Expected semicolon (after name with no version specifier) or end",
        id="extra-requirement-invalid",
    ),
    pytest.param(
        MINIMAL + '[project.scripts]\nfoo = "not valid"\n',
        "project.scripts.foo: expected 'module:function', got 'not valid'",
        id="script-target-invalid",
    ),
    pytest.param(
        MINIMAL + 'gui-scripts = ["x"]\n',
        "project.gui-scripts: expected a table of command-name = 'module:function'",
        id="gui-scripts-not-table",
    ),
    pytest.param(
        '[build-system]\nbuild-backend = "hatchling.build"\n' + MINIMAL,
        'build-system.requires: missing; PEP 518 requires it in [build-system], e.g. requires = ["hatchling"]',
        id="build-requires-missing",
    ),
    pytest.param(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling build"\n' + MINIMAL,
        "build-system.build-backend: expected 'module' or 'module:object', got 'hatchling build'",
        id="build-backend-invalid",
    ),
    pytest.param(
        '[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = ["../outside"]\n' + MINIMAL,
        "build-system.backend-path[0]: '../outside' must be a relative path inside the project",
        id="backend-path-escapes",
    ),
    pytest.param(
        '[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = ["/abs"]\n' + MINIMAL,
        "build-system.backend-path[0]: '/abs' must be a relative path inside the project",
        id="backend-path-absolute",
    ),
    pytest.param(
        MINIMAL + '[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n',
        "dependency-groups.b[0]: include-group cycle: a -> b -> a",
        id="group-cycle",
    ),
    pytest.param(
        MINIMAL + '[dependency-groups]\na = [{include-group = "a"}]\n',
        "dependency-groups.a[0]: include-group cycle: a -> a",
        id="group-self-include",
    ),
    pytest.param(
        MINIMAL + '[dependency-groups]\na = [{include-group = "nope"}]\n',
        "dependency-groups.a[0]: include-group 'nope' names no group (defined: a)",
        id="group-include-unknown",
    ),
    pytest.param(
        MINIMAL + "[dependency-groups]\na = [5]\n",
        'dependency-groups.a[0]: expected a requirement string or {include-group = "name"}',
        id="group-item-invalid",
    ),
    pytest.param(
        MINIMAL + '[dependency-groups]\nDev = ["x"]\ndev = ["y"]\n',
        "dependency-groups.dev: same group as 'Dev' once normalized; merge the two",
        id="group-duplicate",
    ),
    pytest.param(
        "dependency-groups = 3\n" + MINIMAL,
        "dependency-groups: expected a table of group-name = [requirements]",
        id="groups-not-table",
    ),
    pytest.param(
        MINIMAL + 'dependecies = ["six"]\n',
        "project.dependecies: not a [project] field; did you mean 'dependencies'?",
        id="project-unknown-key-typo",
    ),
    pytest.param(
        MINIMAL + "colour = 1\n",
        "project.colour: not a [project] field (PEP 621); move tool settings under [tool.NAME]",
        id="project-unknown-key",
    ),
    pytest.param(
        MINIMAL + '[tool.conda-source]\ndependecies = ["x"]\n',
        "tool.conda-source.dependecies: unknown setting; known: mapping, dependencies, build-dependencies",
        id="tool-unknown-key",
    ),
    pytest.param(
        MINIMAL + '[tool.conda-source]\ndependencies = ["libxml2 >="]\n',
        "tool.conda-source.dependencies[0]: invalid conda spec 'libxml2 >=': unable to parse version spec: >=",
        id="tool-bad-conda-spec",
    ),
    pytest.param(
        MINIMAL + '[tool.conda-source]\nbuild-dependencies = "cmake"\n',
        'tool.conda-source.build-dependencies: expected a list of conda specs, e.g. ["libxml2 >=2.12", "c-compiler"]',
        id="tool-build-deps-not-list",
    ),
    pytest.param(
        MINIMAL + "[tool.conda-source.mapping]\ntorch = 2\n",
        "tool.conda-source.mapping.torch: expected a conda spec string or a list of them ('' or [] drops the dependency)",
        id="tool-mapping-bad-value",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_PYPROJECTS)
def test_bad_pyproject_gives_exact_message(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidProjectError) as caught:
        load_text(tmp_path, text)
    assert str(caught.value) == f"{tmp_path / 'pyproject.toml'}: {message}"


def test_every_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    text = '[project]\nname = "p"\ndependencies = ["foo>="]\nrequires-python = "3"\n[tool.conda-source]\nx = 1\n'
    with pytest.raises(InvalidProjectError) as caught:
        load_text(tmp_path, text)
    file = tmp_path / "pyproject.toml"
    assert str(caught.value) == "\n".join(
        [
            f"4 problems in {file}:",
            f"  {file}: tool.conda-source.x: unknown setting; known: mapping, dependencies, build-dependencies",
            f"  {file}: project.version: missing; set it, or list 'version' in project.dynamic for the backend to provide",
            f"  {file}: project.requires-python: '3' is not a version specifier (e.g. '>=3.10')",
            f"  {file}: project.dependencies[0]: invalid requirement 'foo>=': Expected semicolon (after name with no version specifier) or end",
        ]
    )
    assert [p.key for p in caught.value.problems] == [
        "tool.conda-source.x",
        "project.version",
        "project.requires-python",
        "project.dependencies[0]",
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda p: p / "missing", "{path}: no such file or directory", id="missing"),
        pytest.param(
            lambda p: p,
            "{path}: neither pyproject.toml nor setup.py found; is this the project's root?",
            id="empty-dir",
        ),
        pytest.param(
            lambda p: (p / "setup.cfg").write_text("x") and p / "setup.cfg",
            "{path}: not a project directory; pass the directory that holds pyproject.toml",
            id="a-file",
        ),
    ],
)
def test_project_not_found(tmp_path: Path, make: object, message: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ProjectNotFoundError) as caught:
        load_project(path)
    assert str(caught.value) == message.format(path=path)


def test_reads_every_field() -> None:
    spec = load_project(PROJECTS / "hatch-markers-extras")
    assert (spec.name, spec.version, spec.canonical_name) == ("hatch-markers-extras", "2.1.0", "hatch-markers-extras")
    assert str(spec.requires_python) == ">=3.9"
    assert [d.key for d in spec.dependencies] == [f"project.dependencies[{i}]" for i in range(4)]
    assert sorted(spec.optional_dependencies) == ["all", "plot", "yaml"]
    assert [str(d.requirement) for d in spec.optional_dependencies["all"]] == ["hatch-markers-extras[plot,yaml]"]
    assert spec.gui_scripts == {"hatch-markers-gui": "hatch_markers_extras:main"}
    assert spec.build_system.backend == "hatchling.build"
    assert not spec.build_system.legacy


def test_version_is_normalized() -> None:
    spec = load_project(PROJECTS / "setuptools-basic" / "pyproject.toml")
    assert spec.version == "1.0.0"
    assert spec.scripts == {"setuptools-basic": "setuptools_basic:main"}


def test_dynamic_fields_are_not_guessed() -> None:
    spec = load_project(PROJECTS / "setuptools-dynamic")
    assert spec.version is None
    assert spec.is_dynamic("version") and spec.is_dynamic("dependencies")
    assert spec.dependencies == ()
    assert not spec.is_dynamic("optional-dependencies")


def test_setup_py_only_uses_the_pep517_fallback() -> None:
    spec = load_project(PROJECTS / "legacy-setup-py")
    assert spec.build_system.backend == LEGACY_BACKEND
    assert spec.build_system.legacy
    assert [str(d.requirement) for d in spec.build_system.requires] == ["setuptools>=40.8.0"]
    assert spec.name is None and spec.is_dynamic("dependencies") and spec.is_dynamic("version")


def test_build_system_without_backend_keeps_its_requires(tmp_path: Path) -> None:
    spec = load_text(tmp_path, '[build-system]\nrequires = ["setuptools>=70", "cython"]\n' + MINIMAL)
    assert spec.build_system.backend == LEGACY_BACKEND  # type: ignore[attr-defined]
    assert [str(d.requirement) for d in spec.build_system.requires] == ["setuptools>=70", "cython"]  # type: ignore[attr-defined]


def test_backend_path_is_kept(tmp_path: Path) -> None:
    spec = load_text(
        tmp_path, '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["_build"]\n' + MINIMAL
    )
    assert spec.build_system.backend_path == ("_build",)  # type: ignore[attr-defined]


def test_dependency_groups_resolve_includes_in_order() -> None:
    spec = load_project(PROJECTS / "pdm-groups")
    assert sorted(spec.dependency_groups) == ["dev-tools", "lint", "test"]
    dev = [str(d.requirement) for d in spec.dependency_groups["dev-tools"]]
    assert dev == ["pytest>=8", "coverage[toml]>=7", "ruff", "pre-commit"]
    assert [d.key for d in spec.dependency_groups["dev-tools"]] == [
        "dependency-groups.test[0]",
        "dependency-groups.test[1]",
        "dependency-groups.lint[0]",
        "dependency-groups.Dev_Tools[2]",
    ]


def test_conda_settings_are_read() -> None:
    spec = load_project(PROJECTS / "scikit-build-cext")
    assert [s for s, _ in spec.conda.build_dependencies] == ["c-compiler", "cmake >=3.26", "ninja"]
    assert spec.conda.dependencies == (("libzlib >=1.3", "tool.conda-source.dependencies[0]"),)
    overrides = load_project(PROJECTS / "mapping-overrides").conda.mapping
    assert overrides["torch"] == (("pytorch-cpu",), "tool.conda-source.mapping.torch")
    assert overrides["internal-telemetry"][0] == ()
