"""PyPI name -> conda specs: the bundled table, the identity rule, overrides and provenance."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rattler import MatchSpec

from conda_source.errors import MappingConfigError
from conda_source.mapping.names import (
    NameMapper,
    OverrideLayer,
    bundled_table,
    identity_name,
    load_user_layer,
    parse_cli_overrides,
    parse_override_table,
)

TABLE = Path(__file__).parents[1] / "conda_source" / "mapping" / "data" / "pypi-to-conda.tsv"


@pytest.mark.parametrize(
    ("written", "specs", "source"),
    [
        # The traps DESIGN.md lists, written the way projects write them.
        pytest.param("torch", ("pytorch",), "bundled", id="torch"),
        pytest.param("tables", ("pytables",), "bundled", id="tables"),
        pytest.param("matplotlib", ("matplotlib-base",), "bundled", id="matplotlib"),
        pytest.param("dask", ("dask-core",), "bundled", id="dask"),
        pytest.param("msgpack", ("msgpack-python",), "bundled", id="msgpack"),
        pytest.param("build", ("python-build",), "bundled", id="build"),
        pytest.param("PyQt5", ("pyqt >=5,<6",), "bundled", id="pyqt5-window"),
        pytest.param("psycopg2-binary", ("psycopg2",), "bundled", id="psycopg2-binary"),
        pytest.param("cupy-cuda12x", ("cupy", "cuda-version 12.*"), "bundled", id="cupy-two-specs"),
        # Lookup is by canonical name, whatever the spelling.
        pytest.param("Typing_Extensions", ("typing_extensions",), "bundled", id="canonical-underscore"),
        pytest.param("ruamel_yaml", ("ruamel.yaml",), "bundled", id="canonical-dot"),
        pytest.param("zope.interface", ("zope.interface",), "bundled", id="dotted"),
        pytest.param("MatPlotLib", ("matplotlib-base",), "bundled", id="canonical-case"),
        # Not in the table: the identity rule.
        pytest.param("requests", ("requests",), "identity", id="identity"),
        pytest.param("Foo_Bar", ("foo-bar",), "identity", id="identity-lowercase-dash"),
        pytest.param("my.dotted.pkg", ("my.dotted.pkg",), "identity", id="identity-keeps-dots"),
    ],
)
def test_bundled_table_and_identity_rule(written: str, specs: tuple[str, ...], source: str) -> None:
    mapped = NameMapper().map_name(written)
    assert mapped.specs == specs
    assert mapped.provenance.source == source


def test_table_header_names_source_and_date() -> None:
    header = bundled_table().header
    assert any("regro/cf-graph-countyfair mappings/pypi/grayskull_pypi_mapping.json" in line for line in header)
    assert any(line.startswith("generated: 20") for line in header)
    assert bundled_table().generated[:2] == "20"


def test_table_holds_only_differences_and_every_spec_parses() -> None:
    entries = bundled_table().entries
    assert 800 < len(entries) < 2000  # the cf-graph differences (~940) plus our static entries
    for key, (specs, origin) in entries.items():
        assert origin in {"cf-graph", "conda-source"}
        assert specs != (identity_name(key),), f"{key} maps to itself and should not be in the table"
        for spec in specs:
            MatchSpec(spec, strict=True)


def test_provenance_names_the_layer_and_where() -> None:
    mapper = NameMapper(
        [
            parse_cli_overrides(["torch=pytorch-gpu"]),
            parse_override_table(
                {"torch": "pytorch-cpu", "six": "six >=1.16"}, "project", "pyproject.toml: tool.conda-source.mapping"
            ),
            OverrideLayer(
                "user",
                {
                    "torch": (("pytorch-user",), "mapping.toml: mapping.torch"),
                    "dask": (("dask",), "mapping.toml: mapping.dask"),
                },
            ),
        ]
    )
    # cli > project > user > bundled > identity
    torch = mapper.map_name("torch")
    assert (torch.specs, torch.provenance.source, torch.provenance.detail) == (
        ("pytorch-gpu",),
        "cli",
        "--map torch=pytorch-gpu",
    )
    six = mapper.map_name("six")
    assert (six.specs, str(six.provenance)) == (
        ("six >=1.16",),
        "project (pyproject.toml: tool.conda-source.mapping.six)",
    )
    dask = mapper.map_name("dask")
    assert (dask.specs, dask.provenance.source) == (("dask",), "user")
    tables = mapper.map_name("tables")
    assert (tables.specs, tables.provenance.source) == (("pytables",), "bundled")
    assert "cf-graph table" in tables.provenance.detail


@pytest.mark.parametrize("value", [pytest.param("", id="empty-string"), pytest.param([], id="empty-list")])
def test_override_can_drop_a_dependency(value: object) -> None:
    layer = parse_override_table({"pywin32": value}, "project", "where")
    assert NameMapper([layer]).map_name("pywin32").specs == ()


def test_cli_override_takes_several_specs_and_drops() -> None:
    layer = parse_cli_overrides(["cupy-cuda11x=cupy; cuda-version 11.*", "Internal_Lib="])
    assert layer.entries["cupy-cuda11x"][0] == ("cupy", "cuda-version 11.*")
    assert layer.entries["internal-lib"][0] == ()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param(
            ["torch"], "--map torch: expected PYPI-NAME=CONDA-SPEC (e.g. --map torch=pytorch-cpu)", id="no-equals"
        ),
        pytest.param(
            ["=pytorch"], "--map =pytorch: expected PYPI-NAME=CONDA-SPEC (e.g. --map torch=pytorch-cpu)", id="no-name"
        ),
        pytest.param(
            ["torch=pytorch >="],
            "--map torch=pytorch >=: invalid conda spec 'pytorch >=': unable to parse version spec: >=",
            id="bad-version",
        ),
        pytest.param(
            ["torch=conda-forge::pytorch"],
            "--map torch=conda-forge::pytorch: 'conda-forge::pytorch' must be a lowercase conda name, "
            "optionally followed by one version spec (e.g. 'pyqt >=5,<6')",
            id="channel-not-allowed",
        ),
    ],
)
def test_bad_cli_overrides(flags: list[str], message: str) -> None:
    with pytest.raises(MappingConfigError) as caught:
        parse_cli_overrides(flags)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("table", "message"),
    [
        pytest.param(
            {"torch": 3},
            "W.torch: expected a conda spec string or a list of them ('' or [] drops the dependency)",
            id="not-a-string",
        ),
        pytest.param({"not a name!": "x"}, "W.not a name!: not a PyPI name (or name[extra])", id="bad-key"),
        pytest.param(
            {"Torch": "a", "torch": "b"},
            "W.torch: duplicates 'W.Torch' (same canonical name)",
            id="duplicate-canonical",
        ),
        pytest.param([], "W: expected a table of PyPI name = conda spec(s)", id="not-a-table"),
    ],
)
def test_bad_override_tables(table: object, message: str) -> None:
    with pytest.raises(MappingConfigError) as caught:
        parse_override_table(table, "project", "W")
    assert str(caught.value) == message


def test_extra_keys_are_canonical() -> None:
    layer = parse_override_table({"Dask[Array]": ["dask-core", "numpy"]}, "project", "W")
    assert NameMapper([layer]).lookup("dask[array]") is not None


def test_user_mapping_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text('[mapping]\ntorch = "pytorch-cpu"\n')
    layer = load_user_layer({"CONDA_SOURCE_MAPPING": str(path)})
    assert layer is not None
    mapped = NameMapper([layer]).map_name("torch")
    assert (mapped.specs, str(mapped.provenance)) == (("pytorch-cpu",), f"user ({path}: mapping.torch)")


def test_user_mapping_default_location_is_optional(tmp_path: Path) -> None:
    assert load_user_layer({"XDG_CONFIG_HOME": str(tmp_path)}) is None
    (tmp_path / "conda-source").mkdir()
    (tmp_path / "conda-source" / "mapping.toml").write_text('[mapping]\nsix = "six"\n')
    layer = load_user_layer({"XDG_CONFIG_HOME": str(tmp_path)})
    assert layer is not None and "six" in layer.entries


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            None,
            "$CONDA_SOURCE_MAPPING={path}: file not found; point it at a TOML file with a [mapping] table",
            id="missing",
        ),
        pytest.param(
            "[mapping\n",
            "{path}: invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 9)",
            id="bad-toml",
        ),
        pytest.param("[mappings]\n", "{path}: unknown table 'mappings'; only [mapping] is read", id="typo-table"),
    ],
)
def test_bad_user_mapping_file(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "mapping.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(Exception) as caught:
        load_user_layer({"CONDA_SOURCE_MAPPING": str(path)})
    assert str(caught.value) == message.format(path=path)


def test_table_is_not_loaded_at_import() -> None:
    code = (
        "import conda_source.mapping.names as n, conda_source.engine.plan, conda_source.cli;"
        "print(n.bundled_table.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"


def test_regeneration_keeps_only_differences_and_adds_static_entries() -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "tools"))
    try:
        import regen_mapping
    finally:
        sys.path.pop(0)
    source = {
        "requests": {"pypi_name": "requests", "conda_name": "requests"},
        "torch": {"pypi_name": "torch", "conda_name": "pytorch"},
        "ruamel-yaml": {"pypi_name": "ruamel-yaml", "conda_name": "ruamel.yaml"},
        "pyqt5": {"pypi_name": "pyqt5", "conda_name": "pyqt"},
    }
    rows = {pypi: (specs, origin) for pypi, specs, origin in regen_mapping.build_rows(source)}
    assert "requests" not in rows
    assert rows["torch"] == ("pytorch", "cf-graph")
    assert rows["ruamel-yaml"] == ("ruamel.yaml", "cf-graph")
    assert rows["pyqt5"] == ("pyqt >=5,<6", "conda-source")  # static entries win
    assert rows["cupy-cuda12x"] == ("cupy; cuda-version 12.*", "conda-source")
