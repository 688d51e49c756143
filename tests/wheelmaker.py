"""Small hand-made wheels for the tests that need a precise defect or marker."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


def make_wheel(
    directory: Path,
    name: str = "demo",
    version: str = "1.0",
    requires: tuple[str, ...] = (),
    files: dict[str, bytes] | None = None,
    metadata_extra: str = "",
    tag: str = "py3-none-any",
    entry_points: str = "",
    record_overrides: dict[str, str] | None = None,
    unrecorded: dict[str, bytes] | None = None,
    metadata: str | None = None,
) -> Path:
    """Write ``{name}-{version}-{tag}.whl``; ``record_overrides`` plants wrong RECORD rows."""
    dist_info = f"{name}-{version}.dist-info"
    contents = dict(files if files is not None else {f"{name}/__init__.py": b"VALUE = 1\n"})
    if metadata is None:  # else: the whole METADATA text, as given
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
            f"Requires-Dist: {r}\n" for r in requires
        )
        metadata += metadata_extra
    contents[f"{dist_info}/METADATA"] = metadata.encode()
    contents[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    )
    if entry_points:
        contents[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    rows = [f"{path},{_record_hash(data)},{len(data)}" for path, data in contents.items()]
    rows = [
        row if row.split(",")[0] not in (record_overrides or {}) else record_overrides[row.split(",")[0]]
        for row in rows
    ]  # type: ignore[index]
    rows.append(f"{dist_info}/RECORD,,")
    path = directory / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in {**contents, **(unrecorded or {})}.items():
            archive.writestr(member, data)
        archive.writestr(f"{dist_info}/RECORD", "\n".join(rows) + "\n")
    return path


def make_large_wheel(directory: Path, size: int, name: str = "big", block: int = 1 << 20) -> Path:
    """A pure wheel with one stored member of ``size`` bytes (a repeated random block), written in chunks."""
    import random

    dist_info = f"{name}-1.0.dist-info"
    chunk = random.Random(size).randbytes(block)
    digest = hashlib.sha256()
    for _ in range(size // block):
        digest.update(chunk)
    rest = chunk[: size % block]
    digest.update(rest)
    small = {
        f"{name}/__init__.py": b"",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    big = f"{name}/payload.bin"
    encoded = base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")
    rows = [f"{path},{_record_hash(data)},{len(data)}" for path, data in small.items()]
    rows += [f"{big},sha256={encoded},{size}", f"{dist_info}/RECORD,,"]
    path = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in small.items():
            archive.writestr(member, data)
        with archive.open(zipfile.ZipInfo(big, (2020, 1, 1, 0, 0, 0)), "w", force_zip64=True) as stream:
            for _ in range(size // block):
                stream.write(chunk)
            stream.write(rest)
        archive.writestr(f"{dist_info}/RECORD", "\n".join(rows) + "\n")
    return path


def make_bomb_wheel(
    directory: Path, size: int, name: str = "bomb", garbage: bool = False, declared: int | None = None
) -> Path:
    """A wheel whose member ``NAME/zeros.bin`` inflates to ``size`` bytes of zeros from about size/1000.

    Written by hand (zipfile would spend seconds deflating): one deflated MiB of zeros, ended with a
    full flush so it can be repeated.  ``garbage`` replaces the deflated bytes with noise of the same
    length, so a refusal that still names the same sizes proves nothing was inflated.  ``declared``
    makes the zip headers lie about the size (RECORD then holds the true hash and size).
    """
    import struct
    import zlib

    block = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    unit = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    deflated = unit * (size // block) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    if garbage:
        deflated = bytes(range(256)) * (len(deflated) // 256) + bytes(len(deflated) % 256)
    crc = 0
    zeros = bytes(block)
    for _ in range(size // block):
        crc = zlib.crc32(zeros, crc)
    dist_info = f"{name}-1.0.dist-info"
    metadata = {
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in metadata.items())
    if declared is None:
        record += f"{name}/zeros.bin,,\n"
    else:
        zeros_digest = hashlib.sha256()
        for _ in range(size // block):
            zeros_digest.update(zeros)
        encoded_digest = base64.urlsafe_b64encode(zeros_digest.digest()).decode().rstrip("=")
        record += f"{name}/zeros.bin,sha256={encoded_digest},{(size // block) * block}\n"
    record += f"{dist_info}/RECORD,,\n"
    metadata[f"{dist_info}/RECORD"] = record.encode()
    # (name, method, crc, stored bytes, uncompressed size): method 0 is stored, 8 deflated
    entries = [(f"{name}/zeros.bin", 8, crc, deflated, (size // block) * block if declared is None else declared)]
    entries += [(p, 0, zlib.crc32(d), d, len(d)) for p, d in metadata.items()]
    path = directory / f"{name}-1.0-py3-none-any.whl"
    central = b""
    with path.open("wb") as out:
        for member, method, checksum, data, length in entries:
            offset = out.tell()
            encoded = member.encode()
            out.write(
                struct.pack(
                    "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x5021, checksum, len(data), length, len(encoded), 0
                )
            )
            out.write(encoded + data)
            central += struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x5021, checksum, len(data), length,
                len(encoded), 0, 0, 0, 0, 0o644 << 16, offset,
            ) + encoded  # fmt: skip
        start = out.tell()
        out.write(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0))
    return path
