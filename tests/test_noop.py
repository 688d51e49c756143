"""A re-run with nothing changed does nothing; every change that matters reinstalls, once.

What counts is listed in conda_source/engine/fingerprint.py; each case here changes one thing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from support import check_record_matches_disk, local_project

from conda_source.engine.develop_install import DevelopRequest, InstalledProject, develop_install
from conda_source.mapping.overrides import Overrides
from conda_source.target import probe


def install(prefix: Path, project: Path, editable: bool = True) -> InstalledProject:
    request = DevelopRequest(
        (project,), probe(prefix), (), editable=editable, overrides=Overrides(user_file=False), command="t"
    )
    (installed,) = develop_install(request).projects
    return installed


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_nothing_changed_is_a_no_op(prefix: Path, tmp_path: Path) -> None:
    project = local_project(tmp_path, "noop-demo", [])
    first = install(prefix, project)
    stamp = first.record.stat().st_mtime_ns
    (project / "src" / "noop_demo" / "more.py").write_text("X = 1\n")  # an editable install follows it already
    (project / "notes.txt").write_text("not code\n")
    again = install(prefix, project)
    assert again.unchanged and again.record == first.record and first.record.stat().st_mtime_ns == stamp


def _version(project: Path, prefix: Path) -> None:
    edit(project / "pyproject.toml", 'version = "0.4.0"', 'version = "0.5.0"')


def _entry_point(project: Path, prefix: Path) -> None:
    edit(project / "pyproject.toml", "[project.scripts]\n", '[project.scripts]\nchange-demo-two = "change_demo:main"\n')


def _dependency(project: Path, prefix: Path) -> None:
    edit(project / "pyproject.toml", "dependencies = []", 'dependencies = ["base-demo"]')


def _dynamic_file(project: Path, prefix: Path) -> None:
    (project / "requirements.txt").write_text("base-demo\n")


def _new_top_level_package(project: Path, prefix: Path) -> None:
    (project / "src" / "another_package").mkdir()
    (project / "src" / "another_package" / "__init__.py").write_text("")


def _new_top_level_module(project: Path, prefix: Path) -> None:
    (project / "src" / "helper_module.py").write_text("")


def _hatch_hook(project: Path, prefix: Path) -> None:
    """The code of a hatch build hook (it decides metadata and build requirements) edited."""
    (project / "hatch_build.py").write_text("# the hook, edited\n")


def _hatch_toml(project: Path, prefix: Path) -> None:
    """hatch's configuration in a file of its own (hatchling merges it into [tool.hatch])."""
    (project / "hatch.toml").write_text('[build]\ndependencies = ["base-demo"]\n\n[build.hooks.custom]\n')


def _python(project: Path, prefix: Path) -> None:
    """The environment's interpreter replaced (conda updated python): another file at the same path."""
    python = prefix / "bin" / "python"
    real = python.resolve()
    python.unlink()
    shutil.copy2(real, python)
    python.touch()


def _older_record(project: Path, prefix: Path) -> None:
    """A record as conda-source wrote it before: its url named a .conda in the checkout that never existed."""
    (record,) = prefix.glob("conda-meta/change-demo-*.json")
    data = json.loads(record.read_text())
    data["url"] = f"{project.as_uri()}/{record.stem}.conda"
    record.write_text(json.dumps(data))


