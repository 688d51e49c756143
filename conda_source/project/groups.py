"""PEP 735 ``[dependency-groups]``: requirement lists that may include other groups.

PEP 725 ``[external.dependency-groups]`` has the same shape with DepURLs, so the
resolver takes the item parser and the table's key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from conda_source.project.model import Dependency

Report = Callable[[str, str], None]  # (key, message)
T = TypeVar("T")
NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)  # PEP 508 names, extras


def extras_table(
    raw: object, key: str, what: str, report: Report, parse: Callable[[object, str, Report], T]
) -> dict[str, T]:
    """``[project.optional-dependencies]`` and ``[external.optional-*]``: extra-name = [items], by canonical name."""
    if not isinstance(raw, dict):
        report(key, f"expected a table of extra-name = [{what}]")
        return {}
    extras: dict[str, T] = {}
    for extra, items in raw.items():
        extra_key = f"{key}.{extra}"
        if not NAME.match(extra):
            report(extra_key, f"'{extra}' is not a valid extra name (letters, digits, '.', '_', '-')")
            continue
        canonical = canonicalize_name(extra)
        if canonical in extras:
            report(extra_key, "same extra as another key once normalized (PEP 685); merge the two")
            continue
        extras[canonical] = parse(items, extra_key, report)
    return extras


@dataclass(frozen=True)
class _Include:
    group: str  # as written
    key: str


def parse_requirement(text: str, key: str) -> Dependency:
    """A PEP 508 group item; ValueError carries the message for the item's key."""
    try:
        return Dependency(Requirement(text), key)
    except InvalidRequirement as exc:
        raise ValueError(f"invalid requirement '{text}': {first_line(exc)}") from None


def resolve_groups(
    raw: object,
    report: Report,
    parse: Callable[[str, str], T],
    where: str = "dependency-groups",
    noun: str = "requirement",
) -> dict[str, tuple[T, ...]]:
    """Parse every group with ``parse(text, key)`` and expand its ``{include-group = ...}`` entries.

    Problems go to ``report``; a group with problems still resolves as far as it can,
    so one pass finds all of them.
    """
    if not isinstance(raw, dict):
        report(where, f"expected a table of group-name = [{noun}s]")
        return {}
    entries: dict[str, list[T | _Include]] = {}
    spelled: dict[str, str] = {}
    for name, items in raw.items():
        key = f"{where}.{name}"
        canonical = canonicalize_name(name)
        if canonical in spelled:
            report(key, f"same group as '{spelled[canonical]}' once normalized; merge the two")
            continue
        spelled[canonical] = name
        if not isinstance(items, list):
            report(key, f"expected a list of {noun} strings and {{include-group = ...}} tables")
            continue
        parsed: list[T | _Include] = []
        for index, item in enumerate(items):
            item_key = f"{key}[{index}]"
            if isinstance(item, str):
                try:
                    parsed.append(parse(item, item_key))
                except ValueError as exc:
                    report(item_key, str(exc))
            elif isinstance(item, dict) and list(item) == ["include-group"] and isinstance(item["include-group"], str):
                parsed.append(_Include(item["include-group"], item_key))
            else:
                report(item_key, f'expected a {noun} string or {{include-group = "name"}}')
        entries[canonical] = parsed

    resolved: dict[str, tuple[T, ...]] = {}

    def expand(group: str, trail: tuple[str, ...]) -> tuple[T, ...]:
        if group in resolved:
            return resolved[group]
        result: list[T] = []
        for entry in entries[group]:
            if not isinstance(entry, _Include):
                result.append(entry)
                continue
            target, key = entry.group, entry.key
            included = canonicalize_name(target)
            if included not in entries:
                report(key, f"include-group '{target}' names no group (defined: {', '.join(spelled.values())})")
            elif included in trail or included == group:
                cycle = " -> ".join(spelled[g] for g in (*trail, group, included))
                report(key, f"include-group cycle: {cycle}")
            else:
                result.extend(expand(included, (*trail, group)))
        resolved[group] = tuple(result)
        return resolved[group]

    for group in entries:
        expand(group, ())
    return resolved


def first_line(exc: Exception) -> str:
    """packaging's parse errors draw a caret diagram over several lines; keep the sentence."""
    return str(exc).splitlines()[0].strip()
