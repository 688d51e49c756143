"""The ``PATH[extra,...]`` syntax of a project argument, as pip writes it (``./proj[test,docs]``)."""

from __future__ import annotations

import re
from pathlib import Path

_TRAILING_EXTRAS = re.compile(r"^(?P<path>.+?)\[(?P<extras>[^\[\]]*)\]$")


def split_path_extras(text: str) -> tuple[Path, tuple[str, ...]]:
    """``./proj[test,docs]`` -> (``./proj``, ``("test", "docs")``); an existing path wins."""
    match = _TRAILING_EXTRAS.match(text)
    if match is None or Path(text).exists():
        return Path(text), ()
    extras = tuple(part.strip() for part in match.group("extras").split(",") if part.strip())
    return Path(match.group("path")), extras
