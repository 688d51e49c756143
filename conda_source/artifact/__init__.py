"""The artifact layer: wheels -> reproducible ``.conda`` packages."""

from conda_source.artifact.convert import BuiltPackage, WheelRequest, convert_wheel

__all__ = ["BuiltPackage", "WheelRequest", "convert_wheel"]
