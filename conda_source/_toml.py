"""TOML reading: tomllib on 3.11+, tomli before; errors name the file, line and column."""

from __future__ import annotations

import sys
from pathlib import Path
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


def read_toml(path: Path) -> dict[str, Any]:
    """Read and parse a TOML file; an unreadable or non-UTF-8 file is one clear error naming it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = f"cannot read it ({exc.strerror or exc}); check its permissions"
        raise InvalidProjectError([Problem(str(path), "", reason)]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8"
        raise InvalidProjectError([Problem(str(path), "", reason)]) from None
    return loads_toml(text, str(path))
