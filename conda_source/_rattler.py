"""The few py-rattler names that differ between the releases conda-source supports.

conda-rattler-solver pins py-rattler <0.27 while newer releases renamed ``Platform``
to ``Subdir``; conda-source works with both, so it installs next to that solver.
"""

from __future__ import annotations

from typing import Any


def subdir(name: str) -> Any:
    """``rattler.Subdir(name)`` (0.27+), or ``rattler.Platform(name)`` before it."""
    import rattler

    factory = getattr(rattler, "Subdir", None)
    if factory is None:  # py-rattler < 0.27; reading Platform on newer releases warns
        factory = rattler.Platform
    return factory(name)
