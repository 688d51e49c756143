"""A wheel's staged files are compressed in a thread while its metadata is read and ``info/`` made
(artifact/writer.py's ``Compressing``): every variant shares that one tarball, a failure on either side
reaches the caller, and a failure of the caller stops the thread and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import BinaryIO, ClassVar

import pytest
from backports import zstd
from support import check_paths_match_contents
from wheelmaker import make_wheel

from conda_source.artifact import WheelRequest, convert_wheel
from conda_source.artifact.staging import StagedFile
from conda_source.artifact.writer import Compressing, Stopped
from conda_source.errors import ArtifactError

NOISE = os.urandom(6 << 20)  # incompressible: six chunks, each seconds' work for zstd at level 22


def members(data: bytes) -> dict[str, StagedFile]:
    return {"site-packages/demo/blob.bin": StagedFile(data), "site-packages/demo/__init__.py": StagedFile(b"X = 1\n")}


def test_leaving_the_block_stops_the_compression_between_chunks(tmp_path: Path) -> None:
    threads = threading.active_count()
    failing = pytest.raises(RuntimeError, match="the caller failed")
    with failing, Compressing(members(NOISE), 0, 22, tmp_path / "p") as pkg:
        raise RuntimeError("the caller failed")
    assert threading.active_count() == threads  # waited for, not left running
    with pytest.raises(Stopped):
        pkg.result()  # without the stop it would have compressed all six chunks and returned the file


def test_a_failure_in_the_thread_reaches_the_caller(tmp_path: Path) -> None:
    class Unreadable(StagedFile):
        def open(self) -> BinaryIO:
            raise OSError("the scratch disk went away")

    failing = pytest.raises(OSError, match="the scratch disk went away")
    with Compressing({"site-packages/demo/x.py": Unreadable(b"x")}, 0, 19, tmp_path / "p") as pkg, failing:
        pkg.result()


def test_the_thread_compresses_what_was_staged(tmp_path: Path) -> None:
    with Compressing(members(b"payload " * 1000), 1_700_000_000, 19, tmp_path / "pkg.tar.zst") as pkg:
        path = pkg.result()
    assert path == tmp_path / "pkg.tar.zst"
    assert not (tmp_path / "pkg.tar.zst.tar").exists()  # the scratch tarball is gone once compressed
    tar = zstd.decompress(path.read_bytes())
    assert b"site-packages/demo/__init__.py" in tar and b"payload " * 1000 in tar


def test_a_metadata_error_while_compressing_leaves_nothing(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, files={"demo/__init__.py": b"", "demo/blob.bin": NOISE}, metadata="")
    threads = threading.active_count()
    out = tmp_path / "out"
    with pytest.raises(ArtifactError) as caught:
        convert_wheel(WheelRequest(wheel, out, compression_level=22))
    assert str(caught.value) == f"{wheel}: demo's .dist-info/METADATA is empty; rebuild the wheel"
    assert not out.exists()  # not even the scratch directory, which the thread was writing into
    assert threading.active_count() == threads


def test_variants_share_one_compressed_tarball(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, requires=("colorama; sys_platform == 'win32'",))
    built = convert_wheel(WheelRequest(wheel, tmp_path / "out", source_date_epoch=1_700_000_000))
    assert sorted(p.identity.build.split("_")[0] for p in built) == ["unix", "win"]
    frames = set()
    for package in built:
        check_paths_match_contents(package.path)
        with zipfile.ZipFile(package.path) as archive:
            frames.add(archive.read(f"pkg-{package.identity.stem}.tar.zst"))
            assert archive.namelist() == [
                "metadata.json",
                f"pkg-{package.identity.stem}.tar.zst",
                f"info-{package.identity.stem}.tar.zst",
            ]
    assert len(frames) == 1


def build_local_under(probe_script: str, wheel: Path, out: Path) -> str:
    """build-local of ``wheel`` in a fresh interpreter that runs ``probe_script`` (which calls the CLI); its stdout."""
    command = [sys.executable, "-c", probe_script, "build-local", str(wheel), "--output-dir", str(out)]
    completed = subprocess.run([*command, "--no-user-mapping"], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_a_wheels_build_local_loads_no_installer_records_or_elf_code(tmp_path: Path) -> None:
    """A wheel needs neither an environment's installer and records nor the relocation of compiled code:
    none of it is imported on the way (each costs start-up time in every run)."""
    wheel = make_wheel(tmp_path)
    probe_script = (
        "import sys\n"
        "from conda_source.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "heavy = sorted(m for m in ('conda_source.installer.installer', 'conda_source.meta.conda_meta', "
        "'conda_source.artifact.native', 'rattler', 'asyncio') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(code)\n"
    )
    assert "HEAVY []" in build_local_under(probe_script, wheel, tmp_path / "out")
    assert len(list((tmp_path / "out").glob("demo-1.0-*.conda"))) == 1


def test_the_metadata_side_is_imported_only_once_the_compression_runs(tmp_path: Path) -> None:
    """The requirement parser, the mapping and info/'s code are imported after the thread has started, so
    their import overlaps the compression instead of delaying it."""
    wheel = make_wheel(tmp_path)
    probe_script = (
        "import sys, threading\n"
        "from conda_source.artifact import writer\n"
        "seen = []\n"
        "original = writer.compress_tar\n"
        "def watched(*args, **kwargs):\n"
        "    if threading.current_thread() is not threading.main_thread() and not seen:\n"
        "        seen.append(sorted(m for m in ('conda_source.artifact.describe', 'packaging.requirements') "
        "if m in sys.modules))\n"
        "    return original(*args, **kwargs)\n"
        "writer.compress_tar = watched\n"
        "from conda_source.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('AT START', seen, 'AT END', 'conda_source.artifact.describe' in sys.modules)\n"
        "sys.exit(code)\n"
    )
    assert "AT START [[]] AT END True" in build_local_under(probe_script, wheel, tmp_path / "out")


class Slow(StagedFile):
    """A staged file that takes a while to open, counting how many of its kind were opened."""

    opened: ClassVar[list[str]] = []
    busy = threading.Event()

    def open(self) -> BinaryIO:
        Slow.opened.append("x")
        Slow.busy.set()
        time.sleep(0.2)
        return super().open()


def slow_members(count: int) -> dict[str, StagedFile]:
    Slow.opened = []
    Slow.busy.clear()
    return {f"site-packages/demo/m{i:02}.py": Slow(b"X = 1\n") for i in range(count)}


def test_the_tarball_step_stops_between_files_too(tmp_path: Path) -> None:
    members = slow_members(10)
    failing = pytest.raises(RuntimeError, match="the caller failed")
    with failing, Compressing(members, 0, 19, tmp_path / "p"):
        assert Slow.busy.wait(10)
        raise RuntimeError("the caller failed")
    assert 1 <= len(Slow.opened) < len(members)  # not every file was written into the tarball first


def test_a_second_ctrl_c_still_waits_for_the_thread(tmp_path: Path) -> None:
    """A Ctrl-C while the block's failure waits for the thread: the wait goes on (the thread stops within a
    file), so nothing writes into the scratch directory as the caller removes it; the first failure stands."""
    threads = {t.ident for t in threading.enumerate()}
    timer = threading.Timer(0.05, signal.pthread_kill, (threading.get_ident(), signal.SIGINT))
    failing = pytest.raises((RuntimeError, KeyboardInterrupt))
    with failing as caught, Compressing(slow_members(10), 0, 19, tmp_path / "p"):
        assert Slow.busy.wait(10)  # the thread is writing a file into the tarball
        timer.start()  # Ctrl-C while the failure below waits for the thread
        raise RuntimeError("the caller failed")
    timer.join()
    assert caught.type is RuntimeError
    assert [t.name for t in threading.enumerate() if t.ident not in threads] == []


def test_ctrl_c_while_waiting_for_the_file_stops_and_waits_for_the_thread(tmp_path: Path) -> None:
    """The usual Ctrl-C: the caller waits in result(); the block then stops the thread and waits for it."""
    threads = {t.ident for t in threading.enumerate()}
    timer = threading.Timer(0.05, signal.pthread_kill, (threading.get_ident(), signal.SIGINT))
    members = slow_members(10)
    with pytest.raises(KeyboardInterrupt), Compressing(members, 0, 19, tmp_path / "p") as pkg:
        assert Slow.busy.wait(10)
        timer.start()
        pkg.result()
    timer.join()
    assert [t.name for t in threading.enumerate() if t.ident not in threads] == []
    assert len(Slow.opened) < len(members)
