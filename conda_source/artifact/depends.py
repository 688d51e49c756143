"""A wheel's Requires-Dist -> the ``depends`` of one or more conda packages.

A noarch package has no platform and no fixed python, so each marker is judged
on every platform and every python the package allows:

* a marker that depends only on the operating system splits the package into
  variants, one per group of systems that need the same dependencies, each
  depending on the virtual package of its group (``__unix``, ``__win``,
  ``__linux``, ``__osx``), as conda-forge does; a group no virtual package
  selects (linux with windows) becomes one variant per system;
* a marker that depends on the python version cannot be expressed by one noarch
  package: it is refused, unless the caller pins a python (``--python X.Y``),
  which makes a python-specific noarch package;
* a marker that depends on the machine (x86_64 vs arm64) is refused.

Nothing is dropped without a reason: every requirement is in the result, kept
or dropped.  Markers are evaluated through packaging's public API only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from conda_source.errors import ArtifactError
from conda_source.mapping.names import NameMapper
from conda_source.mapping.requirements import MappedRequirement, map_requirement
from conda_source.target import TargetEnv

# The systems a noarch package may land on, each with the subdirs that stand for it.
SYSTEMS: dict[str, tuple[str, ...]] = {
    "linux": ("linux-64", "linux-aarch64", "linux-ppc64le"),
    "osx": ("osx-64", "osx-arm64"),
    "win": ("win-64", "win-arm64"),
}
# Which virtual package selects each group of systems; a group not listed cannot be expressed.
VIRTUAL: dict[frozenset[str], str | None] = {
    frozenset({"linux", "osx", "win"}): None,
    frozenset({"linux", "osx"}): "__unix",
    frozenset({"win"}): "__win",
    frozenset({"linux"}): "__linux",
    frozenset({"osx"}): "__osx",
}
PYTHONS = tuple(f"3.{minor}" for minor in range(8, 16))


@dataclass(frozen=True)
class Variant:
    """One package to build: its virtual package (if any), label and mapped requirements."""

    virtual: str | None
    label: str  # "" for the only variant, else e.g. "unix", "win"
    requirements: tuple[MappedRequirement, ...]


def noarch_variants(
    requires: Sequence[Requirement],
    extras: Sequence[str],
    requires_python: SpecifierSet | None,
    mapper: NameMapper,
    wheel: str,
    python: str | None = None,
) -> list[Variant]:
    """Split a pure wheel's requirements into noarch variants (usually exactly one)."""
    pythons = (python,) if python else tuple(p for p in PYTHONS if _allowed(p, requires_python))
    if not pythons:
        raise ArtifactError(wheel, f"Requires-Python '{requires_python}' admits no python 3.8-3.15")
    kept_by_system: dict[str, frozenset[int]] = {}
    for system, subdirs in SYSTEMS.items():
        verdicts = {
            subdir: _kept(requires, extras, [TargetEnv.from_spec(p, subdir) for p in pythons], wheel, python is None)
            for subdir in subdirs
        }
        if len(set(verdicts.values())) > 1:
            index = _first_difference(list(verdicts.values()))
            raise ArtifactError(
                wheel,
                f"the marker of '{requires[index]}' depends on the machine, which a noarch package cannot "
                "express; convert a platform-specific wheel instead",
            )
        kept_by_system[system] = next(iter(verdicts.values()))

    groups: dict[frozenset[int], set[str]] = {}
    for system, kept in kept_by_system.items():
        groups.setdefault(kept, set()).add(system)
    split: list[tuple[frozenset[int], frozenset[str]]] = []
    for kept, systems in groups.items():
        if frozenset(systems) in VIRTUAL:
            split.append((kept, frozenset(systems)))
        else:
            split += [(kept, frozenset({system})) for system in systems]
    variants = []
    for kept, group in split:
        virtual = VIRTUAL[group]
        target = TargetEnv.from_spec(pythons[0], SYSTEMS[sorted(group)[0]][0])
        mapped = [_map(requires[i], i, target, mapper, extras) if i in kept else _dropped(requires[i], i, group)
                  for i in range(len(requires))]  # fmt: skip
        label = "" if virtual is None else virtual.removeprefix("__")
        variants.append(Variant(virtual, label, tuple(mapped)))
    return sorted(variants, key=lambda v: v.label)


def arch_requirements(
    requires: Sequence[Requirement], extras: Sequence[str], target: TargetEnv, mapper: NameMapper
) -> tuple[MappedRequirement, ...]:
    """An arch-specific wheel has one python and one platform: markers are simply evaluated."""
    return tuple(_map(req, i, target, mapper, extras) for i, req in enumerate(requires))


def _map(
    requirement: Requirement, index: int, target: TargetEnv, mapper: NameMapper, extras: Sequence[str]
) -> MappedRequirement:
    origin = f"Requires-Dist[{index}]"
    for extra in ("", *extras):
        mapped = map_requirement(requirement, origin, target, mapper, extra)
        if mapped.dropped is None or not mapped.dropped.startswith("marker"):
            return mapped
    return mapped


def _dropped(requirement: Requirement, index: int, systems: frozenset[str]) -> MappedRequirement:
    where = ", ".join(sorted(systems))
    return MappedRequirement(str(requirement), f"Requires-Dist[{index}]", (), (), dropped=f"marker is false on {where}")


def _kept(
    requires: Sequence[Requirement], extras: Sequence[str], targets: list[TargetEnv], wheel: str, strict: bool
) -> frozenset[int]:
    """Indexes of the requirements a platform needs; python-dependent markers are refused."""
    kept = set()
    for index, requirement in enumerate(requires):
        if requirement.marker is None:
            kept.add(index)
            continue
        verdicts = {
            any(requirement.marker.evaluate(t.marker_environment(extra)) for extra in ("", *extras)) for t in targets
        }
        if len(verdicts) > 1 and strict:
            raise ArtifactError(
                wheel,
                f"the marker of '{requirement}' depends on the python version, which one noarch package cannot "
                "express; pass --python X.Y to build a package for one python",
            )
        if True in verdicts:
            kept.add(index)
    return frozenset(kept)


def _first_difference(verdicts: list[frozenset[int]]) -> int:
    """The first requirement kept on some subdirs of a system but not on others."""
    return min(frozenset[int]().union(*verdicts) - frozenset.intersection(*verdicts))


def _allowed(python: str, requires_python: SpecifierSet | None) -> bool:
    return (
        requires_python is None
        or requires_python.contains(f"{python}.0", prereleases=True)
        or any(requires_python.contains(f"{python}.{micro}", prereleases=True) for micro in (1, 5, 10, 20))
    )
