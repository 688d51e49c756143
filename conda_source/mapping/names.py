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

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from packaging.utils import canonicalize_name

from conda_source.errors import MappingConfigError
from conda_source.specs import spec_name

TABLE_RESOURCE = "pypi-to-conda.tsv"
PATTERNS_RESOURCE = "pypi-to-conda-patterns.tsv"
USER_MAPPING_ENV = "CONDA_SOURCE_MAPPING"

_KEY = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*\])?\s*$")


def identity_name(pypi_name: str) -> str:
    """The conda name of a PyPI name no table mentions: lowercase, '_' -> '-', dots kept.

    conda-forge names follow this for the great majority of packages, and keeping
    dots is what makes ``zope.interface`` or ``ruamel.yaml`` come out right.
    """
    return pypi_name.strip().lower().replace("_", "-")


def mapping_key(name: str, extra: str | None = None) -> str:
    """The canonical table key for a PyPI name, or for one of its extras."""
    key = canonicalize_name(name)
    return f"{key}[{canonicalize_name(extra)}]" if extra else key


def parse_mapping_key(text: str) -> str | None:
    """``Foo_Bar[Extra]`` -> ``foo-bar[extra]``, ``dep:generic/OpenSSL`` -> ``dep:generic/openssl``;
    ``None`` when ``text`` is no key."""
    if _is_depurl(text):
        from conda_source.mapping.external import override_key

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


_NAME_AND_VERSION = re.compile(r"^[a-z0-9_.-]+( [^\s\[\]:]+)?$")


def validate_conda_spec(text: str, name_and_version: bool = False) -> str | None:
    """Return why ``text`` is not a usable conda spec, or ``None`` when it is.

    Mapping entries must be ``name`` or ``name version`` (the requirement's own
    version constraint is added to them); other specs may be any MatchSpec.
    """
    from rattler import MatchSpec

    try:
        MatchSpec(text, strict=True)
    except Exception as exc:  # rattler raises its own exception types
        return f"invalid conda spec '{text}': {str(exc).strip()}"
    if name_and_version and not _NAME_AND_VERSION.match(text):
        return f"'{text}' must be a lowercase conda name, optionally followed by one version spec (e.g. 'pyqt >=5,<6')"
    return None


def parse_override_value(value: object, where: str) -> tuple[str, ...]:
    """Validate one override value: a spec, a list of specs, or empty to drop."""
    if isinstance(value, str):
        specs = [part.strip() for part in value.split(";")] if value.strip() else []
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        specs = [item.strip() for item in value]
    else:
        raise MappingConfigError(
            where, "expected a conda spec string or a list of them ('' or [] drops the dependency)"
        )
    for spec in specs:
        reason = validate_conda_spec(spec, name_and_version=True)
        if reason:
            raise MappingConfigError(where, reason)
    return tuple(specs)


def parse_override_table(table: object, source: str, where: str) -> OverrideLayer:
    """Turn a ``{pypi-name: spec(s)}`` table into a layer; ``where`` prefixes errors."""
    if not isinstance(table, dict):
        raise MappingConfigError(where, "expected a table of PyPI name = conda spec(s)")
    entries: dict[str, tuple[tuple[str, ...], str]] = {}
    for raw_key, value in table.items():
        key_where = f"{where}.{raw_key}"
        key = parse_mapping_key(raw_key)
        if key is None:
            raise MappingConfigError(key_where, _depurl_problem(raw_key) or "not a PyPI name (or name[extra])")
        if key in entries:
            raise MappingConfigError(key_where, f"duplicates '{entries[key][1]}' (same canonical name)")
        entries[key] = (parse_override_value(value, key_where), key_where)
    return OverrideLayer(source, entries)


def parse_cli_overrides(flags: Sequence[str], source: str = "cli", label: str = "--map") -> OverrideLayer:
    """``PYPI=SPEC[;SPEC...]`` entries (``--map`` flags, or conda's ``conda_source_mapping``
    setting); ``PYPI=`` drops the dependency."""
    entries: dict[str, tuple[tuple[str, ...], str]] = {}
    for flag in flags:
        where = f"{label} {flag}"
        name, sep, value = flag.partition("=")
        key = parse_mapping_key(name)
        if (not sep or key is None) and _is_depurl(name):
            reason = _depurl_problem(name) if sep else ""
            example = f"expected DEPURL=CONDA-SPEC (e.g. {label} 'dep:generic/openssl=openssl >=3')"
            raise MappingConfigError(where, f"{reason}; {example}" if reason else example)
        if not sep or key is None:
            raise MappingConfigError(where, f"expected PYPI-NAME=CONDA-SPEC (e.g. {label} torch=pytorch-cpu)")
        entries[key] = (parse_override_value(value, where), where)
    return OverrideLayer(source, entries)


def _is_depurl(text: str) -> bool:
    return text.strip().startswith(("dep:", "pkg:", "virtual:"))


def _depurl_problem(text: str) -> str | None:
    """Why ``text``, written as a DepURL, is no override key; ``None`` for anything else."""
    if not _is_depurl(text):
        return None
    from conda_source.mapping.external import override_key_problem

    return override_key_problem(text)[1] or None


def user_mapping_file(environ: Mapping[str, str] | None = None) -> tuple[Path | None, bool]:
    """The user's mapping file and whether it was asked for explicitly.

    ``$CONDA_SOURCE_MAPPING`` names it explicitly (then it must exist); otherwise
    ``$XDG_CONFIG_HOME/conda-source/mapping.toml`` (``~/.config`` by default) is
    used when present.
    """
    env = os.environ if environ is None else environ
    if env.get(USER_MAPPING_ENV):
        return Path(env[USER_MAPPING_ENV]).expanduser(), True
    config_home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "conda-source" / "mapping.toml", False


def load_user_layer(environ: Mapping[str, str] | None = None) -> OverrideLayer | None:
    path, explicit = user_mapping_file(environ)
    if path is None or not path.is_file():
        if explicit:
            problem = "is a directory" if path is not None and path.is_dir() else "file not found"
            raise MappingConfigError(
                f"${USER_MAPPING_ENV}={path}", f"{problem}; point it at a TOML file with a [mapping] table"
            )
        return None
    from conda_source._toml import read_toml
    from conda_source.errors import InvalidProjectError

    try:
        document = read_toml(path)
    except InvalidProjectError as exc:
        raise MappingConfigError(str(path), exc.problems[0].message) from None
    unknown = sorted(set(document) - {"mapping"})
    if unknown:
        raise MappingConfigError(str(path), f"unknown table '{unknown[0]}'; only [mapping] is read")
    return parse_override_table(document.get("mapping", {}), "user", f"{path}: mapping")


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


def parse_pattern_row(line: str, where: str) -> PatternEntry:
    """One ``pattern<TAB>specs<TAB>keep|drop<TAB>origin<TAB>examples`` row; ``where`` prefixes errors."""
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
    for example in entry.examples:
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
        data.joinpath(PATTERNS_RESOURCE).read_text("utf-8").splitlines(), PATTERNS_RESOURCE
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


def parse_patterns(lines: Iterable[str], name: str) -> tuple[tuple[str, ...], tuple[PatternEntry, ...]]:
    """The header lines (the leading ``#`` block) and the pattern rows of a patterns file."""
    header: list[str] = []
    patterns: list[PatternEntry] = []
    for number, line in enumerate(lines, start=1):
        if line.startswith("#"):
            if not patterns:
                header.append(line[1:].strip())
            continue
        if line.strip():
            patterns.append(parse_pattern_row(line, f"{name}, line {number}"))
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
