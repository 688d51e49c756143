"""Read and validate pyproject.toml into a ProjectSpec.

Every defect is collected in one pass and raised together, each naming the file
and the key: ``pyproject.toml: project.dependencies[2]: invalid requirement ...``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import re
from pathlib import Path, PurePosixPath
from typing import Any, TypeGuard

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from conda_source._toml import read_toml
from conda_source.errors import InvalidProjectError, MappingConfigError, Problem, ProjectNotFoundError
from conda_source.mapping.overrides import parse_override_table
from conda_source.project.external import load_external
from conda_source.project.groups import NAME, Report, extras_table, first_line, parse_requirement, resolve_groups
from conda_source.project.model import (
    LEGACY_BACKEND,
    LEGACY_REQUIRES,
    BuildSystem,
    CondaSettings,
    Dependency,
    ProjectSpec,
)
from conda_source.specs import validate_conda_spec

_OBJECT_REF = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(\s*:\s*[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$")
_DYNAMIC_ALLOWED: frozenset[str] = frozenset(
    {
        "version", "description", "readme", "requires-python", "license", "license-files",
        "authors", "maintainers", "keywords", "classifiers", "urls", "scripts", "gui-scripts",
        "entry-points", "dependencies", "optional-dependencies", "import-names", "import-namespaces",
    }
)  # fmt: skip
_PROJECT_KEYS = _DYNAMIC_ALLOWED | {"name", "dynamic"}
_TOOL_KEYS = ("mapping", "dependencies", "build-dependencies")


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def __call__(self, key: str, message: str) -> None:
        self.items.append(Problem(self.file, key, message))


def load_project(path: Path) -> ProjectSpec:
    """Read the project at ``path`` (a directory or its pyproject.toml)."""
    root, file = _locate(path)
    if not file.is_file():
        return _legacy_project(root, file)
    report = _Problems(str(file))
    document = read_toml(file)

    build_system = _build_system(document, root, report)
    groups = {}
    if "dependency-groups" in document:
        groups = resolve_groups(document["dependency-groups"], report, parse_requirement)
    conda = _conda_settings(document.get("tool", {}).get("conda-source", {}), report)
    project = document.get("project")
    if project is None:
        spec = _legacy_project(root, file, build_system, groups, conda)
    elif not isinstance(project, dict):
        report("project", "expected a table")
        spec = None
    else:
        spec = _project_table(project, root, file, build_system, groups, conda, report)
    external = load_external(document["external"], report) if "external" in document else None
    if report.items or spec is None:
        raise InvalidProjectError(report.items)
    return dataclasses.replace(spec, external=external) if external is not None else spec


def _locate(path: Path) -> tuple[Path, Path]:
    if path.is_file() and path.name == "pyproject.toml":
        return path.parent, path
    if not path.exists():
        raise ProjectNotFoundError(path, "no such file or directory")
    if not path.is_dir():
        raise ProjectNotFoundError(path, "not a project directory; pass the directory that holds pyproject.toml")
    file = path / "pyproject.toml"
    if not file.is_file() and not (path / "setup.py").is_file():
        raise ProjectNotFoundError(path, "neither pyproject.toml nor setup.py found; is this the project's root?")
    return path, file


def _legacy_project(
    root: Path,
    file: Path,
    build_system: BuildSystem | None = None,
    groups: dict[str, tuple[Dependency, ...]] | None = None,
    conda: CondaSettings | None = None,
) -> ProjectSpec:
    """No [project] table: the backend's metadata hook is the only source of truth."""
    return ProjectSpec(
        root=root,
        file=file,
        build_system=build_system or _legacy_build_system(()),
        dependency_groups=groups or {},
        conda=conda or CondaSettings(),
        has_project_table=False,
    )


def _legacy_build_system(requires: tuple[Dependency, ...]) -> BuildSystem:
    if not requires:
        requires = tuple(Dependency(Requirement(r), "build-system.requires (PEP 517 default)") for r in LEGACY_REQUIRES)
    return BuildSystem(requires=requires, backend=LEGACY_BACKEND, legacy=True)


def _build_system(document: dict[str, Any], root: Path, report: _Problems) -> BuildSystem:
    table = document.get("build-system")
    if table is None:
        return _legacy_build_system(())
    if not isinstance(table, dict):
        report("build-system", "expected a table")
        return _legacy_build_system(())
    if "requires" not in table:
        report("build-system.requires", 'missing; PEP 518 requires it in [build-system], e.g. requires = ["hatchling"]')
    requires = tuple(_requirements(table.get("requires", []), "build-system.requires", report))
    backend = table.get("build-backend")
    if backend is None:
        return _legacy_build_system(requires)
    if not isinstance(backend, str) or not _OBJECT_REF.match(backend):
        report("build-system.build-backend", f"expected 'module' or 'module:object', got {backend!r}")
        backend = LEGACY_BACKEND
    backend_path = table.get("backend-path", [])
    if not _is_str_list(backend_path):
        report("build-system.backend-path", "expected a list of directories relative to the project root")
        backend_path = []
    for index, entry in enumerate(backend_path):
        inside = (root / entry).resolve().is_relative_to(root.resolve())
        if PurePosixPath(entry).is_absolute() or Path(entry).is_absolute() or not inside:
            report(f"build-system.backend-path[{index}]", f"'{entry}' must be a relative path inside the project")
    return BuildSystem(requires=requires, backend=backend, backend_path=tuple(backend_path))


