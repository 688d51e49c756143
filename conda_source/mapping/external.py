"""PEP 725 external dependencies: DepURL + role + target environment -> conda specs, with reasons.

A DepURL names a need that PyPI does not serve: ``dep:generic/openssl``,
``dep:virtual/compiler/c``, ``dep:generic/openjpeg@>=2.0``, optionally followed by
PEP 508 markers (``dep:generic/libxcb; platform_system == 'Linux'``).  The older
draft spellings ``pkg:generic/openssl`` and ``virtual:compiler/c`` are read too,
with a note asking for the current one.

Each ``[external]`` key has a role: ``build-requires`` runs on the build machine
(``build``), ``host-requires`` is linked against (``host``), ``dependencies`` is
needed at run time (``run``).  PEP 804 mappings may give each role its own conda
specs (``dep:generic/libwebp``: ``libwebp`` to build, ``libwebp-base`` to link).

Lookup order, first hit wins; the override layers are the ones PyPI names use
(see names.py), with ``dep:...`` keys, and an override serves every role:

1. ``--map DEPURL=SPEC`` flags (``cli``);
2. the project's ``[tool.conda-source.mapping]`` (``project``);
3. conda's ``plugins.conda_source_mapping`` setting, then the user's mapping file;
4. the bundled table ``data/external-to-conda.tsv`` (``bundled``), derived from the
   PEP 804 conda-forge mapping, one column per role;
5. ``dep:pypi/NAME`` only: the PyPI name mapping, identity rule included.

Anything else is an error that names the DepURL and the override that fixes it:
a C library's conda name is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal
from urllib.parse import unquote

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from conda_source.errors import UnmappedDepURLError
from conda_source.mapping.names import NameMapper, Provenance
from conda_source.mapping.requirements import MappedRequirement, marker_false
from conda_source.mapping.versions import translate_specifier_set
from conda_source.target import TargetEnv

Role = Literal["build", "host", "run"]
ROLES: tuple[Role, ...] = ("build", "host", "run")
TABLE_RESOURCE = "external-to-conda.tsv"
VIRTUAL_NAMESPACES = ("compiler", "interface")
VERSION_OPERATORS = (">=", ">", "<=", "<", "==")  # PEP 725: operators most package managers share

_TYPE = re.compile(r"^[A-Za-z.+-][A-Za-z0-9.+-]*$")
_NOT_IN_NAME = re.compile(r"[\s<>=!~,@]")
_QUALIFIER_KEY = re.compile(r"^[A-Za-z.\-_][A-Za-z0-9.\-_]*$")
# Spellings PEP 725's own examples use where the PEP 804 registry chose another name.
_SPELLINGS = {
    "dep:virtual/compiler/cpp": "dep:virtual/compiler/cxx",
    "dep:virtual/compiler/c++": "dep:virtual/compiler/cxx",
}
_EXAMPLE = "e.g. 'dep:generic/openssl' or 'dep:virtual/compiler/c'"


class InvalidDepURL(ValueError):
    """``str()`` is the whole message: the text as written, and what is wrong with it."""


@dataclass(frozen=True)
class DepURL:
    """``dep:type/namespace/name@version?qualifiers#subpath``; only type and name are required."""

    type: str  # lowercase
    namespace: str | None  # segments joined by '/'
    name: str
    version: SpecifierSet | None = None
    qualifiers: tuple[tuple[str, str], ...] = ()
    subpath: str | None = None
    legacy: bool = False  # written in an older draft spelling (pkg:... or virtual:...)

    @property
    def key(self) -> str:
        """The lookup key of every mapping layer: ``dep:type/namespace/name``, lowercase, no version."""
        name = canonicalize_name(self.name) if self.type == "pypi" else self.name
        path = f"{self.namespace}/{name}" if self.namespace else name
        return f"dep:{self.type}/{path}".lower()

    def __str__(self) -> str:
        path = f"{self.namespace}/{self.name}" if self.namespace else self.name
        text = f"dep:{self.type}/{path}"
        if self.version is not None:
            text += f"@{_spell_version(self.version)}"
        if self.qualifiers:
            text += "?" + "&".join(f"{k}={v}" for k, v in self.qualifiers)
        return text + (f"#{self.subpath}" if self.subpath else "")

    @classmethod
    def parse(cls, text: str) -> DepURL:
        """Parse a DepURL (no markers); raises InvalidDepURL saying what is wrong."""
        raw = text.strip()
        scheme, colon, rest = raw.partition(":")
        legacy = scheme in ("pkg", "virtual")
        if not colon or scheme not in ("dep", "pkg", "virtual"):
            raise InvalidDepURL(f"'{text}' is not a DepURL: expected 'dep:TYPE/NAME' ({_EXAMPLE})")
        if scheme == "virtual":
            rest = f"virtual/{rest}"
        rest = rest.lstrip("/")
        rest, _, subpath = rest.partition("#")
        rest, _, query = rest.partition("?")
        segments = rest.split("/")
        version_text = None
        if "@" in segments[-1]:
            segments[-1], _, version_text = segments[-1].rpartition("@")
        segments = [segment for segment in segments if segment]
        for segment in segments[1:]:
            if _NOT_IN_NAME.search(segment):
                raise InvalidDepURL(
                    f"invalid DepURL '{text}': '{segment}' is no name (spaces and <>=!~,@ are not allowed; "
                    "a version goes after '@', as in 'dep:generic/openssl@>=3')"
                )
        segments = [unquote(segment) for segment in segments]
        if len(segments) < 2:
            raise InvalidDepURL(f"invalid DepURL '{text}': expected 'dep:TYPE/NAME' ({_EXAMPLE})")
        kind, *namespace, name = segments
        if not _TYPE.match(kind):
            raise InvalidDepURL(
                f"invalid DepURL '{text}': type '{kind}' must be ASCII letters, digits, '.', '+' or '-', "
                "not starting with a digit"
            )
        kind = kind.lower()
        if kind == "virtual" and (len(namespace) != 1 or namespace[0].lower() not in VIRTUAL_NAMESPACES):
            raise InvalidDepURL(
                f"invalid DepURL '{text}': a virtual DepURL is 'dep:virtual/compiler/NAME' or "
                "'dep:virtual/interface/NAME' (e.g. 'dep:virtual/compiler/c', 'dep:virtual/interface/blas')"
            )
        if kind == "virtual":
            namespace = [namespace[0].lower()]
        return cls(
            type=kind,
            namespace="/".join(namespace) or None,
            name=name,
            version=_parse_version(unquote(version_text), text) if version_text is not None else None,
            qualifiers=_parse_qualifiers(query, text),
            subpath=unquote(subpath).strip("/") or None,
            legacy=legacy,
        )


