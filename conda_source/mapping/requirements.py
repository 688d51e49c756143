"""One PEP 508 requirement + a target environment -> conda specs, with reasons.

Nothing is dropped silently: a requirement is either kept (its conda specs and
the mapping that chose them) or dropped with the reason (a false marker, or an
override that removes it).  Anything lossy (an unmapped extra, a direct URL,
``===``) is kept *and* carries a note the user sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.requirements import Requirement

from conda_source.mapping.names import NameMapper, Provenance, mapping_key
from conda_source.mapping.versions import VersionTranslation, translate_specifier_set
from conda_source.specs import spec_name
from conda_source.target import TargetEnv


@dataclass(frozen=True)
class MappedRequirement:
    requirement: str  # as written
    origin: str  # the pyproject key it came from, e.g. project.dependencies[0]
    specs: tuple[str, ...]  # conda specs; empty when dropped
    provenance: tuple[Provenance, ...]  # why these names (one per mapping used)
    dropped: str | None = None  # why it was dropped, or None when kept
    notes: tuple[str, ...] = ()  # lossy steps the user must see
    expands: tuple[str, ...] = ()  # names this project itself: the extras it includes

    def to_dict(self) -> dict[str, object]:
        return {
            "requirement": self.requirement,
            "origin": self.origin,
            "specs": list(self.specs),
            "provenance": [{"source": p.source, "detail": p.detail} for p in self.provenance],
            "dropped": self.dropped,
            "notes": list(self.notes),
            "expands": list(self.expands),
        }


def map_requirement(
    requirement: Requirement,
    origin: str,
    target: TargetEnv,
    mapper: NameMapper,
    extra: str = "",
) -> MappedRequirement:
    """Map one requirement; ``extra`` is the project extra it belongs to, for markers."""
    text = str(requirement)
    if requirement.marker is not None and not requirement.marker.evaluate(target.marker_environment(extra)):
        return MappedRequirement(text, origin, (), (), dropped=marker_false(target))

    base = mapper.map_name(requirement.name)
    if not base.specs:
        return MappedRequirement(
            text, origin, (), (base.provenance,), dropped=f"mapped to nothing by {base.provenance}"
        )

    notes: list[str] = []
    if requirement.url:
        notes.append(
            f"direct reference '{requirement.url}' cannot be installed by conda; "
            f"{spec_name(base.specs[0])} comes from the channels instead"
        )
    if base.keep_version or not requirement.specifier:
        version = translate_specifier_set(requirement.specifier, text)
    else:
        version = VersionTranslation(None)
        notes.append(
            f"version constraint '{requirement.specifier}' not carried over to {base.specs[0].split()[0]}: "
            f"its conda versions are numbered differently ({base.provenance})"
        )
    notes.extend(version.notes)
    specs = [_constrain(base.specs[0], version.spec), *base.specs[1:]]
    provenance = [base.provenance]

    for dependency_extra in sorted(requirement.extras):
        found = mapper.lookup(mapping_key(requirement.name, dependency_extra))
        if found is None:
            notes.append(
                f"extra '{dependency_extra}' of '{requirement.name}' has no conda mapping: "
                f"mapped to the base package only; map '{requirement.name}[{dependency_extra}]' "
                "to the conda packages it needs"
            )
            continue
        provenance.append(found.provenance)
        specs.extend(spec for spec in found.specs if spec not in specs)
    return MappedRequirement(text, origin, tuple(specs), tuple(provenance), notes=tuple(notes))


def map_requirements(
    requirements: Sequence[Requirement | str],
    origin: str,
    target: TargetEnv,
    mapper: NameMapper,
    extras: Sequence[str] = (),
) -> list[str]:
    """The conda specs of requirements (e.g. a wheel's Requires-Dist), without repeats.

    A requirement kept by the base or by one of ``extras`` (its marker) counts once;
    ``origin`` names them in provenance as ``origin[index]``.
    """
    specs: list[str] = []
    for index, requirement in enumerate(requirements):
        parsed = Requirement(requirement) if isinstance(requirement, str) else requirement
        for extra in ("", *extras):
            mapped = map_requirement(parsed, f"{origin}[{index}]", target, mapper, extra)
            if mapped.dropped is None:
                specs += [s for s in mapped.specs if s not in specs]
                break
    return specs


def python_pin(target: TargetEnv) -> str:
    """The spec of the one python minor a compiled package or a develop install is built for."""
    major, minor = target.python.major, target.python.minor
    return f"python >={major}.{minor},<{major}.{minor + 1}.0a0"


def marker_false(target: TargetEnv) -> str:
    return f"marker is false for python {target.python} on {target.subdir}"


def _constrain(spec: str, version: str | None) -> str:
    """Add a translated version constraint to a mapped spec, keeping its own window."""
    if version is None:
        return spec
    name, _, window = spec.partition(" ")
    return f"{name} {window.strip()},{version}" if window.strip() else f"{name} {version}"
