"""Shared fixtures: real wheels from PyPI (downloaded once, cached), and test prefixes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Pinned, so expectations in the tests can be worked out by hand from each wheel's METADATA.
PURE_WHEELS = (
    "tomli==2.0.1",
    "packaging==24.2",
    "six==1.16.0",
    "flit-core==3.10.1",
    "wheel==0.45.1",  # console script
    "requests==2.32.3",  # extras
    "click==8.1.7",  # a platform marker: colorama on Windows
    "black==24.10.0",  # console scripts, python-version markers, extras
    "pathspec==0.12.1",
    "platformdirs==4.3.6",
    "mypy-extensions==1.0.0",
    # Build backends (and what they need), for building the sample checkouts.
    "setuptools==75.6.0",
    "hatchling==1.27.0",
    "pluggy==1.5.0",
    "trove-classifiers==2024.10.21.16",
    "pdm-backend==2.4.3",
    "poetry-core==2.0.1",
    "build==1.2.2.post1",
    "pyproject-hooks==1.2.0",
    "editables==0.5",  # hatchling's editable builds ask for it
)
COMPILED_WHEELS = ("markupsafe==3.0.2", "pyyaml==6.0.2")  # for the running interpreter's platform


def _download(directory: Path, requirements: tuple[str, ...], *platform_args: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(directory),
    ]
    completed = subprocess.run([*command, *platform_args, *requirements], capture_output=True, text=True)
    if completed.returncode != 0:
        pytest.skip(f"cannot download test wheels from the package index: {completed.stderr.strip()[-300:]}")


@pytest.fixture(scope="session")
def pypi_wheels(request: pytest.FixtureRequest) -> dict[str, Path]:
    """Canonical name -> wheel file; downloaded once into pytest's cache directory."""
    cache = Path(request.config.cache.mkdir("pypi-wheels-v4"))
    if len(list(cache.glob("*.whl"))) < len(PURE_WHEELS) + len(COMPILED_WHEELS):
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        _download(cache, PURE_WHEELS, "--platform", "any", "--python-version", version)
        _download(cache, COMPILED_WHEELS)
    from packaging.utils import parse_wheel_filename

    return {str(parse_wheel_filename(wheel.name)[0]): wheel for wheel in sorted(cache.glob("*.whl"))}


def pytest_configure(config: pytest.Config) -> None:
    """conda-source's per-user cache (probes, satisfied specs) goes to a fresh directory for the session;
    tests call py-rattler directly too, so its threads are waited for at exit, as conda-source does."""
    import tempfile

    from conda_source.installer._rattler import settle_at_exit

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="conda-source-test-cache-")
    os.environ.pop("CONDA_SOURCE_NO_CACHE", None)
    settle_at_exit()


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    """A fresh test prefix (DESIGN.md's embedded default) for one test."""
    from conda_source.testing import make_test_prefix

    return make_test_prefix(tmp_path / "env")


@pytest.fixture(scope="session")
def build_channel(pypi_wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file:// channel with every cached wheel, made by our own writer, plus a stand-in
    ``c-compiler`` metapackage (the compiler itself is the machine's gcc)."""
    from wheelmaker import make_wheel

    from conda_source.testing.channel import make_channel

    root = tmp_path_factory.mktemp("build-channel")
    compiler = make_wheel(root, name="c_compiler", version="1.0", files={})
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    make_channel(root / "channel", [*pypi_wheels.values(), compiler], python=python)
    return (root / "channel").as_uri()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``conda`` need real conda in this interpreter; CI has none, so they skip there."""
    import importlib.util

    if importlib.util.find_spec("conda") is not None:
        return
    reason = pytest.mark.skip(
        reason="conda is not importable in this interpreter (these tests check the plugin against real conda)"
    )
    for item in items:
        if "conda" in item.keywords:
            item.add_marker(reason)


@pytest.fixture
def compiler_prefix(prefix: Path) -> Path:
    """A test prefix with the stand-in compiler package of tests/compilers.py: its activation sets CC,
    CXX, CFLAGS, LDFLAGS to wrappers that log each call (``compilers.compiler_calls``) and run gcc/g++."""
    from compilers import install_compiler

    install_compiler(prefix)
    return prefix


@pytest.fixture(scope="session")
def lab_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ownership tests' local channel (tests/lab.py): chanpkg, dependent, clashpkg, helper-lib."""
    from lab import make_lab_channel

    return make_lab_channel(tmp_path_factory.mktemp("lab"))
