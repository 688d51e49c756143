"""Compiled code (issue 11): build-local relocates and checks what it built in an environment, develop-install
records what it links, conda doctor notices when that changes.

Everything is real: libanswer is compiled with the machine's gcc and packed into a channel (tests/nativepkgs.py),
installed by py-rattler, and each result is read back with other tools (readelf, objdump, ldd, py-rattler,
conda-package-streaming) than the ones conda-source uses.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from compilers import CC, CXX, MARKER_FLAG, compiler_calls
from nativepkgs import RUN_EXPORT, compiler, libanswer, tool_packages
from rattler import PathsJson, PrefixRecord
from support import copy_project, read_members
from wheelmaker import make_wheel

from conda_source.artifact import WheelRequest, convert_wheel
from conda_source.artifact.native import BuildEnvironment
from conda_source.artifact.native_depends import host_run_exports
from conda_source.cli import main
from conda_source.engine.build_local import BuildLocalResult, BuildRequest, build_local
from conda_source.engine.develop_install import DevelopRequest, develop_install
from conda_source.errors import ArtifactError
from conda_source.installer.channel import file_into_channel
from conda_source.installer.installer import RattlerInstaller
from conda_source.mapping.overrides import Overrides
from conda_source.meta import conda_meta
from conda_source.prefix import copied
from conda_source.prefix.health import Finding, check_prefix
from conda_source.target import host_subdir, probe
from conda_source.testing import make_test_prefix

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="relocation is implemented for Linux")
PY = f"{sys.version_info[0]}{sys.version_info[1]}"
TAG = f"cp{PY}-cp{PY}-linux_x86_64"
SITE = f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
EXT = f"demo/_ext.cpython-{PY}-x86_64-linux-gnu.so"
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"


@pytest.fixture(scope="module")
def answer_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libanswer 1.0.0 and 1.1.0 and the compiler stand-in, built here, in a local channel."""
    root = tmp_path_factory.mktemp("answer-channel")
    packages = [libanswer(root, "1.0.0"), libanswer(root, "1.1.0"), compiler(root)]
    file_into_channel([(p, host_subdir()) for p in packages], root / "channel")
    return root / "channel"


@pytest.fixture(scope="module")
def native_channels(answer_channel: Path, build_channel: str, request: pytest.FixtureRequest) -> tuple[str, str]:
    """The answer channel with the build tools from PyPI added, and the channel of build backends (conftest)."""
    cache = Path(request.config.cache.mkdir("native-tools-v1"))
    file_into_channel(tool_packages(cache, f"{sys.version_info[0]}.{sys.version_info[1]}"), answer_channel)
    return answer_channel.as_uri(), build_channel


@pytest.fixture
def build_prefix(answer_channel: Path, tmp_path: Path) -> Path:
    """A build environment with libanswer 1.0.0 installed by py-rattler (its own package cache)."""
    prefix = make_test_prefix(tmp_path / "build-env")
    RattlerInstaller(probe(prefix), [str(answer_channel)], cache_dir=tmp_path / "pkgs").install(["libanswer ==1.0.0"])
    return prefix


def compile_extension(prefix: Path, out: Path, *flags: str, source: str = "") -> bytes:
    """An extension-like shared object built against the prefix's libanswer, as the compiler activation would."""
    code = out / "ext.c"
    code.write_text(source or "#include <answer.h>\nlong call(void) { return answer(); }\n")
    library = out / "ext.so"
    command = ["gcc", "-shared", "-fPIC", "-g", f"-I{prefix}/include", "-o", str(library), str(code)]
    subprocess.run([*command, f"-L{prefix}/lib", f"-Wl,-rpath,{prefix}/lib", *flags, "-lanswer"], check=True)
    return library.read_bytes()


def platform_wheel(directory: Path, files: dict[str, bytes]) -> Path:
    return make_wheel(directory, name="demo", files={"demo/__init__.py": b"", **files}, tag=TAG)


def convert(wheel: Path, out: Path, environment: BuildEnvironment) -> tuple[object, dict[str, bytes]]:
    (package,) = convert_wheel(WheelRequest(wheel, out, built_in=environment))
    return package, read_members(package.path)


def readelf_runpath(data: bytes, scratch: Path) -> str:
    binary = scratch / "inspect.so"
    binary.write_bytes(data)
    dynamic = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    found = re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]", dynamic)
    return found[0] if found else ""


