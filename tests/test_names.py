"""PyPI name -> conda specs: the bundled table, the identity rule, overrides and provenance."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from rattler import MatchSpec

from conda_source.errors import MappingConfigError
from conda_source.mapping.names import NameMapper, OverrideLayer, bundled_table, identity_name, parse_patterns
from conda_source.mapping.overrides import load_user_layer, parse_cli_overrides, parse_override_table
from conda_source.mapping.requirements import map_requirement
from conda_source.specs import built_for_python, validate_conda_spec
from conda_source.target import TargetEnv

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
    # the cf-graph differences (~940), the names the second source adds (~1000), our static entries
    assert 1500 < len(entries) < 3000
    for key, (specs, origin) in entries.items():
        assert origin in {"cf-graph", "parselmouth", "conda-source"}
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
    regen_mapping = _tool("regen_mapping")
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
    assert "cupy-cuda12x" not in rows  # a family: pypi-to-conda-patterns.tsv maps it


# --- name families: bundled patterns --------------------------------------------------------------

PATTERNS = Path(__file__).parents[1] / "conda_source" / "mapping" / "data" / "pypi-to-conda-patterns.tsv"
REPORT = Path(__file__).parents[1] / "conda_source" / "mapping" / "data" / "DISAGREEMENTS.md"
LINUX_311 = TargetEnv.from_spec("3.11", "linux-64")


def _pattern_detail(pattern: str, origin: str = "conda-source") -> str:
    return f"pattern {pattern}, {origin}, {bundled_table().patterns_written}"


@pytest.mark.parametrize(
    ("written", "specs", "pattern"),
    [
        # What torch and jax pull in: CUDA 12 components, cuDNN and NCCL.
        pytest.param(
            "nvidia-cublas-cu12",
            ("libcublas", "cuda-version 12.*"),
            "nvidia-(cublas|cufft|curand|cusolver|cusparse|npp|nvjpeg|nvjitlink|nvfatbin|cufile)-cu(1[2-9])",
            id="cublas",
        ),
        pytest.param(
            "nvidia-cusparse-cu12",
            ("libcusparse", "cuda-version 12.*"),
            "nvidia-(cublas|cufft|curand|cusolver|cusparse|npp|nvjpeg|nvjitlink|nvfatbin|cufile)-cu(1[2-9])",
            id="cusparse",
        ),
        pytest.param(
            "nvidia-cuda-runtime-cu12",
            ("cuda-cudart", "cuda-version 12.*"),
            "nvidia-cuda-runtime-cu(1[2-9])",
            id="cudart",
        ),
        pytest.param(
            "nvidia_cuda_nvrtc_cu12",
            ("cuda-nvrtc", "cuda-version 12.*"),
            "nvidia-cuda-(nvrtc|cupti|nvcc|cccl|sanitizer-api|opencl|profiler-api|cuobjdump|cuxxfilt|nvdisasm)-cu(1[2-9])",
            id="nvrtc-any-spelling",
        ),
        pytest.param(
            "nvidia-nvtx-cu12", ("cuda-nvtx", "cuda-version 12.*"), "nvidia-(nvtx|nvml-dev|nvvm)-cu(1[2-9])", id="nvtx"
        ),
        pytest.param("nvidia-cudnn-cu12", ("cudnn", "cuda-version 12.*"), "nvidia-cudnn-cu(1[1-9])", id="cudnn"),
        pytest.param("nvidia-nccl-cu12", ("nccl", "cuda-version 12.*"), "nvidia-nccl-cu(1[1-9])", id="nccl"),
        pytest.param("nvidia-nccl-cu13", ("nccl", "cuda-version 13.*"), "nvidia-nccl-cu(1[1-9])", id="nccl-13"),
        pytest.param(
            "nvidia-cusparselt-cu12",
            ("cusparselt", "cuda-version 12.*"),
            "nvidia-cusparselt-cu(1[2-9])",
            id="cusparselt",
        ),
        pytest.param(
            "nvidia-nvshmem-cu12", ("libnvshmem3", "cuda-version 12.*"), "nvidia-nvshmem-cu(1[2-9])", id="nvshmem"
        ),
        # CUDA 13 components are unsuffixed: their version says which CUDA.
        pytest.param(
            "nvidia-cublas",
            ("libcublas",),
            "nvidia-(cublas|cufft|curand|cusolver|cusparse|npp|nvjpeg|nvjitlink|nvfatbin|cufile|cudla)",
            id="cublas-unsuffixed",
        ),
        pytest.param("nvidia-cuda-runtime", ("cuda-cudart",), "nvidia-cuda-runtime", id="cudart-unsuffixed"),
        # CUDA 11 is one cudatoolkit on conda-forge.
        pytest.param(
            "nvidia-cublas-cu11",
            ("cudatoolkit", "cuda-version 11.*"),
            "nvidia-(cublas|cufft|curand|cusolver|cusparse|npp|nvjpeg|nvtx|nvml-dev|cuda-runtime|cuda-nvrtc|"
            "cuda-cupti|cuda-cccl|cuda-cuxxfilt|cuda-profiler-api|cuda-sanitizer-api)-cu11",
            id="cu11-toolkit",
        ),
        pytest.param("nvidia-cudnn-cu11", ("cudnn", "cuda-version 11.*"), "nvidia-cudnn-cu(1[1-9])", id="cudnn-cu11"),
        # Other cuNN families.
        pytest.param("cupy-cuda13x", ("cupy", "cuda-version 13.*"), "cupy-cuda(1[1-9])x", id="cupy"),
        pytest.param(
            "cutensor-cu12",
            ("cutensor", "cuda-version 12.*"),
            "(cutensor|custatevec|cutensornet|cudensitymat|cuquantum)-cu(1[1-9])",
            id="cutensor",
        ),
    ],
)
def test_nvidia_family(written: str, specs: tuple[str, ...], pattern: str) -> None:
    mapped = NameMapper().map_name(written)
    assert mapped.specs == specs
    assert str(mapped.provenance) == f"bundled ({_pattern_detail(pattern)})"


def test_parselmouth_families_name_their_origin() -> None:
    mapped = NameMapper().map_name("nvidia-nvcomp-cu12")
    assert mapped.specs == ("nvcomp", "cuda-version 12.*")
    assert str(mapped.provenance) == f"bundled ({_pattern_detail('nvidia-nvcomp-cu(1[1-9])', 'parselmouth')})"


@pytest.mark.parametrize(
    "written",
    [
        pytest.param("nvidia-cublas-cu110", id="nvidia-placeholder-wheel"),
        pytest.param("nvidia-cuda-nvcc-cu11", id="no-conda-forge-counterpart"),
        pytest.param("nvidia-cublas-cu12-extra", id="pattern-matches-whole-name-only"),
        pytest.param("xnvidia-cublas-cu12", id="no-prefix-match"),
    ],
)
def test_names_outside_the_families_use_the_identity_rule(written: str) -> None:
    mapped = NameMapper().map_name(written)
    assert (mapped.specs, str(mapped.provenance)) == ((written,), "identity (no table entry)")


@pytest.mark.parametrize(
    ("written", "provenance"),
    [
        pytest.param("opencv-python", "cf-graph table", id="gui"),
        pytest.param("opencv-python-headless", "cf-graph table", id="headless"),
        pytest.param("opencv-contrib-python", "pattern", id="contrib"),
        pytest.param("opencv_contrib_python_headless", "pattern", id="contrib-headless"),
    ],
)
def test_opencv_variants_are_one_conda_package(written: str, provenance: str) -> None:
    mapped = NameMapper().map_name(written)
    assert mapped.specs == ("opencv",)
    if provenance == "pattern":
        assert str(mapped.provenance) == f"bundled ({_pattern_detail('opencv-(contrib-)?python(-headless)?')})"
    else:
        assert str(mapped.provenance) == f"bundled (cf-graph table, {bundled_table().generated})"


def test_exact_entries_beat_patterns() -> None:
    # opencv-python matches the opencv pattern too; the exact cf-graph row answers first.
    patterns = bundled_table().patterns
    assert any(entry.expand("opencv-python") for entry in patterns)
    assert "opencv-python" in bundled_table().entries
    assert NameMapper().map_name("opencv-python").provenance.detail.startswith("cf-graph table")


@pytest.mark.parametrize("source", ["cli", "project", "user"])
def test_overrides_beat_patterns(source: str) -> None:
    layer = parse_override_table({"nvidia-cublas-cu12": ["libcublas-dev", "cuda-version 12.4.*"]}, source, "W")
    mapped = NameMapper([layer]).map_name("nvidia-cublas-cu12")
    assert (mapped.specs, str(mapped.provenance)) == (
        ("libcublas-dev", "cuda-version 12.4.*"),
        f"{source} (W.nvidia-cublas-cu12)",
    )
    assert mapped.keep_version


def test_every_bundled_pattern_is_valid() -> None:
    _, patterns = parse_patterns(PATTERNS.read_text(encoding="utf-8").splitlines(), PATTERNS.name)
    assert patterns == bundled_table().patterns
    assert len(patterns) >= 20
    for entry in patterns:
        assert entry.origin in {"conda-source", "parselmouth"}
        assert entry.examples
        for example in entry.examples:
            # Each example is reached: no exact row and no earlier pattern shadows it.
            assert example not in bundled_table().entries, example
            mapped = NameMapper().map_name(example)
            assert mapped.provenance.detail == _pattern_detail(entry.pattern, entry.origin), example
            assert mapped.keep_version == entry.keep_version
            for spec in mapped.specs:
                assert validate_conda_spec(spec, name_and_version=True) is None
                MatchSpec(spec, strict=True)


def test_pattern_conda_names_are_conda_forge_packages() -> None:
    # tools/compare_mapping.py lists every name ours produce that the second source's package list lacks.
    report = REPORT.read_text(encoding="utf-8")
    missing = report.split("## Names ours produce that conda-forge does not have")[1].split("## Decided by rule")[0]
    rows = [line for line in missing.splitlines() if line.startswith("| ") and not line.startswith("| PyPI name")]
    assert rows, "the section lists the cf-graph rows whose packages are gone"
    assert not [row for row in rows if "| pattern " in row]


@pytest.mark.parametrize(
    ("requirement", "specs", "notes"),
    [
        # CUDA components are numbered like their wheels: the constraint goes on the package.
        pytest.param(
            "nvidia-cublas-cu12>=12.1.3.1",
            ("libcublas >=12.1.3.1", "cuda-version 12.*"),
            (),
            id="keep",
        ),
        pytest.param(
            "nvidia-cudnn-cu12==9.1.0.70; platform_system == 'Linux'",
            ("cudnn ==9.1.0.70", "cuda-version 12.*"),
            (),
            id="keep-with-marker",
        ),
        # NCCL's conda versions have a fourth part (2.21.5.1): the pin is not carried over, and the plan says so.
        pytest.param(
            "nvidia-nccl-cu12==2.21.5",
            ("nccl", "cuda-version 12.*"),
            (
                "version constraint '==2.21.5' not carried over to nccl: its conda versions are numbered "
                "differently (bundled (pattern nvidia-nccl-cu(1[1-9]), conda-source, {date}))",
            ),
            id="drop",
        ),
        # A constraint that cannot be translated is no error when it is not carried over.
        pytest.param(
            "nvidia-cublas-cu11===11.11.3.6",
            ("cudatoolkit", "cuda-version 11.*"),
            (
                "version constraint '===11.11.3.6' not carried over to cudatoolkit: its conda versions are numbered "
                "differently (bundled (pattern nvidia-(cublas|cufft|curand|cusolver|cusparse|npp|nvjpeg|nvtx|"
                "nvml-dev|cuda-runtime|cuda-nvrtc|cuda-cupti|cuda-cccl|cuda-cuxxfilt|cuda-profiler-api|"
                "cuda-sanitizer-api)-cu11, conda-source, {date}))",
            ),
            id="drop-untranslatable",
        ),
        pytest.param("nvidia-nccl-cu12", ("nccl", "cuda-version 12.*"), (), id="drop-nothing-to-drop"),
    ],
)
def test_family_requirements_carry_or_drop_the_version(
    requirement: str, specs: tuple[str, ...], notes: tuple[str, ...]
) -> None:
    mapped = map_requirement(Requirement(requirement), "project.dependencies[0]", LINUX_311, NameMapper())
    assert mapped.specs == specs
    assert mapped.notes == tuple(note.format(date=bundled_table().patterns_written) for note in notes)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        pytest.param(
            "a\tb\tkeep\tconda-source",
            "P, line 1: expected 5 tab-separated fields (pattern, specs, version, origin, examples), got 4",
            id="fields",
        ),
        pytest.param(
            "nvidia-(cublas\tlib{1}\tkeep\tconda-source\tnvidia-cublas",
            "P, line 1: invalid pattern 'nvidia-(cublas': missing ), unterminated subpattern at position 7",
            id="bad-regex",
        ),
        pytest.param(
            "nvidia-(cublas)\tlib{2}\tkeep\tconda-source\tnvidia-cublas",
            "P, line 1: 'lib{2}' refers to group {2}, but 'nvidia-(cublas)' has 1 group(s)",
            id="bad-group",
        ),
        pytest.param(
            "nvidia-(cublas)\tlib{1}\tsometimes\tconda-source\tnvidia-cublas",
            "P, line 1: version must be 'keep' or 'drop', not 'sometimes'",
            id="bad-version-word",
        ),
        pytest.param(
            "nvidia-(cublas)\tlib{1}\tkeep\tconda-source\tnvidia-cufft",
            "P, line 1: example 'nvidia-cufft' does not match 'nvidia-(cublas)'",
            id="example-does-not-match",
        ),
        pytest.param(
            "nvidia-(cublas)\tlib{1} >=\tkeep\tconda-source\tnvidia-cublas",
            "P, line 1: example 'nvidia-cublas': invalid conda spec 'libcublas >=': unable to parse version spec: >=",
            id="example-bad-spec",
        ),
        pytest.param(
            "(.*)\tconda-forge::{1}\tkeep\tconda-source\tx",
            "P, line 1: example 'x': 'conda-forge::x' must be a lowercase conda name, optionally followed by one "
            "version spec (e.g. 'pyqt >=5,<6')",
            id="example-channel",
        ),
    ],
)
def test_bad_pattern_rows(row: str, message: str) -> None:
    with pytest.raises(MappingConfigError) as caught:
        parse_patterns([row], "P")
    assert str(caught.value) == message


def test_pattern_file_header_and_line_numbers() -> None:
    lines = ["# first", "# written: 2031-01-02 by hand", "", "# a comment between rows", "a-(b)\t{1}\tkeep\tx\ta-b"]
    header, patterns = parse_patterns(lines, "P")
    assert header == ("first", "written: 2031-01-02 by hand", "a comment between rows")
    assert [p.pattern for p in patterns] == ["a-(b)"]
    with pytest.raises(MappingConfigError) as caught:
        parse_patterns([*lines, "a-(b)\t{1}\tnever\tx\ta-b"], "P")
    assert str(caught.value) == "P, line 6: version must be 'keep' or 'drop', not 'never'"


# --- the comparison with a second source (tools/compare_mapping.py) -------------------------------


def _tool(name: str) -> Any:
    sys.path.insert(0, str(Path(__file__).parents[1] / "tools"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


def _second_source(tmp_path: Path, data: dict[str, list[str] | None]) -> Any:
    path = tmp_path / "compressed_mapping.json"
    path.write_text(json.dumps(data))
    return _tool("compare_mapping").load_second_source(path)


def test_comparison_decides_each_disagreement_by_its_rule(tmp_path: Path) -> None:
    compare_mapping = _tool("compare_mapping")
    second = _second_source(
        tmp_path,
        {
            "requests": ["requests"],  # agrees with the identity rule
            "py_gd": ["py-gd"],  # identity name absent: adopt
            "lmdb": None,  # the C library of the same name ...
            "python-lmdb": ["lmdb"],  # ... and the bindings: adopt
            "vtk": None,
            "vtk-base": ["vtk"],  # a part of the identity package: keep
            "alchemiscale-client": ["alchemiscale"],  # several, none stands out: keep
            "alchemiscale-server": ["alchemiscale"],
            "dry-attr": ["attr", "dry-attr"],
            "python-attr": ["attr", "python-attr"],  # conda-forge's name for bindings stands out: adopt
            "pytables": ["tables"],  # the table's answer agrees
            "matplotlib-base": ["matplotlib-base"],  # the table's answer is a package shipping something else: keep
            "matplotlib-extra": ["matplotlib"],
            "uv": None,
            "python-uv": ["uv"],  # decided by hand: keep
        },
    )
    rows = {"tables": ("pytables", "cf-graph"), "matplotlib": ("matplotlib-base", "cf-graph")}
    disagreements, known = compare_mapping.compare(rows, (), second)
    decided = {d.pypi: (d.decision, d.chosen, d.reason) for d in disagreements}
    assert known == 12
    assert decided == {
        "py-gd": ("adopt", "py_gd", "py-gd is no conda-forge package; py_gd ships py-gd"),
        "lmdb": (
            "adopt",
            "python-lmdb",
            "conda-forge's lmdb ships no Python distribution (a library or tool); python-lmdb ships lmdb",
        ),
        "vtk": ("keep", "vtk", "vtk-base is a part of vtk, which installs it"),
        "alchemiscale": (
            "keep",
            "alchemiscale",
            "several packages ship it and none stands out: map it with --map",
        ),
        "attr": ("adopt", "python-attr", "attr is no conda-forge package; python-attr ships attr"),
        "matplotlib": (
            "keep",
            "matplotlib-base",
            "matplotlib-base is a conda-forge package chosen by the table's source",
        ),
        "uv": ("keep", "uv", "the wheel ships the uv executable, which conda-forge's uv is"),
    }
    assert [d.pypi for d in disagreements if d.by_hand] == ["uv"]


def test_comparison_lists_names_conda_forge_lacks(tmp_path: Path) -> None:
    compare_mapping = _tool("compare_mapping")
    second = _second_source(tmp_path, {"libcublas": None, "cuda-version": None})
    missing = compare_mapping.missing_names({"gone": ("gone_pkg", "cf-graph")}, bundled_table().patterns[:1], second)
    assert ("gone", "cf-graph table", "gone_pkg") in missing
    pattern = "pattern " + bundled_table().patterns[0].pattern
    # libcublas exists; libcufft and the rest of that pattern's examples do not, in this small source.
    assert ("nvidia-cufft-cu12", pattern, "libcufft") in missing
    assert not [m for m in missing if m[2] in {"libcublas", "cuda-version"}]


def test_regeneration_writes_adopted_names_with_their_origin() -> None:
    compare_mapping, regen_mapping = _tool("compare_mapping"), _tool("regen_mapping")
    rows = [("torch", "pytorch", "cf-graph")]
    decided = [
        compare_mapping.Disagreement("py-gd", "py-gd", "identity rule", ("py_gd",), "adopt", "py_gd", "why"),
        compare_mapping.Disagreement("vtk", "vtk", "identity rule", ("vtk-base",), "keep", "vtk", "why"),
    ]
    assert regen_mapping.adopt(rows, decided) == [("py-gd", "py_gd", "parselmouth"), ("torch", "pytorch", "cf-graph")]


def test_bundled_table_and_disagreements_record_agree() -> None:
    # Every row taken from the second source is a decision the record shows, and the record names its source.
    report = REPORT.read_text(encoding="utf-8")
    assert "prefix-dev/parselmouth files/v0/conda-forge/compressed_mapping.json" in report
    assert f"generated {bundled_table().generated}" in report
    adopted = {
        line.split(" | ")[0].strip("| "): line.split(" | ")[4].removeprefix("adopt ")
        for line in report.splitlines()
        if " | adopt " in line
    }
    taken = {key: specs[0] for key, (specs, origin) in bundled_table().entries.items() if origin == "parselmouth"}
    assert taken == adopted
    assert len(taken) > 900
    assert any(line.startswith("source: prefix-dev/parselmouth") for line in bundled_table().header)
    # A few the second source fixed: names no channel has under the identity rule.
    entries = bundled_table().entries
    assert entries["antlr4-python3-runtime"] == (("antlr-python-runtime",), "parselmouth")
    assert entries["shiboken6"] == (("pyside6",), "parselmouth")
    assert entries["onnxruntime-gpu"] == (("onnxruntime",), "parselmouth")


def test_built_for_python_reads_the_pin_python_pin_writes() -> None:
    from conda_source.mapping.requirements import python_pin
    from conda_source.target import TargetEnv

    pin = python_pin(TargetEnv.from_spec("3.12", "linux-64"))
    assert built_for_python(["numpy >=1.20", pin]) == "3.12"
    assert built_for_python(["python >=3.9"]) == "" and built_for_python([]) == ""
