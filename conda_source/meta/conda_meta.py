"""The writer of conda-meta's records: package records, develop-install state, and the prefix lock.

conda reads every ``conda-meta/*.json`` as a package record; conda-source keeps
its own state one level down, in ``conda-meta/conda-source/``.  The history file
is history.py's.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conda_source.errors import DamagedRecordError
from conda_source.meta import json_file
from conda_source.meta.journal import step
from conda_source.meta.record_reading import read_json

DEVELOP_CHANNEL = "local-develop"  # the channel of every develop-install record
STATE_DIR = "conda-source"


@dataclass(frozen=True)
class PathEntry:
    path: str  # prefix-relative, POSIX
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class Record:
    """A conda-meta package record: the fields conda-source reads, and the layout of the ones it writes."""

    name: str
    version: str
    build: str
    channel: str = ""
    subdir: str = ""
    depends: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    paths: tuple[PathEntry, ...] = ()
    source: str = ""  # link.source: for a develop install, the checkout
    requested_spec: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def dist(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    @property
    def url(self) -> str:
        """No package file exists for a develop install: its url names the checkout, which does
        (conda list --explicit prints it; conda create --file refuses it, with a hint)."""
        return Path(self.source).as_uri()

    @property
    def history_dist(self) -> str:
        """How conda's history names this develop install (``local-develop/linux-64::NAME-VER-BUILD``), so
        conda's next transaction does not see it as changed."""
        return f"{self.channel}/{self.subdir}::{self.dist}" if self.subdir else f"{self.channel}::{self.dist}"

    @property
    def is_develop(self) -> bool:
        return self.channel == DEVELOP_CHANNEL

    def file(self, prefix: Path) -> Path:
        return prefix / "conda-meta" / f"{self.dist}.json"

    def relative_file(self) -> str:
        return f"conda-meta/{self.dist}.json"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        entries = (data.get("paths_data") or {}).get("paths") or []
        return cls(
            name=data["name"],
            version=str(data["version"]),
            build=str(data["build"]),
            channel=str(data.get("channel") or ""),
            subdir=str(data.get("subdir") or ""),
            depends=tuple(data.get("depends") or ()),
            files=tuple(data.get("files") or ()),
            paths=tuple(PathEntry(e["_path"], e.get("sha256"), e.get("size_in_bytes")) for e in entries),
            source=str((data.get("link") or {}).get("source") or ""),
            requested_spec=str(data.get("requested_spec") or ""),
            raw=data,
        )

    def to_json(self) -> dict[str, Any]:
        """The record as conda writes one for a package it linked (develop installs)."""
        fn = f"{self.dist}.conda"
        return {
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "build_number": 0,
            "channel": self.channel,
            "subdir": self.subdir,
            "fn": fn,
            "url": self.url,
            "depends": list(self.depends),
            "constrains": [],
            "files": list(self.files),
            "paths_data": {
                "paths": [
                    {"_path": e.path, "path_type": "hardlink", "sha256": e.sha256, "size_in_bytes": e.size}
                    for e in self.paths
                ],
                "paths_version": 1,
            },
            "requested_spec": self.requested_spec or self.name,
            "package_type": None,  # a regular package whose files are listed, not a virtual pypi one
            "timestamp": int(time.time() * 1000),
            "link": {"source": self.source, "type": 1},
        }


@dataclass(frozen=True)
class LinkedLibrary:
    """A library of the prefix that a develop install's binary loads, and the package that provided it."""

    binary: str  # prefix-relative, or an absolute path in the source tree (editable builds)
    library: str  # the DT_NEEDED name
    path: str  # prefix-relative path it resolved to
    package: str  # "" when no package owns it
    version: str