def _parse_version(text: str, depurl: str) -> SpecifierSet:
    """``2.0`` (an exact version) or a range of the operators PEP 725 allows, joined by ','."""
    stripped = text.strip()
    if not stripped:
        raise InvalidDepURL(f"invalid DepURL '{depurl}': nothing after '@'; write a version (@2.0) or range (@>=2.0)")
    if stripped[0].isalnum():
        stripped = f"=={stripped}"
    try:
        specifiers = SpecifierSet(stripped)
    except InvalidSpecifier:
        raise InvalidDepURL(
            f"invalid DepURL '{depurl}': '{text}' is not a version (@2.0) or version range (@>=2.0,<3)"
        ) from None
    for specifier in specifiers:
        if specifier.operator not in VERSION_OPERATORS:
            raise InvalidDepURL(
                f"invalid DepURL '{depurl}': '{specifier.operator}' is not allowed in a DepURL version; "
                f"use {', '.join(VERSION_OPERATORS)} joined by ','"
            )
    return specifiers


def _parse_qualifiers(query: str, depurl: str) -> tuple[tuple[str, str], ...]:
    qualifiers = []
    for pair in (part for part in query.split("&") if part):
        key, equals, value = pair.partition("=")
        if not equals or not value or not _QUALIFIER_KEY.match(key):
            raise InvalidDepURL(f"invalid DepURL '{depurl}': qualifier '{pair}' is not KEY=VALUE")
        qualifiers.append((key.lower(), unquote(value)))
    return tuple(sorted(qualifiers))


def _spell_version(specifiers: SpecifierSet) -> str:
    return ",".join(sorted(str(s) for s in specifiers))


@dataclass(frozen=True)
class ExternalRequirement:
    """A PEP 725 external dependency specifier: a DepURL and optional PEP 508 markers."""

    text: str  # as written
    depurl: DepURL
    marker: Marker | None = None

    @classmethod
    def parse(cls, text: str) -> ExternalRequirement:
        url, semicolon, markers = text.partition(";")
        marker = None
        if semicolon:
            try:
                marker = Marker(markers.strip())
            except InvalidMarker as exc:
                reason = str(exc).splitlines()[0].strip()
                raise InvalidDepURL(f"invalid marker in '{text}': {reason}") from None
        return cls(text, DepURL.parse(url), marker)


def override_key(text: str) -> str | None:
    """The mapping key of a ``dep:...`` override key, or ``None`` when it is no bare DepURL."""
    return override_key_problem(text)[0]


