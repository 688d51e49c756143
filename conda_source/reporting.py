"""How an engine talks to whoever runs it, without printing: phases, the backend's output, one question.

The engines never print (DESIGN.md).  A front end hands them a ``Reporter``: the standalone command
shows phases on stderr and asks on a terminal (``cli.reporting``); inside conda, conda's own reporter
backends show them and conda's prompt asks (``cli.conda_adapter``); the Python API is ``Silent``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Change:
    """What a command does to one project: install, reinstall, replace (a channel package), uninstall, unchanged."""

    source: Path
    action: str
    name: str = ""  # the conda name, when known before the backend runs
    version: str = ""
    editable: bool = True
    replaces: str = ""  # the package it replaces or removes (channel::name-version-build)

    def __str__(self) -> str:
        what = " ".join(part for part in (self.name or self.source.name, self.version) if part)
        how = "editable" if self.editable else "regular"
        if self.action == "unchanged":
            return f"{what}: unchanged since its last install, nothing to do ({self.source})"
        if self.action == "uninstall":
            return f"{what}: uninstall the develop install of {self.source} ({self.replaces})"
        if self.action == "reinstall":
            return f"{what}: reinstall ({how}) from {self.source}, replacing {self.replaces}"
        if self.action == "replace":
            return f"{what}: install ({how}) from {self.source}, replacing the channel package {self.replaces}"
        return f"{what}: install ({how}) from {self.source}"

    def to_dict(self) -> dict[str, object]:
        return {
            "source": str(self.source),
            "action": self.action,
            "name": self.name,
            "version": self.version,
            "editable": self.editable,
            "replaces": self.replaces,
        }


SOLVING = "Solving the dependencies"
LINKING = "Installing the dependencies"
INSTALLING = "installing what it needs"  # "{project}: installing what it needs (...)"


class Reporter(Protocol):
    def phase(self, message: str) -> AbstractContextManager[object]:
        """A step that takes a while (solve, link, a backend hook, install, record)."""
        ...

    def output(self, text: str) -> None:
        """What the build backend prints, as it comes (shown with -v)."""
        ...

    def confirm(self, changes: Sequence[Change], link: Sequence[str], unlink: Sequence[str]) -> bool:
        """Show the whole change and ask; False: the user said no (nothing has changed yet)."""
        ...


class Silent:
    """The Python API's reporter: no output, no question (the caller asked by calling)."""

    def phase(self, message: str) -> AbstractContextManager[object]:
        return contextlib.nullcontext()

    def output(self, text: str) -> None:
        pass

    def confirm(self, changes: Sequence[Change], link: Sequence[str], unlink: Sequence[str]) -> bool:
        return True


def describe_plan(changes: Sequence[Change], link: Sequence[str], unlink: Sequence[str]) -> list[str]:
    """The lines every front end shows before asking: each project, then the dependencies."""
    lines = ["Projects:"] + [f"  {change}" for change in changes]
    if link or unlink:
        lines.append(f"Dependencies: {len(link)} package(s) to link" + (f", {len(unlink)} to unlink" if unlink else ""))
        lines += [f"  + {dist}" for dist in link] + [f"  - {dist}" for dist in unlink]
    elif any(change.action != "uninstall" for change in changes):
        lines.append("Dependencies: already installed")
    return lines
