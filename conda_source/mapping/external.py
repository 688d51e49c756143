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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from conda_source.errors import UnmappedDepURLError
from conda_source.mapping.depurl import SPELLINGS, DepURL, ExternalRequirement
from conda_source.mapping.names import NameMapper, Provenance
from conda_source.mapping.requirements import MappedRequirement, marker_false
from conda_source.mapping.versions import translate_specifier_set
from conda_source.target import TargetEnv

Role = Literal["build", "host", "run"]
ROLES: tuple[Role, ...] = ("build", "host", "run")
TABLE_RESOURCE = "external-to-conda.tsv"

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
    hint = f"; the PEP 804 registry spells it '{SPELLINGS[key]}'" if key in SPELLINGS else ""
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
