"""Compiled code (issue 11): build-local relocates and checks what it built in an environment, develop-install
records what it links, conda doctor notices when that changes.

Everything is real: libanswer is compiled with the machine's gcc and packed into a channel (tests/nativepkgs.py),
installed by py-rattler, and each result is read back with other tools (readelf, objdump, ldd, py-rattler,
conda-package-streaming) than the ones conda-source uses.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nativepkgs import RUN_EXPORT, compiler, libanswer
from rattler import PathsJson
from support import read_members
from wheelmaker import make_wheel

from conda_source.artifact import WheelRequest, convert_wheel
from conda_source.artifact.native import BuildEnvironment, host_run_exports
from conda_source.channel import file_into_channel
from conda_source.errors import ArtifactError
from conda_source.installer import RattlerInstaller
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


def newest_glibc(binary: Path) -> str:
    """objdump's view of the GLIBC_ versions a binary's dynamic symbols need."""
    symbols = subprocess.run(["objdump", "-T", str(binary)], capture_output=True, text=True, check=True).stdout
    versions = {tuple(int(p) for p in v.split(".")) for v in re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", symbols)}
    return ".".join(str(p) for p in max(versions))


def test_a_build_is_relocated_and_gets_run_exports_and_glibc(build_prefix: Path, tmp_path: Path) -> None:
    getrandom = "#include <sys/random.h>\n#include <answer.h>\nlong call(void) { char b[4]; return answer() + getrandom(b, 4, 0); }\n"
    extension = compile_extension(build_prefix, tmp_path, "-Wl,-rpath,/opt/elsewhere/lib", source=getrandom)
    config = f"prefix={build_prefix}\nlibdir={build_prefix}/lib\n".encode()
    data = b"\x01\x02header\0" + str(build_prefix).encode() + b"/share/demo\0tail"
    wheel = platform_wheel(tmp_path, {EXT: extension, "demo/config.txt": config, "demo/data.bin": data})

    package, members = convert(wheel, tmp_path / "out", BuildEnvironment(build_prefix, ("libanswer",)))

    assert readelf_runpath(members[f"{SITE}/{EXT}"], tmp_path) == "$ORIGIN/../../.."  # site-packages/demo -> lib
    assert str(build_prefix).encode() not in members[f"{SITE}/demo/config.txt"]
    assert members[f"{SITE}/demo/config.txt"] == config.replace(str(build_prefix).encode(), PLACEHOLDER.encode())
    placeholders = {
        str(e.relative_path): (e.prefix_placeholder.placeholder, e.prefix_placeholder.file_mode.mode)
        for e in PathsJson.from_package_archive(package.path).paths  # type: ignore[attr-defined]
        if e.prefix_placeholder
    }
    assert placeholders[f"{SITE}/demo/config.txt"] == (PLACEHOLDER, "text")
    assert placeholders[f"{SITE}/demo/data.bin"] == (str(build_prefix), "binary")
    assert members[f"{SITE}/demo/data.bin"] == data  # conda and rattler replace it on install
    (tmp_path / "ext.so").write_bytes(extension)
    assert package.depends == (  # type: ignore[attr-defined]
        f"python >={sys.version_info[0]}.{sys.version_info[1]},<{sys.version_info[0]}.{sys.version_info[1] + 1}.0a0",
        RUN_EXPORT,
        f"__glibc >={newest_glibc(tmp_path / 'ext.so')}",
    )
    assert package.notes == (  # type: ignore[attr-defined]
        f"{SITE}/{EXT}: dropped RPATH entry /opt/elsewhere/lib: it is outside the build environment",
        f"{SITE}/{EXT}: binary file with the build prefix as placeholder: it installs into prefixes of at most "
        f"{len(str(build_prefix))} characters (conda and rattler pad a shorter one with NULs, never grow it)",
        f"{SITE}/demo/data.bin: binary file with the build prefix as placeholder: it installs into prefixes of at "
        f"most {len(str(build_prefix))} characters (conda and rattler pad a shorter one with NULs, never grow it)",
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


def test_run_exports_are_read_from_the_cache_then_the_archive(build_prefix: Path, tmp_path: Path) -> None:
    assert host_run_exports(build_prefix, ["libanswer"]) == ((RUN_EXPORT,), ())
    shutil.rmtree(tmp_path / "pkgs")  # the extracted package is gone: its file:// archive is read
    assert host_run_exports(build_prefix, ["libanswer"]) == ((RUN_EXPORT,), ())
    record = json.loads(next((build_prefix / "conda-meta").glob("libanswer-*.json")).read_text())
    Path(record["url"].removeprefix("file://")).unlink()
    dist = f"libanswer-1.0.0-{record['build']}"
    assert host_run_exports(build_prefix, ["libanswer"]) == (
        (),
        (
            f"run_exports of {dist} unknown: its package is in no package cache and its url ({record['url']}) "
            "is not a local file; they are not in depends",
        ),
    )
