"""Untrusted archives: reserved targets, bounded resources, and output directories checked first.

Every refusal is end to end (a crafted wheel or sdist through convert_wheel, build_local or the
CLI), asserts its one-line message, and checks that nothing was left behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import IO

import pytest
from conda_package_streaming.package_streaming import stream_conda_component
from support import tree_digest
from wheelmaker import make_bomb_wheel, make_large_wheel, make_wheel

from conda_source.artifact import WheelRequest, convert_wheel
from conda_source.artifact.layout import Layout
from conda_source.artifact.limits import Limits, human, parse_size
from conda_source.artifact.outputs import OutputDirError
from conda_source.artifact.staging import StagingDestination
from conda_source.cli import main
from conda_source.engine.build_local import BuildRequest, build_local
from conda_source.engine.develop_install import DevelopRequest, develop_install
from conda_source.errors import ArtifactError
from conda_source.mapping.overrides import Overrides
from conda_source.target import probe

GIB = 1 << 30
MIB = 1 << 20
CONDA_META = "it would install into conda-meta/, which belongs to conda; remove it from the wheel"
INFO = "a package's info/ holds its conda metadata, which conda-source alone writes; remove it from the wheel"


def refused(request: WheelRequest) -> str:
    with pytest.raises(ArtifactError) as caught:
        convert_wheel(request)
    assert not request.output_dir.exists(), "a refused wheel must leave no output, not even the directory"
    return str(caught.value)


# --- nothing lands in conda-meta/, and no package carries a payload info/ path ---------------------


@pytest.mark.parametrize(
    ("member", "tag", "reason"),
    [
        pytest.param("demo-1.0.data/data/conda-meta/history", "py3-none-any", CONDA_META, id="conda-meta-history"),
        pytest.param("demo-1.0.data/data/conda-meta/fake-1.0-0.json", "py3-none-any", CONDA_META, id="fake-record"),
        pytest.param("demo-1.0.data/data/Conda-Meta/history", "py3-none-any", CONDA_META, id="case-insensitive"),
        pytest.param("demo-1.0.data/data/info/test/run_test.sh", "py3-none-any", INFO, id="info-test-script"),
        pytest.param("demo-1.0.data/data/info/index.json", "cp311-cp311-manylinux_2_17_x86_64", INFO, id="info-arch"),
        pytest.param("demo-1.0.data/data/conda-meta", "py3-none-any", CONDA_META, id="conda-meta-as-a-file"),
    ],
)
def test_reserved_targets_are_refused(tmp_path: Path, member: str, tag: str, reason: str) -> None:
    files = {"demo/__init__.py": b"", member: b"==> 2020-01-01 <==\n"}
    wheel = make_wheel(tmp_path, files=files, tag=tag)
    message = refused(WheelRequest(wheel, tmp_path / "out", python="3.11"))
    assert message == f"{wheel}: refusing '{member}': {reason}"


def test_other_data_files_still_install(tmp_path: Path) -> None:
    """Only the reserved top-level names are refused: share/, etc/ and a nested info/ are fine."""
    files = {
        "demo/__init__.py": b"",
        "demo-1.0.data/data/share/demo/info/notes.txt": b"x",
        "demo-1.0.data/data/etc/conda-meta.txt": b"y",
    }
    (package,) = convert_wheel(WheelRequest(make_wheel(tmp_path, files=files), tmp_path / "out"))
    assert package.path.is_file()


def test_cli_refuses_reserved_target_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(
        tmp_path, files={"demo/__init__.py": b"", "demo-1.0.data/data/info/test/run_test.sh": b"rm -rf /"}
    )
    code = main(["build-local", str(wheel), "--output-dir", str(tmp_path / "out"), "--no-user-mapping"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == f"conda-source: error: {wheel}: refusing 'demo-1.0.data/data/info/test/run_test.sh': {INFO}\n"
    assert not (tmp_path / "out").exists()


WRITES_CONDA_META = """
import os, zipfile
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "in_tree-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        wheel.writestr("in_tree.py", "")
        wheel.writestr("in_tree-1.0.data/data/conda-meta/history", "==> planted <==\\n")
        wheel.writestr("in_tree-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: in-tree\\nVersion: 1.0\\n")
        wheel.writestr(
            "in_tree-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
        )
        wheel.writestr("in_tree-1.0.dist-info/RECORD", "")
    return name
