"""Develop installs copied with their environment (``conda create --clone``, ``conda rename``).

conda copies an environment from its packages' files, and a develop install has no package file (its url is
its checkout).  So the conda adapter takes the develop records out of what the clone reads (cli/conda_clone.py):
conda then copies their files as files nobody owns, replacing the old prefix with the new one in every text
file, as it relocates a package's files (an entry point's ``#!`` line then names the new python; an editable
``.pth`` names the checkout, which both environments share).  ``carried`` reads, before the copy, what each
develop install needs in the new environment, and refuses one a copy cannot carry; ``adopt`` writes, after
the copy, its record (each file's digest as copied), its state and a history entry there.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conda_source.errors import CondaSourceError, DamagedRecordError
from conda_source.meta import conda_meta, history
from conda_source.meta.conda_meta import DevelopState, PathEntry, Record
from conda_source.prefix import pip_protection


class NotCarriedError(CondaSourceError):
    """A develop install that a copy of its environment cannot carry; nothing has changed yet."""

    def __init__(self, prefix: Path, record: Record, source: str, reason: str, fix: str) -> None:
        self.package = record.name
        self.source = source
        super().__init__(
            f"{record.name} {record.version} (develop install of {source}) in {prefix}: {reason}; nothing was "
            f"changed: {fix}"
        )


@dataclass(frozen=True)
class Carried:
    record: Record
    state: DevelopState | None

    @property
    def source(self) -> str:
        return self.state.source if self.state else self.record.source


def carried(prefix: Path, spelled: str) -> list[Carried]:
    """The develop installs of ``prefix`` (``-n NAME`` or ``-p PATH`` in ``spelled``), each checked intact and
    free of what a copy cannot relocate."""
    found = []
    for record, _ in sorted(conda_meta.develop_installs(prefix), key=lambda item: item[0].name):
        try:
            state = conda_meta.read_state(prefix, record.name)  # develop_installs reads an unreadable one as None
        except DamagedRecordError as exc:
            reason = (
                f"its state {exc.path} is unreadable ({exc.reason}), and a copy without it would lose what "
                "--uninstall puts back"
            )
            fix = (
                f"move that file out of {exc.path.parent}, run conda develop-install {record.source} {spelled} to "
                "write it again, then the command again"
            )
            raise NotCarriedError(prefix, record, record.source, reason, fix) from None
        install = Carried(record, state)
        uninstall = f"conda develop-install --uninstall {install.source} {spelled}"
        rebuild = (
            f"run {uninstall}, then the command again, then conda develop-install {install.source} in each environment"
        )
        if state and state.forced:
            forced = ", ".join(sorted(state.forced))
            reason = f"it overwrote {forced} (--force) and keeps the originals aside, which a copy loses"
            raise NotCarriedError(prefix, record, install.source, reason, f"run {uninstall}, then the command again")
        in_checkout = [link for link in state.linked if Path(link.binary).is_absolute()] if state else []
        if in_checkout:  # an editable install's extension, built in the checkout: it is not copied
            reason = (
                f"its compiled code loads {in_checkout[0].path} of {prefix} by that path, which a copy cannot change"
            )
            raise NotCarriedError(prefix, record, install.source, reason, rebuild)
        for entry in record.paths:
            path = prefix / entry.path
            data = path.read_bytes() if path.is_file() else None
            if data is None or (hashlib.sha256(data).hexdigest(), len(data)) != (entry.sha256, entry.size):
                reason = f"{entry.path} is missing or was changed by another installer, so its record is no longer true"
                fix = f"run conda doctor {spelled} --fix (or {uninstall}), then the command again"
                raise NotCarriedError(prefix, record, install.source, reason, fix)
            if not _copied_by_conda(entry.path):
                reason = f"conda's clone does not copy {entry.path} (a name conda keeps for itself)"
                raise NotCarriedError(prefix, record, install.source, reason, rebuild)
            if str(prefix).encode() in data and not _text(data) and not _only_debug_info(data, prefix, entry.path):
                reason = f"the binary file {entry.path} names {prefix}, which a copy cannot relocate"
                raise NotCarriedError(prefix, record, install.source, reason, rebuild)
        found.append(install)
    return found


def _only_debug_info(data: bytes, prefix: Path, path: str) -> bool:
    """An ELF file that names ``prefix`` only where the loader never looks (debug information)."""
    from conda_source.artifact.elf import ElfError, is_elf, only_in_unloaded_sections

    try:
        return is_elf(data) and only_in_unloaded_sections(data, str(prefix).encode(), path)
    except ElfError:
        return False


# What conda's clone leaves out even when nobody owns it (conda 26.7.1: conda.misc.walk_prefix and untracked):
# these top-level names, these files of bin/, and any name ending in "~".
_NOT_COPIED_TOP = frozenset(
    {"pkgs", "envs", "conda-bld", "conda-meta", ".conda_lock", "users", "LICENSE.txt", "info", "conda-recipes"}
    | {".index", ".unionfs", ".nonadmin"}
)
_NOT_COPIED = frozenset({"bin/conda", "bin/activate", "bin/deactivate"})


def _copied_by_conda(path: str) -> bool:
    return path.split("/", 1)[0] not in _NOT_COPIED_TOP and path not in _NOT_COPIED and not path.endswith("~")


def _text(data: bytes) -> bool:
    """Whether conda's clone relocates the file (it replaces the prefix in what decodes as UTF-8)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def adopt(prefix: Path, installs: Sequence[Carried], command: str, protected: bool = False) -> list[str]:
    """Record ``installs`` in ``prefix``, where their files were copied; the lines that say so.  Every file is
    checked before anything is written."""
    with conda_meta.prefix_lock(prefix):
        records = []
        for install in installs:
            entries = []
            for entry in install.record.paths:
                path = prefix / entry.path
                if not path.is_file():
                    raise CondaSourceError(
                        f"{path} was not copied with {install.record.name}'s other files; nothing was recorded for "
                        f"it: re-create it with conda develop-install {install.source} -p {prefix}"
                    )
                entries.append(PathEntry(entry.path, *_digest(path)))
            records.append(dataclasses.replace(install.record, paths=tuple(entries)))
        for install, record in zip(installs, records, strict=True):
            conda_meta.write_record(prefix, record)
            if install.state is not None:
                conda_meta.write_state(prefix, record.name, install.state)
        if installs:
            history.append_history(
                prefix,
                command,
                [record.history_dist for record in records],
                [record.requested_spec or record.name for record in records],
                sources={install.record.name: install.source for install in installs},
            )
        if protected:
            pip_protection.remember(prefix)  # its EXTERNALLY-MANAGED file was copied as nobody's
    return [
        f"conda-source: carried {install.record.name} {install.record.version} (develop install of "
        f"{install.source}) into {prefix}"
        for install in installs
    ]


def _digest(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)
