"""conda-source's JSON files under conda-meta/ (journals, records, states, restore markers), read whole or refused.

A crash of the machine can leave a new file empty, a person can edit one: ``Unreadable`` says why in words a
person can act on, and each reader turns it into its own error, naming the file and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class Unreadable(ValueError):
    """Why a file is not the JSON object its reader needs."""


def load_object(path: Path, keys: Mapping[str, type] | None = None) -> dict[str, Any]:
    """The JSON object in ``path``, with each of ``keys`` present and of its type; ``Unreadable`` otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if text.strip() else None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise Unreadable(str(exc) or type(exc).__name__) from exc
    if data is None:
        raise Unreadable("the file is empty")
    if not isinstance(data, dict):
        raise Unreadable("not a JSON object")
    for key, kind in (keys or {}).items():
        if not isinstance(data.get(key), kind):
            raise Unreadable(f"'{key}' is missing or not a {'string' if kind is str else kind.__name__}")
    return data


def reason(exc: Exception) -> str:
    """Why a value read from such a file could not be used (a field missing or of another type)."""
    if isinstance(exc, (OSError, ValueError)) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
