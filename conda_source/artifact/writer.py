"""Write a ``.conda`` file reproducibly, atomically and in flat memory.

A ``.conda`` is a zip (stored, not deflated) of ``metadata.json`` and two
zstd-compressed tarballs, ``pkg-STEM.tar.zst`` and ``info-STEM.tar.zst``.  The
tarballs are written to scratch files first (conda-package-streaming's builder
keeps them in memory, twice the package's size), with entries in sorted order,
uid/gid 0, fixed modes and a fixed mtime; then each is compressed into the zip
in chunks.  zstd runs at level 19 (as conda-build), single-threaded (its
multi-threaded mode buffers far more), with a 16 MiB search table instead of
level 19's 64 MiB: on scipy's wheel that costs 0.7% in size and is 2.7 times
faster, and memory stays around 40 MiB whatever the package's size.
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
ZSTD_CHAIN_LOG = 22  # level 19 uses 24 (a 64 MiB table) for inputs over 256 KiB
CONDA_ZIP64_LIMIT = zipfile.ZIP64_LIMIT - (1 << 18) - 1  # room for incompressible data to grow


def write_conda(output_dir: Path, stem: str, members: Mapping[str, StagedFile], mtime: int) -> Path:
    """Write ``members`` (package path -> file) as ``output_dir/stem.conda``."""
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
                    _compress(source, target, size)
                tars[component].unlink()  # free the scratch space before the next component
        partial.replace(final)
    return final


def _entry(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    entry.compress_type = zipfile.ZIP_STORED
    entry.external_attr = 0o644 << 16
    return entry


def _compress(source: BinaryIO, target: IO[bytes], size: int) -> None:
    parameter = zstd.CompressionParameter
    options: dict[int, int] = {parameter.compression_level: ZSTD_LEVEL, parameter.nb_workers: 0}
    if size > 1 << 18:  # smaller inputs already get smaller tables
        options[parameter.chain_log] = ZSTD_CHAIN_LOG
    compressor = zstd.ZstdCompressor(options=options)
    compressor.set_pledged_input_size(size)  # recorded in the frame; lets small inputs use small tables
    while chunk := source.read(CHUNK):
        target.write(compressor.compress(chunk))
    target.write(compressor.flush())
