"""Conda spec strings, as every layer passes them around (``'numpy >=1.20'``)."""

from __future__ import annotations

import re
from collections.abc import Sequence


def spec_name(spec: str) -> str:
    """The package name of a conda spec: ``'numpy >=1.20'`` -> ``'numpy'``, ``'conda-forge::six'`` -> ``'six'``."""
    return spec.strip().split(" ", 1)[0].split("::")[-1]


def built_for_python(depends: Sequence[str]) -> str:
    """The python minor (``'3.11'``) a record's ``python >=3.11,<3.12.0a0`` dependency (``python_pin`` of
    mapping.requirements: develop installs, compiled packages) ties it to; "" for none."""
    found = (re.match(r"python >=(\d+\.\d+),<\d+\.\d+\.0a0$", depend.strip()) for depend in depends)
    return next((match.group(1) for match in found if match), "")


def split_dist(dist: str) -> tuple[str, str, str, str]:
    """(channel, name, version, build) of a dist string ``[channel::]name-version-build``: a name may hold
    dashes, a version and a build never do.  Anything else is all name (no version, no build)."""
    channel, _, rest = dist.rpartition("::")
    parts = rest.rsplit("-", 2)
    return (channel, parts[0], parts[1], parts[2]) if len(parts) == 3 else (channel, rest, "", "")


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
