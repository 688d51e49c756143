"""The one error hierarchy of conda-source.

Every failure the engine can foresee is a ``CondaSourceError`` subclass whose
fields say what failed and where; ``str(error)`` is the message a person reads,
and it always says how to fix the problem.  The CLI prints it without a
traceback; the conda adapter wraps it in a conda error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class CondaSourceError(Exception):
    """Root of every error conda-source raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled with its fields, whatever its constructor takes (build-local's worker processes send errors back)."""
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[CondaSourceError], args: tuple[object, ...], state: dict[str, object]) -> CondaSourceError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


@dataclass(frozen=True)
class Problem:
    """One defect in an input file, located by file and key."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}" if self.key else f"{self.file}: {self.message}"


class InvalidProjectError(CondaSourceError):
    """pyproject.toml (or another project file) has one or more defects.

    All defects found in one pass are carried, so a user fixes them in one go.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            text = str(self.problems[0])
        else:
            lines = [f"{len(self.problems)} problems in {self.problems[0].file}:"]
            lines += [f"  {p}" for p in self.problems]
            text = "\n".join(lines)
        super().__init__(text)


class ProjectNotFoundError(CondaSourceError):
    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class SelectionError(CondaSourceError):
    """An extra or dependency group was asked for that the project does not define."""

    def __init__(self, kind: str, name: str, file: str, available: Sequence[str]) -> None:
        self.kind = kind
        self.name = name
        self.available = tuple(available)
        choices = ", ".join(self.available) if self.available else "none"
        super().__init__(f"{file}: no {kind} named '{name}' (defined: {choices})")


class MappingConfigError(CondaSourceError):
    """A mapping override (flag, project table or user file) is malformed."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")


class UntranslatableSpecifierError(CondaSourceError):
    """A PEP 440 specifier has no faithful conda equivalent."""

    def __init__(self, requirement: str, specifier: str, reason: str) -> None:
        self.requirement = requirement
        self.specifier = specifier
        self.reason = reason
        super().__init__(f"cannot translate '{specifier}' of requirement '{requirement}': {reason}")


class TargetError(CondaSourceError):
    """The target environment is missing, unusable or badly described."""


class SettingError(CondaSourceError):
    """An option, a condarc setting or an API argument has a value conda-source cannot use."""

    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(f"{setting}: {reason}")


class ChannelError(CondaSourceError):
    """A channel given with -c cannot be used (no such directory, not indexed, not a channel at all)."""

    def __init__(self, channel: str, reason: str) -> None:
        self.channel = channel
        self.reason = reason
        super().__init__(f"channel '{channel}': {reason}")


class ArtifactError(CondaSourceError):
    """A wheel cannot become a correct conda package; nothing was written."""

    def __init__(self, source: Path | str, reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class UnmappedDepURLError(CondaSourceError):
    """A PEP 725 DepURL that no mapping layer turns into conda specs."""

    def __init__(self, depurl: str, file: str, key: str, reason: str) -> None:
        self.depurl = depurl
        self.key = key
        where = f"{file}: {key}" if file else key
        super().__init__(
            f"{where}: no conda package for '{depurl}' ({reason}); map it with --map '{depurl}=CONDA-SPEC' "
            f'or in [tool.conda-source.mapping] as "{depurl}" = "CONDA-SPEC"'
        )


class DamagedRecordError(CondaSourceError):
    """A file of conda-meta that cannot be read (a package record, a develop install's state, a restore marker):
    the run stops before its first change, or rolls back."""

    def __init__(self, path: Path, reason: str, what: str = "", then: str = "") -> None:
        """``what`` the file is and ``then`` what to run once it is moved away; by default a package record."""
        self.path = path
        self.reason = reason
        if what:
            super().__init__(f"{path}: not a readable {what} ({reason}). Move that file out of {path.parent}, {then}")
            return
        name = path.stem.rsplit("-", 2)[0]
        prefix = path.parent.parent
        super().__init__(
            f"{path}: not a readable conda-meta record ({reason}); conda cannot read this environment either. "
            f"Move that file out of {path.parent}, reinstall its package (conda install "
            f"-p {prefix} --force-reinstall {name}, or develop-install its checkout again), then run again"
        )


class FileSystemError(CondaSourceError):
    """The operating system refused a read or write no check foresaw (a full disk, a read-only or special file
    system): the run stopped there, and what it had changed was undone on the way out."""

    def __init__(self, error: OSError, in_hook: bool = False) -> None:
        """``in_hook``: refused in a hook of a conda command, whose own changes stay (nothing undoes them)."""
        self.filename = error.filename
        check = "that path (permissions, free space, file system)" if error.filename else "free space and permissions"
        happened = (
            "conda-source's part of this conda command stopped there (conda's own changes stay)"
            if in_hook
            else "the run stopped there and undid what it had changed"
        )
        then = ", then run conda doctor" if in_hook else " and run again"
        super().__init__(
            f"{f'{error.filename}: ' if error.filename else ''}{error.strerror or error}; {happened}: check {check}"
            f"{then}"
        )


class JournalError(CondaSourceError):
    """A journal that cannot be read: what the interrupted change did is unknown, so nothing is changed."""

    def __init__(self, file: Path, reason: str) -> None:
        self.file = file
        directory = file.parent.parent if file.parent.name.isdigit() else file.parent
        super().__init__(
            f"{file}: an interrupted change cannot be finished or undone, its journal is unreadable ({reason}); "
            f"nothing was changed. Check the environment's files (the backup/ directories under {directory} hold "
            f"the ones that change had moved away), then remove {directory} to go on; the next run names any file "
            "that change left behind"
        )
