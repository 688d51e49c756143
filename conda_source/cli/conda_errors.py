"""conda-source's errors as conda errors: one class per kind, named as ours, under conda's own types.

conda prints a ``CondaError`` as ``ClassName: message`` (``--json``: ``exception_name``, ``exception_type``,
``message`` and every public attribute); its ``conda_error_hints`` hooks add next steps.  This module imports
conda at import time: only the conda adapter imports it, when a command fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conda.exceptions import CondaError, CondaValueError

from conda_source.errors import CondaSourceError


class CondaSourceCondaError(CondaError):  # type: ignore[misc]
    """Every conda-source failure inside conda; ``describe_error`` made its message."""

    def __init__(self, message: str, error: CondaSourceError | None = None) -> None:
        super().__init__(message)
        self.message = message  # never %-formatted: conda formats it only when given keyword arguments
        if error is not None:
            # Public attributes are what conda's --json error document carries, beside the message.
            for key, value in vars(error).items():
                if key.startswith("_") or key == "message":
                    continue
                if isinstance(value, (str, int, bool, float, type(None))):
                    setattr(self, key, value)
                elif isinstance(value, Path):
                    setattr(self, key, str(value))
                elif isinstance(value, tuple):
                    setattr(self, key, [str(v) for v in value])


class BackendError(CondaSourceCondaError):
    """The project's build backend failed."""


class SolveError(CondaSourceCondaError):
    """The dependencies cannot be installed."""


class ProjectError(CondaSourceCondaError, CondaValueError):  # type: ignore[misc]
    """The project, its metadata or a mapping is unusable as given."""


class TargetError(CondaSourceCondaError, CondaValueError):  # type: ignore[misc]
    """The environment is missing, unusable or badly described."""


class SettingError(CondaSourceCondaError, CondaValueError):  # type: ignore[misc]
    """An option or setting has a value conda-source cannot use."""


class ArtifactError(CondaSourceCondaError):
    """A wheel cannot become a correct conda package."""


_KINDS: dict[str, type[CondaSourceCondaError]] = {
    "BackendError": BackendError,
    "SolveError": SolveError,
    "TargetError": TargetError,
    "ChannelError": TargetError,
    "DamagedRecordError": TargetError,
    "JournalError": TargetError,
    "ArtifactError": ArtifactError,
    "SettingError": SettingError,
    "InvalidProjectError": ProjectError,
    "ProjectNotFoundError": ProjectError,
    "SelectionError": ProjectError,
    "MappingConfigError": ProjectError,
    "UntranslatableSpecifierError": ProjectError,
    "UnmappedDepURLError": ProjectError,
}


def conda_error(error: CondaSourceError, message: str) -> CondaSourceCondaError:
    """The conda error for one of ours: the most specific kind its class (or a base class) maps to."""
    for cls in type(error).__mro__:
        if cls.__name__ in _KINDS:
            return _KINDS[cls.__name__](message, error)
    return CondaSourceCondaError(message, error)


class DevelopInstallProtectedError(CondaError):  # type: ignore[misc]
    """A solve would replace or remove a develop install that the command does not name."""

    def __init__(self, install: Any, replacement: str | None) -> None:
        action = f"replace it with {replacement}" if replacement is not None else "remove it"
        message = (
            f"{install}: the solver would {action} though the command does not name {install.name}; "
            f"name it (conda install {install.name} / conda remove {install.name}) to replace or remove it"
        )
        super().__init__(message)
        self.message = message
        self.package = install.name
        self.source = install.source


class DevelopInstallNotCarriedError(CondaSourceCondaError):
    """conda create --clone or conda rename would copy a develop install it cannot carry: stopped first."""


class DevelopInstallDependencyError(CondaSourceCondaError):
    """A transaction that does not solve would link a package a develop install it keeps does not accept."""