def _project_table(
    project: dict[str, Any],
    root: Path,
    file: Path,
    build_system: BuildSystem,
    groups: dict[str, tuple[Dependency, ...]],
    conda: CondaSettings,
    report: _Problems,
) -> ProjectSpec:
    for unknown in sorted(set(project) - _PROJECT_KEYS):
        close = difflib.get_close_matches(unknown, sorted(_PROJECT_KEYS), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "move tool settings under [tool.NAME]"
        report(f"project.{unknown}", f"not a [project] field{'' if close else ' (PEP 621)'}; {hint}")
    dynamic_raw = project.get("dynamic", [])
    if not _is_str_list(dynamic_raw):
        report("project.dynamic", "expected a list of field names")
        dynamic_raw = []
    dynamic = frozenset(dynamic_raw)
    for index, item in enumerate(dynamic_raw):
        if item == "name":
            report(f"project.dynamic[{index}]", "'name' cannot be dynamic; set project.name")
        elif item not in _DYNAMIC_ALLOWED:
            report(f"project.dynamic[{index}]", f"'{item}' is not a [project] field")
        elif item in project:
            report(f"project.{item}", "listed in project.dynamic but also given; remove one of the two")

    name = project.get("name")
    if name is None:
        report("project.name", "missing; [project] needs a name")
    elif not isinstance(name, str) or not NAME.match(name):
        report("project.name", f"{name!r} is not a valid package name (letters, digits, '.', '_', '-')")
        name = None

    version = project.get("version")
    if version is None and "version" not in dynamic:
        report("project.version", "missing; set it, or list 'version' in project.dynamic for the backend to provide")
    elif version is not None:
        try:
            version = str(Version(version)) if isinstance(version, str) else None
        except InvalidVersion:
            version = None
        if version is None:
            report("project.version", f"{project['version']!r} is not a PEP 440 version (e.g. '1.2.0')")

    requires_python = None
    if "requires-python" in project:
        raw = project["requires-python"]
        with contextlib.suppress(InvalidSpecifier):
            requires_python = SpecifierSet(raw) if isinstance(raw, str) else None
        if requires_python is None:
            report("project.requires-python", f"{raw!r} is not a version specifier (e.g. '>=3.10')")

    dependencies = tuple(_requirements(project.get("dependencies", []), "project.dependencies", report))
    optional = _optional_dependencies(project.get("optional-dependencies", {}), report)
    scripts = _entry_points(project.get("scripts", {}), "project.scripts", report)
    gui_scripts = _entry_points(project.get("gui-scripts", {}), "project.gui-scripts", report)

    return ProjectSpec(
        root, file, build_system, name, version, dynamic, requires_python,
        dependencies, optional, groups, scripts, gui_scripts, conda,
    )  # fmt: skip


def _requirements(raw: object, key: str, report: Report) -> list[Dependency]:
    if not _is_str_list(raw):
        report(key, "expected a list of requirement strings")
        return []
    found = []
    for index, text in enumerate(raw):
        try:
            found.append(Dependency(Requirement(text), f"{key}[{index}]"))
        except InvalidRequirement as exc:
            report(f"{key}[{index}]", f"invalid requirement '{text}': {first_line(exc)}")
    return found


def _optional_dependencies(raw: object, report: _Problems) -> dict[str, tuple[Dependency, ...]]:
    def parse(items: object, key: str, report: Report) -> tuple[Dependency, ...]:
        return tuple(_requirements(items, key, report))

    return extras_table(raw, "project.optional-dependencies", "requirements", report, parse)


def _entry_points(raw: object, key: str, report: _Problems) -> dict[str, str]:
    if not isinstance(raw, dict):
        report(key, "expected a table of command-name = 'module:function'")
        return {}
    found = {}
    for command, target in raw.items():
        if not isinstance(target, str) or not _OBJECT_REF.match(target):
            report(f"{key}.{command}", f"expected 'module:function', got {target!r}")
        else:
            found[command] = target
    return found


def _conda_settings(raw: object, report: _Problems) -> CondaSettings:
    where = "tool.conda-source"
    if not isinstance(raw, dict):
        report(where, "expected a table")
        return CondaSettings()
    for unknown in sorted(set(raw) - set(_TOOL_KEYS)):
        report(f"{where}.{unknown}", f"unknown setting; known: {', '.join(_TOOL_KEYS)}")
    mapping = {}
    if "mapping" in raw:
        try:
            mapping = dict(parse_override_table(raw["mapping"], "project", f"{where}.mapping").entries)
        except MappingConfigError as exc:
            report(exc.where, str(exc).removeprefix(f"{exc.where}: "))
    return CondaSettings(
        mapping=mapping,
        dependencies=_conda_specs(raw.get("dependencies", []), f"{where}.dependencies", report),
        build_dependencies=_conda_specs(raw.get("build-dependencies", []), f"{where}.build-dependencies", report),
    )


def _conda_specs(raw: object, key: str, report: _Problems) -> tuple[tuple[str, str], ...]:
    if not _is_str_list(raw):
        report(key, 'expected a list of conda specs, e.g. ["libxml2 >=2.12", "c-compiler"]')
        return ()
    specs = []
    for index, text in enumerate(raw):
        reason = validate_conda_spec(text)
        if reason:
            report(f"{key}[{index}]", reason)
        else:
            specs.append((text, f"{key}[{index}]"))
    return tuple(specs)


def _is_str_list(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