def newest_glibc(binary: Path) -> str | None:
    """objdump's view of the newest GLIBC_ version a binary's dynamic symbols need (None: no versioned symbol)."""
    symbols = subprocess.run(["objdump", "-T", str(binary)], capture_output=True, text=True, check=True).stdout
    versions = {tuple(int(p) for p in v.split(".")) for v in re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", symbols)}
    return ".".join(str(p) for p in max(versions)) if versions else None


def file_mode(mode: object) -> str:
    """py-rattler's FileMode as text: ``.mode`` since 0.27; 0.26 has only ``.text``/``.binary`` flags."""
    if hasattr(mode, "mode"):
        return str(mode.mode)
    return "text" if getattr(mode, "text", False) else "binary" if getattr(mode, "binary", False) else "unknown"


def test_a_build_is_relocated_and_gets_run_exports_and_glibc(build_prefix: Path, tmp_path: Path) -> None:
    source = (
        "#include <sys/random.h>\n#include <answer.h>\n"
        "long call(void) { char b[4]; return answer() + getrandom(b, 4, 0); }\n"  # getrandom: glibc 2.25
        f'const char *datadir(void) {{ return "{build_prefix}/share/demo"; }}\n'  # a compiled-in path
    )
    extension = compile_extension(build_prefix, tmp_path, "-Wl,-rpath,/opt/elsewhere/lib", source=source)
    debug = tmp_path / "debug"
    debug.mkdir()
    debug_only = compile_extension(build_prefix, debug)  # -g: its debug information names the include directory
    config = f"prefix={build_prefix}\nlibdir={build_prefix}/lib\n".encode()
    data = b"\x01\x02header\0" + str(build_prefix).encode() + b"/share/demo\0tail"
    files = {EXT: extension, "demo/_debug.so": debug_only, "demo/config.txt": config, "demo/data.bin": data}
    wheel = platform_wheel(tmp_path, files)

    package, members = convert(wheel, tmp_path / "out", BuildEnvironment(build_prefix, ("libanswer",)))

    assert readelf_runpath(members[f"{SITE}/{EXT}"], tmp_path) == "$ORIGIN/../../.."  # site-packages/demo -> lib
    assert readelf_runpath(members[f"{SITE}/demo/_debug.so"], tmp_path) == "$ORIGIN/../../.."
    assert members[f"{SITE}/demo/config.txt"] == config.replace(str(build_prefix).encode(), PLACEHOLDER.encode())
    placeholders = {
        str(e.relative_path): (e.prefix_placeholder.placeholder, file_mode(e.prefix_placeholder.file_mode))
        for e in PathsJson.from_package_archive(package.path).paths  # type: ignore[attr-defined]
        if e.prefix_placeholder
    }
    assert placeholders == {
        f"{SITE}/demo/config.txt": (PLACEHOLDER, "text"),
        f"{SITE}/{EXT}": (str(build_prefix), "binary"),  # conda and rattler replace it on install
        f"{SITE}/demo/data.bin": (str(build_prefix), "binary"),
    }
    assert str(build_prefix).encode() in members[f"{SITE}/demo/_debug.so"]  # left as it is, no placeholder
    (tmp_path / "ext.so").write_bytes(extension)
    assert package.depends == (  # type: ignore[attr-defined]
        f"python >={sys.version_info[0]}.{sys.version_info[1]},<{sys.version_info[0]}.{sys.version_info[1] + 1}.0a0",
        RUN_EXPORT,
        f"__glibc >={newest_glibc(tmp_path / 'ext.so')}",
    )
    assert newest_glibc(tmp_path / "ext.so") == "2.25"
    limit = (
        f"binary file with the build prefix as placeholder: it installs into prefixes of at most "
        f"{len(str(build_prefix))} characters (conda and rattler pad a shorter one with NULs, never grow it)"
    )
    assert package.notes == (  # type: ignore[attr-defined]  (in the wheel's order)
        f"{SITE}/{EXT}: dropped RPATH entry /opt/elsewhere/lib: it is outside the build environment",
        f"{SITE}/{EXT}: {limit}",
        f"{SITE}/demo/_debug.so: its debug information names the build prefix; left as it is",
        f"{SITE}/demo/data.bin: {limit}",
    )


def test_a_library_no_depends_entry_provides_is_reported(build_prefix: Path, tmp_path: Path) -> None:
    wheel = platform_wheel(tmp_path, {EXT: compile_extension(build_prefix, tmp_path)})
    package, _ = convert(wheel, tmp_path / "out", BuildEnvironment(build_prefix))  # libanswer is no host package
    assert RUN_EXPORT not in package.depends  # type: ignore[attr-defined]
    assert (
        f"overlinking: {SITE}/{EXT} links libanswer.so.1 from the package 'libanswer' (lib/libanswer.so.1), "
        "which is not in depends: add 'libanswer' to the project's dependencies"
    ) in package.notes  # type: ignore[attr-defined]


def test_a_library_no_package_owns_is_reported(build_prefix: Path, tmp_path: Path) -> None:
    """A file put into the prefix by hand (no conda-meta record lists it) is not there where the package goes."""
    (tmp_path / "stray.c").write_text("int stray(void) { return 1; }\n")
    stray = build_prefix / "lib" / "libstray.so.0"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-Wl,-soname,libstray.so.0", "-o", str(stray), str(tmp_path / "stray.c")],
        check=True,
    )
    (build_prefix / "lib" / "libstray.so").symlink_to("libstray.so.0")
    extension = compile_extension(build_prefix, tmp_path, "-Wl,--no-as-needed", "-lstray")
    wheel = platform_wheel(tmp_path, {EXT: extension})
    package, _ = convert(wheel, tmp_path / "out", BuildEnvironment(build_prefix, ("libanswer",)))
    assert (
        f"{SITE}/{EXT} links libstray.so.0 (lib/libstray.so.0), which no package in the build environment owns: "
        "it will be missing wherever this package is installed"
    ) in package.notes  # type: ignore[attr-defined]


