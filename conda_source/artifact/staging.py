"""A pypa/installer destination that stages a wheel's files for a conda package.

``installer.install`` does the wheel-side work (schemes, ``.data`` directories,
RECORD, INSTALLER); this destination only decides where each file goes inside
the package and refuses any path that would leave the environment.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from installer.destinations import WheelDestination
from installer.records import Hash, RecordEntry
from installer.scripts import Script
from installer.utils import Scheme, construct_record_file, fix_shebang

from conda_source.artifact.layout import PREFIX_PLACEHOLDER, Layout
from conda_source.errors import ArtifactError

if TYPE_CHECKING:
    from installer.scripts import ScriptSection


@dataclass
class StagedFile:
    data: bytes
    executable: bool = False
    placeholder: str | None = None  # a prefix conda replaces on install, other than conda's own text placeholder
    file_mode: str = "text"  # how conda replaces it: text, or binary (NUL-padded, in place)

    @property
    def has_placeholder(self) -> bool:
        return self.placeholder is not None or PREFIX_PLACEHOLDER.encode() in self.data

    @property
    def prefix_placeholder(self) -> str:
        return self.placeholder or PREFIX_PLACEHOLDER


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
    # Applied to each file as it is staged (relocation of a build, artifact/native.py), before RECORD hashes it.
    relocate: Callable[[str, StagedFile], StagedFile] | None = None

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
        return joined

    def _stage(self, scheme: str, path: str, data: bytes, executable: bool) -> RecordEntry:
        target = self.package_path(scheme, path)
        if target in self.files:
            raise ArtifactError(self.wheel, f"'{path}' appears twice in the wheel")
        staged = StagedFile(data, executable)
        if self.relocate is not None:
            staged = self.relocate(target, staged)
        self.files[target] = staged
        digest = base64.urlsafe_b64encode(hashlib.sha256(staged.data).digest()).decode().rstrip("=")
        return RecordEntry(path, Hash("sha256", digest), len(staged.data))

    def write_file(
        self, scheme: Scheme, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        if os.fspath(path).endswith(".dist-info/METADATA"):
            return self._stage(scheme, os.fspath(path), hide_pypi_requirements(stream.read()), is_executable)
        if scheme == "scripts":
            with fix_shebang(stream, self.layout.interpreter) as fixed:
                return self._stage(scheme, os.fspath(path), fixed.read(), is_executable)
        return self._stage(scheme, os.fspath(path), stream.read(), is_executable)

    def write_script(self, name: str, module: str, attr: str, section: ScriptSection) -> RecordEntry:
        entry = EntryPoint(name, module, attr, section)
        if self.layout.noarch:
            # conda writes noarch entry points itself, from info/link.json, at install time.
            self.entry_points.append(entry)
            return RecordEntry(f"\0entry-point:{name}", None, None)
        script_name, data = Script(name, module, attr, section).generate(self.layout.interpreter, "posix")
        self.entry_points.append(entry)
        return self._stage("scripts", script_name, data, executable=True)

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        kept = [(s, r) for s, r in records if not r.path.startswith("\0entry-point:")]
        with construct_record_file(kept, lambda s: self.layout.record_prefix(s, scheme)) as stream:
            self._stage(scheme, record_file_path, stream.read(), executable=False)


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
