"""PEP 735 ``[dependency-groups]``: requirement lists that may include other groups."""

from __future__ import annotations

from collections.abc import Callable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from conda_source.project.model import Dependency

Report = Callable[[str, str], None]  # (key, message)


def resolve_groups(raw: object, report: Report) -> dict[str, tuple[Dependency, ...]]:
    """Parse every group and expand its ``{include-group = ...}`` entries.

    Problems go to ``report``; a group with problems still resolves as far as it can,
    so one pass finds all of them.
    """
    if not isinstance(raw, dict):
        report("dependency-groups", "expected a table of group-name = [requirements]")
        return {}
    entries: dict[str, list[Dependency | tuple[str, str]]] = {}
    spelled: dict[str, str] = {}
    for name, items in raw.items():
        key = f"dependency-groups.{name}"
        canonical = canonicalize_name(name)
        if canonical in spelled:
            report(key, f"same group as '{spelled[canonical]}' once normalized; merge the two")
            continue
        spelled[canonical] = name
        if not isinstance(items, list):
            report(key, "expected a list of requirement strings and {include-group = ...} tables")
            continue
        parsed: list[Dependency | tuple[str, str]] = []
        for index, item in enumerate(items):
            item_key = f"{key}[{index}]"
            if isinstance(item, str):
                try:
                    parsed.append(Dependency(Requirement(item), item_key))
                except InvalidRequirement as exc:
                    report(item_key, f"invalid requirement '{item}': {first_line(exc)}")
            elif isinstance(item, dict) and list(item) == ["include-group"] and isinstance(item["include-group"], str):
                parsed.append((item["include-group"], item_key))
            else:
                report(item_key, 'expected a requirement string or {include-group = "name"}')
        entries[canonical] = parsed

    resolved: dict[str, tuple[Dependency, ...]] = {}

    def expand(group: str, trail: tuple[str, ...]) -> tuple[Dependency, ...]:
        if group in resolved:
            return resolved[group]
        result: list[Dependency] = []
        for entry in entries[group]:
            if isinstance(entry, Dependency):
                result.append(entry)
                continue
            target, key = entry
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
