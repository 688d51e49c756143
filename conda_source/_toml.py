"""TOML reading: tomllib on 3.11+, tomli before; errors name the file, line and column."""

from __future__ import annotations

import sys
from typing import Any

from conda_source.errors import InvalidProjectError, Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def loads_toml(text: str, filename: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message already ends with "(at line L, column C)".
        raise InvalidProjectError([Problem(filename, "", f"invalid TOML: {exc}")]) from exc