CHANGES: dict[str, Callable[[Path, Path], None]] = {
    "older record": _older_record,
    "version": _version,
    "entry point": _entry_point,
    "dependency": _dependency,
    "dependencies file": _dynamic_file,
    "new top-level package": _new_top_level_package,
    "new top-level module": _new_top_level_module,
    "hatch build hook": _hatch_hook,
    "hatch.toml": _hatch_toml,
    "python": _python,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_that_matters_reinstalls_once(prefix: Path, tmp_path: Path, change: str) -> None:
    install(prefix, local_project(tmp_path, "base-demo", []))  # what the dependency cases depend on
    project = local_project(tmp_path, "change-demo", [])
    # dynamic metadata read from a file (as setuptools reads it): the file counts as much as pyproject.toml
    with (project / "pyproject.toml").open("a") as handle:
        handle.write(
            '\n[tool.setuptools.dynamic]\noptional-dependencies = { extra = { file = ["requirements.txt"] } }\n'
            "\n[tool.hatch.build.hooks.custom]\n"  # the hook's code counts too (hatch_build.py)
        )
    (project / "hatch_build.py").write_text("# the hook\n")
    first = install(prefix, project)
    assert install(prefix, project).unchanged
    CHANGES[change](project, prefix)
    second = install(prefix, project)
    assert not second.unchanged, change
    check_record_matches_disk(prefix, second.record)
    assert install(prefix, project).unchanged  # and then it is current again: no endless reinstalls
    if change == "entry point":
        assert (prefix / "bin" / "change-demo-two").is_file()
    if change == "dependency":
        assert "base-demo" in second.record.read_text()
    if change == "older record":
        assert json.loads(second.record.read_text())["url"] == project.as_uri()
    if change == "version":
        assert second.version == "0.5.0" and not first.record.exists()


def test_a_regular_install_reinstalls_when_a_source_file_changes(prefix: Path, tmp_path: Path) -> None:
    project = local_project(tmp_path, "copied-demo", [])
    module = project / "src" / "copied_demo" / "__init__.py"
    install(prefix, project, editable=False)
    assert install(prefix, project, editable=False).unchanged
    module.write_text(module.read_text() + "\nEDITED = True\n")
    assert not install(prefix, project, editable=False).unchanged
    installed = next(prefix.glob("lib/python*/site-packages/copied_demo/__init__.py"))
    assert "EDITED = True" in installed.read_text()
    assert install(prefix, project, editable=False).unchanged


def test_a_regular_install_ignores_build_output_and_caches(prefix: Path, tmp_path: Path) -> None:
    project = local_project(tmp_path, "tidy-demo", [])
    install(prefix, project, editable=False)
    for name in ("build", "dist", ".git", "__pycache__", "tidy_demo.egg-info"):
        (project / name).mkdir()
        (project / name / "junk").write_text("x")
    assert install(prefix, project, editable=False).unchanged


def test_an_editable_install_with_compiled_code_follows_its_sources(prefix: Path, tmp_path: Path) -> None:
    """An extension module is built, not followed: its C sources count."""
    from conda_source.engine.fingerprint import sources

    project = local_project(tmp_path, "cext-demo", [])
    (project / "src" / "ext.c").write_text("int x;\n")
    files = ["lib/site-packages/cext_demo/_ext.cpython-311-x86_64-linux-gnu.so"]
    before = sources(project, True, files, lambda _: b"", "minimal_backend")
    (project / "src" / "ext.c").write_text("int x = 1;\n")
    assert sources(project, True, files, lambda _: b"", "minimal_backend") != before
    pure = sources(project, True, [], lambda _: b"", "minimal_backend")
    (project / "src" / "ext.c").write_text("int x = 2;\n")
    assert sources(project, True, [], lambda _: b"", "minimal_backend") == pure  # no extension: C files don't count


# The in-tree backend, editing pyproject.toml once the wheel is built: the user editing it during a long build.
EDITING_AFTER_BUILD = """
from pathlib import Path
import minimal_backend
from minimal_backend import *

def build_editable(*args, **kwargs):
    name = minimal_backend.build_editable(*args, **kwargs)
    pyproject = Path("pyproject.toml")
    pyproject.write_text(pyproject.read_text().replace('version = "0.4.0"', 'version = "0.5.0"'))
    return name
"""


def test_pyproject_edited_during_the_build_reinstalls_next_time(prefix: Path, tmp_path: Path) -> None:
    project = local_project(tmp_path, "edited-during-build", [])
    (project / "_backend" / "editing_backend.py").write_text(EDITING_AFTER_BUILD)
    edit(project / "pyproject.toml", '"minimal_backend"', '"editing_backend"')
    first = install(prefix, project)
    assert first.version == "0.4.0" and 'version = "0.5.0"' in (project / "pyproject.toml").read_text()
    again = install(prefix, project)
    assert not again.unchanged and again.version == "0.5.0"
