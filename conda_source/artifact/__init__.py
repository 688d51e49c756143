"""The artifact layer: wheels -> reproducible ``.conda`` packages.

Its names are imported on first use, so a module that needs only ``artifact.layout``
(develop-install's prefix install) does not pay for the package writer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conda_source.artifact.convert import WheelRequest, convert_wheel
    from conda_source.artifact.describe import BuiltPackage

__all__ = ["BuiltPackage", "WheelRequest", "convert_wheel"]


def __getattr__(name: str) -> Any:
    if name == "BuiltPackage":
        from conda_source.artifact.describe import BuiltPackage

        return BuiltPackage
    if name in __all__:
        from conda_source.artifact import convert

        return getattr(convert, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