"""


def test_develop_install_refuses_a_data_file_into_conda_meta(prefix: Path, tmp_path: Path) -> None:
    """The develop-install side stages through the same destination, with the prefix's own layout."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "in_tree_backend"\nbackend-path = ["."]\n'
        '[project]\nname = "in-tree"\nversion = "1.0"\n'
    )
    (project / "in_tree_backend.py").write_text(WRITES_CONDA_META)
    before = tree_digest(prefix)
    with pytest.raises(ArtifactError) as caught:
        develop_install(DevelopRequest((project,), probe(prefix), overrides=Overrides(user_file=False), editable=False))
    assert caught.value.reason == f"refusing 'in_tree-1.0.data/data/conda-meta/history': {CONDA_META}"
    assert Path(caught.value.source).name == "in_tree-1.0-py3-none-any.whl"
    assert tree_digest(prefix) == before


# --- bounded resources ------------------------------------------------------------------------------


def test_member_count_limit(tmp_path: Path) -> None:
    files = {f"demo/m{i}.py": b"" for i in range(5)}
    wheel = make_wheel(tmp_path, files=files)  # + METADATA, WHEEL, RECORD
    message = refused(WheelRequest(wheel, tmp_path / "out", limits=Limits(max_files=7)))
    assert (
        message == f"{wheel}: refusing: the wheel has 8 members, more than the limit of 7 (raise it with --max-files N)"
    )
    assert convert_wheel(WheelRequest(wheel, tmp_path / "out", limits=Limits(max_files=8)))


def test_declared_size_limit(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, files={"demo/__init__.py": bytes(2000)})
    total = sum(info.file_size for info in zipfile.ZipFile(wheel).infolist())
    message = refused(WheelRequest(wheel, tmp_path / "out", limits=Limits(max_size=2048)))
    assert message == (
        f"{wheel}: refusing: the wheel unpacks to {total / 1024:.1f} KiB, more than the limit of 2.0 KiB "
        "(raise it with --max-size SIZE)"
    )


def test_zip_bomb_is_refused_from_its_central_directory(tmp_path: Path) -> None:
    """The issue's case: 1.5 MB that inflates to 1.5 GiB (it once took 39 s and 3.4 GB of memory)."""
    wheel = make_bomb_wheel(tmp_path, 1536 * MIB)
    compressed = zipfile.ZipFile(wheel).getinfo("bomb/zeros.bin").compress_size
    expected = (
        f"{wheel}: refusing member 'bomb/zeros.bin': it expands {1536 * MIB // compressed}:1 "
        f"({human(compressed)} to 1.5 GiB), more than the limit of 200:1 (raise it with --max-ratio N)"
    )
    assert refused(WheelRequest(wheel, tmp_path / "out")) == expected
    # The same wheel with noise where the deflated bytes were: the same refusal, so nothing was inflated.
    (tmp_path / "noise").mkdir()
    noise = make_bomb_wheel(tmp_path / "noise", 1536 * MIB, garbage=True)
    assert refused(WheelRequest(noise, tmp_path / "out")) == expected.replace(str(wheel), str(noise))
    # Past the ratio, the size limit still holds, also from the headers alone.
    assert refused(WheelRequest(noise, tmp_path / "out", limits=Limits(max_size=GIB, max_ratio=5000))) == (
        f"{noise}: refusing: the wheel unpacks to 1.5 GiB, more than the limit of 1.0 GiB (raise it with --max-size SIZE)"
    )


