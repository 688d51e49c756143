"""One requirement + a target -> conda specs: markers, extras, windows, drops, notes."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement

from conda_source.mapping.names import NameMapper
from conda_source.mapping.overrides import parse_override_table
from conda_source.mapping.requirements import map_requirement
from conda_source.target import TargetEnv

LINUX_311 = TargetEnv.from_spec("3.11", "linux-64")
WIN_39 = TargetEnv.from_spec("3.9.18", "win-64")
OSX_312 = TargetEnv.from_spec("3.12", "osx-arm64")


@pytest.mark.parametrize(
    ("requirement", "target", "specs"),
    [
        # Markers are judged for the target, never for the interpreter running the tests.
        pytest.param("tomli>=1.1; python_version < '3.11'", WIN_39, ("tomli >=1.1",), id="py-marker-true-for-3.9"),
        pytest.param("tomli>=1.1; python_version < '3.11'", LINUX_311, (), id="py-marker-false-for-3.11"),
        pytest.param("pywin32; sys_platform == 'win32'", WIN_39, ("pywin32",), id="win-marker-on-win"),
        pytest.param("pywin32; sys_platform == 'win32'", LINUX_311, (), id="win-marker-on-linux"),
        pytest.param(
            "appnope; platform_machine == 'arm64' and platform_system == 'Darwin'",
            OSX_312,
            ("appnope",),
            id="osx-arm64",
        ),
        pytest.param("x; python_full_version >= '3.9.17'", WIN_39, ("x",), id="full-version"),
        pytest.param("x; implementation_name == 'pypy'", LINUX_311, (), id="implementation"),
        # Names, windows and several specs from the bundled table.
        pytest.param("PyQt5>=5.15", LINUX_311, ("pyqt >=5,<6,>=5.15",), id="window-and-constraint"),
        pytest.param("cupy-cuda12x>=13", LINUX_311, ("cupy >=13", "cuda-version 12.*"), id="two-specs"),
        pytest.param("torch>=2.1,<3", LINUX_311, ("pytorch >=2.1,<3dev0",), id="renamed-with-bounds"),
        pytest.param("numpy", LINUX_311, ("numpy",), id="unconstrained"),
    ],
)
def test_mapping_for_a_target(requirement: str, target: TargetEnv, specs: tuple[str, ...]) -> None:
    mapped = map_requirement(Requirement(requirement), "project.dependencies[0]", target, NameMapper())
    assert mapped.specs == specs
    assert (mapped.dropped is None) == bool(specs)


def test_dropped_by_marker_says_why() -> None:
    mapped = map_requirement(Requirement("tomli; python_version < '3.11'"), "k", LINUX_311, NameMapper())
    assert mapped.dropped == "marker is false for python 3.11.0 on linux-64"


def test_extra_marker_uses_the_extra_being_mapped() -> None:
    requirement = Requirement("pytest; extra == 'test'")
    assert map_requirement(requirement, "k", LINUX_311, NameMapper(), extra="test").specs == ("pytest",)
    assert map_requirement(requirement, "k", LINUX_311, NameMapper(), extra="").specs == ()


def test_dropped_by_override_names_the_override() -> None:
    mapper = NameMapper(
        [parse_override_table({"internal": ""}, "project", "pyproject.toml: tool.conda-source.mapping")]
    )
    mapped = map_requirement(Requirement("internal>=1"), "k", LINUX_311, mapper)
    assert mapped.specs == ()
    assert mapped.dropped == "mapped to nothing by project (pyproject.toml: tool.conda-source.mapping.internal)"


def test_unmapped_dependency_extra_is_kept_with_a_visible_note() -> None:
    mapped = map_requirement(Requirement("dask[array,dataframe]>=2024.1"), "k", LINUX_311, NameMapper())
    assert mapped.specs == ("dask-core >=2024.1",)
    assert mapped.notes == (
        "extra 'array' of 'dask' has no conda mapping: mapped to the base package only; "
        "map 'dask[array]' to the conda packages it needs",
        "extra 'dataframe' of 'dask' has no conda mapping: mapped to the base package only; "
        "map 'dask[dataframe]' to the conda packages it needs",
    )


def test_mapped_dependency_extra_adds_its_specs_and_provenance() -> None:
    layer = parse_override_table({"dask[array]": ["numpy >=1.24", "dask-core"]}, "project", "P")
    mapped = map_requirement(Requirement("dask[array]>=2024.1"), "k", LINUX_311, NameMapper([layer]))
    assert mapped.specs == ("dask-core >=2024.1", "numpy >=1.24", "dask-core")
    assert [p.source for p in mapped.provenance] == ["bundled", "project"]
    assert mapped.notes == ()


def test_direct_reference_is_kept_with_a_note() -> None:
    mapped = map_requirement(Requirement("six @ https://example.invalid/six.whl"), "k", LINUX_311, NameMapper())
    assert mapped.specs == ("six",)
    assert mapped.notes == (
        "direct reference 'https://example.invalid/six.whl' cannot be installed by conda; six comes from the channels instead",
    )


def test_to_dict_round_trips_every_field() -> None:
    mapped = map_requirement(Requirement("torch>=2"), "project.dependencies[3]", LINUX_311, NameMapper())
    assert mapped.to_dict() == {
        "requirement": "torch>=2",
        "origin": "project.dependencies[3]",
        "specs": ["pytorch >=2"],
        "provenance": [{"source": "bundled", "detail": mapped.provenance[0].detail}],
        "dropped": None,
        "notes": [],
        "expands": [],
    }
