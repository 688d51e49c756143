"""Where each wheel scheme lands inside a conda package.

noarch: python packages use conda's relocatable layout (``site-packages/``,
``python-scripts/``), which conda and rattler move to the environment's real
site-packages at install time.  Arch-specific packages use the real paths of
the python they were built for.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# conda replaces this with the environment's prefix in files listed with it in paths.json.
PREFIX_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"


@dataclass(frozen=True)
class Layout:
    noarch: bool
    dirs: Mapping[str, str]  # wheel scheme -> directory inside the package ("" is the prefix root)
    # The shebang interpreter of scripts: conda rewrites the placeholder on install; a direct
    # install into a prefix (develop-install) uses the prefix's python itself.
    interpreter: str = f"{PREFIX_PLACEHOLDER}/bin/python"
    # Top-level directories no wheel file may land in: conda's own records, and in a
    # package the info/ metadata (staging.RESERVED says why).
    reserved: frozenset[str] = frozenset({"conda-meta", "info"})

    @classmethod
    def noarch_python(cls, distribution: str) -> Layout:
        return cls(
            noarch=True,
            dirs={
                "purelib": "site-packages",
                "platlib": "site-packages",
                "scripts": "python-scripts",
                "data": "",
                "headers": f"include/{distribution}",
            },
        )

    @classmethod
    def unix(cls, python_short: str, distribution: str) -> Layout:
        site = f"lib/python{python_short}/site-packages"
        return cls(
            noarch=False,
            dirs={
                "purelib": site,
                "platlib": site,
                "scripts": "bin",
                "data": "",
                "headers": f"include/python{python_short}/{distribution}",
            },
        )

    @classmethod
    def prefix_scheme(cls, prefix: Path, paths: Mapping[str, str], python: Path) -> Layout:
        """The probed install scheme of a prefix, as prefix-relative directories."""

        def relative(key: str) -> str:
            path = Path(paths[key]).relative_to(prefix).as_posix()
            return "" if path == "." else path

        dirs = {scheme: relative(scheme) for scheme in ("purelib", "platlib", "scripts", "data")}
        # A venv's include dir is the base interpreter's; a wheel's headers stay in the prefix.
        inside = Path(paths["include"]).is_relative_to(prefix)
        dirs["headers"] = relative("include") if inside else "include"
        return cls(noarch=False, dirs=dirs, interpreter=str(python), reserved=frozenset({"conda-meta"}))

    def record_prefix(self, scheme: str, root_scheme: str) -> str | None:
        """RECORD paths are relative to site-packages; other schemes get a ``../`` prefix."""
        if scheme == root_scheme:
            return None
        # noarch site-packages lands at lib/pythonX.Y/site-packages on unix: three levels deep.
        start = "lib/python/site-packages" if self.noarch else self.dirs[root_scheme]
        target = self.dirs[scheme] or "."
        return posixpath.relpath(target, start) + "/"
