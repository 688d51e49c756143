"""Write a ``.conda`` file reproducibly, atomically and in flat memory.

A ``.conda`` is a zip (stored, not deflated) of ``metadata.json`` and two
zstd-compressed tarballs, ``pkg-STEM.tar.zst`` and ``info-STEM.tar.zst``.  Each
tarball is written to a scratch file first (conda-package-streaming's builder keeps
them in memory, twice the package's size), with entries in sorted order, uid/gid 0,
fixed modes and a fixed mtime, then compressed in chunks to a second scratch file,
which is copied into the zip.  The package's files can be compressed in a thread
(``Compressing``) while its ``info/`` is still being made.  zstd runs at level 19 by
default (as conda-build; 1 is fastest, 22 smallest), single-threaded (its
multi-threaded mode buffers far more), with tables no larger than an 8 MiB window and
16 MiB search tables: level 19's own are 64 MiB, which on scipy's wheel buys 0.7% in
size for 2.7 times the time, and levels 20 to 22 ask for up to 128 MiB windows and
512 MiB tables.  Levels whose own tables are smaller keep them, so memory stays around
40 MiB whatever the package's size and level.
The file appears under its final name only when complete.
"""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, BinaryIO

from conda_source.artifact.staging import CHUNK, StagedFile

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can carry
ZSTD_LEVEL = 19  # conda-build's and conda-package-streaming's default
ZSTD_LEVELS = range(1, 23)
# zstd's parameters for inputs over 256 KiB (lib/compress/clevels.h) where they exceed the bound
# (window_log 23, chain_log 22, hash_log 22): level -> (window_log, chain_log, hash_log).
ZSTD_BOUND = (23, 22, 22)
_ZSTD_ABOVE_BOUND = {
    12: (22, 22, 23), 14: (22, 22, 23), 15: (22, 23, 23), 17: (23, 23, 22), 18: (23, 23, 22),
    19: (23, 24, 22), 20: (25, 25, 23), 21: (26, 26, 24), 22: (27, 27, 25),
}  # fmt: skip


