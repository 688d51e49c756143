"""Where each conda spec of a failed solve came from, and what the user can do next.

A spec comes from a pyproject requirement (its key), from the backend
(``get_requires_for_build_*``), or from the built metadata (``Requires-Dist``).
Names are matched as whole words in the solver's reason, so a missing
``setuptools-scm`` never blames ``setuptools``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from conda_source.engine.plan import Plan
from conda_source.installer.installer import SolveError
from conda_source.specs import spec_name

NEXT_STEPS = (
    "to fix it: add a channel that has the package (-c CHANNEL), map the PyPI name to the conda package "
    "that provides it (--map NAME=SPEC), or drop the requirement (--map NAME=)"
)


def mentioned(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-]|\.\w)", text) is not None


def explained(error: SolveError, plans: Sequence[Plan], asked_by: Iterable[tuple[str, str]] = ()) -> SolveError:
    """The same error, naming the origin of every spec the solver's reason mentions, then the next steps.

    ``asked_by`` adds (spec, origin) pairs for specs no pyproject line wrote (the backend's, the metadata's).
    """
    lines = [
        f"  {spec}  <-  {item.requirement}  ({p.project.file}: {item.origin})"
        for p in plans
        for item in (*p.build, *p.run)
        for spec in item.specs
        if mentioned(spec_name(spec), error.reason)
    ]
    lines += [f"  {spec}  <-  {origin}" for spec, origin in asked_by if mentioned(spec_name(spec), error.reason)]
    reason = error.reason
    if lines:
        reason += "\nthe specs come from:\n" + "\n".join(dict.fromkeys(lines))
    if error.locked:
        reason += f"\n{_change_installed_first(error)}"
    elif not reason.startswith("no channels"):
        reason += f"\n{NEXT_STEPS}"
    return SolveError(error.specs, reason)


def _change_installed_first(error: SolveError) -> str:
    """The next step when the solve needed installed packages changed, which the standalone command never does:
    change them with a tool that does, asking for the specs of theirs (or else those the reason names)."""
    names = {package.split()[0] for package in error.locked}
    specs = [s for s in error.specs if spec_name(s) in names]
    specs = specs or [s for s in error.specs if mentioned(spec_name(s), error.reason)] or list(error.specs)
    installed = " and ".join(f"'{package}'" for package in error.locked)
    are, them = ("is", "it") if len(error.locked) == 1 else ("are", "them")
    asked = " ".join(f"'{spec}'" for spec in specs)
    return (
        f"to fix it: {installed} {are} installed in {error.prefix} and conda-source does not change installed "
        f"packages on its own: change {them} first (conda install -p {error.prefix} {asked}, or with "
        "pixi/micromamba), then run this again"
    )
