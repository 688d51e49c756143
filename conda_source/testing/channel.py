"""Local channels made from wheels with conda-source's own package writer."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from conda_source.artifact import BuiltPackage, WheelRequest, convert_wheel
from conda_source.installer.channel import file_into_channel


def make_channel(channel: Path, wheels: Iterable[Path], python: str | None = None) -> list[BuiltPackage]:
    """Convert each wheel and file it into ``channel`` (indexed); returns what was built.

    ``python`` pins X.Y for wheels that need one (abi3, or python markers in a pure wheel).
    """
    built: list[BuiltPackage] = []
    staging = channel / ".staging"
    for wheel in wheels:
        built += convert_wheel(WheelRequest(wheel, staging, python=python))
    file_into_channel([(package.path, package.identity.subdir) for package in built], channel)
    for package in built:
        package.path.unlink(missing_ok=True)  # the same wheel given twice builds one file
    staging.rmdir()
    return built