def parse_level(value: object) -> int:
    """A zstd level as given on the command line, in a setting or by a caller; ValueError saying what to use."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdecimal() or int(text) not in ZSTD_LEVELS:
        raise ValueError(
            f"'{value}' is not a compression level: use a whole number from 1 (fastest) to 22 (smallest files); "
            f"the default is {ZSTD_LEVEL}"
        )
    return int(text)


def write_conda(
    output_dir: Path, stem: str, members: Mapping[str, StagedFile], mtime: int, level: int = ZSTD_LEVEL
) -> Path:
    """Write ``members`` (package path -> file) as ``output_dir/stem.conda``, compressed at zstd ``level``."""
    parse_level(level)  # a bad level fails before any work, not in zstd's own words
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".conda-source-") as scratch:
        parts = {
            part: compress_tar(
                {n: m for n, m in members.items() if n.startswith("info/") == (part == "info")},
                mtime,
                level,
                Path(scratch, f"{part}.tar.zst"),
            )
            for part in ("pkg", "info")
        }
        return assemble(output_dir, stem, parts["pkg"], parts["info"], mtime)


def compress_tar(
    members: Mapping[str, StagedFile], mtime: int, level: int, target: Path, stop: threading.Event | None = None
) -> Path:
    """``members`` as a tarball (sorted, owned by root, fixed modes and mtime) compressed into ``target``.

    The tarball goes to a scratch file first, removed once compressed; ``stop``, when set, ends the work
    between two files or two chunks (``Stopped``)."""
    tar_path = target.with_name(f"{target.name}.tar")
    try:
        _tar_and_compress(members, mtime, level, target, tar_path, stop)
    except OSError as exc:
        if exc.errno is not None and exc.filename is None:  # a write refused (a full disk): name where they went
            raise OSError(exc.errno, exc.strerror, str(target.parent)) from exc
        raise
    tar_path.unlink()  # free the scratch space before the next component
    return target


def _tar_and_compress(
    members: Mapping[str, StagedFile],
    mtime: int,
    level: int,
    target: Path,
    tar_path: Path,
    stop: threading.Event | None,
) -> None:
    with tarfile.open(tar_path, "w") as tar:
        for name in sorted(members):
            if stop is not None and stop.is_set():
                raise Stopped
            member = members[name]
            entry = tarfile.TarInfo(name)
            entry.size = member.size
            entry.mode = 0o755 if member.executable else 0o644
            entry.mtime = mtime
            entry.uid = entry.gid = 0
            entry.uname = entry.gname = ""
            with member.open() as stream:
                tar.addfile(entry, stream)
    with tar_path.open("rb") as source, target.open("xb") as compressed:
        _compress(source, compressed, tar_path.stat().st_size, level, stop)


def assemble(output_dir: Path, stem: str, pkg: Path, info: Path, mtime: int) -> Path:
    """The ``.conda`` zip of two compressed tarballs (``compress_tar``), under its final name only when complete."""
    final = output_dir / f"{stem}.conda"
    stamp = time.gmtime(max(mtime, ZIP_EPOCH))[:6]
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".conda-source-") as scratch:
        partial = Path(scratch, f"{stem}.conda")
        with zipfile.ZipFile(partial, "x") as archive:
            archive.writestr(_entry("metadata.json", stamp), json.dumps({"conda_pkg_format_version": 2}))
            for component, path in (("pkg", pkg), ("info", info)):
                zipped = _entry(f"{component}-{stem}.tar.zst", stamp)
                large = path.stat().st_size > zipfile.ZIP64_LIMIT  # as zipfile itself decides
                with path.open("rb") as source, archive.open(zipped, "w", force_zip64=large) as target:
                    shutil.copyfileobj(source, target, CHUNK)
        partial.replace(final)
    return final


class Stopped(Exception):
    """A background compression was told to stop (its caller failed or was interrupted)."""


class Compressing:
    """``compress_tar`` in a thread while the caller goes on (zstd releases the GIL, so the two overlap).

    ``result()`` waits for the file and raises what the thread raised; leaving the block stops the thread
    between two files or chunks and waits for it, so nothing writes into a directory its caller is removing.
    The waits are on an event of its own: a Ctrl-C that interrupts ``Thread.join`` leaves Python 3.11's
    thread saying it ended when it has not."""

    def __init__(self, members: Mapping[str, StagedFile], mtime: int, level: int, target: Path) -> None:
        self._stop = threading.Event()
        self._done = threading.Event()
        self._outcome: Path | BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(members, mtime, level, target), daemon=True)

    def _run(self, members: Mapping[str, StagedFile], mtime: int, level: int, target: Path) -> None:
        try:
            self._outcome = compress_tar(members, mtime, level, target, self._stop)
        except BaseException as exc:  # handed to the caller by result()
            self._outcome = exc
        finally:
            self._done.set()

    def __enter__(self) -> Compressing:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()  # a no-op when the work is done
        interrupted = False
        while True:
            try:
                self._done.wait()  # it stops within a file or a chunk
                break
            except KeyboardInterrupt:  # a second Ctrl-C: still wait, or it writes into a directory being removed
                interrupted = True
        self._thread.join()  # its last steps after the event
        if interrupted and exc_info[0] is None:
            raise KeyboardInterrupt

    def result(self) -> Path:
        self._done.wait()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        assert self._outcome is not None
        return self._outcome


def _entry(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    entry.compress_type = zipfile.ZIP_STORED
    entry.external_attr = 0o644 << 16
    return entry


def _compress(source: BinaryIO, target: IO[bytes], size: int, level: int, stop: threading.Event | None) -> None:
    parameter = zstd.CompressionParameter
    options: dict[int, int] = {parameter.compression_level: level, parameter.nb_workers: 0}
    if size > 1 << 18 and level in _ZSTD_ABOVE_BOUND:  # smaller inputs already get smaller tables
        logs = (parameter.window_log, parameter.chain_log, parameter.hash_log)
        for log, own, bound in zip(logs, _ZSTD_ABOVE_BOUND[level], ZSTD_BOUND, strict=True):
            if own > bound:
                options[log] = bound
    compressor = zstd.ZstdCompressor(options=options)
    compressor.set_pledged_input_size(size)  # recorded in the frame; lets small inputs use small tables
    while chunk := source.read(CHUNK):
        if stop is not None and stop.is_set():
            raise Stopped
        target.write(compressor.compress(chunk))
    target.write(compressor.flush())
