"""What convert.py hands describe.py: a wheel's files staged in the conda layout, and what is known of the wheel.

Its own module, so that neither of the two imports the other (convert.py imports describe.py only once the
staged files are compressing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.tags import Tag

    from conda_source.artifact.layout import Layout
    from conda_source.artifact.native import Relocator
    from conda_source.artifact.staging import StagingDestination


@dataclass(frozen=True)
class StagedWheel:
    """A wheel's files staged in the conda layout, and what the rest of the conversion needs of the wheel."""

    wheel: Path
    name: str
    tags: frozenset[Tag]
    pure: bool
    subdir: str
    python: str | None  # noarch: only when the request chose one
    layout: Layout
    destination: StagingDestination
    relocator: Relocator | None
    metadata_text: str
    dist_info: str
    notes: tuple[str, ...]