def override_key_problem(text: str) -> tuple[str | None, str]:
    """(key, '') for a usable override key; (None, why not) otherwise."""
    try:
        depurl = DepURL.parse(text)
    except InvalidDepURL as exc:
        return None, str(exc)
    if depurl.version is not None or depurl.qualifiers or depurl.subpath:
        return None, f"'{text.strip()}': an override names a DepURL without version, qualifiers or subpath"
    return depurl.key, ""


# --- the bundled table ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExternalTable:
    entries: Mapping[str, tuple[dict[Role, tuple[str, ...]], str]]  # key -> (specs per role, origin)
    header: tuple[str, ...]

    @property
    def generated(self) -> str:
        for line in self.header:
            if line.startswith("generated:"):
                return line.split(":", 1)[1].split("by")[0].strip()
        return "unknown date"


@cache
def external_table() -> ExternalTable:
    """The shipped DepURL table, parsed once per process on first use."""
    text = resources.files("conda_source.mapping").joinpath("data").joinpath(TABLE_RESOURCE).read_text("utf-8")
    return parse_external_table(text.splitlines())


def parse_external_table(lines: Iterable[str]) -> ExternalTable:
    """Rows: DepURL key, build, host and run specs ('; '-separated, '-' for none), origin."""
    entries: dict[str, tuple[dict[Role, tuple[str, ...]], str]] = {}
    header: list[str] = []
    for line in lines:
        if line.startswith("#"):
            header.append(line[1:].strip())
        elif line.strip():
            key, build, host, run, origin = line.split("\t")
            roles = {role: _table_specs(column) for role, column in zip(ROLES, (build, host, run), strict=True)}
            entries[key] = (roles, origin)
    return ExternalTable(entries, tuple(header))


def _table_specs(column: str) -> tuple[str, ...]:
    return () if column.strip() == "-" else tuple(spec.strip() for spec in column.split(";"))


# --- mapping ----------------------------------------------------------------------------------


def map_external(
    requirement: ExternalRequirement,
    origin: str,
    role: Role,
    target: TargetEnv,
    mapper: NameMapper,
    extra: str = "",
    file: str = "",
) -> MappedRequirement:
    """Map one external dependency for ``role``; ``file`` names the pyproject.toml in errors."""
    text, depurl = requirement.text, requirement.depurl
    if requirement.marker is not None and not requirement.marker.evaluate(target.marker_environment(extra)):
        return MappedRequirement(text, origin, (), (), dropped=marker_false(target))
    notes = []
    if depurl.legacy:
        notes.append(f"older PEP 725 draft spelling; write '{depurl}'")
    if depurl.qualifiers or depurl.subpath:
        notes.append("qualifiers and subpath are not used by the conda mapping, which looks up the name only")

    specs, provenance = _lookup(depurl, role, mapper, origin, file)
    if not specs:
        why = f"nothing to install in the {role} role" if provenance.source == "bundled" else "mapped to nothing"
        return MappedRequirement(text, origin, (), (provenance,), dropped=f"{why} by {provenance}")
    version = translate_specifier_set(depurl.version, text) if depurl.version is not None else None
    if version is not None:
        notes.extend(version.notes)
        specs = (constrain(specs[0], version.spec), *specs[1:])
    return MappedRequirement(text, origin, specs, (provenance,), notes=tuple(notes))


def _lookup(
    depurl: DepURL, role: Role, mapper: NameMapper, origin: str, file: str
) -> tuple[tuple[str, ...], Provenance]:
    key = depurl.key
    found = mapper.lookup(key)
    if found is not None:
        return found.specs, found.provenance
    table = external_table()
    if key in table.entries:
        roles, source = table.entries[key]
        if not any(roles.values()):
            reason = f"the bundled conda-forge mapping of {table.generated} lists no conda package for it"
            raise UnmappedDepURLError(key, file, origin, reason)
        detail = f"PEP 804 conda-forge table, {table.generated}, {role} role"
        return roles[role], Provenance("bundled", detail if source == "conda-forge" else f"{detail}, {source}")
    if depurl.type == "pypi":
        mapped = mapper.map_name(depurl.name)
        return mapped.specs, mapped.provenance
    hint = f"; the PEP 804 registry spells it '{_SPELLINGS[key]}'" if key in _SPELLINGS else ""
    raise UnmappedDepURLError(key, file, origin, f"no mapping layer knows it{hint}")


def constrain(spec: str, version: str | None) -> str:
    """Add a translated version to ``name [window [build]]``, keeping the spec's own window and build."""
    if version is None:
        return spec
    name, *rest = spec.split()
    if not rest:
        return f"{name} {version}"
    window, *build = rest
    window = version if window == "*" else f"{window},{version}"
    return " ".join([name, window, *build])