def test_a_system_library_is_refused_unless_allowed(build_prefix: Path, tmp_path: Path) -> None:
    extension = compile_extension(build_prefix, tmp_path, "-Wl,--no-as-needed", "-lstdc++")
    wheel = platform_wheel(tmp_path, {EXT: extension})
    (tmp_path / "ext.so").write_bytes(extension)
    ldd = subprocess.run(["ldd", str(tmp_path / "ext.so")], capture_output=True, text=True, check=True).stdout
    system = re.search(r"libstdc\+\+\.so\.6 => (\S+)", ldd).group(1)  # type: ignore[union-attr]
    with pytest.raises(ArtifactError) as caught:
        convert(wheel, tmp_path / "out", BuildEnvironment(build_prefix, ("libanswer",)))
    assert str(caught.value) == (
        f"{wheel}: {SITE}/{EXT} links libstdc++.so.6 from the system ({system}), not from the build environment; "
        "install the conda package that provides it into the environment, or pass --allow-system-libs to accept it"
    )
    assert not list((tmp_path / "out").glob("*.conda"))
    package, _ = convert(
        wheel, tmp_path / "out", BuildEnvironment(build_prefix, ("libanswer",), allow_system_libs=True)
    )
    assert (
        f"{SITE}/{EXT} links libstdc++.so.6 from the system ({system}), allowed by --allow-system-libs" in package.notes
    )  # type: ignore[attr-defined]


def test_a_binary_prefix_outside_a_c_string_is_refused(build_prefix: Path, tmp_path: Path) -> None:
    wheel = platform_wheel(tmp_path, {"demo/blob.bin": b"\x00\x01" + str(build_prefix).encode() + b"/no-terminator"})
    with pytest.raises(ArtifactError) as caught:
        convert(wheel, tmp_path / "out", BuildEnvironment(build_prefix))
    assert str(caught.value) == (
        f"{wheel}: {SITE}/demo/blob.bin is a binary file that contains the build prefix {build_prefix} outside a "
        "NUL-terminated string, where conda cannot replace it; make the build not embed its install prefix there"
    )


def test_a_macos_binary_with_the_prefix_is_refused(build_prefix: Path, tmp_path: Path) -> None:
    macho = b"\xcf\xfa\xed\xfe" + b"\x00" * 12 + str(build_prefix).encode() + b"/lib\x00"
    wheel = platform_wheel(tmp_path, {"demo/_ext.so": macho})
    with pytest.raises(ArtifactError) as caught:
        convert(wheel, tmp_path / "out", BuildEnvironment(build_prefix))
    assert str(caught.value) == (
        f"{wheel}: {SITE}/demo/_ext.so is a macOS binary that contains the build prefix {build_prefix}; making its "
        "LC_RPATH relative to @loader_path is not supported yet: build a wheel with delocate and convert that"
    )


