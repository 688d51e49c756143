"""PEP 725 ``[external]``: DepURL lists for the build machine, the host and run time.

Every problem goes to ``report`` (key, message), like the rest of the loader, so
one pass finds all of them.  PEP 725 reserves the table: a key it does not define
is an error, not something to ignore.
"""

from __future__ import annotations

import difflib

from conda_source.mapping.depurl import ExternalRequirement, InvalidDepURL
from conda_source.project.groups import Report, extras_table, resolve_groups
from conda_source.project.model import External, ExternalDependency

REQUIRED_KEYS = ("build-requires", "host-requires", "dependencies")
OPTIONAL_KEYS = ("optional-build-requires", "optional-host-requires", "optional-dependencies")
KEYS = (*REQUIRED_KEYS, *OPTIONAL_KEYS, "dependency-groups")


def load_external(raw: object, report: Report) -> External:
    if not isinstance(raw, dict):
        report("external", "expected a table (PEP 725)")
        return External()
    for unknown in sorted(set(raw) - set(KEYS)):
        close = difflib.get_close_matches(unknown, KEYS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"PEP 725 defines {', '.join(KEYS)}"
        report(f"external.{unknown}", f"not a PEP 725 [external] field; {hint}")
    required = {key: _specifiers(raw.get(key, []), f"external.{key}", report) for key in REQUIRED_KEYS}
    optional = {key: _optional(raw.get(key, {}), f"external.{key}", report) for key in OPTIONAL_KEYS}
    groups = {}
    if "dependency-groups" in raw:
        groups = resolve_groups(
            raw["dependency-groups"], report, parse_external, "external.dependency-groups", "DepURL"
        )
    return External(
        build_requires=required["build-requires"],
        host_requires=required["host-requires"],
        dependencies=required["dependencies"],
        optional_build_requires=optional["optional-build-requires"],
        optional_host_requires=optional["optional-host-requires"],
        optional_dependencies=optional["optional-dependencies"],
        dependency_groups=groups,
    )


def parse_external(text: str, key: str) -> ExternalDependency:
    """One external dependency specifier; ValueError carries the message for ``key``."""
    try:
        return ExternalDependency(ExternalRequirement.parse(text), key)
    except InvalidDepURL as exc:
        raise ValueError(str(exc)) from None


def _specifiers(raw: object, key: str, report: Report) -> tuple[ExternalDependency, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        report(key, 'expected a list of DepURL strings, e.g. ["dep:generic/openssl", "dep:virtual/compiler/c"]')
        return ()
    found = []
    for index, text in enumerate(raw):
        try:
            found.append(parse_external(text, f"{key}[{index}]"))
        except ValueError as exc:
            report(f"{key}[{index}]", str(exc))
    return tuple(found)


def _optional(raw: object, key: str, report: Report) -> dict[str, tuple[ExternalDependency, ...]]:
    return extras_table(raw, key, "DepURLs", report, _specifiers)