def test_a_zip_header_that_understates_a_member_does_not_let_more_through(tmp_path: Path) -> None:
    """zipfile stops at the declared size, and the check of what was read refuses the rest."""
    wheel = make_bomb_wheel(tmp_path, 8 * MIB, declared=1024)
    assert refused(WheelRequest(wheel, tmp_path / "out")) == (
        f"{wheel}: RECORD check failed: Bad CRC-32 for file 'bomb/zeros.bin'"
    )


def test_bytes_are_counted_while_staging(tmp_path: Path) -> None:
    """Whatever a header claims, staging counts the bytes it really reads against --max-size."""
    staging = StagingDestination(
        Layout.noarch_python("demo"), "demo-1.0-py3-none-any.whl", limits=Limits(max_size=3 * MIB)
    )
    staging.write_file("purelib", "demo/a.bin", io.BytesIO(bytes(2 * MIB)), False)
    with pytest.raises(ArtifactError) as caught:
        staging.write_file("purelib", "demo/b.bin", io.BytesIO(bytes(2 * MIB)), False)
    assert str(caught.value) == (
        "demo-1.0-py3-none-any.whl: refusing: the wheel unpacks to more than the limit of 3.0 MiB, counted while "
        "unpacking (raise it with --max-size SIZE)"
    )
    staged = staging.files["site-packages/demo/a.bin"]  # a large file is staged on disk, with its hash
    assert (staged.size, staged.sha256) == (2 * MIB, hashlib.sha256(bytes(2 * MIB)).hexdigest())
    assert staged.data == bytes(2 * MIB)


