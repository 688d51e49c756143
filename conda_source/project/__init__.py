"""The project layer: pyproject.toml -> ProjectSpec, every problem reported at once."""

from conda_source.project.load import load_project
from conda_source.project.model import BuildSystem, CondaSettings, Dependency, ProjectSpec

__all__ = ["BuildSystem", "CondaSettings", "Dependency", "ProjectSpec", "load_project"]
