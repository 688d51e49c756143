"""conda-meta/history: the entry each change appends, as conda writes its own, and what conda-source reads back.

conda reads ``+``/``-`` lines as the packages a transaction linked and unlinked, and
``# update specs:``/``# remove specs:`` as what the user asked for (``conda env export
--from-history``, the classic solver's history specs).  What conda-source adds for itself
goes on comment lines conda does not read as specs.  One block per transaction::

    ==> 2026-11-21 04:48:51 <==
    # cmd: conda-source build-local .
    # conda-source version: 0.1.0
    +file:///channel::six-1.16.0-pyh1453b35_0
    # update specs: ['six >=1.16']
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from conda_source import __version__
from conda_source.meta.journal import step


def append_history(
    prefix: Path,
    command: str,
    linked: Sequence[str],
    specs: Sequence[str],
    unlinked: Sequence[str] = (),
    requirements: Mapping[str, Sequence[str]] | None = None,
    sources: Mapping[str, str] | None = None,
) -> None:
    """Append one transaction (``channel::name-version-build`` per package) to the history.

    ``specs`` are what the user asked for: conda reads them as requested (``conda env export
    --from-history``, the classic solver's history specs).  ``requirements`` (build, run) name what
    was installed only because a project needs it, and ``sources`` the checkout of each develop install,
    on comment lines conda does not read as specs (``history_sources`` reads them back).
    """
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    lines = [
        f"==> {stamp} <==",
        f"# cmd: {command or 'conda-source'}",
        # Never "# conda version:": conda parses that line as its own version (and fails on ours).
        f"# conda-source version: {__version__}",
    ]
    lines += [f"-{dist}" for dist in unlinked]
    lines += [f"+{dist}" for dist in linked]
    if specs:
        lines.append(f"# {'update' if linked else 'remove'} specs: {list(specs)!r}")
    for kind, listed in (requirements or {}).items():
        if listed:
            lines.append(f"# conda-source {kind + ' ' if kind else ''}requirements: {list(listed)!r}")
    lines += [f"{_SOURCE_LINE}{name}: {source}" for name, source in sorted((sources or {}).items())]
    history = prefix / "conda-meta" / "history"
    with history.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    step("history appended")


_SOURCE_LINE = "# conda-source source of "


def history_sources(prefix: Path) -> dict[str, str]:
    """The checkout of every develop install the history names, the latest one of each name."""
    history = prefix / "conda-meta" / "history"
    lines = history.read_text(encoding="utf-8").splitlines() if history.is_file() else []
    named = (line.removeprefix(_SOURCE_LINE) for line in lines if line.startswith(_SOURCE_LINE))
    return dict(entry.split(": ", 1) for entry in named if ": " in entry)
