"""PEP 440 specifiers -> conda version specs.

conda and PEP 440 order versions differently, so copying ``>=1.0,<2`` across
is wrong in a few places.  The rules below make conda (py-rattler's strict
parser) admit exactly the versions ``packaging`` admits, for candidate
versions spelled the way conda channels spell them: the normalized PEP 440
string.  tests/test_versions.py checks this with a property test; the README
lists the divergences no spec can remove, because they come from how conda
sorts some *candidates* (dev, local, and post/pre-releases written with a
different number of release parts).

For a specifier version V:

* A dev release inside an ordered bound is written attached, ``1.0dev1``:
  conda sorts ``1.0.dev1`` after ``1.0rc1``, but ``1.0dev1`` before ``1.0a0``.
* ``<V`` (V not a pre-release) admits none of V's pre-releases: the bound is
  ``V.dev0``, the lowest release of V's series (``<2.0`` -> ``<2.0dev0``).
* ``>V`` (V neither dev nor post) excludes V's own post-releases, which
  conda would admit: ``>1.0`` -> ``>1.0,!=1.0.post*``.
* ``~=V`` is spelled out as ``>=V,P.*`` with P = V's release minus its last part.
* ``==P.*`` / ``!=P.*``: conda's glob is component-wise, the same prefix rule.
* ``===X``: conda has no string equality.  It becomes ``==X`` with a note, or
  an error if X is not a version at all; never an unconstrained spec.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.specifiers import Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from conda_source.errors import UntranslatableSpecifierError


@dataclass(frozen=True)
class VersionTranslation:
    """A conda version spec (``None`` means any version) and notes for the user."""

    spec: str | None
    notes: tuple[str, ...] = ()


def translate_specifier_set(specifiers: SpecifierSet, requirement: str) -> VersionTranslation:
    """Translate every clause of ``specifiers`` and AND them together.

    ``requirement`` is the requirement's text, quoted in errors and notes.
    """
    clauses: list[str] = []
    notes: list[str] = []
    for specifier in sorted(specifiers, key=_reading_order):
        clause, note = _translate_one(specifier, requirement)
        clauses.append(clause)
        if note:
            notes.append(note)
    return VersionTranslation(",".join(clauses) or None, tuple(notes))


def _translate_one(specifier: Specifier, requirement: str) -> tuple[str, str | None]:
    op, text = specifier.operator, specifier.version
    if op == "===":
        return _arbitrary_equality(text, requirement)
    if text.endswith(".*"):
        prefix = str(Version(text[:-2]))
        return (f"{prefix}.*" if op == "==" else f"!={prefix}.*"), None
    version = Version(text)
    if op in ("==", "!="):
        # Candidates carry the dotted spelling, so equality keeps it.
        return f"{op}{version}", None
    if op == "~=":
        prefix = _with_epoch(version, ".".join(str(p) for p in version.release[:-1]))
        return f">={_ordered(version)},{prefix}.*", None
    if op == "<":
        bound = version if version.is_prerelease else Version(f"{version.public}.dev0")
        return f"<{_ordered(bound)}", None
    if op == ">" and version.dev is None and version.post is None:
        return f">{version},!={version}.post*", None
    return f"{op}{_ordered(version)}", None


def _reading_order(specifier: Specifier) -> tuple[int, str]:
    """Lower bounds first, then pins, upper bounds and exclusions: ``>=1.26,<2``."""
    rank = {">=": 0, ">": 0, "~=": 1, "==": 2, "===": 2, "<=": 3, "<": 3, "!=": 4}
    return rank[specifier.operator], specifier.version


def _ordered(version: Version) -> str:
    """Spell ``version`` for an ordered comparison: a dev part written attached."""
    text = str(version)
    return text.replace(".dev", "dev") if version.dev is not None else text


def _arbitrary_equality(text: str, requirement: str) -> tuple[str, str]:
    try:
        version = Version(text)
    except InvalidVersion:
        raise UntranslatableSpecifierError(
            requirement,
            f"==={text}",
            "conda has no string equality and this is not a version; "
            "pin a real version with '==' or override the mapping",
        ) from None
    note = f"'==={text}' (string equality) has no conda equivalent; translated to the exact version match '=={version}'"
    return f"=={version}", note


def _with_epoch(version: Version, text: str) -> str:
    return f"{version.epoch}!{text}" if version.epoch else text