def test_limits_on_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_bomb_wheel(tmp_path, 2 * MIB, declared=2 * MIB)  # a true header, and RECORD with the hash
    compressed = zipfile.ZipFile(wheel).getinfo("bomb/zeros.bin").compress_size
    out = tmp_path / "out"
    assert main(["build-local", str(wheel), "--output-dir", str(out), "--no-user-mapping"]) == 1
    assert capsys.readouterr().err == (
        f"conda-source: error: {wheel}: refusing member 'bomb/zeros.bin': it expands {2 * MIB // compressed}:1 "
        f"({human(compressed)} to 2.0 MiB), more than the limit of 200:1 (raise it with --max-ratio N)\n"
    )
    assert main(["build-local", str(wheel), "--output-dir", str(out), "--no-user-mapping", "--max-ratio", "5000",
                 "--max-size", "1M"]) == 1  # fmt: skip
    assert "more than the limit of 1.0 MiB (raise it with --max-size SIZE)" in capsys.readouterr().err
    assert not out.exists()
    assert main(["build-local", str(wheel), "--output-dir", str(out), "--no-user-mapping", "--max-ratio", "5000"]) == 0
    assert len(list(out.glob("*.conda"))) == 1
    with pytest.raises(SystemExit):
        main(["build-local", str(wheel), "--max-size", "lots"])
    assert capsys.readouterr().err.endswith(
        "argument --max-size: 'lots' is not a size: use a number of bytes or one with K, M, G or T, e.g. 20G\n"
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [("4096", 4096), ("1K", 1024), ("500M", 500 * MIB), ("10G", 10 * GIB), ("1.5GB", 3 * GIB // 2), ("2gib", 2 * GIB)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_default_limits_admit_the_largest_real_wheels() -> None:
    """torch's wheel (cp311, 2.x): 1.1 GB in 13k members, the worst member over 1 MiB 24:1; the worst
    of 79 large wheels surveyed was 57:1.  The defaults sit far above."""
    limits = Limits()
    assert limits.max_size >= 8 * 1144088757 and limits.max_files >= 10 * 15586 and limits.max_ratio >= 3 * 57


def make_tar_sdist(path: Path, members: dict[str, bytes], level: int = 9) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=level) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def refused_sdist(sdist: Path, out: Path, limits: Limits) -> str:
    with pytest.raises(ArtifactError) as caught:
        build_local(BuildRequest((sdist,), out, limits=limits))
    assert not out.exists()
    return str(caught.value)


def test_sdist_tar_bomb(tmp_path: Path) -> None:
    sdist = make_tar_sdist(tmp_path / "bomb-1.0.tar.gz", {"bomb-1.0/setup.py": b"", "bomb-1.0/zeros": bytes(64 * MIB)})
    compressed = sdist.stat().st_size
    assert refused_sdist(sdist, tmp_path / "out", Limits()) == (
        f"{sdist}: refusing the sdist: it expands {64 * MIB // compressed}:1 ({human(compressed)} to 64.0 MiB), "
        "more than the limit of 200:1 (raise it with --max-ratio N)"
    )


def test_sdist_member_count_and_size(tmp_path: Path) -> None:
    members = {f"many-1.0/m{i}.py": b"x" for i in range(3)}
    sdist = make_tar_sdist(tmp_path / "many-1.0.tar.gz", members)
    assert refused_sdist(sdist, tmp_path / "out", Limits(max_files=2)) == (
        f"{sdist}: refusing: the sdist has 3 members, more than the limit of 2 (raise it with --max-files N)"
    )
    assert refused_sdist(sdist, tmp_path / "out", Limits(max_size=2)) == (
        f"{sdist}: refusing: the sdist unpacks to 3 B, more than the limit of 2 B (raise it with --max-size SIZE)"
    )
    zipped = tmp_path / "many-1.0.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert refused_sdist(zipped, tmp_path / "out", Limits(max_size=2)) == (
        f"{zipped}: refusing: the sdist unpacks to 3 B, more than the limit of 2 B (raise it with --max-size SIZE)"
    )


# --- memory stays flat ------------------------------------------------------------------------------


def sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(MIB):
        digest.update(chunk)
    return digest.hexdigest()


# VmHWM is the peak RSS of this process image alone; ru_maxrss would also count the pages of the
# (large) pytest process that the child was forked from, which Linux carries across exec.
PEAK = """
import sys
from conda_source.cli import main
code = main(["build-local", sys.argv[1], "--output-dir", sys.argv[2], "--no-user-mapping", *sys.argv[3:]])
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(code, int(status["VmHWM"].split()[0]) // 1024)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS is read from Linux's /proc")
@pytest.mark.parametrize("level", [[], ["--compression-level", "22"]], ids=["default-level", "level-22"])
def test_converting_a_200_mib_member_keeps_memory_flat(tmp_path: Path, level: list[str]) -> None:
    """Members are streamed to disk and the .conda is compressed in chunks: the old writer held the
    whole package in memory twice.  Peak RSS of a fresh interpreter doing only this (about 75 MiB);
    with zstd's own tables, level 22 would take 715 MiB for 64 MiB of content."""
    wheel = make_large_wheel(tmp_path, 200 * MIB)
    completed = subprocess.run(
        [sys.executable, "-c", PEAK, str(wheel), str(tmp_path / "out"), *level],
        capture_output=True,
        text=True,
        check=True,
    )
    code, peak_mib = map(int, completed.stdout.split()[-2:])
    assert code == 0
    assert peak_mib < 110, f"peak RSS {peak_mib} MiB converting a 200 MiB wheel"
    assert not list((tmp_path / "out").glob(".conda-source-*")), "scratch files are removed"
    (package,) = (tmp_path / "out").glob("*.conda")
    with zipfile.ZipFile(wheel) as archive, archive.open("big/payload.bin") as payload:
        expected = sha256_of(payload)
    with package.open("rb") as stream:
        for tar, member in stream_conda_component(package.name, stream, "pkg"):
            if member.name == "site-packages/big/payload.bin":
                extracted = tar.extractfile(member)
                assert extracted is not None
                assert (member.size, sha256_of(extracted)) == (200 * MIB, expected)
                break
        else:
            raise AssertionError("the payload is missing from the package")


# --- output directories are checked before anything is written --------------------------------------


def test_output_dir_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path)
    out = tmp_path / "out"
    out.write_text("not a directory")
    code = main(["build-local", str(wheel), "--output-dir", str(out), "--channel-dir", str(tmp_path / "ch")])
    assert code == 1
    assert capsys.readouterr().err == (
        f"conda-source: error: {out}: --output-dir exists and is not a directory; choose another --output-dir\n"
    )
    assert out.read_text() == "not a directory" and not (tmp_path / "ch").exists()


