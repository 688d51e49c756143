"""Protect an environment from pip, when asked (PEP 668): an ``EXTERNALLY-MANAGED`` file in its stdlib.

pip run by such an environment's python refuses ``pip install`` and says what the file says: use conda,
and ``conda develop-install .`` for a checkout.  conda-source writes it only into an environment the user
asked it for (``develop-install --protect-env``, or ``plugins.conda_source_protect_envs: true`` inside
conda), and remembers the request in ``conda-meta/conda-source/protect-env``; ``conda doctor`` reports an
environment that asked but has no file (a python update replaces the stdlib directory), and its fixer
writes it again.  A file that is there already, written by anyone, is left as it is.

The stdlib directory is conda's layout (``lib/pythonX.Y``, ``Lib`` on Windows), where a conda python's
``sysconfig.get_path("stdlib")`` is.  pip ignores the file in a virtual environment.
"""

from __future__ import annotations

from pathlib import Path

from conda_source.meta.conda_meta import STATE_DIR
from conda_source.target import Environment

FILE = "EXTERNALLY-MANAGED"
REQUEST = "protect-env"
MESSAGE = """\
[externally-managed]
Error=This environment is managed by conda: pip would install PyPI packages over conda's, and conda would not
 know about them.
 Install packages with conda: conda install NAME
 Install a checkout of a Python project (editable, its dependencies from conda, recorded for conda):
  conda develop-install .
 To use pip here anyway, at your own risk: pip install --break-system-packages ...; or remove this file
 (conda-source wrote it because this environment asked to be protected from pip).
"""


def marker(environment: Environment) -> Path:
    prefix = environment.prefix
    if environment.subdir.startswith("win-"):
        return prefix / "Lib" / FILE
    return prefix / "lib" / f"python{environment.python_short}" / FILE


def requested(prefix: Path) -> bool:
    return (prefix / "conda-meta" / STATE_DIR / REQUEST).is_file()


def protect(environment: Environment) -> Path | None:
    """Remember the request and write the file; None when a file was there already (kept as it is)."""
    remember(environment.prefix)
    path = marker(environment)
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(FILE + ".partial")
    partial.write_text(MESSAGE, encoding="utf-8")
    partial.replace(path)
    return path


def remember(prefix: Path) -> None:
    """Remember that the environment asked to be protected (conda doctor checks only those that did)."""
    request = prefix / "conda-meta" / STATE_DIR / REQUEST
    request.parent.mkdir(exist_ok=True)
    request.write_text("asked for by the user: write EXTERNALLY-MANAGED into this environment's stdlib\n")


def missing(environment: Environment) -> Path | None:
    """The file an environment that asked for protection lacks; None when it has it or never asked."""
    path = marker(environment)
    return path if requested(environment.prefix) and not path.exists() else None