def test_run_exports_are_read_from_the_cache_then_the_archive(answer_channel: Path, tmp_path: Path) -> None:
    channel = Path(shutil.copytree(answer_channel, tmp_path / "channel"))  # its archive is deleted below
    build_prefix = make_test_prefix(tmp_path / "build-env")
    RattlerInstaller(probe(build_prefix), [str(channel)], cache_dir=tmp_path / "pkgs").install(["libanswer ==1.0.0"])
    assert host_run_exports(build_prefix, ["libanswer"]) == ((RUN_EXPORT,), ())
    shutil.rmtree(tmp_path / "pkgs")  # the extracted package is gone: its file:// archive is read
    assert host_run_exports(build_prefix, ["libanswer"]) == ((RUN_EXPORT,), ())
    record = json.loads(next((build_prefix / "conda-meta").glob("libanswer-*.json")).read_text())
    Path(record["url"].removeprefix("file://")).unlink()
    dist = f"libanswer-1.0.0-{record['build']}"
    assert host_run_exports(build_prefix, ["libanswer"]) == (
        (),
        (
            f"run_exports of {dist} unknown: its package is neither in a package cache nor a local file "
            f"({record['url']}); they are not in depends",
        ),
    )


# --- end to end: four build backends, from a local channel, develop-install and build-local ---------------

NATIVE = {  # project -> its importable package
    "native-setuptools": "native_setuptools",  # setuptools; its needs only in [external], mapped by the project
    "native-meson": "native_meson",  # meson-python; libanswer through pkg-config
    "native-cmake": "native_cmake",  # scikit-build-core; libanswer through find_package
    "native-pybind11": "native_pybind11",  # C++: pybind11 with scikit-build-core
}
NO_USER_MAPPING = Overrides(user_file=False)


def run_python(prefix: Path, code: str) -> str:
    completed = subprocess.run([prefix / "bin" / "python", "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def ldd(binary: Path) -> dict[str, Path]:
    """What the loader resolves each needed library to (``$ORIGIN/..`` paths normalized)."""
    output = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    return {
        name: Path(os.path.normpath(path)) for name, path in re.findall(r"^\s*(\S+) => (\S+)", output, re.MULTILINE)
    }


@pytest.fixture(scope="module")
def developed(
    native_channels: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Path]]:
    """The four projects develop-installed (editable) together into one environment."""
    root = tmp_path_factory.mktemp("develop")
    prefix = make_test_prefix(root / "env")
    projects = {name: copy_project(name, root / "src") for name in NATIVE}
    develop_install(DevelopRequest(tuple(projects.values()), probe(prefix), native_channels, overrides=NO_USER_MAPPING))
    return prefix


@pytest.fixture(scope="module")
def built(
    native_channels: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, BuildLocalResult]]:
    """The four projects built by build-local in one build environment, filed into root/local."""
    root = tmp_path_factory.mktemp("build")
    prefix = make_test_prefix(root / "build-env")
    results = {}
    for name in NATIVE:
        request = BuildRequest(
            (copy_project(name, root / "src"),), root / "out", root / "local", probe(prefix), native_channels,
            overrides=NO_USER_MAPPING, allow_system_libs=name == "native-pybind11",  # libstdc++ is the machine's
        )  # fmt: skip
        results[name] = build_local(request)
    return root, results


@pytest.mark.network
@pytest.mark.slow
def test_develop_install_compiles_with_the_environment_compiler(developed: Path) -> None:
    prefix = developed
    calls = [call.split() for call in compiler_calls(prefix)]
    sources = {
        "native-setuptools": ("src/native_setuptools/_answer.c", CC),
        "native-meson": ("src/native_meson/_answer.c", CC),
        "native-cmake": ("src/native_cmake/_answer.c", CC),
        "native-pybind11": ("src/native_pybind11/_answer.cpp", CXX),
    }
    for name, (source, wrapper) in sources.items():
        compiles = [c for c in calls if "-c" in c and any(arg.endswith(source) for arg in c)]
        assert compiles, (name, calls)
        assert all(c[0] == wrapper and MARKER_FLAG in c for c in compiles), (name, compiles)


