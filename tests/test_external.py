"""PEP 725 [external]: DepURLs, the loader, the bundled PEP 804 table, override layers and the plan.

Expected specs are read off tests/projects/external-deps/pyproject.toml and the
rows of conda_source/mapping/data/external-to-conda.tsv, not computed by the code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from support import copy_project

from conda_source.cli import main
from conda_source.engine.plan import PlanRequest, plan
from conda_source.errors import InvalidProjectError, MappingConfigError, SelectionError, UnmappedDepURLError
from conda_source.mapping.depurl import DepURL, ExternalRequirement, InvalidDepURL
from conda_source.mapping.external import constrain, external_table, map_external
from conda_source.mapping.names import NameMapper
from conda_source.mapping.overrides import Overrides, load_user_layer, parse_cli_overrides, parse_override_table
from conda_source.project import load_project
from conda_source.target import TargetEnv

PROJECTS = Path(__file__).parent / "projects"
SAMPLE = PROJECTS / "external-deps"
LINUX_311 = TargetEnv.from_spec("3.11", "linux-64")
WIN_311 = TargetEnv.from_spec("3.11", "win-64")

NO_USER_MAPPING = Overrides(user_file=False)


def bundled(role: str) -> str:
    return f"bundled (PEP 804 conda-forge table, {external_table().generated}, {role} role)"


# --- DepURLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "canonical", "version", "legacy"),
    [
        pytest.param("dep:generic/openssl", "dep:generic/openssl", "dep:generic/openssl", None, False, id="generic"),
        pytest.param("dep:virtual/compiler/c", "dep:virtual/compiler/c", "dep:virtual/compiler/c", None, False, id="virtual"),
        pytest.param("dep:generic/XCB", "dep:generic/xcb", "dep:generic/XCB", None, False, id="case-kept-key-lowered"),
        pytest.param("dep:github/OpenMathLib/OpenBLAS", "dep:github/openmathlib/openblas", "dep:github/OpenMathLib/OpenBLAS", None, False, id="namespace"),
        pytest.param("dep:golang/github.com/junegunn/fzf", "dep:golang/github.com/junegunn/fzf", "dep:golang/github.com/junegunn/fzf", None, False, id="deep-namespace"),
        pytest.param("dep:pypi/numpy@2.0", "dep:pypi/numpy", "dep:pypi/numpy@==2.0", "==2.0", False, id="exact-version"),
        pytest.param("dep:pypi/Typing_Extensions", "dep:pypi/typing-extensions", "dep:pypi/Typing_Extensions", None, False, id="pypi-name-canonical"),
        pytest.param("dep:virtual/interface/lapack@>=3.7.1", "dep:virtual/interface/lapack", "dep:virtual/interface/lapack@>=3.7.1", ">=3.7.1", False, id="range"),
        pytest.param("dep:generic/openjpeg@>=2.0,<3", "dep:generic/openjpeg", "dep:generic/openjpeg@<3,>=2.0", "<3,>=2.0", False, id="two-bounds"),
        pytest.param("dep:generic/openssl@%3E%3D3", "dep:generic/openssl", "dep:generic/openssl@>=3", ">=3", False, id="percent-encoded"),
        pytest.param("dep:generic/cmake?repository_url=https://gitlab.kitware.com/cmake/cmake", "dep:generic/cmake", "dep:generic/cmake?repository_url=https://gitlab.kitware.com/cmake/cmake", None, False, id="qualifier"),
        pytest.param("dep:Generic/zlib", "dep:generic/zlib", "dep:generic/zlib", None, False, id="type-lowercased"),
        pytest.param("pkg:generic/openssl", "dep:generic/openssl", "dep:generic/openssl", None, True, id="older-pkg"),
        pytest.param("virtual:compiler/c", "dep:virtual/compiler/c", "dep:virtual/compiler/c", None, True, id="older-virtual"),
        pytest.param("virtual:Interface/BLAS", "dep:virtual/interface/blas", "dep:virtual/interface/BLAS", None, True, id="older-virtual-case"),
    ],
)  # fmt: skip
def test_depurl_parsing(text: str, key: str, canonical: str, version: str | None, legacy: bool) -> None:
    depurl = DepURL.parse(text)
    assert (depurl.key, str(depurl), depurl.legacy) == (key, canonical, legacy)
    assert depurl.version == (SpecifierSet(version) if version else None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("openssl", "'openssl' is not a DepURL: expected 'dep:TYPE/NAME' (e.g. 'dep:generic/openssl' or 'dep:virtual/compiler/c')", id="no-scheme"),
        pytest.param("conda:openssl", "'conda:openssl' is not a DepURL: expected 'dep:TYPE/NAME' (e.g. 'dep:generic/openssl' or 'dep:virtual/compiler/c')", id="other-scheme"),
        pytest.param("dep:openssl", "invalid DepURL 'dep:openssl': expected 'dep:TYPE/NAME' (e.g. 'dep:generic/openssl' or 'dep:virtual/compiler/c')", id="missing-type"),
        pytest.param("dep:1st/openssl", "invalid DepURL 'dep:1st/openssl': type '1st' must be ASCII letters, digits, '.', '+' or '-', not starting with a digit", id="bad-type"),
        pytest.param("dep:virtual/compilers/c", "invalid DepURL 'dep:virtual/compilers/c': a virtual DepURL is 'dep:virtual/compiler/NAME' or 'dep:virtual/interface/NAME' (e.g. 'dep:virtual/compiler/c', 'dep:virtual/interface/blas')", id="virtual-namespace"),
        pytest.param("dep:virtual/c", "invalid DepURL 'dep:virtual/c': a virtual DepURL is 'dep:virtual/compiler/NAME' or 'dep:virtual/interface/NAME' (e.g. 'dep:virtual/compiler/c', 'dep:virtual/interface/blas')", id="virtual-no-namespace"),
        pytest.param("dep:generic/openssl>=3", "invalid DepURL 'dep:generic/openssl>=3': 'openssl>=3' is no name (spaces and <>=!~,@ are not allowed; a version goes after '@', as in 'dep:generic/openssl@>=3')", id="version-without-at"),
        pytest.param("dep:generic/openssl@", "invalid DepURL 'dep:generic/openssl@': nothing after '@'; write a version (@2.0) or range (@>=2.0)", id="empty-version"),
        pytest.param("dep:generic/openssl@~=3.0", "invalid DepURL 'dep:generic/openssl@~=3.0': '~=' is not allowed in a DepURL version; use >=, >, <=, <, == joined by ','", id="compatible-release"),
        pytest.param("dep:generic/openssl@!=3.0", "invalid DepURL 'dep:generic/openssl@!=3.0': '!=' is not allowed in a DepURL version; use >=, >, <=, <, == joined by ','", id="exclusion"),
        pytest.param("dep:generic/openssl@>=3.x", "invalid DepURL 'dep:generic/openssl@>=3.x': '>=3.x' is not a version (@2.0) or version range (@>=2.0,<3)", id="bad-version"),
        pytest.param("dep:generic/cmake?url", "invalid DepURL 'dep:generic/cmake?url': qualifier 'url' is not KEY=VALUE", id="bad-qualifier"),
    ],
)  # fmt: skip
def test_invalid_depurls(text: str, message: str) -> None:
    with pytest.raises(InvalidDepURL) as caught:
        DepURL.parse(text)
    assert str(caught.value) == message


def test_external_requirement_with_markers() -> None:
    requirement = ExternalRequirement.parse("dep:generic/XCB; platform_system=='Linux'")
    assert requirement.depurl.key == "dep:generic/xcb"
    assert requirement.marker is not None
    assert requirement.marker.evaluate({"platform_system": "Linux"})
    assert not requirement.marker.evaluate({"platform_system": "Windows"})
    with pytest.raises(InvalidDepURL) as caught:
        ExternalRequirement.parse("dep:generic/git; python_version <")
    assert (
        str(caught.value)
        == "invalid marker in 'dep:generic/git; python_version <': Expected a marker variable or quoted string"
    )


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        pytest.param("openssl", ">=3", "openssl >=3", id="name"),
        pytest.param("pyqt >=5,<6", ">=5.15", "pyqt >=5,<6,>=5.15", id="own-window"),
        pytest.param("libblas * *_openblas", ">=3.9", "libblas >=3.9 *_openblas", id="any-version-with-build"),
        pytest.param("libblas 3.9.* *_mkl", "<4", "libblas 3.9.*,<4 *_mkl", id="window-with-build"),
        pytest.param("libblas * *_netlib", None, "libblas * *_netlib", id="no-version"),
    ],
)
def test_constrain_keeps_window_and_build(spec: str, version: str | None, expected: str) -> None:
    assert constrain(spec, version) == expected


# --- the loader -------------------------------------------------------------------------------

MINIMAL = '[project]\nname = "p"\nversion = "1"\n'

BAD_EXTERNAL = [
    pytest.param('external = ["dep:generic/git"]\n' + MINIMAL, "external: expected a table (PEP 725)", id="not-a-table"),
    pytest.param(
        MINIMAL + '[external]\nbuild-require = ["dep:generic/git"]\n',
        "external.build-require: not a PEP 725 [external] field; did you mean 'build-requires'?",
        id="typo-key",
    ),
    pytest.param(
        MINIMAL + '[external]\nconda = ["git"]\n',
        "external.conda: not a PEP 725 [external] field; PEP 725 defines build-requires, host-requires, "
        "dependencies, optional-build-requires, optional-host-requires, optional-dependencies, dependency-groups",
        id="unknown-key",
    ),
    pytest.param(
        MINIMAL + '[external]\nhost-requires = "dep:generic/openssl"\n',
        'external.host-requires: expected a list of DepURL strings, e.g. ["dep:generic/openssl", "dep:virtual/compiler/c"]',
        id="not-a-list",
    ),
    pytest.param(
        MINIMAL + '[external]\nhost-requires = ["dep:generic/zlib", "openssl"]\n',
        "external.host-requires[1]: 'openssl' is not a DepURL: expected 'dep:TYPE/NAME' (e.g. 'dep:generic/openssl' or 'dep:virtual/compiler/c')",
        id="not-a-depurl",
    ),
    pytest.param(
        MINIMAL + '[external]\ndependencies = ["dep:generic/git@~=2.40"]\n',
        "external.dependencies[0]: invalid DepURL 'dep:generic/git@~=2.40': '~=' is not allowed in a DepURL version; use >=, >, <=, <, == joined by ','",
        id="bad-operator",
    ),
    pytest.param(
        MINIMAL + '[external]\nbuild-requires = ["dep:virtual/compiler/c; os_name =="]\n',
        "external.build-requires[0]: invalid marker in 'dep:virtual/compiler/c; os_name ==': Expected a marker variable or quoted string",
        id="bad-marker",
    ),
    pytest.param(
        MINIMAL + '[external]\noptional-host-requires = ["dep:generic/tk"]\n',
        "external.optional-host-requires: expected a table of extra-name = [DepURLs]",
        id="optional-not-table",
    ),
    pytest.param(
        MINIMAL + '[external.optional-dependencies]\n"bad extra" = ["dep:generic/git"]\n',
        "external.optional-dependencies.bad extra: 'bad extra' is not a valid extra name (letters, digits, '.', '_', '-')",
        id="bad-extra-name",
    ),
    pytest.param(
        MINIMAL + '[external.optional-build-requires]\nDev = ["dep:generic/nodejs"]\ndev = ["dep:generic/git"]\n',
        "external.optional-build-requires.dev: same extra as another key once normalized (PEP 685); merge the two",
        id="duplicate-extra",
    ),
    pytest.param(
        MINIMAL + '[external.optional-build-requires]\ndev = ["dep:generic"]\n',
        "external.optional-build-requires.dev[0]: invalid DepURL 'dep:generic': expected 'dep:TYPE/NAME' (e.g. 'dep:generic/openssl' or 'dep:virtual/compiler/c')",
        id="bad-optional-item",
    ),
    pytest.param(
        MINIMAL + '[external.dependency-groups]\ndev = ["dep:generic/catch2", { include-group = "nope" }]\n',
        "external.dependency-groups.dev[1]: include-group 'nope' names no group (defined: dev)",
        id="group-include-unknown",
    ),
    pytest.param(
        MINIMAL + '[external.dependency-groups]\ndev = ["catch2"]\n',
        "external.dependency-groups.dev[0]: 'catch2' is not a DepURL: expected 'dep:TYPE/NAME' (e.g. 'dep:generic/openssl' or 'dep:virtual/compiler/c')",
        id="group-item-not-depurl",
    ),
    pytest.param(
        MINIMAL + '[external.dependency-groups]\ndev = [3]\n',
        "external.dependency-groups.dev[0]: expected a DepURL string or {include-group = \"name\"}",
        id="group-item-not-string",
    ),
    pytest.param(
        MINIMAL + '[tool.conda-source.mapping]\n"dep:generic/openssl@>=3" = "openssl"\n',
        "tool.conda-source.mapping.dep:generic/openssl@>=3: 'dep:generic/openssl@>=3': an override names a DepURL without version, qualifiers or subpath",
        id="override-key-with-version",
    ),
    pytest.param(
        MINIMAL + '[tool.conda-source.mapping]\n"dep:openssl" = "openssl"\n',
        "tool.conda-source.mapping.dep:openssl: invalid DepURL 'dep:openssl': expected 'dep:TYPE/NAME' (e.g. 'dep:generic/openssl' or 'dep:virtual/compiler/c')",
        id="override-key-invalid",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD_EXTERNAL)
def test_bad_external_tables(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(InvalidProjectError) as caught:
        load_project(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'pyproject.toml'}: {message}"


def test_every_external_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n[external]\nbuild-requires = ["c"]\nhost-requires = ["dep:generic/x@~=1"]\n'
    )
    with pytest.raises(InvalidProjectError) as caught:
        load_project(tmp_path)
    assert [p.key for p in caught.value.problems] == [
        "project.version",
        "external.build-requires[0]",
        "external.host-requires[0]",
    ]


def test_sample_project_is_read_whole() -> None:
    external = load_project(SAMPLE).external
    assert [d.requirement.text for d in external.build_requires] == ["dep:virtual/compiler/c"]
    assert [(d.key, d.requirement.depurl.key) for d in external.host_requires] == [
        ("external.host-requires[0]", "dep:generic/answer"),
        ("external.host-requires[1]", "dep:generic/zlib"),
    ]
    assert external.extras == ("linalg",)
    assert [d.key for d in external.dependency_groups["dev"]] == [
        "external.dependency-groups.dev[0]",
        "external.dependency-groups.tools[0]",
    ]


def test_external_table_in_a_project_without_project_table(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    (tmp_path / "pyproject.toml").write_text('[external]\nbuild-requires = ["dep:virtual/compiler/c"]\n')
    spec = load_project(tmp_path)
    assert not spec.has_project_table
    assert spec.external.build_requires[0].requirement.depurl.key == "dep:virtual/compiler/c"


# --- the bundled table ------------------------------------------------------------------------


def test_bundled_table_names_its_source_and_date() -> None:
    table = external_table()
    assert any("conda-forge.mapping.json" in line for line in table.header)
    assert table.generated[:4].isdigit() and table.generated[4] == "-"


@pytest.mark.parametrize(
    ("key", "build", "host", "run"),
    [
        pytest.param("dep:generic/libwebp", ("libwebp",), ("libwebp-base",), ("libwebp",), id="per-role"),
        pytest.param("dep:generic/libxml2", (), ("libxml2", "libxml2-devel"), ("libxml2",), id="nothing-to-build-with"),
        pytest.param("dep:virtual/compiler/c", ("c-compiler",), ("c-compiler",), ("c-compiler",), id="compiler-not-jinja"),
        pytest.param("dep:generic/libffi", ("libffi",), ("libffi",), ("libffi",), id="first-entry-not-msys2"),
        pytest.param("dep:virtual/interface/blas", ("libblas * *_netlib",), ("libblas * *_netlib",), ("libblas",), id="build-string"),
        pytest.param("dep:generic/libyaml", ("yaml",), ("yaml",), ("yaml",), id="renamed"),
        pytest.param("dep:github/kitware/cmake", ("cmake",), ("cmake",), ("cmake",), id="registry-alias"),
        pytest.param("dep:virtual/compiler/go", (), (), (), id="no-conda-package"),
    ],
)  # fmt: skip
def test_real_bundled_entries(key: str, build: tuple[str, ...], host: tuple[str, ...], run: tuple[str, ...]) -> None:
    roles, _ = external_table().entries[key]
    assert (roles["build"], roles["host"], roles["run"]) == (build, host, run)


def test_bundled_specs_are_strict_matchspecs() -> None:
    from rattler import MatchSpec

    for roles, _ in external_table().entries.values():
        for spec in (spec for specs in roles.values() for spec in specs):
            MatchSpec(spec, strict=True)


def map_one(text: str, role: str = "host", mapper: NameMapper | None = None, target: TargetEnv = LINUX_311) -> object:
    return map_external(
        ExternalRequirement.parse(text), "external.x[0]", role, target, mapper or NameMapper(), file="F"
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "role", "specs", "dropped"),
    [
        pytest.param("dep:generic/libwebp", "build", ("libwebp",), None, id="build-role"),
        pytest.param("dep:generic/libwebp", "host", ("libwebp-base",), None, id="host-role"),
        pytest.param("dep:generic/libwebp@>=1.4", "run", ("libwebp >=1.4",), None, id="run-role-versioned"),
        pytest.param("dep:virtual/interface/lapack@>=3.9", "host", ("liblapack >=3.9", "liblapacke"), None, id="version-on-first-spec"),
        pytest.param("dep:generic/openjpeg@>2.0,<3", "host", ("openjpeg >2.0,!=2.0.post*,<3dev0",), None, id="pep440-translated"),
        pytest.param("dep:generic/libxml2", "build", (), "nothing to install in the build role by " + bundled("build"), id="role-needs-nothing"),
        pytest.param("dep:generic/xcb; sys_platform == 'win32'", "host", (), "marker is false for python 3.11.0 on linux-64", id="marker-false"),
        pytest.param("dep:pypi/torch@>=2", "run", ("pytorch >=2",), None, id="pypi-through-pypi-mapping"),
        pytest.param("pkg:generic/zlib", "host", ("zlib",), None, id="older-spelling"),
    ],
)  # fmt: skip
def test_mapping_by_role(text: str, role: str, specs: tuple[str, ...], dropped: str | None) -> None:
    mapped = map_one(text, role)
    assert (mapped.specs, mapped.dropped) == (specs, dropped)  # type: ignore[attr-defined]


def test_mapping_notes_older_spelling_and_qualifiers() -> None:
    mapped = map_one("pkg:generic/cmake?repository_url=https://gitlab.kitware.com/cmake/cmake")
    assert mapped.notes == (  # type: ignore[attr-defined]
        "older PEP 725 draft spelling; write 'dep:generic/cmake?repository_url=https://gitlab.kitware.com/cmake/cmake'",
        "qualifiers and subpath are not used by the conda mapping, which looks up the name only",
    )
    assert str(mapped.provenance[0]) == bundled("host")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "dep:generic/libanswer",
            "F: external.x[0]: no conda package for 'dep:generic/libanswer' (no mapping layer knows it); "
            "map it with --map 'dep:generic/libanswer=CONDA-SPEC' or in [tool.conda-source.mapping] as "
            '"dep:generic/libanswer" = "CONDA-SPEC"',
            id="unknown",
        ),
        pytest.param(
            "dep:virtual/compiler/cpp",
            "F: external.x[0]: no conda package for 'dep:virtual/compiler/cpp' (no mapping layer knows it; "
            "the PEP 804 registry spells it 'dep:virtual/compiler/cxx'); map it with --map 'dep:virtual/compiler/cpp=CONDA-SPEC' "
            'or in [tool.conda-source.mapping] as "dep:virtual/compiler/cpp" = "CONDA-SPEC"',
            id="close-match",
        ),
        pytest.param(
            "dep:virtual/compiler/go",
            "F: external.x[0]: no conda package for 'dep:virtual/compiler/go' (the bundled conda-forge mapping of "
            "{date} lists no conda package for it); map it with --map 'dep:virtual/compiler/go=CONDA-SPEC' or in "
            '[tool.conda-source.mapping] as "dep:virtual/compiler/go" = "CONDA-SPEC"',
            id="no-package",
        ),
    ],
)
def test_unmapped_depurl_names_the_fix(text: str, message: str) -> None:
    with pytest.raises(UnmappedDepURLError) as caught:
        map_one(text)
    assert str(caught.value) == message.format(date=external_table().generated)
    assert caught.value.depurl == DepURL.parse(text).key


# --- override layers --------------------------------------------------------------------------


def test_override_layers_in_order(tmp_path: Path) -> None:
    user_file = tmp_path / "mapping.toml"
    user_file.write_text('[mapping]\n"dep:generic/openssl" = "openssl-user"\n"dep:generic/zlib" = "zlib-user"\n')
    user = load_user_layer({"CONDA_SOURCE_MAPPING": str(user_file)})
    assert user is not None
    cli = parse_cli_overrides(["dep:generic/openssl=openssl-cli >=3"])
    project = parse_override_table(
        {"dep:generic/OpenSSL": "openssl-project", "dep:generic/tk": "tk-project"}, "project", "P"
    )
    config = parse_cli_overrides(["dep:generic/tk=tk-config", "pkg:generic/libffi=libffi-config"], "conda-config", "C")
    mapper = NameMapper([cli, project, config, user])
    cases = {
        "dep:generic/openssl": (("openssl-cli >=3",), "cli (--map dep:generic/openssl=openssl-cli >=3)"),
        "dep:generic/tk": (("tk-project",), "project (P.dep:generic/OpenSSL)".replace("OpenSSL", "tk")),
        "dep:generic/libffi": (("libffi-config",), "conda-config (C pkg:generic/libffi=libffi-config)"),
        "dep:generic/zlib": (("zlib-user",), f"user ({user_file}: mapping.dep:generic/zlib)"),
        "dep:generic/libwebp": (("libwebp-base",), bundled("host")),
    }
    for key, (specs, why) in cases.items():
        mapped = map_one(key, "host", mapper)
        assert (mapped.specs, str(mapped.provenance[0])) == (specs, why), key  # type: ignore[attr-defined]


def test_override_serves_every_role_and_can_drop() -> None:
    mapper = NameMapper([parse_cli_overrides(["dep:generic/libwebp=webp-all", "dep:generic/git="])])
    assert [map_one("dep:generic/libwebp", role, mapper).specs for role in ("build", "host", "run")] == [
        ("webp-all",)
    ] * 3  # type: ignore[attr-defined]
    dropped = map_one("dep:generic/git", "run", mapper)
    assert dropped.dropped == "mapped to nothing by cli (--map dep:generic/git=)"  # type: ignore[attr-defined]


def test_override_for_an_unknown_depurl_adds_the_version() -> None:
    mapper = NameMapper([parse_override_table({"dep:cran/nat": "r-nat"}, "project", "P")])
    assert map_one("dep:cran/nat@>=1.10", "run", mapper).specs == ("r-nat >=1.10",)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        pytest.param("dep:generic/openssl", "--map dep:generic/openssl: expected DEPURL=CONDA-SPEC (e.g. --map 'dep:generic/openssl=openssl >=3')", id="no-equals"),
        pytest.param("dep:openssl=openssl", "--map dep:openssl=openssl: invalid DepURL 'dep:openssl': expected 'dep:TYPE/NAME' (e.g. 'dep:generic/openssl' or 'dep:virtual/compiler/c'); expected DEPURL=CONDA-SPEC (e.g. --map 'dep:generic/openssl=openssl >=3')", id="bad-depurl"),
        pytest.param("dep:generic/openssl@3=openssl", "--map dep:generic/openssl@3=openssl: 'dep:generic/openssl@3': an override names a DepURL without version, qualifiers or subpath; expected DEPURL=CONDA-SPEC (e.g. --map 'dep:generic/openssl=openssl >=3')", id="versioned-key"),
        pytest.param("dep:generic/openssl=openssl >=", "--map dep:generic/openssl=openssl >=: invalid conda spec 'openssl >=': unable to parse version spec: >=", id="bad-spec"),
    ],
)  # fmt: skip
def test_bad_depurl_overrides(flag: str, message: str) -> None:
    with pytest.raises(MappingConfigError) as caught:
        parse_cli_overrides([flag])
    assert str(caught.value) == message


def test_override_keys_are_canonical() -> None:
    with pytest.raises(MappingConfigError) as caught:
        parse_override_table({"dep:generic/OpenSSL": "a", "pkg:generic/openssl": "b"}, "project", "W")
    assert str(caught.value) == "W.pkg:generic/openssl: duplicates 'W.dep:generic/OpenSSL' (same canonical name)"


# --- the plan ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extras", "groups", "target", "build", "run"),
    [
        pytest.param(
            (), (), LINUX_311,
            ["setuptools >=64", "c-compiler", "libanswer >=1.0"],
            ["python >=3.9", "openssl >=3"],
            id="linux",
        ),
        pytest.param(
            ("linalg",), ("dev",), WIN_311,
            ["setuptools >=64", "c-compiler", "libanswer >=1.0", "zlib", "libblas >=3.9 *_netlib", "liblapack >=3.9", "liblapacke"],
            ["python >=3.9", "openssl >=3", "cmake", "ninja"],
            id="windows-extra-group",
        ),
    ],
)  # fmt: skip
def test_sample_plan(
    extras: tuple[str, ...], groups: tuple[str, ...], target: TargetEnv, build: list[str], run: list[str]
) -> None:
    result = plan(PlanRequest(SAMPLE, target, extras, groups, overrides=NO_USER_MAPPING))
    assert [spec for item in result.build for spec in item.specs] == build
    assert [spec for item in result.run for spec in item.specs] == run


def test_plan_origins_and_reasons() -> None:
    result = plan(PlanRequest(SAMPLE, LINUX_311, ("linalg",), overrides=NO_USER_MAPPING))
    rows = {item.origin: item for item in (*result.build, *result.run)}
    assert str(rows["external.build-requires[0]"].provenance[0]) == bundled("build")
    assert (
        str(rows["external.host-requires[0]"].provenance[0]) == "project (tool.conda-source.mapping.dep:generic/answer)"
    )
    assert rows["external.host-requires[1]"].dropped == "marker is false for python 3.11.0 on linux-64"
    assert rows["external.optional-host-requires.linalg[0]"].specs == ("libblas >=3.9 *_netlib",)
    assert str(rows["external.dependencies[0]"].provenance[0]) == bundled("run")


def test_cli_map_wins_over_the_project_for_a_depurl() -> None:
    request = PlanRequest(SAMPLE, LINUX_311, overrides=Overrides(("dep:generic/answer=answer-headers",), (), False))
    answer = next(item for item in plan(request).build if item.origin == "external.host-requires[0]")
    assert answer.specs == ("answer-headers >=1.0",)
    assert str(answer.provenance[0]) == "cli (--map dep:generic/answer=answer-headers)"


def test_external_extra_pulled_in_by_a_self_reference(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "me"\nversion = "1"\n[project.optional-dependencies]\nall = ["me[gui]"]\n'
        '[external.optional-host-requires]\ngui = ["dep:generic/tk"]\n'
    )
    result = plan(PlanRequest(tmp_path, LINUX_311, ("all",), overrides=NO_USER_MAPPING))
    assert [(item.origin, item.specs) for item in result.build if item.origin.startswith("external.")] == [
        ("external.optional-host-requires.gui[0]", ("tk",))
    ]


@pytest.mark.parametrize(
    ("extras", "groups", "message"),
    [
        pytest.param(("gui",), (), "{file}: no extra named 'gui' (defined: linalg)", id="unknown-extra"),
        pytest.param(
            (), ("docs",), "{file}: no dependency group named 'docs' (defined: dev, tools)", id="unknown-group"
        ),
    ],
)
def test_external_extras_and_groups_are_selectable(
    extras: tuple[str, ...], groups: tuple[str, ...], message: str
) -> None:
    with pytest.raises(SelectionError) as caught:
        plan(PlanRequest(SAMPLE, LINUX_311, extras, groups, overrides=NO_USER_MAPPING))
    assert str(caught.value) == message.format(file=SAMPLE / "pyproject.toml")


def test_unknown_depurl_in_a_project_is_one_clean_cli_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(MINIMAL + '[external]\nhost-requires = ["dep:generic/libfoo"]\n')
    code = main(["plan", str(tmp_path), "--python", "3.11", "--no-user-mapping"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == (
        f"conda-source: error: {tmp_path / 'pyproject.toml'}: external.host-requires[0]: no conda package for "
        "'dep:generic/libfoo' (no mapping layer knows it); map it with --map 'dep:generic/libfoo=CONDA-SPEC' or in "
        '[tool.conda-source.mapping] as "dep:generic/libfoo" = "CONDA-SPEC"\n'
    )


def test_cli_shows_external_rows_with_their_origin(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", str(SAMPLE), "--python", "3.11", "--platform", "linux-64", "--no-user-mapping"])
    out, _ = capsys.readouterr()
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert ["dep:virtual/compiler/c", "c-compiler", *bundled("build").split(), "(external.build-requires[0])"] in rows
    assert [
        "dep:generic/answer@>=1.0", "libanswer", ">=1.0", "project", "(tool.conda-source.mapping.dep:generic/answer)",
        "(external.host-requires[0])",
    ] in rows  # fmt: skip
    assert out.splitlines()[-5:] == [
        "  setuptools >=64",
        "  c-compiler",
        "  libanswer >=1.0",
        "  python >=3.9",
        "  openssl >=3",
    ]


def test_cli_json_carries_origin_and_role(capsys: pytest.CaptureFixture[str]) -> None:
    main(["plan", str(SAMPLE), "--python", "3.11", "--platform", "linux-64", "--no-user-mapping", "--json"])
    document = json.loads(capsys.readouterr().out)
    openssl = next(item for item in document["run"] if item["origin"] == "external.dependencies[0]")
    assert openssl["specs"] == ["openssl >=3"]
    assert openssl["provenance"][0]["detail"].endswith("run role")


# --- tools/regen_external.py ------------------------------------------------------------------


def test_regeneration_keeps_first_installable_entry_per_role() -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "tools"))
    try:
        import regen_external
    finally:
        sys.path.pop(0)
    source = {
        "mappings": [
            {
                "id": "dep:virtual/compiler/c",
                "specs": {"build": ["{{ compiler('c') }}"], "host": [], "run": ["c-compiler"]},
            },
            {"id": "dep:virtual/compiler/c", "specs": "c-compiler"},
            {"id": "dep:generic/libffi", "specs": "libffi"},
            {"id": "dep:generic/libffi", "specs": "m2-libffi"},
            {"id": "dep:generic/libwebp", "specs": {"build": "libwebp", "host": "libwebp-base", "run": "libwebp"}},
            {"id": "dep:generic/webp", "specs_from": "dep:generic/libwebp"},
            {"id": "dep:generic/bad", "specs": "not a >= spec ::"},
            {"id": "dep:virtual/compiler/go", "specs": []},
        ]
    }
    registry = {
        "definitions": [
            {"id": "dep:github/webmproject/libwebp", "provides": "dep:generic/libwebp"},
            {"id": "dep:github/x/both", "provides": ["dep:generic/libffi", "dep:generic/libwebp"]},
        ]
    }
    rows = {row[0]: row[1:] for row in regen_external.build_rows(source, registry)}
    assert rows == {
        "dep:virtual/compiler/c": ("c-compiler", "c-compiler", "c-compiler", "conda-forge"),
        "dep:generic/libffi": ("libffi", "libffi", "libffi", "conda-forge"),
        "dep:generic/libwebp": ("libwebp", "libwebp-base", "libwebp", "conda-forge"),
        "dep:generic/webp": ("libwebp", "libwebp-base", "libwebp", "conda-forge"),
        "dep:virtual/compiler/go": ("-", "-", "-", "conda-forge"),
        "dep:github/webmproject/libwebp": ("libwebp", "libwebp-base", "libwebp", "registry alias of dep:generic/libwebp"),
    }  # fmt: skip


# --- end to end: [external] needs installed in the one transaction, before the build ------------


@pytest.fixture(scope="module")
def answer_channel(tmp_path_factory: pytest.TempPathFactory) -> str:
    """libanswer: a header-only C library whose header lands in PREFIX/include; and a stand-in
    openssl package, for the run dependency."""
    from wheelmaker import make_wheel

    from conda_source.testing.channel import make_channel

    root = tmp_path_factory.mktemp("answer-channel")
    header = b"static inline long answer(void) { return 42; }\n"
    wheels = [
        make_wheel(root, name="libanswer", version="1.0", files={"libanswer-1.0.data/data/include/answer.h": header}),
        make_wheel(root, name="openssl", version="3.0.0", files={}),
    ]
    make_channel(root / "channel", wheels)
    return (root / "channel").as_uri()


@pytest.mark.network
@pytest.mark.slow
def test_develop_install_installs_external_needs_before_building(
    build_channel: str, answer_channel: str, prefix: Path, tmp_path: Path
) -> None:
    import subprocess

    from rattler import PrefixRecord

    from conda_source.engine.develop_install import DevelopRequest, develop_install
    from conda_source.target import probe

    project = copy_project("external-deps", tmp_path)
    request = DevelopRequest((project,), probe(prefix), (answer_channel, build_channel), overrides=NO_USER_MAPPING)
    result = develop_install(request)
    assert {"c-compiler", "libanswer", "openssl"} <= {dist.rsplit("-", 2)[0] for dist in result.transaction.link}
    assert (prefix / "include" / "answer.h").is_file()
    code = "import external_deps; print(external_deps.answer())"
    completed = subprocess.run([prefix / "bin" / "python", "-c", code], capture_output=True, text=True)
    assert (completed.returncode, completed.stdout) == (0, "42\n"), completed.stderr
    records = {PrefixRecord.from_path(p).name.normalized: p for p in (prefix / "conda-meta").glob("*.json")}
    assert {"libanswer", "openssl", "c-compiler", "external-deps"} <= set(records)


@pytest.mark.network
@pytest.mark.slow
def test_build_local_artifact_depends_on_external_run_dependencies(
    build_channel: str, answer_channel: str, tmp_path: Path
) -> None:

    from conda_source.engine.build_local import BuildRequest, build_local
    from conda_source.target import probe
    from conda_source.testing import make_test_prefix

    project = copy_project("external-deps", tmp_path / "src")
    build_env = make_test_prefix(tmp_path / "build-env")
    result = build_local(
        BuildRequest(
            (project,),
            tmp_path / "out",
            None,
            probe(build_env),
            (answer_channel, build_channel),
            overrides=NO_USER_MAPPING,
        )
    )
    (package,) = result.packages
    assert package.depends[1:] == ("openssl >=3",)  # after python; libanswer is a host need, not a run one
    assert {"c-compiler", "libanswer"} <= {dist.rsplit("-", 2)[0] for dist in result.installed}


def test_external_table_is_not_loaded_at_import() -> None:
    import subprocess

    code = (
        "import conda_source.mapping.external as e, conda_source.engine.plan, conda_source.cli;"
        "print(e.external_table.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"
