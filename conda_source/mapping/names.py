"""PyPI name -> conda spec(s), with the reason each answer was chosen.

Lookup order, first hit wins:

1. ``--map PYPI=SPEC`` flags (``cli``);
2. the project's ``[tool.conda-source.mapping]`` (``project``);
3. the user's configuration: conda's ``plugins.conda_source_mapping`` setting
   (``conda-config``), then the user's mapping file (``user``; see ``user_mapping_file``);
4. the bundled table, ``data/pypi-to-conda.tsv`` (``bundled``);
5. the bundled patterns, ``data/pypi-to-conda-patterns.tsv`` (``bundled``): name
   families such as ``nvidia-cublas-cu12``, first matching pattern in file order;
6. the identity rule (``identity``): lowercase, ``_`` -> ``-``, dots kept.

Keys are canonical PyPI names (PEP 503), optionally with an extra,
``dask[array]``, for what a dependency's extra needs on the conda side.
The same layers hold PEP 725 DepURL keys (``dep:generic/openssl``); see external.py.
A value is one conda spec or several; an empty value drops the dependency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from packaging.utils import canonicalize_name

from conda_source.errors import MappingConfigError
from conda_source.specs import spec_name, validate_conda_spec

TABLE_RESOURCE = "pypi-to-conda.tsv"
PATTERNS_RESOURCE = "pypi-to-conda-patterns.tsv"

_KEY = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*\])?\s*$")


def identity_name(pypi_name: str) -> str:
    """The conda name of a PyPI name no table mentions: lowercase, '_' -> '-', dots kept.

    conda-forge names follow this for the great majority of packages, and keeping
    dots is what makes ``zope.interface`` or ``ruamel.yaml`` come out right.
    """
    return pypi_name.strip().lower().replace("_", "-")


def is_depurl(text: str) -> bool:
    """A PEP 725 DepURL key (or an older spelling of one), as opposed to a PyPI name."""
    return text.strip().startswith(("dep:", "pkg:", "virtual:"))


def mapping_key(name: str, extra: str | None = None) -> str:
    """The canonical table key for a PyPI name, or for one of its extras."""
    key = canonicalize_name(name)
    return f"{key}[{canonicalize_name(extra)}]" if extra else key


def parse_mapping_key(text: str) -> str | None:
    """``Foo_Bar[Extra]`` -> ``foo-bar[extra]``, ``dep:generic/OpenSSL`` -> ``dep:generic/openssl``;
    ``None`` when ``text`` is no key."""
    if is_depurl(text):
        from conda_source.mapping.depurl import override_key

        return override_key(text)
    match = _KEY.match(text)
    if not match:
        return None
    return mapping_key(match.group(1), match.group(2))


@dataclass(frozen=True)
class Provenance:
    """Where a mapping decision came from."""

    source: str  # cli | project | user | bundled | identity
    detail: str

    def __str__(self) -> str:
        return f"{self.source} ({self.detail})"


@dataclass(frozen=True)
class NameMapping:
    key: str
    specs: tuple[str, ...]  # empty: the dependency is dropped
    provenance: Provenance
    # False when the conda package numbers its versions differently from the PyPI
    # one, so the requirement's version constraint must not be carried over.
    keep_version: bool = True


@dataclass(frozen=True)
class OverrideLayer:
    """One source of overrides: its name, and key -> (specs, where it was written)."""

    source: str
    entries: Mapping[str, tuple[tuple[str, ...], str]]


_GROUP_REF = re.compile(r"\{(\d+)\}")


@dataclass(frozen=True)
class PatternEntry:
    """One family of PyPI names: a regex over the canonical name, and spec templates.

    ``{1}``, ``{2}`` in a template stand for the pattern's groups.  ``examples``
    are names the pattern must map; tests expand each of them.
    """

    pattern: str
    regex: re.Pattern[str]
    templates: tuple[str, ...]
    keep_version: bool
    origin: str
    examples: tuple[str, ...]

    def expand(self, key: str) -> tuple[str, ...] | None:
        """The specs for ``key``, or ``None`` when the pattern does not match it."""
        match = self.regex.fullmatch(key)
        if match is None:
            return None
        return tuple(_GROUP_REF.sub(lambda ref: match.group(int(ref.group(1))), t) for t in self.templates)


def parse_pattern_row(line: str, where: str, check_examples: bool = True) -> PatternEntry:
    """One ``pattern<TAB>specs<TAB>keep|drop<TAB>origin<TAB>examples`` row; ``where`` prefixes errors.

    ``check_examples`` validates each example's specs with py-rattler; the shipped
    table skips it at run time (tests check it), so mapping a name never imports py-rattler.
    """
    fields = line.split("\t")
    if len(fields) != 5:
        raise MappingConfigError(
            where, f"expected 5 tab-separated fields (pattern, specs, version, origin, examples), got {len(fields)}"
        )
    pattern, specs, version, origin, examples = (field.strip() for field in fields)
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise MappingConfigError(where, f"invalid pattern '{pattern}': {exc}") from None
    templates = tuple(spec.strip() for spec in specs.split(";"))
    for template in templates:
        for ref in _GROUP_REF.findall(template):
            if not 1 <= int(ref) <= regex.groups:
                raise MappingConfigError(
                    where, f"'{template}' refers to group {{{ref}}}, but '{pattern}' has {regex.groups} group(s)"
                )
    if version not in ("keep", "drop"):
        raise MappingConfigError(where, f"version must be 'keep' or 'drop', not '{version}'")
    entry = PatternEntry(
        pattern, regex, templates, version == "keep", origin, tuple(e.strip() for e in examples.split(";"))
    )
    for example in entry.examples if check_examples else ():
        expanded = entry.expand(example)
        if expanded is None:
            raise MappingConfigError(where, f"example '{example}' does not match '{pattern}'")
        for spec in expanded:
            reason = validate_conda_spec(spec, name_and_version=True)
            if reason:
                raise MappingConfigError(where, f"example '{example}': {reason}")
    return entry


@dataclass(frozen=True)
class BundledTable:
    entries: Mapping[str, tuple[tuple[str, ...], str]]  # key -> (specs, origin)
    header: tuple[str, ...]
    patterns: tuple[PatternEntry, ...] = ()
    patterns_header: tuple[str, ...] = ()

    @property
    def generated(self) -> str:
        return _header_date(self.header, "generated:")

    @property
    def patterns_written(self) -> str:
        return _header_date(self.patterns_header, "written:")


def _header_date(header: Sequence[str], label: str) -> str:
    for line in header:
        if line.startswith(label):
            return line.split(":", 1)[1].split("by")[0].strip()
    return "unknown date"


@cache
def bundled_table() -> BundledTable:
    """The shipped table and patterns, parsed once per process on first use."""
    data = resources.files("conda_source.mapping").joinpath("data")
    table = parse_table(data.joinpath(TABLE_RESOURCE).read_text("utf-8").splitlines())
    header, patterns = parse_patterns(
        data.joinpath(PATTERNS_RESOURCE).read_text("utf-8").splitlines(), PATTERNS_RESOURCE, check_examples=False
    )
    return BundledTable(table.entries, table.header, patterns, header)


def parse_table(lines: Iterable[str]) -> BundledTable:
    entries: dict[str, tuple[tuple[str, ...], str]] = {}
    header: list[str] = []
    for line in lines:
        if line.startswith("#"):
            header.append(line[1:].strip())
            continue
        if not line.strip():
            continue
        key, specs, origin = line.split("\t")
        entries[key] = (tuple(spec.strip() for spec in specs.split(";")), origin)
    return BundledTable(entries, tuple(header))


def parse_patterns(
    lines: Iterable[str], name: str, check_examples: bool = True
) -> tuple[tuple[str, ...], tuple[PatternEntry, ...]]:
    """The header lines (the leading ``#`` block) and the pattern rows of a patterns file."""
    header: list[str] = []
    patterns: list[PatternEntry] = []
    for number, line in enumerate(lines, start=1):
        if line.startswith("#"):
            if not patterns:
                header.append(line[1:].strip())
            continue
        if line.strip():
            patterns.append(parse_pattern_row(line, f"{name}, line {number}", check_examples))
    return tuple(header), tuple(patterns)


class NameMapper:
    """Answers 'which conda specs does this PyPI name need, and why?'."""

    def __init__(self, layers: Sequence[OverrideLayer] = ()) -> None:
        self._layers = tuple(layers)

    def lookup(self, key: str) -> NameMapping | None:
        """The first layer with an entry for ``key``: overrides, the bundled table, then its patterns."""
        for layer in self._layers:
            if key in layer.entries:
                specs, where = layer.entries[key]
                return NameMapping(key, specs, Provenance(layer.source, where))
        table = bundled_table()
        if key in table.entries:
            specs, origin = table.entries[key]
            return NameMapping(key, specs, Provenance("bundled", f"{origin} table, {table.generated}"))
        for entry in table.patterns:
            expanded = entry.expand(key)
            if expanded is not None:
                detail = f"pattern {entry.pattern}, {entry.origin}, {table.patterns_written}"
                return NameMapping(key, expanded, Provenance("bundled", detail), entry.keep_version)
        return None

    def map_name(self, name: str) -> NameMapping:
        """Always answers: an entry if any layer has one, else the identity rule."""
        key = mapping_key(name)
        found = self.lookup(key)
        if found is not None:
            return found
        return NameMapping(key, (identity_name(name),), Provenance("identity", "no table entry"))

    def conda_name(self, pypi_name: str) -> str | None:
        """The conda package a project of this PyPI name is packaged as; None when an override drops it."""
        specs = self.map_name(pypi_name).specs
        return spec_name(specs[0]) if specs else None