@pytest.mark.network
@pytest.mark.slow
def test_developed_extensions_load_the_environment_library(developed: Path) -> None:
    prefix = developed
    answer = PrefixRecord.from_path(next((prefix / "conda-meta").glob("libanswer-*.json")))
    for name, module in NATIVE.items():
        out = run_python(prefix, f"import {module}, {module}._answer as e; print({module}.answer(), e.__file__)")
        value, extension = out.split()
        assert value == "42", name
        assert ldd(Path(extension))["libanswer.so.1"] == prefix / "lib" / "libanswer.so.1", name
        state = conda_meta.read_state(prefix, name)
        assert state is not None
        assert [(link.library, link.path, link.package, link.version) for link in state.linked] == [
            ("libanswer.so.1", "lib/libanswer.so.1", "libanswer", str(answer.version))
        ], name
    assert run_python(prefix, "import native_pybind11; print(native_pybind11.greeting('conda'))") == "conda says 42\n"
    assert check_prefix(prefix) == []


@pytest.mark.network
@pytest.mark.slow
def test_a_clone_does_not_carry_compiled_code_that_loads_the_environments_library(developed: Path) -> None:
    """An editable meson-python install loads its extension from the checkout's build directory, whose RPATH names
    the environment: a copy would load the old environment's library (conda create --clone).  native-cmake's
    editable wheel installs its extension into site-packages, relocated ($ORIGIN), so it would be carried."""
    project = developed.parent / "src" / "native-meson"
    with pytest.raises(copied.NotCarriedError) as raised:
        copied.carried(developed, "-n dev")
    assert str(raised.value) == (
        f"native-meson 1.0.0 (develop install of {project}) in {developed}: its compiled code loads lib/libanswer.so.1 "
        f"of {developed} by that path, which a copy cannot change; nothing was changed: run conda develop-install "
        f"--uninstall {project} -n dev, then the command again, then conda develop-install {project} in each "
        "environment"
    )


@pytest.mark.network
@pytest.mark.slow
def test_build_local_artifacts_carry_run_exports_and_glibc(built: tuple[Path, dict[str, BuildLocalResult]]) -> None:
    root, results = built
    calls = [call.split() for call in compiler_calls(root / "build-env")]
    assert calls and {c[0] for c in calls} == {CC, CXX}
    for name, result in results.items():
        (package,) = result.packages
        members = read_members(package.path)
        (extension,) = [p for p in members if p.endswith(".so")]
        binary = root / f"{name}.so"
        binary.write_bytes(members[extension])
        assert RUN_EXPORT in package.depends, name
        glibc = newest_glibc(binary)
        assert [d for d in package.depends if d.startswith("__glibc")] == ([f"__glibc >={glibc}"] if glibc else []), (
            name
        )
        assert readelf_runpath(members[extension], root).startswith("$ORIGIN/"), name
        placeholders = {
            str(e.relative_path): e.prefix_placeholder.placeholder
            for e in PathsJson.from_package_archive(package.path).paths
            if e.prefix_placeholder
        }
        # Only debug information names the build prefix (setuptools compiles with -g): no placeholder needed,
        # so the package installs into a prefix of any length.
        assert extension not in placeholders, name
        if str(root / "build-env").encode() in members[extension]:
            assert f"{extension}: its debug information names the build prefix; left as it is" in package.notes
    (setuptools,) = results["native-setuptools"].packages
    assert "__glibc >=2.25" in setuptools.depends  # it calls getrandom, new in glibc 2.25


@pytest.mark.network
@pytest.mark.slow
def test_artifacts_work_in_another_prefix_once_the_build_prefix_is_gone(
    built: tuple[Path, dict[str, BuildLocalResult]], native_channels: tuple[str, str]
) -> None:
    root, _ = built
    shutil.rmtree(root / "build-env")
    user = make_test_prefix(root / "a-user-environment-with-a-longer-path")
    RattlerInstaller(probe(user), [(root / "local").as_uri(), *native_channels]).install(list(NATIVE))
    for name, module in NATIVE.items():
        out = run_python(user, f"import {module}, {module}._answer as e; print({module}.answer(), e.__file__)")
        value, extension = out.split()
        assert (value, Path(extension).is_relative_to(user)) == ("42", True), name
        assert ldd(Path(extension))["libanswer.so.1"] == user / "lib" / "libanswer.so.1", name
    assert f"prefix={user}\n" in (user / "lib" / "pkgconfig" / "answer.pc").read_text()


