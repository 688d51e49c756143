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

from conda_source.specs import split_dist


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
        lines += dependency_lines(link, unlink)
    elif any(change.action != "uninstall" for change in changes):
        lines.append("Dependencies: already installed")
    return lines


def dependency_lines(link: Sequence[str], unlink: Sequence[str]) -> list[str]:
    """One line per package: ``~`` for a name both unlinked and linked (its versions and what the change is),
    ``+`` for one only linked, ``-`` for one only unlinked.  Dists: ``[channel::]name-version-build``."""
    unlinked = {split_dist(dist)[1]: dist for dist in unlink}
    linked = {split_dist(dist)[1] for dist in link}
    lines = [_change_line(unlinked[name], dist) for dist in link if (name := split_dist(dist)[1]) in unlinked]
    lines += [f"  + {dist}" for dist in link if split_dist(dist)[1] not in unlinked]
    return lines + [f"  - {dist}" for dist in unlink if split_dist(dist)[1] not in linked]


def _change_line(old: str, new: str) -> str:
    """The channel is named when both dists carry one and they differ: it may be the only change."""
    old_channel, name, old_version, old_build = split_dist(old)
    new_channel, _, new_version, new_build = split_dist(new)
    moved = f", channel {old_channel} -> {new_channel}" if old_channel and new_channel not in ("", old_channel) else ""
    return (
        f"  ~ {name} {old_version} ({old_build}) -> {new_version} ({new_build}), "
        f"{_how(old_version, new_version, old_build != new_build)}{moved}"
    )


def _how(old: str, new: str, new_build: bool) -> str:
    """upgraded, downgraded, rebuilt (the same version, another build), or replaced (no order known)."""
    from rattler import Version
    from rattler.exceptions import InvalidVersionError

    try:
        before, after = Version(old), Version(new)
    except InvalidVersionError:
        return "replaced"
    if after > before:
        return "upgraded"
    if after < before:
        return "downgraded"
    return "rebuilt" if new_build else "replaced"