def test_channel_dir_that_is_a_file_is_refused_before_any_package_is_written(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    channel = tmp_path / "ch"
    channel.write_text("")
    with pytest.raises(OutputDirError) as caught:
        build_local(BuildRequest((wheel,), tmp_path / "out", channel))
    assert str(caught.value) == f"{channel}: --channel-dir exists and is not a directory; choose another --channel-dir"
    assert not (tmp_path / "out").exists()
    nested = channel / "sub"
    with pytest.raises(OutputDirError) as caught:
        build_local(BuildRequest((wheel,), tmp_path / "out", nested))
    assert str(caught.value) == (
        f"{nested}: cannot create --channel-dir: {channel} is not a directory; choose another --channel-dir"
    )
    assert not (tmp_path / "out").exists()


def test_a_failure_at_filing_removes_the_packages_it_wrote(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    channel = tmp_path / "ch"
    channel.mkdir()
    (channel / "noarch").write_text("")
    existing = tmp_path / "existing-out"
    existing.mkdir()
    (existing / "keep.conda").write_text("earlier output")
    for out in (tmp_path / "new" / "out", existing):
        with pytest.raises(OutputDirError) as caught:
            build_local(BuildRequest((wheel,), out, channel))
        assert str(caught.value) == (
            f"{channel / 'noarch'}: --channel-dir exists and is not a directory; choose another --channel-dir"
        )
    assert not (tmp_path / "new").exists()
    assert [p.name for p in existing.iterdir()] == ["keep.conda"]
    assert sorted(p.name for p in channel.iterdir()) == ["noarch"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere: a read-only directory cannot be shown")
def test_channel_dir_that_is_not_writable(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    channel = tmp_path / "ch"
    channel.mkdir(mode=0o555)
    with pytest.raises(OutputDirError) as caught:
        build_local(BuildRequest((wheel,), tmp_path / "out", channel))
    assert str(caught.value) == f"{channel}: --channel-dir is not writable; choose another --channel-dir"
    assert not (tmp_path / "out").exists()


def test_sdist_hard_link_to_a_later_member_is_refused(tmp_path: Path) -> None:
    """tarfile would find the target by reading every header to the end, past every check."""
    sdist = tmp_path / "links-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        link = tarfile.TarInfo("links-1.0/setup.py")
        link.type, link.linkname = tarfile.LNKTYPE, "links-1.0/later.py"
        archive.addfile(link)
        later = tarfile.TarInfo("links-1.0/later.py")
        archive.addfile(later, io.BytesIO(b""))
    assert refused_sdist(sdist, tmp_path / "out", Limits()) == (
        f"{sdist}: refusing member 'links-1.0/setup.py': a hard link to 'links-1.0/later.py', not unpacked before it"
    )


def test_placeholder_is_found_across_chunks_of_a_file_staged_on_disk(tmp_path: Path) -> None:
    """Files over 256 KiB are streamed in 1 MiB chunks; the prefix placeholder may straddle two."""
    placeholder = b"/opt/anaconda1anaconda2anaconda3"
    data = b"a" * (MIB - 10) + placeholder + b"a" * 100
    wheel = make_wheel(tmp_path, files={"demo/__init__.py": b"", "demo/data.txt": data})
    (package,) = convert_wheel(WheelRequest(wheel, tmp_path / "out"))
    with package.path.open("rb") as stream:
        for tar, member in stream_conda_component(package.path.name, stream, "info"):
            if member.name == "info/paths.json":
                extracted = tar.extractfile(member)
                assert extracted is not None
                paths = {entry["_path"]: entry for entry in json.load(extracted)["paths"]}
                break
    assert paths["site-packages/demo/data.txt"]["prefix_placeholder"] == placeholder.decode()
    assert paths["site-packages/demo/data.txt"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert "prefix_placeholder" not in paths["site-packages/demo/__init__.py"]
