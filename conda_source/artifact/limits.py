"""Bounds on what an archive from outside (a wheel, an sdist) may unpack to.

A small archive can declare, or hold, far more than it looks: a zip member
compresses about 1000:1 at most, a gzip stream as much.  Every archive is checked
before anything is unpacked (member count, declared sizes, compression ratio),
and the bytes really read are counted again while they are streamed, so a zip
header that lies does not help.  The defaults are far above real packages (the
largest wheels on PyPI unpack to a few GB in tens of thousands of files, and
their large members compress less than 60:1); each error names the option that
raises its limit.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from conda_source.errors import ArtifactError

GIB = 1 << 30
MIB = 1 << 20
# The ratio is only judged for members at least this large: small files of
# repeated text compress well and are harmless.
RATIO_FLOOR = MIB
# dist-info files that installers read whole into memory; no real one comes near this.
METADATA_LIMIT = 64 * MIB
_READ_WHOLE = re.compile(r"^[^/]+\.dist-info/(METADATA|WHEEL|RECORD|entry_points\.txt)$")
_UNITS = {"": 1, "K": 1 << 10, "M": MIB, "G": GIB, "T": 1 << 40}


@dataclass(frozen=True)
class Limits:
    """What one archive may unpack to."""

    max_size: int = 10 * GIB  # uncompressed bytes, declared and actual, of the whole archive
    max_files: int = 200_000  # members
    max_ratio: int = 200  # uncompressed : compressed, of any member of RATIO_FLOOR bytes or more

    def too_large(self, source: Path | str, what: str, size: int) -> ArtifactError:
        return ArtifactError(
            source,
            f"refusing: the {what} unpacks to {human(size)}, more than the limit of {human(self.max_size)} "
            "(raise it with --max-size SIZE)",
        )

    def exceeded(self, source: Path | str, what: str) -> ArtifactError:
        return ArtifactError(
            source,
            f"refusing: the {what} unpacks to more than the limit of {human(self.max_size)}, counted while "
            "unpacking (raise it with --max-size SIZE)",
        )

    def check_count(self, source: Path | str, what: str, count: int) -> None:
        if count > self.max_files:
            raise ArtifactError(
                source,
                f"refusing: the {what} has {count} members, more than the limit of {self.max_files} "
                "(raise it with --max-files N)",
            )

    def check_ratio(self, source: Path | str, subject: str, size: int, compressed: int) -> None:
        """``subject`` is what is refused: ``member 'NAME'``, or ``the sdist`` for one compressed stream."""
        if size >= RATIO_FLOOR and size > self.max_ratio * max(compressed, 1):
            ratio = size // max(compressed, 1)
            raise ArtifactError(
                source,
                f"refusing {subject}: it expands {ratio}:1 ({human(compressed)} to {human(size)}), "
                f"more than the limit of {self.max_ratio}:1 (raise it with --max-ratio N)",
            )


def check_zip(source: Path | str, archive: zipfile.ZipFile, limits: Limits, what: str) -> None:
    """Refuse a zip whose central directory declares more than the limits allow, before unpacking."""
    members = archive.infolist()
    limits.check_count(source, what, len(members))
    total = 0
    for info in members:
        limits.check_ratio(source, f"member '{info.filename}'", info.file_size, info.compress_size)
        if _READ_WHOLE.match(info.filename) and info.file_size > METADATA_LIMIT:
            raise ArtifactError(
                source,
                f"refusing member '{info.filename}': {human(info.file_size)} is more than a metadata file may hold "
                f"({human(METADATA_LIMIT)}, a fixed limit)",
            )
        total += info.file_size
    if total > limits.max_size:
        raise limits.too_large(source, what, total)


def human(size: int) -> str:
    """``1536`` -> ``1.5 KiB``: sizes in messages."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def parse_size(text: str) -> int:
    """``10G``, ``500M``, ``1.5GB``, ``4096`` -> bytes (binary units); ValueError when malformed."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if match is None:
        raise ValueError(f"'{text}' is not a size: use a number of bytes or one with K, M, G or T, e.g. 20G")
    return int(float(match[1]) * _UNITS[match[2].upper()])
