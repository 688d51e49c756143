"""PEP 725 DepURLs: ``dep:generic/openssl``, ``dep:virtual/compiler/c``, ``dep:generic/openjpeg@>=2.0``,
optionally followed by PEP 508 markers; the older draft spellings ``pkg:generic/openssl`` and
``virtual:compiler/c`` are read too.  Parsing only: external.py maps them to conda specs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

VIRTUAL_NAMESPACES = ("compiler", "interface")
VERSION_OPERATORS = (">=", ">", "<=", "<", "==")  # PEP 725: operators most package managers share

_TYPE = re.compile(r"^[A-Za-z.+-][A-Za-z0-9.+-]*$")
_NOT_IN_NAME = re.compile(r"[\s<>=!~,@]")
_QUALIFIER_KEY = re.compile(r"^[A-Za-z.\-_][A-Za-z0-9.\-_]*$")
# Spellings PEP 725's own examples use where the PEP 804 registry chose another name.
SPELLINGS = {
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
