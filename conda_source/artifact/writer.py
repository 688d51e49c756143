"""Write a ``.conda`` file reproducibly and atomically.

conda-package-streaming builds the archive (two zstd tarballs in a zip).  We
feed it entries in sorted order with uid/gid 0, fixed modes and a fixed mtime,
then re-stamp the outer zip's entries, which the library dates with the clock.
The file appears under its final name only when complete.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

from conda_package_streaming.create import conda_builder

from conda_source.artifact.staging import StagedFile

ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can carry


def write_conda(output_dir: Path, stem: str, members: Mapping[str, StagedFile], mtime: int) -> Path:
    """Write ``members`` (package path -> file) as ``output_dir/stem.conda``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    final = output_dir / f"{stem}.conda"
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".conda-source-") as scratch:
        with conda_builder(stem, scratch, compression_threads=1) as tar:
            for name in sorted(members):
                member = members[name]
                info = tarfile.TarInfo(name)
                info.size = len(member.data)
                info.mode = 0o755 if member.executable else 0o644
                info.mtime = mtime
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(member.data))
        restamped = Path(scratch, f"{stem}.restamped")
        _restamp_zip(Path(scratch, f"{stem}.conda"), restamped, mtime)
        restamped.replace(final)
    return final


def _restamp_zip(source: Path, target: Path, mtime: int) -> None:
    stamp = time.gmtime(max(mtime, ZIP_EPOCH))[:6]
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "x") as new:
        for item in old.infolist():
            fresh = zipfile.ZipInfo(item.filename, date_time=stamp)
            fresh.compress_type = item.compress_type
            fresh.external_attr = 0o644 << 16
            with (
                old.open(item) as reader,
                new.open(fresh, "w", force_zip64=item.file_size > zipfile.ZIP64_LIMIT) as writer,
            ):
                while chunk := reader.read(1 << 20):
                    writer.write(chunk)
