"""conda doctor: the health checks the plugin registers (develop installs intact, protection from pip), and their
fixers.  Imported when ``conda doctor`` runs one of them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def health_report(prefix: str, verbose: bool) -> None:
    """conda doctor: one line per problem, in conda's style."""
    from conda.base.constants import OK_MARK, X_MARK

    from conda_source.prefix.health import check_prefix

    findings = check_prefix(Path(prefix))
    if not findings:
        print(f"{OK_MARK} conda-source develop installs are up to date and intact.\n")
        return
    print(f"{X_MARK} conda-source develop installs that need attention:\n")
    for finding in findings:
        print(f"  {finding}")
    print()


def protection_report(prefix: str, verbose: bool) -> None:
    """conda doctor: only an environment that asked for protection from pip is looked at."""
    from conda.base.constants import OK_MARK, X_MARK

    from conda_source.prefix import pip_protection

    if not pip_protection.requested(Path(prefix)):
        return
    from conda_source.target import probe

    path = pip_protection.missing(probe(Path(prefix)))
    if path is None:
        print(f"{OK_MARK} This environment is protected from pip (PEP 668 EXTERNALLY-MANAGED).\n")
    else:
        print(f"{X_MARK} This environment asked to be protected from pip, but {path} is missing.\n")


def protection_fix(prefix: str, args: argparse.Namespace, confirm: Any) -> int:
    from conda_source.prefix import pip_protection
    from conda_source.target import probe

    environment = probe(Path(prefix))
    path = pip_protection.missing(environment)
    if path is None:
        print("No protection from pip to restore.")
        return 0
    print(f"  write {path}")
    confirm("Proceed?")
    pip_protection.protect(environment)
    print(f"Wrote {path}: pip refuses to install into this environment again.")
    return 0


def health_fix(prefix: str, args: argparse.Namespace, confirm: Any) -> int:
    """Reinstall stale or damaged develop installs from their source; remove those whose source is gone."""
    from conda_source.engine.develop_install import DevelopRequest, develop_install
    from conda_source.engine.uninstall import UninstallRequest, develop_uninstall
    from conda_source.prefix.health import check_prefix
    from conda_source.target import probe

    # A forced overlap is undone by uninstalling, a replaced package put back by the next run: only reported.
    findings = [f for f in check_prefix(Path(prefix)) if f.problem in ("stale", "damaged")]
    if not findings:
        print("No conda-source develop installs need fixing.")
        return 0
    sources = sorted({f.source for f in findings})
    gone = [Path(s) for s in sources if not Path(s).is_dir()]
    present = [Path(s) for s in sources if Path(s).is_dir()]
    for source in present:
        print(f"  reinstall from {source}")
    for source in gone:
        print(f"  remove the develop install of {source} (its source is gone)")
    confirm("Proceed?")
    environment = probe(Path(prefix))
    if present:
        result = develop_install(DevelopRequest(tuple(present), environment, deps=False, command="conda doctor --fix"))
        for project in result.projects:
            print(f"Reinstalled {project.name} {project.version} from {project.source}.")
    if gone:
        removed = develop_uninstall(UninstallRequest(tuple(gone), environment, "conda doctor --fix"))
        for dist in removed.removed:
            print(f"Removed {dist}.")
    return 0