@dataclass(frozen=True)
class DevelopState:
    """What conda-source remembers of a develop install, beside its record."""

    source: str  # the checkout
    fingerprint: str  # what decides whether a re-run has anything to do
    editable: bool
    sources: str  # digest of the project's build files, for conda doctor
    linked: tuple[LinkedLibrary, ...] = ()  # what its compiled code links in the prefix, for conda doctor
    extras: tuple[str, ...] = ()  # what was asked for, to re-create the install (conda export)
    groups: tuple[str, ...] = ()
    # --force: prefix-relative path -> the conda package whose file it overwrote ("" for none); the
    # original is kept at forced_path(name, path) and put back by --uninstall.
    forced: Mapping[str, str] = field(default_factory=dict)
    # The channel package this develop install replaced (its record, as it was), put back by --uninstall.
    replaces: Mapping[str, Any] | None = None
    # What a re-run with the same request needs to see that nothing changed, before anything is planned:
    # the request's key, the backend, the specs the install was solved with (engine/rerun.py), and the
    # files the backend's get_requires hook read (they count for the fingerprint).
    rerun: Mapping[str, Any] | None = None

    @property
    def read_files(self) -> list[str]:
        read = self.rerun.get("read") if isinstance(self.rerun, dict) else None
        return [path for path in read if isinstance(path, str)] if isinstance(read, list) else []

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DevelopState:
        return cls(
            str(data["source"]),
            str(data["fingerprint"]),
            bool(data["editable"]),
            str(data["sources"]),
            tuple(LinkedLibrary(**entry) for entry in data.get("linked") or ()),
            tuple(data.get("extras") or ()),
            tuple(data.get("groups") or ()),
            dict(data.get("forced") or {}),
            data.get("replaces"),
            data.get("rerun"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "fingerprint": self.fingerprint,
            "editable": self.editable,
            "sources": self.sources,
            "linked": [vars(link) for link in self.linked],
            "extras": list(self.extras),
            "groups": list(self.groups),
            "forced": dict(sorted(self.forced.items())),
            "replaces": self.replaces,
            "rerun": self.rerun,
        }


def records(prefix: Path) -> dict[str, Record]:
    """Every package record of the prefix, by package name."""
    return {record.name: record for record in all_records(prefix)}


def all_records(prefix: Path) -> list[Record]:
    """Every package record of the prefix, two of one name included (conda-source never makes that).

    A large environment's records take a good part of a second to read; one run reads them
    once, and again only the files that changed since (inode, size, mtime, and ctime: no
    writer can set it, so a file rewritten in place with its old mtime put back is read again).
    """
    found = []
    for path in sorted((prefix / "conda-meta").glob("*.json")):
        stat = path.stat()
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        seen = _read.get(str(path))
        if seen is None or seen[0] != key:
            seen = _read[str(path)] = (key, Record.from_json(read_json(path)))
        found.append(seen[1])
    return found


# The records this process read, by file: the latest content of each (inode, size, times) only.
_read: dict[str, tuple[tuple[int, int, int, int], Record]] = {}


def write_record(prefix: Path, record: Record) -> Path:
    path = record.file(prefix)
    _write_json_atomically(path, record.to_json())
    return path


def develop_installs(prefix: Path) -> Iterator[tuple[Record, DevelopState | None]]:
    """Each develop install and its state; an unreadable state as None (conda's commands go on: the
    project's next develop-install says what to do)."""
    for record in records(prefix).values():
        if record.is_develop:
            try:
                state = read_state(prefix, record.name)
            except DamagedRecordError:
                state = None
            yield record, state


def state_path(prefix: Path, name: str) -> Path:
    return prefix / state_relative(name)


def state_relative(name: str) -> str:
    return f"conda-meta/{STATE_DIR}/{name}.json"


def forced_path(name: str, path: str) -> str:
    """Where a develop install forced over ``path`` keeps the file it overwrote (prefix-relative)."""
    return f"conda-meta/{STATE_DIR}/forced/{name}/{path}"


def restore_marker(name: str) -> str:
    """A channel package waiting to be put back (its record as it was), prefix-relative."""
    return f"conda-meta/{STATE_DIR}/restore/{name}.json"


def read_state(prefix: Path, name: str) -> DevelopState | None:
    """The state of develop install ``name``, None when it has none; ``DamagedRecordError`` when unreadable."""
    path = state_path(prefix, name)
    if not path.is_file():
        return None
    try:
        return DevelopState.from_json(json_file.load_object(path))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # Unreadable, or a field missing or wrong
        record = records(prefix).get(name)
        checkout = record.source if record is not None and record.source else "ITS-CHECKOUT"
        then = f"then run conda develop-install {checkout} -p {prefix} to write it again"
        raise DamagedRecordError(path, json_file.reason(exc), "develop-install state", then) from exc


def develop_record(prefix: Path, root: Path) -> Record | None:
    """The develop install whose source is ``root``, if any.

    Found through conda-source's state files, so only that package's record is read,
    not every record of a large environment.
    """
    states = prefix / "conda-meta" / STATE_DIR
    for path in sorted(states.glob("*.json")) if states.is_dir() else ():
        try:
            state = read_state(prefix, path.stem)
        except DamagedRecordError:
            continue  # another project's, or this one's: its install says so
        if state is None or state.source != str(root):
            continue
        for candidate in sorted((prefix / "conda-meta").glob(f"{glob.escape(path.stem)}-*.json")):
            record = Record.from_json(read_json(candidate))
            if record.name == path.stem and record.is_develop:
                return record
    return None


def change_pending(prefix: Path) -> bool:
    """An interrupted change (its journal), a partial file or a replaced package waiting to be put back:
    what the next run puts right first (``prefix_change.recover``), not always touching conda-meta/ itself."""
    state_dir = prefix / "conda-meta" / STATE_DIR
    return (
        (state_dir / "journal").exists()
        or any((state_dir / "restore").glob("*.json"))
        or any((prefix / "conda-meta").glob("*.partial"))
    )


def files_unchanged(prefix: Path, record: Record) -> bool:
    """Every file of ``record`` still in the prefix with the content it was installed with, and the
    record itself as this version writes it (an older one's url named a .conda that never existed)."""
    if record.raw.get("url") != record.url:
        return False
    for entry in record.paths:
        path = prefix / entry.path
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry.sha256:
            return False
    return True


def owners(prefix: Path, exclude: set[str]) -> dict[str, str]:
    """Prefix-relative file -> name of the conda package that owns it (``exclude`` skipped)."""
    return {file: name for name, r in records(prefix).items() if name not in exclude for file in r.files}


def write_state(prefix: Path, name: str, state: DevelopState) -> None:
    write_json(prefix / state_relative(name), state.to_json())


def write_json(path: Path, data: object) -> None:
    """conda-source's own files under conda-meta/conda-source/ (state, restore markers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json_atomically(path, data)


@contextlib.contextmanager
def prefix_lock(prefix: Path) -> Iterator[None]:
    """One conda-source run per prefix at a time (a second waits); locked: conda-meta itself, so nothing is created."""
    descriptor = os.open(prefix / "conda-meta", os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write_json_atomically(path: Path, data: object) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    step(f"partial {path.name}")
    partial.replace(path)
    step(f"wrote {path.name}")
