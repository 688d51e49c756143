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
) -> Path:
    """Write ``{name}-{version}-{tag}.whl``; ``record_overrides`` plants wrong RECORD rows."""
    dist_info = f"{name}-{version}.dist-info"
    contents = dict(files if files is not None else {f"{name}/__init__.py": b"VALUE = 1\n"})
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    contents[f"{dist_info}/METADATA"] = (metadata + metadata_extra).encode()
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
