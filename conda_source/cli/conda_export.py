"""conda's own export formats leave develop installs out, and say so (issue 14).

A develop install has no package a channel could give, so a file that lists it (``local-develop::NAME=...``
and the ``local-develop`` channel) makes ``conda env create -f`` fail, and online it would ask the public
channel of that name.  Facts, checked against conda 26.7.1:

- ``conda export`` and ``conda env export`` (every format) run ``conda.cli.main_export``: its pre- and
  post-command hooks run for the command ``export``.  It reads the prefix through ``PrefixData(prefix,
  interoperability=True)``, whose ``conda_prefix_data_loaders`` run after conda-meta is read; the packages,
  the channels (taken from the packages) and the explicit URLs all come from those records.
- ``conda list --export`` reads the prefix through ``PrefixData`` too and writes ``name=version=build`` lines
  for ``conda create --file``; ``conda list --explicit`` names the develop install's checkout instead (its
  own hint, conda_protect.py, says what to do with that line).
- ``--from-history`` takes the history's requested specs of the packages ``PrefixData(prefix)`` holds, with
  the ``prefix_data_interoperability`` setting deciding which records those are.

So for ``export`` and ``list --export`` only: the loader takes the develop records out of what the export
reads (after conda's own site-packages loader, which would otherwise list the project as a pip package),
``--from-history`` reads the prefix as the export does, and the post-command names each develop install left
out and how to carry it (``conda export --format conda-source``, whose exporter reads conda-meta itself and
says ``carried``).
Every other command sees the records as they are.
"""

from __future__ import annotations

import atexit
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conda_source.meta import conda_meta
from conda_source.meta.conda_meta import DEVELOP_CHANNEL


@dataclass(frozen=True)
class LeftOut:
    name: str
    version: str
    source: str

    def __str__(self) -> str:
        return (
            f"conda-source: {self.name} {self.version} (develop install of {self.source}) is left out of this "
            f"export: no channel has it. After creating an environment from the file, re-create it with conda "
            f"develop-install {self.source} -n ENV; or export with conda export --format conda-source --file "
            "ENV.conda-source.yml, which carries it."
        )


_exporting: set[Path] = set()  # the prefix an export command reads
_left_out: dict[str, LeftOut] = {}


def before_export(command: str) -> None:
    """A pre-command hook: what the export reads of the target prefix is filtered from now on (``conda list``:
    only with ``--export``, whose file ``conda create --file`` reads; a listing shows everything)."""
    from conda.base.context import context

    arguments = getattr(context, "_argparse_args", None) or {}
    if command == "list" and not _writes_the_export_format(arguments, bool(context.json)):
        return
    _exporting.add(Path(context.target_prefix))
    # conda runs no post-command when the command fails (``conda list --export REGEX`` matching only a develop
    # install: "No packages match"): the notice is then said at exit.
    atexit.unregister(_say_left_out)  # once, however many commands one process runs
    atexit.register(_say_left_out)
    if arguments.get("from_history"):
        # The history's specs are those of the packages PrefixData(prefix) holds: read it as the export does.
        context._cache_["prefix_data_interoperability"] = True


def _writes_the_export_format(arguments: Any, json: bool) -> bool:
    """Whether ``conda list`` writes the ``--export`` file: as conda 26.7.1's main_list decides, where
    --revisions, --explicit, --canonical and --json each take precedence over --export."""
    others = ("revisions", "explicit", "canonical")
    return bool(arguments.get("export")) and not json and not any(arguments.get(name) for name in others)


def load(prefix: Any, records: Any) -> dict[str, Any]:
    """A prefix-data loader: during an export, the develop records leave the records the export reads."""
    if Path(prefix) not in _exporting:
        return {}
    for name in list(records):
        record = records[name]
        if getattr(record.channel, "canonical_name", None) != DEVELOP_CHANNEL:
            continue
        state = conda_meta.read_state(Path(prefix), name)
        source = state.source if state else str(getattr(record.link, "source", "") or "PATH-OF-ITS-CHECKOUT")
        _left_out[name] = LeftOut(name, str(record.version), source)
        del records[name]
    return {}


def carried() -> None:
    """The export writes the develop installs itself (the conda-source format): nothing is left out."""
    _left_out.clear()


def after_export(command: str) -> None:
    """A post-command hook: name each develop install the export left out, on stderr."""
    _say_left_out()
    _exporting.clear()


def _say_left_out() -> None:
    from conda.base.context import context

    if not context.quiet:
        for left_out in sorted(_left_out.values(), key=lambda item: item.name):
            print(left_out, file=sys.stderr)
    _left_out.clear()
