"""Compiled code a develop install copies into the environment (conda_source.prefix.origin_rpath): its RPATH
entries inside the environment become relative to the file, so the loader still finds the environment's
libraries, and a copy of the environment (conda create --clone, conda rename) carries it.

Real: the extension is compiled with the machine's gcc against libanswer from a local channel
(tests/test_native.py's fixtures), read back with readelf and ldd.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import pytest
from lab import PYTHON, write_project
from support import check_record_matches_disk
from test_native import answer_channel, build_prefix, compile_extension, ldd, readelf_runpath

from conda_source import api
from conda_source.prefix import copied

__all__ = ["answer_channel", "build_prefix"]  # fixtures
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="relocation is implemented for Linux")


def native_project(prefix: Path, tmp_path: Path, *flags: str) -> Path:
    (tmp_path / "ext").mkdir()
    extension = compile_extension(prefix, tmp_path / "ext", *flags)  # RUNPATH: PREFIX/lib, and -g
    member = {"lab_native/_ext.so": "base64:" + base64.b64encode(extension).decode()}
    return write_project(tmp_path / "lab-native", "lab-native", members=member)


@pytest.mark.parametrize("editable", [False, True], ids=["regular", "editable-wheel-member"])
def test_an_installed_extension_finds_the_library_relative_to_itself(
    build_prefix: Path, tmp_path: Path, editable: bool
) -> None:
    project = native_project(build_prefix, tmp_path)
    api.develop_install(project, prefix=build_prefix, editable=editable, user_mapping=False)
    extension = build_prefix / "lib" / f"python{PYTHON}" / "site-packages" / "lab_native" / "_ext.so"
    assert readelf_runpath(extension.read_bytes(), tmp_path) == "$ORIGIN/../../.."
    assert ldd(extension)["libanswer.so.1"] == build_prefix / "lib" / "libanswer.so.1"
    (record,) = (build_prefix / "conda-meta").glob("lab-native-*.json")
    check_record_matches_disk(build_prefix, record)  # the record hashes the relocated file
    # Its debug information still names the environment (the include paths); the loader never reads it, so a copy
    # of the environment carries the install.
    assert [c.record.name for c in copied.carried(build_prefix, f"-p {build_prefix}")] == ["lab-native"]


def test_entries_outside_the_environment_are_kept(build_prefix: Path, tmp_path: Path) -> None:
    """The user's own library paths stay as they are; only the environment's become relative."""
    project = native_project(build_prefix, tmp_path, "-Wl,-rpath,/opt/vendor/lib")
    api.develop_install(project, prefix=build_prefix, editable=False, user_mapping=False)
    extension = build_prefix / "lib" / f"python{PYTHON}" / "site-packages" / "lab_native" / "_ext.so"
    assert readelf_runpath(extension.read_bytes(), tmp_path) == "$ORIGIN/../../..:/opt/vendor/lib"
