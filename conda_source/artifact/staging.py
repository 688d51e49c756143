"""A pypa/installer destination that stages a wheel's files for a conda package.

``installer.install`` does the wheel-side work (schemes, ``.data`` directories,
RECORD, INSTALLER); this destination only decides where each file goes inside
the package and refuses any path that would leave the environment, or that
would land in a place only conda writes (``conda-meta/``; a package's ``info/``).

Files are streamed: small ones stay in memory up to a fixed budget, the rest go
to a scratch directory, so memory stays flat whatever the wheel holds.  Their
hash, size and whether they hold the prefix placeholder are computed on the way,
and the bytes really read are counted against the size limit.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os
import posixpath
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from installer.destinations import WheelDestination
from installer.records import Hash, RecordEntry
from installer.scripts import Script
from installer.utils import Scheme, construct_record_file

from conda_source.artifact.layout import PREFIX_PLACEHOLDER, Layout
from conda_source.artifact.limits import Limits
from conda_source.errors import ArtifactError

if TYPE_CHECKING:
    from installer.scripts import ScriptSection

CHUNK = 1 << 20
SMALL_FILE = 256 << 10  # files up to this size may stay in memory ...
MEMORY_BUDGET = 16 << 20  # ... as long as all of them together stay under this
_PLACEHOLDER = PREFIX_PLACEHOLDER.encode()
_REFUSED_WRITES = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}  # a full disk, a file size limit, a quota
# Why a top-level directory of a package or prefix is never written from a wheel.
RESERVED = {
    "conda-meta": "it would install into conda-meta/, which belongs to conda",
    "info": "a package's info/ holds its conda metadata, which conda-source alone writes",
}


class StagedFile:
    """One file of a package: its bytes in memory when small, else in a scratch file."""

    __slots__ = ("_data", "_path", "digest", "executable", "file_mode", "has_placeholder", "placeholder", "size")

    def __init__(
        self, data: bytes, executable: bool = False, placeholder: str | None = None, file_mode: str = "text"
    ) -> None:
        self._data: bytes | None = data
        self._path: Path | None = None
        self.executable = executable
        self.size = len(data)
        self.digest = hashlib.sha256(data).digest()
        # A prefix conda replaces on install other than its own text placeholder (a build prefix), and how:
        # text, or binary (written over in place and NUL-padded).
        self.placeholder = placeholder
        self.file_mode = file_mode
        self.has_placeholder = placeholder is not None or _PLACEHOLDER in data

    @classmethod
    def on_disk(cls, path: Path, size: int, digest: bytes, has_placeholder: bool, executable: bool) -> StagedFile:
        staged = cls(b"", executable)
        staged._data, staged._path = None, path
        staged.size, staged.digest, staged.has_placeholder = size, digest, has_placeholder
        return staged

    @property
    def sha256(self) -> str:
        return self.digest.hex()

    @property
    def prefix_placeholder(self) -> str:
        return self.placeholder or PREFIX_PLACEHOLDER

    @property
    def data(self) -> bytes:
        """All bytes at once: for small files (metadata, licenses); stream large ones with ``open``."""
        return self._data if self._data is not None else self._path.read_bytes()  # type: ignore[union-attr]

    def open(self) -> BinaryIO:
        return io.BytesIO(self._data) if self._data is not None else self._path.open("rb")  # type: ignore[union-attr]


@dataclass(frozen=True)
class EntryPoint:
    name: str
    module: str
    attr: str
    section: str  # console | gui

    def __str__(self) -> str:
        return f"{self.name} = {self.module}:{self.attr}"


@dataclass
class StagingDestination(WheelDestination):
    layout: Layout
    wheel: str  # named in errors
    files: dict[str, StagedFile] = field(default_factory=dict)
    entry_points: list[EntryPoint] = field(default_factory=list)
    limits: Limits | None = None  # counts the bytes really unpacked; None: unbounded
    scratch: Path | None = None  # where large files go; None: a temporary directory of our own
    unpacked: int = field(default=0, init=False)
    # Applied to each file as it is staged (relocation of a build, artifact/native.py), before RECORD hashes it.
    relocate: Callable[[str, StagedFile], StagedFile] | None = None
    _in_memory: int = field(default=0, init=False, repr=False)

    def package_path(self, scheme: str, path: str) -> str:
        base = self.layout.dirs[scheme]
        joined = posixpath.normpath(posixpath.join(base, path))
        if (
            posixpath.isabs(path)
            or "\\" in path
            or joined == ".."
            or joined.startswith("../")
            or (base and not (joined + "/").startswith(base + "/"))
        ):
            raise ArtifactError(self.wheel, f"refusing '{path}': it would be installed outside its directory")
        top = joined.split("/", 1)[0].lower()  # case-insensitive file systems (macOS) see Conda-Meta as conda-meta
        if top in self.layout.reserved:
            raise ArtifactError(
                self.wheel, f"refusing '{self._member(scheme, path)}': {RESERVED[top]}; remove it from the wheel"
            )
        return joined

    def _member(self, scheme: str, path: str) -> str:
        """The wheel member a scheme path came from (root-scheme files sit at the top of the wheel)."""
        parts = Path(self.wheel).name.split("-")
        if scheme in ("purelib", "platlib") or len(parts) < 2:
            return path
        return f"{parts[0]}-{parts[1]}.data/{scheme}/{path}"

    def _stage(self, scheme: str, path: str, chunks: Iterable[bytes], executable: bool) -> RecordEntry:
        target = self.package_path(scheme, path)
        if target in self.files:
            raise ArtifactError(self.wheel, f"'{path}' appears twice in the wheel")
        try:
            staged = self._spool(chunks, executable)
            if self.relocate is not None:
                staged = self.relocate(target, staged)
        except OSError as exc:
            if exc.errno in _REFUSED_WRITES and exc.filename is None and self.scratch is not None:  # name where
                raise OSError(exc.errno, exc.strerror, str(self.scratch)) from exc  # the writes went (a full /tmp)
            raise
        self.files[target] = staged
        digest = base64.urlsafe_b64encode(staged.digest).decode().rstrip("=")
        return RecordEntry(path, Hash("sha256", digest), staged.size)

    def _spool(self, chunks: Iterable[bytes], executable: bool) -> StagedFile:
        hasher = hashlib.sha256()
        buffer = bytearray()
        size, found, tail = 0, False, b""
        spill: BinaryIO | None = None
        path: Path | None = None
        try:
            for chunk in chunks:
                size += len(chunk)
                self.unpacked += len(chunk)
                if self.limits is not None and self.unpacked > self.limits.max_size:
                    raise self.limits.exceeded(self.wheel, "wheel")
                hasher.update(chunk)
                found = found or _PLACEHOLDER in tail + chunk[: len(_PLACEHOLDER) - 1] or _PLACEHOLDER in chunk
                tail = chunk[-(len(_PLACEHOLDER) - 1) :]
                if spill is None and size <= SMALL_FILE and self._in_memory + size <= MEMORY_BUDGET:
                    buffer += chunk
                    continue
                if spill is None:
                    path = self._scratch_file()
                    spill = path.open("wb")
                    spill.write(buffer)
                    buffer = bytearray()
                spill.write(chunk)
        finally:
            if spill is not None:
                spill.close()
        if path is None:
            self._in_memory += size
            staged = StagedFile(bytes(buffer), executable)
            return staged
        return StagedFile.on_disk(path, size, hasher.digest(), found, executable)

    def _scratch_file(self) -> Path:
        if self.scratch is None:
            self.scratch = Path(tempfile.mkdtemp(prefix="conda-source-stage-"))
            weakref.finalize(self, shutil.rmtree, self.scratch, ignore_errors=True)
        return self.scratch / f"{len(self.files)}.part"

    def write_file(
        self, scheme: Scheme, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        path = os.fspath(path)
        if path.endswith(".dist-info/METADATA"):
            return self._stage(scheme, path, [hide_pypi_requirements(stream.read())], is_executable)
        if scheme == "scripts":
            return self._stage(scheme, path, _fix_shebang(stream, self.layout.interpreter), is_executable)
        return self._stage(scheme, path, _chunks(stream), is_executable)

    def write_script(self, name: str, module: str, attr: str, section: ScriptSection) -> RecordEntry:
        entry = EntryPoint(name, module, attr, section)
        if self.layout.noarch:
            # conda writes noarch entry points itself, from info/link.json, at install time.
            self.entry_points.append(entry)
            return RecordEntry(f"\0entry-point:{name}", None, None)
        script_name, data = Script(name, module, attr, section).generate(self.layout.interpreter, "posix")
        self.entry_points.append(entry)
        return self._stage("scripts", script_name, [data], executable=True)

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        kept = [(s, r) for s, r in records if not r.path.startswith("\0entry-point:")]
        with construct_record_file(kept, lambda s: self.layout.record_prefix(s, scheme)) as stream:
            self._stage(scheme, record_file_path, [stream.read()], executable=False)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def _fix_shebang(stream: BinaryIO, interpreter: str) -> Iterator[bytes]:
    """pypa/installer's ``fix_shebang``, streamed: ``#!python`` becomes the interpreter."""
    head = stream.read(8)
    if head != b"#!python":
        yield head
        yield from _chunks(stream)
        return
    yield f"#!{interpreter}\n".encode()
    for chunk in _chunks(stream):  # drop the rest of the first line
        _, newline, rest = chunk.partition(b"\n")
        if newline:
            yield rest
            break
    yield from _chunks(stream)


ORIGINAL_EXTRA = "pypi-original"


def hide_pypi_requirements(metadata: bytes) -> bytes:
    """Move every Requires-Dist under the ``pypi-original`` extra.

    conda resolves the dependencies (under conda names, which may differ from the
    PyPI ones), so pip must not see them as required and report them missing.  The
    original requirements stay readable, as whl2conda keeps them.
    """
    head, blank, body = metadata.decode("utf-8").partition("\n\n")
    lines = []
    for line in head.split("\n"):
        if line.startswith("Requires-Dist:"):
            requirement = line.split(":", 1)[1].strip()
            text, _, marker = requirement.partition(";")
            guard = f'extra == "{ORIGINAL_EXTRA}"'
            line = f"Requires-Dist: {text.strip()}; " + (f"({marker.strip()}) and {guard}" if marker.strip() else guard)
        lines.append(line)
    if any(line.startswith("Requires-Dist:") for line in lines):
        lines.append(f"Provides-Extra: {ORIGINAL_EXTRA}")
    return ("\n".join(lines) + blank + body).encode("utf-8")