@pytest.mark.network
@pytest.mark.slow
def test_build_local_refuses_a_system_library_on_the_command_line(
    native_channels: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The C++ extension links the machine's libstdc++ (the stand-in compiler is the system g++)."""
    project = copy_project("native-pybind11", tmp_path)
    prefix = make_test_prefix(tmp_path / "build-env")
    channels = [arg for channel in native_channels for arg in ("-c", channel)]
    argv = [
        "build-local",
        str(project),
        "-p",
        str(prefix),
        *channels,
        "--no-user-mapping",
        "--output-dir",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 1
    extension = f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages/native_pybind11/_answer.cpython-{PY}-x86_64-linux-gnu.so"
    libstdcxx = next(
        p
        for p in ("/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6")
        if Path(p).exists()
    )
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"conda-source: error: \S+/native_pybind11-1\.0\.0-cp{PY}-cp{PY}-linux_x86_64\.whl: {re.escape(extension)} links "
        rf"libstdc\+\+\.so\.6 from the system \({re.escape(libstdcxx)}\), not from the build environment; install the "
        r"conda package that provides it into the environment, or pass --allow-system-libs to accept it",
        message,
    ), message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.conda"))

    assert main([*argv, "--allow-system-libs"]) == 0
    out = capsys.readouterr().out
    assert f"      depends {RUN_EXPORT}\n" in out
    assert (
        f"      note: {extension} links libstdc++.so.6 from the system ({libstdcxx}), allowed by --allow-system-libs\n"
        in out
    )


def switch_package(prefix: Path, channel: Path, spec: str) -> None:
    """Replace one installed package by another build of it, with py-rattler alone (as another tool would)."""
    import asyncio

    from rattler import Channel, MatchSpec, install, solve

    from conda_source.installer._rattler import subdir

    installed = [PrefixRecord.from_path(p) for p in sorted((prefix / "conda-meta").glob("*.json"))]
    name = MatchSpec(spec).name.normalized
    (new,) = asyncio.run(solve(sources=[Channel(channel.as_uri())], specs=[spec], platforms=[subdir(host_subdir())]))
    kept = [r for r in installed if r.name.normalized != name]
    others = {r.name.normalized for r in kept}
    asyncio.run(
        install([*kept, new], prefix, installed_packages=installed, ignored_packages=others, show_progress=False)
    )


@pytest.mark.network
@pytest.mark.slow
def test_doctor_reports_a_linked_library_that_changed_or_disappeared(
    native_channels: tuple[str, str], answer_channel: Path, tmp_path: Path
) -> None:
    prefix = make_test_prefix(tmp_path / "env")
    project = copy_project("native-setuptools", tmp_path)
    request = DevelopRequest((project,), probe(prefix), native_channels, overrides=NO_USER_MAPPING)
    develop_install(request)
    assert check_prefix(prefix) == []
    extension = next((project / "src" / "native_setuptools").glob("_answer*.so"))  # built in place (editable)
    installed = PrefixRecord.from_path(next((prefix / "conda-meta").glob("libanswer-*.json")))
    assert str(installed.version) == "1.1.0"  # the newest the channel has

    switch_package(prefix, answer_channel, "libanswer ==1.0.0")
    assert check_prefix(prefix) == [
        Finding(
            "native-setuptools", str(project), "stale",
            f"{extension} was built against libanswer 1.1.0, now 1.0.0; rebuild it (conda doctor --fix, or "
            "develop-install it again)",
        )
    ]  # fmt: skip
    assert not develop_install(request).projects[0].unchanged  # so conda doctor --fix rebuilds it
    assert check_prefix(prefix) == []

    (prefix / "lib" / "libanswer.so.1").unlink()
    assert check_prefix(prefix) == [
        Finding(
            "native-setuptools", str(project), "stale",
            f"{extension} links libanswer.so.1 (lib/libanswer.so.1) from libanswer 1.0.0, which is gone; reinstall "
            "libanswer, or rebuild it (conda doctor --fix, or develop-install it again)",
        )
    ]  # fmt: skip
