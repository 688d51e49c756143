"""The project layer: pyproject.toml -> ProjectSpec, every problem reported at once."""

from conda_source.build_files import BUILD_FILES, build_files_digest
from conda_source.project.load import load_project
from conda_source.project.model import BuildSystem, CondaSettings, Dependency, ProjectSpec

__all__ = [
    "BUILD_FILES",
    "BuildSystem",
    "CondaSettings",
    "Dependency",
    "ProjectSpec",
    "build_files_digest",
    "load_project",
]
