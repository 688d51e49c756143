"""Write a ``.conda`` file reproducibly, atomically and in flat memory.

A ``.conda`` is a zip (stored, not deflated) of ``metadata.json`` and two
zstd-compressed tarballs, ``pkg-STEM.tar.zst`` and ``info-STEM.tar.zst``.  The
tarballs are written to scratch files first (conda-package-streaming's builder
keeps them in memory, twice the package's size), with entries in sorted order,
uid/gid 0, fixed modes and a fixed mtime; then each is compressed into the zip
in chunks.  zstd runs at level 19 by default (as conda-build; 1 is fastest, 22
smallest), single-threaded (its multi-threaded mode buffers far more), with
tables no larger than an 8 MiB window and 16 MiB search tables: level 19's own
are 64 MiB, which on scipy's wheel buys 0.7% in size for 2.7 times the time, and
levels 20 to 22 ask for up to 128 MiB windows and 512 MiB tables.  Levels whose
own tables are smaller keep them, so memory stays around 40 MiB whatever the
package's size and level.
The file appears under its final name only when complete.
"""

from __future__ import annotations

import json
import sys
import tarfile
import tempfile
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
CONDA_ZIP64_LIMIT = zipfile.ZIP64_LIMIT - (1 << 18) - 1  # room for incompressible data to grow


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
    final = output_dir / f"{stem}.conda"
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".conda-source-") as scratch:
        tars = {"pkg": Path(scratch, "pkg.tar"), "info": Path(scratch, "info.tar")}
        with tarfile.open(tars["pkg"], "w") as pkg, tarfile.open(tars["info"], "w") as info:
            for name in sorted(members):
                member = members[name]
                entry = tarfile.TarInfo(name)
                entry.size = member.size
                entry.mode = 0o755 if member.executable else 0o644
                entry.mtime = mtime
                entry.uid = entry.gid = 0
                entry.uname = entry.gname = ""
                with member.open() as stream:
                    (info if name.startswith("info/") else pkg).addfile(entry, stream)
        partial = Path(scratch, f"{stem}.conda")
        stamp = time.gmtime(max(mtime, ZIP_EPOCH))[:6]
        with zipfile.ZipFile(partial, "x") as archive:
            archive.writestr(_entry("metadata.json", stamp), json.dumps({"conda_pkg_format_version": 2}))
            for component in ("pkg", "info"):
                size = tars[component].stat().st_size
                zipped = _entry(f"{component}-{stem}.tar.zst", stamp)
                with (
                    tars[component].open("rb") as source,
                    archive.open(zipped, "w", force_zip64=size > CONDA_ZIP64_LIMIT) as target,
                ):
                    _compress(source, target, size, level)
                tars[component].unlink()  # free the scratch space before the next component
        partial.replace(final)
    return final


def _entry(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    entry.compress_type = zipfile.ZIP_STORED
    entry.external_attr = 0o644 << 16
    return entry


def _compress(source: BinaryIO, target: IO[bytes], size: int, level: int) -> None:
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
        target.write(compressor.compress(chunk))
    target.write(compressor.flush())
