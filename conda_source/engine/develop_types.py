"""What develop-install is asked (``DevelopRequest``) and what it answers (``DevelopResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from conda_source.mapping.overrides import Overrides
from conda_source.meta.conda_meta import DEVELOP_CHANNEL
from conda_source.specs import split_dist

if TYPE_CHECKING:  # only named here: a re-run with nothing to do imports none of them
    from conda_source.artifact.staging import StagingDestination
    from conda_source.backend.sequence import Asked, Backend
    from conda_source.engine.plan import Plan
    from conda_source.installer.installer import Transaction
    from conda_source.meta.conda_meta import DevelopState, Record
    from conda_source.reporting import Change
    from conda_source.target import Environment


@dataclass(frozen=True)
class DevelopRequest:
    paths: tuple[Path, ...]
    environment: Environment
    channels: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    editable: bool = True
    deps: bool = True
    only_deps: bool = False
    dry_run: bool = False
    force: bool = False
    allow_base: bool = False
    overrides: Overrides = field(default_factory=Overrides)
    command: str = ""
    protect_env: bool = False  # write PEP 668's EXTERNALLY-MANAGED (pip_protection), as the user asked


@dataclass(frozen=True)
class InstalledProject:
    name: str
    version: str
    build: str
    source: Path
    editable: bool
    record: Path
    files: int
    unchanged: bool = False  # nothing changed since the last install: nothing was done
    replaced: str | None = None  # the channel package this install replaced, and who depends on it
    forced: tuple[str, ...] = ()  # files of others overwritten under --force (kept, put back by --uninstall)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "source": str(self.source),
            "editable": self.editable,
            "record": str(self.record),
            "files": self.files,
            "unchanged": self.unchanged,
            "replaced": self.replaced,
            "forced": list(self.forced),
        }


@dataclass(frozen=True)
class DevelopResult:
    plans: tuple[Plan, ...]
    transaction: Transaction | None
    projects: tuple[InstalledProject, ...] = ()
    dry_run: bool = False
    removed: tuple[str, ...] = field(default=())
    left_behind: tuple[str, ...] = field(default=())
    recovered: str | None = None  # what was done about an interrupted earlier run
    changes: tuple[Change, ...] = ()  # what the command does (or, dry run or declined, would do) to each project
    declined: bool = False  # the user said no: nothing was changed
    prefix: Path | None = None
    protected: str | None = None  # the EXTERNALLY-MANAGED file this run wrote
    restored: tuple[str, ...] = ()  # channel packages an uninstall put back
    replacing: tuple[str, ...] = ()  # dry run: channel packages the install would replace

    def to_dict(self) -> dict[str, object]:
        """Ours, plus conda's keys: success, prefix, actions (LINK/UNLINK as conda lists them)."""
        link = list(self.transaction.link) if self.transaction else []
        unlink = list(self.transaction.unlink) if self.transaction else []
        done = not (self.dry_run or self.declined)
        link += [f"{DEVELOP_CHANNEL}::{p.name}-{p.version}-{p.build}" for p in self.projects if not p.unchanged]
        unlink += [c.replaces for c in self.changes if c.replaces and (c.action != "uninstall" or not done)]
        unlink += list(self.removed)
        return {
            "success": True,
            "prefix": str(self.prefix) if self.prefix else None,
            "actions": {
                "PREFIX": str(self.prefix) if self.prefix else None,
                "LINK": [_dist_dict(d) for d in dict.fromkeys(link)],
                "UNLINK": [_dist_dict(d) for d in dict.fromkeys(unlink)],
            },
            "dry_run": self.dry_run,
            "declined": self.declined,
            "changes": [c.to_dict() for c in self.changes],
            "plans": [p.to_dict() for p in self.plans],
            "link": list(self.transaction.link) if self.transaction else [],
            "projects": [p.to_dict() for p in self.projects],
            "removed": list(self.removed),
            "left_behind": list(self.left_behind),
            "recovered": self.recovered,
            "protected": self.protected,
            "restored": list(self.restored),
            "replacing": list(self.replacing),
        }


def _dist_dict(dist: str) -> dict[str, str]:
    """``channel::name-version-build`` as conda's --json lists a package."""
    channel, name, version, build = split_dist(dist)
    dist_name = dist.rpartition("::")[2]
    return {"channel": channel, "name": name, "version": version, "build_string": build, "dist_name": dist_name}


@dataclass(frozen=True)
class Ready:
    """A project built and staged, not written yet: what its install writes and records."""

    root: Path
    staging: StagingDestination
    record: Record
    state: DevelopState
    project: str  # the canonical PyPI name (a pip install of it is taken over)
    requirements: dict[str, list[str]]  # for the history: "build" and "run", needed, not requested


@dataclass
class Prepared:
    """A backend asked before anything changed, and its answers: the project's build reuses both."""

    backend: Backend
    asked: Asked

    def close(self) -> None:
        self.backend.close()
        self.asked.close()
